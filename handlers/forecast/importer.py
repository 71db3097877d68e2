"""Write parsed deals into the store: customers, owners (people), leads and deal details.

Owners are matched to the org directory by name or id; unknown owners become reps (id "imp:<name>") in the
mapped team, so an imported history keeps its per-rep statistics. A deal without a customer gets the shared
placeholder customer and `customer_known = 0`. The forecast never uses that flag: in exports such as Maven's the
account is missing exactly on deals still open at the export date, so it would smuggle the future into a backtest.
"""

from __future__ import annotations

import hashlib

from bot import crashpoints
from handlers.forecast.dealfile import ParsedDeal
from store import customers as customer_store
from store import deals as deal_store
from store import leads as lead_store
from store import org as org_store
from store.db import Store

UNKNOWN_CUSTOMER = "cust:unknown"


def _cid(name: str) -> str:
    return "cust:" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]


def import_deals(store: Store, deals: list[ParsedDeal], now_ms: int, source: str) -> dict[str, int]:
    people = {p.name: p.id for p in org_store.all_people(store)}
    ids = {p.id for p in org_store.all_people(store)}
    teams = {tid for tid, _n, _m in org_store.all_teams(store)}
    seen_customers: set[str] = set()
    counts = {"deals": 0, "new_people": 0, "customers": 0}
    with store.transaction():
        for pd in deals:
            crashpoints.reached("import.row")
            r = pd.row
            owner = None
            if r.owner:
                owner = r.owner if r.owner in ids else people.get(r.owner)
                if owner is None:
                    owner = "imp:" + r.owner
                    if pd.team and pd.team not in teams:
                        org_store.upsert_team(store, pd.team, pd.team, None)
                        teams.add(pd.team)
                    org_store.upsert_person(store, owner, r.owner, "rep", pd.team or None)
                    org_store.add_identity(store, "console", r.owner, owner)
                    people[r.owner] = owner
                    ids.add(owner)
                    counts["new_people"] += 1
            cid = _cid(r.customer) if r.customer else UNKNOWN_CUSTOMER
            if cid not in seen_customers:
                customer_store.upsert(store, cid, r.customer or "（未登记客户）", industry=r.industry,
                                      created_at=r.created_at or now_ms)
                seen_customers.add(cid)
                counts["customers"] += 1
            lead_store.upsert(store, r.id, cid, owner, pd.title, r.created_at or now_ms, status=r.status,
                              stage=r.stage, product=r.product,
                              amount=r.amount if r.status == "won" else (r.list_amount or r.amount),
                              expected_close_at=r.expected_close_at, closed_at=r.closed_at)
            deal_store.upsert_details(store, r.id, now_ms, industry=r.industry, customer_known=bool(r.customer),
                                      source=source, **pd.details)
            counts["deals"] += 1
    return counts
