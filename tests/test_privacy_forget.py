"""`salespulse forget <customer>`: two customers chat through the real pipeline (their messages, a voice note, a
debrief, a deal note, a tracked link, a silence alert quoting them), one is forgotten; nothing of theirs remains —
not in any table, not in the raw database bytes, not on disk — the other is intact, and the audit row is there."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from coaching_helpers import DAY, HOUR, MINUTE, add_customer, say
from conftest import T0

from bot.cli import main as cli_main
from bot.config import JobSection, SchedulerSection
from store import forget as forget_store
from store import open_store

GONE = "紫罗兰计划"  # distinctive words only customer c1 ever says
KEPT = "蓝鲸计划"  # … only customer c2


@pytest.fixture
def config(config, tmp_path):
    return dataclasses.replace(
        config,
        bot=dataclasses.replace(config.bot, data_dir=str(tmp_path / "data")),
        scheduler=SchedulerSection(jobs=(JobSection(name="coach_sweep", cron="*/10 * * * *"),
                                         JobSection(name="silence_sweep", cron="* * * * *"))),
        coaching=dataclasses.replace(config.coaching, quiet_hours=""),
        silence=dataclasses.replace(config.silence, quiet_hours="", working_hours_only=False),
    )


def _conversation(runtime, cid: str, phrase: str, at: int) -> None:
    say(runtime, cid, "r1", "customer", f"你们交期能保证吗？我们的{phrase}月底就要上线，老板说今年预算也紧", at, raw=True)
    say(runtime, cid, "r1", "rep", "理解您的担心。苏州一家客户上个月也是这个顾虑，我们分批发货，两周就用上了。", at + 40_000, raw=True)
    say(runtime, cid, "r1", "customer", f"好的，那就分批发货，{phrase}的合同怎么走？", at + 5 * MINUTE, raw=True)


def _files_with(root: Path, phrase: str) -> list[Path]:
    needle = phrase.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _rows_with(store, phrase: str) -> list[str]:
    """Every table.column whose text contains `phrase` (a scan of the whole schema, so a new table is covered)."""
    hits = []
    tables = [r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        cols = [r[1] for r in store.conn.execute(f"PRAGMA table_info({table})")]
        for col in cols:
            n = store.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE CAST({col} AS TEXT) LIKE ?",
                                   (f"%{phrase}%",)).fetchone()[0]
            if n:
                hits.append(f"{table}.{col}")
    return hits


async def test_forget_removes_one_customer_everywhere_and_keeps_the_other(runtime, clock, tmp_path, capsys):
    store = runtime.store
    add_customer(store, "c1", "紫藤精密机械有限公司", "r1", "L1", T0 - 30 * DAY)
    add_customer(store, "c2", "恒通机电有限公司", "r1", "L2", T0 - 30 * DAY)
    _conversation(runtime, "c1", GONE, T0)
    _conversation(runtime, "c2", KEPT, T0 + HOUR)
    await runtime.settle()
    await runtime.advance_to(T0 + 4 * DAY)  # snippets filed; both leads fall silent and alert with last words
    data = Path(runtime.config.bot.data_dir)
    voice = data / "voice" / "c1-note.amr"
    voice.parent.mkdir(parents=True, exist_ok=True)
    voice.write_bytes(b"#!AMR\n" + GONE.encode())
    with store.transaction():
        store.conn.execute("INSERT INTO voice_notes (message_event_id, platform, recorded_at, received_at, text,"
                           " audio_path) SELECT event_id, 'wecom', occurred_at, occurred_at, ?, 'voice/c1-note.amr'"
                           " FROM events WHERE customer_id = 'c1' LIMIT 1", (f"语音：{GONE}先别急",))
        store.conn.execute("INSERT INTO deal_notes (lead_id, text, at) VALUES ('L1', ?, ?)", (f"客户说{GONE}延期", T0))
        store.conn.execute("INSERT INTO debriefs (meeting_key, person_id, lead_id, customer_id, source, meeting_at,"
                           " due_at, worry, created_at) VALUES ('m1', 'r1', 'L1', 'c1', 'calendar', ?, ?, ?, ?)",
                           (T0, T0, f"担心{GONE}交付", T0))
        store.conn.execute("INSERT INTO links (code, lead_id, customer_id, document, target, kind, created_at)"
                           " VALUES ('abc', 'L1', 'c1', ?, 'https://x.example/a.pdf', 'url', ?)", (f"{GONE}方案.pdf", T0))
    assert set(_rows_with(store, GONE)) >= {"events.text", "inbox.payload", "coach_snippets.objection_text",
                                            "outbox.reply", "voice_notes.text", "deal_notes.text", "debriefs.worry"}
    kept_before = set(_rows_with(store, KEPT))
    assert {"events.text", "coach_snippets.objection_text", "outbox.reply"} <= kept_before
    db_path = Path(store.path)
    runtime.close()

    toml = tmp_path / "bot.toml"  # the admin runs it with the bot's own bot.toml: that names the data folder
    toml.write_text(f'[bot]\ndatabase = "{db_path}"\ndata_dir = "{data}"\n', encoding="utf-8")
    code = cli_main(["-c", str(toml), "forget", "紫藤", "--yes", "--by", "合规专员"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "紫藤精密机械有限公司" in out and "审计记录" in out and "消息与行为事件" in out and "备份" in out
    assert GONE not in out

    store = open_store(db_path)
    try:
        assert _rows_with(store, GONE) == []
        assert set(_rows_with(store, KEPT)) == kept_before  # the other customer is intact
        assert store.conn.execute("SELECT COUNT(*) FROM events WHERE customer_id = 'c2'").fetchone()[0] == 3
        assert store.conn.execute("SELECT COUNT(*) FROM events WHERE customer_id = 'c1'").fetchone()[0] == 0
        assert store.conn.execute("SELECT status FROM leads WHERE id = 'L1'").fetchone()[0] == "open"  # deal stays
        (audit,) = forget_store.audit_rows(store, "c1")
        _id, _at, actor, cid, counts = audit
        assert actor == "合规专员" and cid == "c1"
        assert counts["events"] == 3 and counts["voice_notes"] == 1 and counts["files"] >= 1
        assert counts["replies_redacted"] + counts["replies_dropped"] >= 1
        assert GONE not in str(counts)
    finally:
        store.close()
    # the raw bytes: database, WAL, and every file under the data folder
    for path in (db_path, Path(f"{db_path}-wal")):
        if path.exists():
            assert GONE.encode() not in path.read_bytes(), path
    assert KEPT.encode() in db_path.read_bytes()
    assert not voice.exists()
    assert _files_with(tmp_path, GONE) == []


def test_forget_refuses_an_ambiguous_name_and_lists_the_candidates(runtime, capsys):
    db = runtime.store.path
    add_customer(runtime.store, "c1", "华鑫包装有限公司", "r1", "L1", T0)
    add_customer(runtime.store, "c2", "华鑫精密有限公司", "r1", "L2", T0)
    runtime.close()
    assert cli_main(["forget", "华鑫", "--yes", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "2 个客户" in err and "华鑫包装有限公司" in err and "华鑫精密有限公司" in err and "未执行" in err
    store = open_store(db)
    assert forget_store.audit_rows(store) == []
    store.close()


def test_forget_asks_for_confirmation_and_cancels_on_a_mismatch(runtime, capsys, monkeypatch):
    db = runtime.store.path
    add_customer(runtime.store, "c1", "华鑫包装有限公司", "r1", "L1", T0)
    runtime.close()
    monkeypatch.setattr("builtins.input", lambda prompt="": "不对")
    assert cli_main(["forget", "c1", "--db", str(db)]) == 1
    assert "已取消" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", lambda prompt="": "华鑫包装有限公司")
    assert cli_main(["forget", "c1", "--db", str(db)]) == 0
    store = open_store(db)
    assert len(forget_store.audit_rows(store, "c1")) == 1
    store.close()
