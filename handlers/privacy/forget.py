"""Erase one customer's words and audio everywhere SalesPulse keeps them, audited.

Why it is built this way:
- A person's right to deletion (个人信息保护法 §47) covers every copy, not just `events`: store/forget.py lists the
  tables and why each is there. The bot's own replies quoted the customer (a silence alert carries their last
  three messages, clipped), so replies are found by the customer's name and the first words of each of their
  messages and snippets — a clipped quote still starts with them. Replies not sent yet are dropped; sent ones keep
  their row (delivery history, idempotency) with the words replaced by a note.
- The practice sandbox replays customers' objections anonymised, so plans are matched on the masked form too.
- Files (voice audio, archive media, debrief recordings, charts the redacted replies pointed at, the customer's
  heatmaps) are deleted only inside the data folder, after the database commit: a crash in between leaves files
  without rows, never rows pointing at nothing the audit says was deleted.
- SQLite keeps deleted bytes in free pages and the WAL: VACUUM with secure_delete and a TRUNCATE checkpoint
  rewrite the file, so a search of the raw bytes finds nothing. Backups taken earlier still hold the data until
  they rotate out ([backup] keep); the command says so.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.replies import Reply
from handlers.coaching.library import masker
from prompts import Prompts
from store import forget as forget_store
from store.db import Store

log = logging.getLogger("salespulse.privacy")

ARCHIVE_EVENT_PREFIX = "wecom-archive:"  # WeCom chat-archive event ids: prefix + msgid (adapters/wecom)
QUOTE_LENGTHS = (12, 24, 48)  # a reply quoting a message (possibly clipped) contains its first 12 characters…
MIN_QUOTE = 4  # shorter messages (好的, 嗯嗯) identify nobody and would match everything


@dataclass
class ForgetResult:
    customer_id: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    audit_id: int = 0
    wal_busy: bool = False
    kept_files: list[str] = field(default_factory=list)  # named by a row but outside the data folder: not touched


def quote_keys(store: Store, s: forget_store.Scope) -> list[str]:
    """What a reply that quoted the customer contains: their name, and each of their messages' opening words, cut
    before a quote mark or backslash (JSON escapes those). An opening another customer's message shares ("你们交期能
    保证吗？") would hit their replies too: it grows until it is the customer's own, or is dropped."""
    keys = {s.name} if len(s.name) >= 2 else set()
    heads = {" ".join(t.split()) for t in s.texts}
    heads = {re.split(r'["\\]', h, maxsplit=1)[0] for h in heads}
    heads = {h for h in heads if len(h) >= MIN_QUOTE}
    for length in QUOTE_LENGTHS:
        starts = {h[:length] for h in heads}
        shared = forget_store.others_starting_with(store, s.customer_id, starts, length)
        keys.update(h[:length] for h in heads if h[:length] not in shared)
        heads = {h for h in heads if h[:length] in shared and len(h) > length}
    return sorted(keys, key=len, reverse=True)


def forget(store: Store, data_dir: str | Path, customer_id: str, *, actor: str, now_ms: int,
           prompts: Prompts | None = None, charts_dir: str | Path | None = None) -> ForgetResult:
    prompts = prompts or Prompts()
    s = forget_store.scope(store, customer_id)
    mask = masker(store, prompts)
    masked = {mask(" ".join(t.split())) for t in s.texts}
    keys = quote_keys(store, s)
    pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    def matches(value: str) -> bool:
        return bool(pattern and pattern.search(value))

    msgids = tuple(e[len(ARCHIVE_EVENT_PREFIX):] for e in s.event_ids if e.startswith(ARCHIVE_EVENT_PREFIX))
    files = [*forget_store.voice_files(store, s.event_ids), *forget_store.archive_media_files(store, msgids),
             *forget_store.debrief_files(store, s)]
    note = json.dumps(Reply.plain(prompts.t("privacy.redacted")).to_dict(), ensure_ascii=False)
    result = ForgetResult(customer_id, s.name)
    with store.transaction():
        counts = forget_store.erase(store, s, msgids)
        dropped = blanked = 0
        for table, column, pending in (("outbox", "reply", "status = 'pending'"), ("wecom_cards", "reply", None),
                                       ("platform_cards", "reply", None), ("deferred", "payload", "1")):
            d, b, images = forget_store.redact_json_rows(store, table, column, matches, note, delete_where=pending)
            dropped, blanked = dropped + d, blanked + b
            files += images
        counts["replies_dropped"], counts["replies_redacted"] = dropped, blanked
        counts["practice"] = _scrub_practice(store, masked | set(s.texts), prompts.t("privacy.redacted"))
        files += [str(p) for lead in s.lead_ids for p in _lead_charts(data_dir, charts_dir, lead)]
        counts["files"] = 0
        result.audit_id = forget_store.audit(store, now_ms, actor, customer_id, counts)
    roots = [data_dir, *([charts_dir] if charts_dir else [])]
    counts["files"], result.kept_files = _delete_files(data_dir, roots, files)
    if counts["files"]:
        with store.transaction():
            forget_store.update_audit_counts(store, result.audit_id, counts)
    result.counts = counts
    result.wal_busy = forget_store.overwrite_freed_pages(store)
    log.info("forget %s: %s", customer_id, counts)
    return result


def _scrub_practice(store: Store, texts: set[str], note: str) -> int:
    """Practice plans and rounds that replay one of the customer's lines (as said, or anonymised)."""
    texts = {t for t in texts if len(t) >= MIN_QUOTE}
    changed = 0
    for table, rowid, value in forget_store.practice_texts(store):
        if table == "practice_rounds":
            if value in texts:
                forget_store.set_practice_text(store, table, rowid, note)
                changed += 1
            continue
        try:
            plan = json.loads(value or "[]")
        except ValueError:
            continue
        hit = False
        for step in plan:
            if isinstance(step, list) and len(step) > 1 and step[1] in texts:
                step[1], hit = note, True
        if hit:
            forget_store.set_practice_text(store, table, rowid, json.dumps(plan, ensure_ascii=False))
            changed += 1
    return changed


def _lead_charts(data_dir: str | Path, charts_dir: str | Path | None, lead_id: str) -> list[Path]:
    """The lead's heatmaps (handlers/timeline.chart_path names them heatmap_<lead>_<digest>.png)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", lead_id)[:40]
    folder = Path(charts_dir) if charts_dir else Path(data_dir) / "charts"
    return sorted(folder.glob(f"heatmap_{safe}_*.png")) if folder.is_dir() else []


def _delete_files(data_dir: str | Path, roots: list[str | Path], paths: list[str]) -> tuple[int, list[str]]:
    """Delete each path (relative ones under data_dir); never outside the data (or charts) folder, those are
    returned for the admin to look at; a missing file is fine."""
    base = Path(data_dir).resolve()
    allowed = [Path(r).resolve() for r in roots]
    removed, outside = 0, []
    for raw in dict.fromkeys(p for p in paths if p):
        path = Path(raw)
        path = (path if path.is_absolute() else base / path).resolve()
        if not any(path.is_relative_to(root) for root in allowed):
            log.info("forget: not deleting %s (outside the data folder %s)", path, base)
            if path.exists():
                outside.append(str(path))
            continue
        try:
            if path.is_file():
                path.unlink()
                removed += 1
        except OSError as exc:
            log.info("forget: cannot delete %s: %s", path, exc)
            outside.append(str(path))
    return removed, outside
