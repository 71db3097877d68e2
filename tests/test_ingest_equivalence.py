"""The fast paths of ingest change nothing that is stored: the bench's synthetic archive run through the pipeline
with the in-process handoff (built events) and without it (every row parsed back from its JSON) ends with the same
events, tags, remembered values, lead activity and silence state, row for row."""

from __future__ import annotations

import importlib
from pathlib import Path

from store import inbox as inbox_store
from store.db import open_store

_TABLES = {
    "events": "SELECT id, event_id, type, platform, occurred_at, actor_id, person_id, role, customer_id, lead_id, kind,"
              " text, conversation_id, data, match_key FROM events ORDER BY id",
    "event_tags": "SELECT * FROM event_tags ORDER BY event_rowid, tag",
    "event_values": "SELECT * FROM event_values ORDER BY event_rowid, key, value",
    "leads": "SELECT id, first_touch_at, last_activity_at FROM leads ORDER BY id",
    "lead_silence": "SELECT * FROM lead_silence ORDER BY lead_id",
    "inbox": "SELECT id, platform, external_id, payload, event, status, error, attempts FROM inbox ORDER BY id",
    "outbox": "SELECT idempotency_key FROM outbox ORDER BY idempotency_key",
}


def _dump(path) -> dict[str, list[tuple]]:
    store = open_store(path)
    try:
        return {name: [tuple(r) for r in store.conn.execute(sql)] for name, sql in _TABLES.items()}
    finally:
        store.close()


def test_handoff_and_json_paths_store_the_same_rows(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))  # bench/ is not an installed package
    ingest = importlib.import_module("bench.ingest")
    fast = ingest.run_pipeline(tmp_path / "fast.db", 3_000, 500, 11)
    monkeypatch.setattr(inbox_store, "take_handoff", lambda store, row: None)
    slow = ingest.run_pipeline(tmp_path / "slow.db", 3_000, 500, 11)
    assert fast["stored_events"] == slow["stored_events"] > 2_900
    assert fast["tag_rows"] == slow["tag_rows"] > 0
    a, b = _dump(tmp_path / "fast.db"), _dump(tmp_path / "slow.db")
    for name in _TABLES:
        assert a[name] == b[name], name
    assert any(r[2] is not None for r in a["leads"])  # lead activity was recorded
