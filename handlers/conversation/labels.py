"""The fixed label keys of the objection × strategy classifier, and which role may carry which.

Why fixed keys: snippets, outcome weights, coaching pushes and the matrix all join on them, and admins' packs name
them; display names (Chinese first) live in prompts/locales/*/conversation.toml under `conversation.label.<key>`.
"""

from __future__ import annotations

OBJECTIONS: tuple[str, ...] = ("price_inquiry", "price_objection", "competitor", "delivery_concern", "quality_trust",
                               "hesitation", "after_sales")
STRATEGIES: tuple[str, ...] = ("value_argument", "social_proof", "guarantee", "concession", "urgency",
                               "material_delivery")
ALL_LABELS: tuple[str, ...] = OBJECTIONS + STRATEGIES

ROLES: dict[str, tuple[str, ...]] = {"customer": OBJECTIONS, "rep": STRATEGIES}
LABEL_ROLE: dict[str, str] = {label: role for role, labels in ROLES.items() for label in labels}


def labels_for_role(role: str) -> tuple[str, ...]:
    """The labels a turn by `role` may get; none for anyone but a customer or a rep."""
    return ROLES.get(role, ())


def display_key(label: str) -> str:
    """The prompts key of a label's display name (e.g. 预算/价格)."""
    return f"conversation.label.{label}"
