"""Alert volume: one card per person per sweep, and at most [alerts] max_pushes_per_hour cards per person per hour.

Why it is built this way:
- Every alert reaches a person through Context.notify (silence, missed calls, coaching, debrief asks, store codes,
  …), never through Context.reply (answers to what someone typed). So the budget lives here, under notify, and
  no capability has to remember it; answers to commands are never counted or held.
- A sweep (one Tick, or any one event) that has several alerts for the same person sends them as one card: a
  manager whose six reps each have a silent lead gets one card listing six leads, not six cards. The card keeps
  the alerts' buttons while they fit (numbered after their line).
- The ledger (store/pushes.py) records every alert key with the card that carried it, so a replay, or the same
  alert raised again in a later sweep, is recognised whether it went out alone, in a group or was held.
- Over the hourly budget, an alert is held, not dropped: the person's next digest says "另有N条提醒已并入日报" and
  lists them (people who get no digest get a short summary card at digest time). Alerts whose key starts with
  one of [alerts] never_capped (missed calls must reach someone within 30 minutes, digests, backup failures,
  approvals, store fix cards, …) are always sent at once, each as its own card (they carry their own workflow
  buttons); they still count towards the budget.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.replies import Button, Reply, ReplyKind
from store import pushes as push_store

if TYPE_CHECKING:
    from bot.context import Context

HOUR_MS = 3_600_000
MAX_BUTTONS = 6  # more than this and the platforms' cards fold or refuse them (DingTalk/WeCom: 6 per card)
SUMMARY_CHARS = 60
DIGEST_LINES = 5  # held alerts named in a digest; the rest are counted


@dataclass(frozen=True, slots=True)
class Push:
    key: str  # the alert's idempotency key, person included
    reply: Reply


def never_capped(ctx: Context, key: str) -> bool:
    return any(key == p or key.startswith(p + ":") for p in ctx.config.alerts.never_capped)


def summary(reply: Reply) -> str:
    """One line naming an alert: its card title, else its first line of text."""
    text = reply.title or next((line for line in (reply.text or reply.alt_text).splitlines() if line.strip()), "")
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1] + "…"


def _detail(reply: Reply) -> str:
    """The first line of a card's body, shortened (the group lists it under the alert's title)."""
    if not reply.title:
        return ""
    first = next((line for line in reply.text.splitlines() if line.strip()), "")
    flat = " ".join(first.split())
    return flat if len(flat) <= SUMMARY_CHARS * 2 else flat[: SUMMARY_CHARS * 2 - 1] + "…"


def group_card(ctx: Context, pushes: list[Push]) -> Reply:
    """Several alerts for one person as one card: a numbered line each, their buttons while they fit."""
    lines: list[str] = []
    buttons: list[Button] = []
    for i, push in enumerate(pushes, 1):
        lines.append(ctx.t("pushes.group_line", i=i, title=summary(push.reply)))
        detail = _detail(push.reply)
        if detail:
            lines.append(ctx.t("pushes.group_detail", text=detail))
        if len(buttons) + len(push.reply.buttons) <= MAX_BUTTONS:
            buttons.extend(replace(b, text=ctx.t("pushes.group_button", i=i, text=b.text)) for b in push.reply.buttons)
    if sum(len(p.reply.buttons) for p in pushes) > len(buttons):
        lines.append(ctx.t("pushes.group_more_buttons"))
    return Reply.card(ctx.t("pushes.group_title", n=len(pushes)), "\n".join(lines), buttons=buttons)


def _group_key(person_id: str, pushes: list[Push]) -> str:
    digest = hashlib.sha1("\n".join(sorted(p.key for p in pushes)).encode()).hexdigest()[:16]
    return f"alerts:{digest}:{person_id}"


def deliver(ctx: Context, person_id: str, pushes: list[Push]) -> int:
    """Queue the person's new alerts from one event: one card for all of them (the alert itself when alone), or
    held for the digest when the person is over the hourly budget. Returns how many alerts were new."""
    store = ctx.store
    seen = push_store.known(store, [p.key for p in pushes])
    fresh = list({p.key: p for p in pushes if p.key not in seen}.values())
    if not fresh:
        return 0
    now = ctx.clock.now_ms()
    cap = ctx.config.alerts.max_pushes_per_hour
    send = fresh
    held: list[Push] = []
    if cap > 0 and push_store.cards_since(store, person_id, now - HOUR_MS) >= cap:
        send = [p for p in fresh if never_capped(ctx, p.key)]
        held = [p for p in fresh if not never_capped(ctx, p.key)]
    rows: list[tuple[str, str, int, str, str, str]] = []
    target = ctx.person_target(person_id)
    # a picture does not fold into a list; a never-capped alert is a workflow card of its own (a missed call to
    # claim, a fix to confirm, an approval): it keeps its own card and buttons
    alone = [p for p in send if p.reply.kind == ReplyKind.IMAGE or never_capped(ctx, p.key)]
    grouped = [p for p in send if p not in alone]
    if len(grouped) == 1 or not ctx.config.alerts.group_per_sweep:
        alone, grouped = alone + grouped, []
    for push in alone:
        ctx.send(target, push.reply, push.key)
        rows.append((push.key, person_id, now, "pushed", push.key, summary(push.reply)))
    if grouped:
        card_key = _group_key(person_id, grouped)
        ctx.send(target, group_card(ctx, grouped), card_key)
        rows.extend((p.key, person_id, now, "pushed", card_key, summary(p.reply)) for p in grouped)
    rows.extend((p.key, person_id, now, "held", "", summary(p.reply)) for p in held)
    push_store.record(store, rows)
    return len(fresh)


def held_lines(ctx: Context, person_id: str, digest_key: str) -> list[str]:
    """The lines a digest adds for the person's held alerts ("另有N条提醒已并入日报：…"), marking them carried."""
    rows = push_store.held(ctx.store, person_id)
    if not rows:
        return []
    lines = [ctx.t("pushes.held_intro", n=len(rows))]
    lines.extend(ctx.t("pushes.held_line", title=title) for _key, _at, title in rows[:DIGEST_LINES])
    if len(rows) > DIGEST_LINES:
        lines.append(ctx.t("pushes.held_more", n=len(rows) - DIGEST_LINES))
    push_store.mark_digested(ctx.store, [key for key, _at, _title in rows], digest_key)
    return lines


def with_held(ctx: Context, person_id: str, reply: Reply, digest_key: str) -> Reply:
    """`reply` (a digest) with the person's held alerts appended."""
    lines = held_lines(ctx, person_id, digest_key)
    if not lines:
        return reply
    return replace(reply, text="\n".join(x for x in (reply.text, *lines) if x))


def send_held(ctx: Context, digest_key: str, skip: set[str]) -> None:
    """At digest time, a short card for everyone else with held alerts (reps, customer service: no team digest)."""
    for person_id in push_store.people_with_held(ctx.store):
        if person_id in skip:
            continue
        lines = held_lines(ctx, person_id, f"{digest_key}:held:{person_id}")
        if lines:
            ctx.notify(person_id, Reply.card(ctx.t("pushes.held_title"), "\n".join(lines)), f"{digest_key}:held")
