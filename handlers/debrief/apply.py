"""A finished debrief applied: the deal's next step and date, the intent-letter conditions 指定对接人 /
约定下次会议时间 (they lift the 35 % cap in handlers/forecast/model.py), a tagged event on the lead's timeline, a
snippet in the team's library, and the echo card with one snippet that answered the same worry before.

Why it remembers what it changed (`applied`): the rep may correct an answer (改一下). A correction first puts
back the next step and the deal fields this debrief set, then applies the corrected understanding — so a name the
recogniser invented does not stay behind as a named contact. Conditions are only ever set, never cleared by a
debrief that does not mention them (silence about a contact is not "no contact").
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from bot.clock import from_ms
from bot.context import Context
from bot.replies import Button, Reply
from handlers.debrief import peers
from handlers.debrief.triggers import label
from handlers.debrief.understand import Understanding
from handlers.timeline import tz
from store import deals as deal_store
from store import debrief as store

log = logging.getLogger("salespulse.debrief")


def labels_text(ctx: Context, labels: tuple[str, ...] | list[str]) -> str:
    return ctx.t("core.list_sep").join(peers.label_name(ctx.prompts, k) for k in labels)


def summary(ctx: Context, u: Understanding) -> str:
    """One line for the timeline: 担心 … / 证据 … / 下一步 …"""
    n = u.next_step
    return ctx.t("debrief.timeline_text", worry=u.worry.text or "—", evidence=u.evidence.text or "—",
                 next=n.action or n.text or "—", date=n.date.isoformat() if n.date else "—")


def apply(ctx: Context, d: store.Debrief, u: Understanding, now: int) -> tuple[list[str], dict[str, Any]]:
    """Change the deal, the timeline and the library; returns the lines saying what changed and the record of it."""
    previous: dict[str, Any] = json.loads(d.applied or "{}")
    done: list[str] = []
    record: dict[str, Any] = {"snippet": previous.get("snippet", False)}
    if not d.lead_id:
        return [ctx.t("debrief.applied_no_lead")], record
    lead_id = d.lead_id
    # undo what an earlier version of this debrief set
    if "next_step" in previous:
        store.restore_next_step(ctx.store, lead_id, previous["next_step"])
    if previous.get("details"):
        deal_store.upsert_details(ctx.store, lead_id, now, **previous["details"])
    n = u.next_step
    if n.action or n.text:
        record["next_step"] = store.next_step_row(ctx.store, lead_id)
        store.set_next_step(ctx.store, lead_id, n.action or n.text, n.date.isoformat() if n.date else "", n.person,
                            d.id, d.person_id, now)
        done.append(ctx.t("debrief.applied_next", action=n.action or n.text,
                          date=n.date.isoformat() if n.date else ctx.t("debrief.no_date")))
    deal = deal_store.get(ctx.store, lead_id)
    details = deal.details if deal else deal_store.Details()
    fields: dict[str, bool] = {}
    if n.named and not details.has_named_contact:
        fields["has_named_contact"] = True
        done.append(ctx.t("debrief.applied_contact", person=n.person))
    if n.meeting and n.date is not None and not details.has_next_meeting:
        fields["has_next_meeting"] = True
        done.append(ctx.t("debrief.applied_meeting", date=n.date.isoformat()))
    if fields:
        record["details"] = {k: getattr(details, k) for k in fields}
        deal_store.upsert_details(ctx.store, lead_id, now, **fields)
    store.record_on_timeline(ctx.store, event_id=f"debrief:{d.id}", platform="debrief", at=d.meeting_at,
                             person_id=d.person_id, customer_id=d.customer_id, lead_id=lead_id, text=summary(ctx, u),
                             tag=ctx.config.debrief.timeline_tag, category="复盘")
    done.append(ctx.t("debrief.applied_timeline"))
    if u.worry.labels and u.evidence.text:  # keyed by lead, rep and meeting: a correction refreshes the same one
        peers.add_debrief_snippet(ctx.store, lead_id=lead_id, person_id=d.person_id,
                                  objection_labels=list(u.worry.labels), worry_text=u.worry.text,
                                  evidence_text=u.evidence.text, strategy_labels=list(u.evidence.labels),
                                  occurred_at=d.meeting_at)
        if not record["snippet"]:
            done.append(ctx.t("debrief.applied_library"))
        record["snippet"] = True
    return done, record


def matching_snippet(ctx: Context, d: store.Debrief, u: Understanding) -> str:
    """One snippet from the library for the stated worry: the best for its first objection, same industry first."""
    if not u.worry.labels:
        return ""
    person = ctx.directory.person(d.person_id)
    deal = deal_store.get(ctx.store, d.lead_id) if d.lead_id else None
    for objection in u.worry.labels:
        snippets = peers.best_snippets(ctx.store, objection, team=person.team_id if person else None,
                                       industry=deal.industry if deal else "", limit=1)
        if snippets:
            return ctx.t("debrief.snippet", objection=peers.label_name(ctx.prompts, objection),
                         text=peers.snippet_text(snippets[0]))
    return ""


def echo(ctx: Context, d: store.Debrief, u: Understanding, done: list[str], snippet: str) -> Reply:
    """What was understood, what was not, what changed; 改一下 corrects it."""
    n = u.next_step
    sep = ctx.t("core.list_sep")
    fields = [
        (ctx.t("debrief.f_worry"), _with_labels(ctx, u.worry.text, u.worry.labels)),
        (ctx.t("debrief.f_evidence"), _with_labels(ctx, u.evidence.text, u.evidence.labels)),
        (ctx.t("debrief.f_next"), ctx.t("debrief.next_value", action=n.action or n.text or "—",
                                        date=n.date.isoformat() if n.date else "—", person=n.person or "—")),
    ]
    lines = []
    if done:
        lines.append(ctx.t("debrief.echo_done", items=sep.join(done)))
    missing = [ctx.t(f"debrief.nu_{k.replace('.', '_')}") for k in u.not_understood]
    if missing or u.leftover:
        lines.append(ctx.t("debrief.echo_not_understood", items=sep.join([*missing, *(f"“{x}”" for x in u.leftover)])))
    if snippet:
        lines.append(snippet)
    return Reply.card(ctx.t("debrief.echo_title", label=label(ctx, d)), "\n".join(lines), fields=fields,
                      buttons=(Button(ctx.t("debrief.button_fix"), "debrief.fix", {"id": d.id}),))


def _with_labels(ctx: Context, text: str, labels: tuple[str, ...]) -> str:
    if not text:
        return "—"
    return ctx.t("debrief.value_labels", text=text, labels=labels_text(ctx, labels)) if labels else text


def today_for(ctx: Context, ms: int) -> date:
    return from_ms(ms).astimezone(tz(ctx)).date()
