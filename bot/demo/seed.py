"""Writing the demo company into a store: org directory, customers with their keys, leads, and the seed hooks.

The org goes into the same tables bot.toml's [org] fills (teams, people, identities). Besides each person's
WeCom id, the demo registers the identities its other sources use — the phone number for telephony and the
WeCom id for the calendar — so the dispatcher resolves those actors too. Customers get their WeCom external id,
their phone and (when they have one) their group chat as customer_keys, which is how events find them.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from typing import Any

from bot.demo import SEED_HOOKS
from bot.demo.company import Company, DemoLead
from store import customers as customer_store
from store import leads as lead_store
from store import org as org_store
from store.db import Store

HookFn = Callable[[Store, Company, random.Random], Any]


def write_directory(store: Store, company: Company) -> None:
    """Teams, people and identities (console, wecom, telephony, calendar)."""
    with store.transaction():
        for team in company.teams:
            org_store.upsert_team(store, team.name, team.name, team.manager_id)
        for p in company.people:
            org_store.upsert_person(store, p.id, p.name, p.role, p.team or None, is_admin=p.admin,
                                    department=p.department, phone=p.phone)
            org_store.add_identity(store, "console", p.id, p.id)
            org_store.add_identity(store, "console", p.name, p.id)
            org_store.add_identity(store, "wecom", p.wecom_id, p.id)
            org_store.add_identity(store, "calendar", p.wecom_id, p.id)
            if p.phone:
                org_store.add_identity(store, "telephony", p.phone, p.id)


def write_customers(store: Store, company: Company) -> None:
    with store.transaction():
        for c in company.customers:
            customer_store.upsert(store, c.id, c.name, industry=c.industry, size=c.size, owner_id=c.owner_id,
                                  created_at=c.created_at)
            customer_store.add_key(store, "external_id", c.external_id, c.id)
            customer_store.add_key(store, "phone", c.phone, c.id)
            if c.room_id:
                customer_store.add_key(store, "chat", c.room_id, c.id)


def write_lead(store: Store, lead: DemoLead, as_of: int) -> None:
    """The lead as the CRM knew it at `as_of`: still open before its close, won or lost after."""
    closed = lead.closed_at is not None and lead.closed_at <= as_of
    lead_store.upsert(store, lead.id, lead.customer_id, lead.owner_id, lead.title, lead.created_at,
                      status=lead.status if closed else "open", stage=lead.stage_at(as_of),
                      product=lead.product.title, amount=lead.amount, expected_close_at=lead.planned_close_at,
                      closed_at=lead.closed_at if closed else None)


def load_hooks(names: tuple[str, ...] = SEED_HOOKS) -> list[tuple[str, HookFn]]:
    """Import every "module:function" hook; a missing one raises ImportError / AttributeError with its name."""
    out: list[tuple[str, HookFn]] = []
    for spec in names:
        module, _, func = spec.partition(":")
        if not module or not func:
            raise ValueError(f"seed hook {spec!r} must look like 'package.module:function'")
        out.append((spec, getattr(importlib.import_module(module), func)))
    return out


def run_hooks(store: Store, company: Company, hooks: list[tuple[str, HookFn]] | None = None) -> list[str]:
    """Call each hook with its own seeded rng (so adding a hook never changes another hook's data)."""
    done: list[str] = []
    for spec, fn in hooks if hooks is not None else load_hooks():
        fn(store, company, random.Random(f"salespulse-demo:{company.seed}:hook:{spec}"))
        done.append(spec)
    return done


def seed_store(store: Store, company: Company) -> None:
    """The whole company at its final state without replaying activity (for tests and benchmarks)."""
    write_directory(store, company)
    write_customers(store, company)
    with store.transaction():
        for lead in company.leads:
            write_lead(store, lead, company.now)
    run_hooks(store, company)
