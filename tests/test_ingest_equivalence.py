"""The fast paths of ingest change nothing that is stored: the bench's synthetic archive run through the pipeline
with the in-process handoff (built events) and without it (every row parsed back from its JSON) ends with the same
events, tags, remembered values, lead activity and silence state, row for row."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

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


def test_retagging_stored_history_adds_nothing(tmp_path, monkeypatch):
    """/bind re-evaluates stored events from their columns (Tagger._stored_view); over history that was tagged
    live, with the same rules, that must earn exactly the tags already there — so the rebuilt view matches."""
    import dataclasses

    from bot.app import Runtime
    from bot.clock import VirtualClock
    from bot.config import load_config

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    ingest = importlib.import_module("bench.ingest")
    ingest.run_pipeline(tmp_path / "live.db", 3_000, 500, 5)
    store = open_store(tmp_path / "live.db")
    config = dataclasses.replace(load_config(None), org=ingest.bench_org())
    runtime = Runtime(config=config, store=store, clock=VirtualClock(ingest.T0), deferred_in_thread=False)
    try:
        tagger = runtime.services.extras["tagging"]
        leads = [r[0] for r in store.conn.execute("SELECT DISTINCT lead_id FROM events WHERE lead_id IS NOT NULL")]
        assert len(leads) > 100
        windowed = store.conn.execute("SELECT COUNT(*) FROM event_tags WHERE tag = '3日内二次联系'").fetchone()[0]
        assert windowed > 0  # the history really has window tags to reproduce
        with store.transaction():
            added = {lead: tagger.retag_lead(store, lead, 0) for lead in leads}
        assert {lead: a for lead, a in added.items() if a} == {}
    finally:
        runtime.close()
        store.close()


def test_compute_floor_measures_every_step(tmp_path, monkeypatch):
    """The ingest benchmark's compute floor keeps running against the real normaliser, directory, associator and
    rule engine (it reaches into them, so a rename would otherwise only show up when someone runs the bench)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    ingest = importlib.import_module("bench.ingest")
    steps = ingest.run_compute(tmp_path / "compute.db", 400, 3)
    assert set(steps) == {"normalise", "serialise", "resolve", "associate", "rules", "total"}
    assert all(v > 0 for v in steps.values())
    assert steps["total"] >= max(v for k, v in steps.items() if k != "total")


def test_classifier_off_changes_only_the_labels(tmp_path, monkeypatch):
    """bench.ingest --classifier off (the classifier's cost is measured against it) stores the same events and
    tags and a row per conversation turn, only without labels."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    ingest = importlib.import_module("bench.ingest")
    on = ingest.run_pipeline(tmp_path / "on.db", 2_000, 500, 3)
    off = ingest.run_pipeline(tmp_path / "off.db", 2_000, 500, 3, classifier=False)
    assert on["stored_events"] == off["stored_events"] and on["tag_rows"] == off["tag_rows"]
    turns = "SELECT event_id, role, labels FROM conversation_labels ORDER BY event_id"
    a, b = open_store(tmp_path / "on.db"), open_store(tmp_path / "off.db")
    try:
        with_labels, without = a.conn.execute(turns).fetchall(), b.conn.execute(turns).fetchall()
    finally:
        a.close()
        b.close()
    assert [r[:2] for r in with_labels] == [r[:2] for r in without] and len(without) > 1_000
    assert sum(1 for r in with_labels if r[2]) > 100 and not any(r[2] for r in without)


def test_texts_file_replaces_the_templates(tmp_path, monkeypatch):
    """`--texts`: rep and customer lines come from the file (conversations with turns, or one line per turn), each
    to its own side; a file without both sides is refused."""
    import json

    ingest = importlib.import_module("bench.ingest")
    convs = tmp_path / "convs.jsonl"
    convs.write_text(json.dumps({"turns": [{"role": "customer", "text": "别家便宜两成 {p}"},
                                           {"role": "rep", "text": "我们服务过华鑫精密"}]}) + "\n\n"
                     + json.dumps({"role": "rep", "text": "报价单发您了"}) + "\n", encoding="utf-8")
    monkeypatch.setattr(ingest, "TEXTS", ingest.load_texts(convs))
    seen = {}
    for r in ingest.synthetic_records(400, seed=3):
        if r.get("msgtype") == "text":
            side = "rep" if r["from"].startswith("Rep") else "customer"
            seen.setdefault(side, set()).add(r["text"]["content"])
    assert seen == {"customer": {"别家便宜两成 {p}"}, "rep": {"我们服务过华鑫精密", "报价单发您了"}}
    only_rep = tmp_path / "rep.jsonl"
    only_rep.write_text(json.dumps({"role": "rep", "text": "好的"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="rep and customer"):
        ingest.load_texts(only_rep)
