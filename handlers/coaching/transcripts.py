"""Call and voice transcripts with timestamps → golden snippets.

File format (JSONL, one call per line; a .json file may hold one call or a list of them):
    {"id": "call-0412", "lead": "L-1024", "rep": "张伟", "started_at": "2026-05-12 10:30",
     "turns": [{"role": "customer", "text": "三周真能交货吗", "start": 12.4, "end": 15.0},
               {"role": "rep", "text": "理解您的担心……", "start": 21.3, "end": 30.8}, …]}
`rep` is a person's id or name; `lead` a lead id; `started_at` local time (bot timezone) or epoch ms; `start` and
`end` seconds from the start of the call. Each turn is labelled by the classifier, then snippets are cut exactly
as from chat (snippets.extract) — with the latency measured between the customer's last word and the rep's first,
and what the rep did after a customer silence longer than [coaching] silence_gap_s. A bad call is reported with
its line number and skipped; the others are filed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import to_ms
from handlers.coaching import library
from handlers.coaching.snippets import Turn, extract
from prompts import Prompts
from store import coaching as coach_store
from store.db import Store


@dataclass(frozen=True)
class Call:
    line: int
    id: str
    lead_id: str
    rep: str
    started_at: int
    turns: tuple[tuple[str, str, float, float], ...]


class BadCall(ValueError):
    """Why one call cannot be read: a prompts key (coaching.call_*) and its values, rendered by read_calls."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def _started(value, tz: str) -> int:
    if isinstance(value, int | float):
        return int(value)
    try:
        return to_ms(datetime.fromisoformat(str(value).strip()).replace(tzinfo=ZoneInfo(tz)))
    except ValueError:
        raise BadCall("coaching.call_bad_started", value=value) from None


def parse_call(obj, line: int, tz: str) -> Call:
    if not isinstance(obj, dict):
        raise BadCall("coaching.call_not_object")
    missing = [k for k in ("id", "lead", "rep", "started_at", "turns") if k not in obj]
    if missing:
        raise BadCall("coaching.call_missing", fields=", ".join(missing))
    turns = []
    if not isinstance(obj["turns"], list) or not obj["turns"]:
        raise BadCall("coaching.call_no_turns")
    for i, t in enumerate(obj["turns"], 1):
        if not isinstance(t, dict) or t.get("role") not in ("customer", "rep") or not isinstance(t.get("text"), str):
            raise BadCall("coaching.call_turn_role", turn=i)
        try:
            start, end = float(t["start"]), float(t.get("end", t["start"]))
        except (KeyError, TypeError, ValueError):
            raise BadCall("coaching.call_turn_seconds", turn=i) from None
        if end < start:
            raise BadCall("coaching.call_turn_order", turn=i)
        turns.append((t["role"], t["text"], start, end))
    return Call(line, str(obj["id"]), str(obj["lead"]), str(obj["rep"]), _started(obj["started_at"], tz), tuple(turns))


def read_calls(path: Path, tz: str, t: Callable[..., str] | None = None) -> tuple[list[Call], list[str]]:
    """Calls and errors ("line N: …", in t's locale, default zh-CN)."""
    t = t or Prompts().t
    text = path.read_text(encoding="utf-8")
    calls, errors = [], []
    items: list[tuple[int, object]] = []
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [t("coaching.call_not_json", line=exc.lineno, col=exc.colno)]
        items = [(1, d) for d in (data if isinstance(data, list) else [data])]
    else:
        for n, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                items.append((n, json.loads(raw)))
            except json.JSONDecodeError as exc:
                errors.append(t("coaching.call_not_json", line=n, col=exc.colno))
    for n, obj in items:
        try:
            calls.append(parse_call(obj, n, tz))
        except BadCall as exc:
            errors.append(t("coaching.call_bad", line=n, why=t(exc.key, **exc.values)))
    return calls, errors


def file_call(store: Store, call: Call, rep_id: str, team_id: str, *, classify: Callable[[str, str], tuple[str, ...]],
              sentiment: Callable[[str], float] | None, now_ms: int, cfg) -> int:
    turns = [Turn(f"{call.id}#{i}", role, text, classify(text, role), call.started_at + int(start * 1000),
                  rep_id if role == "rep" else "", start, end)
             for i, (role, text, start, end) in enumerate(call.turns)]
    facts = coach_store.lead_facts(store, call.lead_id)
    found = extract(turns, classify_rep=lambda s: classify(s, "rep"), sentiment=sentiment,
                    context_turns=cfg.context_turns, answer_window_s=cfg.answer_window_hours * 3600,
                    silence_gap_s=cfg.silence_gap_s)
    for ex in found:
        library.file_extracted(store, ex, facts, source="call", now_ms=now_ms, key_prefix="call",
                               team_of=lambda _p: team_id)
    return len(found)
