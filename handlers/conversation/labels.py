"""TEMP stand-in: the fixed label keys."""

OBJECTIONS = ("price_inquiry", "price_objection", "competitor", "delivery_concern", "quality_trust", "hesitation",
              "after_sales")
STRATEGIES = ("value_argument", "social_proof", "guarantee", "concession", "urgency", "material_delivery")
