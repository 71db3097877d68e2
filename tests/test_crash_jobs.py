"""SIGKILL during every long CLI job, then the same command again: the end state equals an uninterrupted run.

Each job runs as a real `salespulse` subprocess. `SALESPULSE_CRASH_AT=<point>:<n>` (bot/crashpoints.py) makes it
kill itself with SIGKILL at an exact point — mid-transaction while importing rows, after a dispatcher batch
committed, after a restore's copy — so the test is deterministic. The re-run must exit normally, say what it
finished, and leave the same rows (ids and counts; timestamps differ between runs by nature) as a run that was
never interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_ingest_worker import record

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
N = 400


def in_process(workdir: Path, *args: str, capsys=None, monkeypatch=None) -> tuple[int, str]:
    """The same command in this process (a fresh process is not needed to read what is on disk; it saves the
    interpreter start-up, which dominates these jobs on a loaded machine)."""
    from bot.cli import main

    monkeypatch.chdir(workdir)
    code = main(["-c", str(workdir / "bot.toml"), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def salespulse(workdir: Path, *args: str, crash_at: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SALESPULSE_CRASH_AT"}
    env["PYTHONPATH"] = str(ROOT)
    if crash_at:
        env["SALESPULSE_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "-c", str(workdir / "bot.toml"), *args], cwd=workdir,
                          env=env, capture_output=True, text=True, timeout=100)


def workdir(tmp_path: Path, name: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "bot.toml").write_text('[bot]\ndatabase = "sp.db"\ndispatch_batch = 100\n', encoding="utf-8")
    return d


def state(db: Path, tables: tuple[str, ...]) -> dict:
    with sqlite3.connect(db) as conn:
        out: dict = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}  # noqa: S608
        # scheduler ticks depend on the wall-clock minute each run happens in: not part of what the job produced
        out["inbox"] = sorted(conn.execute("SELECT platform, external_id, status FROM inbox"
                                           " WHERE platform != 'scheduler'").fetchall())
        out["events"] = sorted(r[0] for r in conn.execute("SELECT event_id FROM events"))
        out["outbox"] = sorted(r[0] for r in conn.execute("SELECT idempotency_key FROM outbox"
                                                          " WHERE source_event_id NOT LIKE 'scheduler:%'"))
    return out


def crash_then_finish(tmp_path: Path, name: str, args: list[str], crash_at: str, setup, io) -> tuple[Path, str]:
    """Run in a subprocess that SIGKILLs itself at `crash_at`, then run the same command again to the end."""
    d = workdir(tmp_path, name)
    setup(d)
    killed = salespulse(d, *args, crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    code, output = in_process(d, *args, **io)
    assert code == 0, output[-2000:]
    return d, output


@pytest.fixture
def io(capsys, monkeypatch):
    return {"capsys": capsys, "monkeypatch": monkeypatch}


def test_import_archive_after_sigkill_finishes_what_is_pending(tmp_path, io):
    def setup(d: Path) -> None:
        (d / "archive.jsonl").write_text("".join(json.dumps(record(i), ensure_ascii=False) + "\n" for i in range(N)),
                                         encoding="utf-8")

    args = ["import", "archive", "archive.jsonl"]
    clean = workdir(tmp_path, "clean")
    setup(clean)
    assert in_process(clean, *args, **io)[0] == 0
    want = state(clean / "sp.db", ("event_tags", "customers"))
    assert want["events"] and all(status != "pending" for _p, _e, status in want["inbox"])
    for point in ("dispatch.batch:2", "import.row:150"):
        d, rerun = crash_then_finish(tmp_path, point.replace(":", "-"), args, point, setup, io)
        assert state(d / "sp.db", ("event_tags", "customers")) == want
        if point.startswith("dispatch"):  # 200 rows processed before the kill, 200 left: the re-run says so
            assert "新增 0 条" in rerun and "200" in rerun
            assert "上次中断留下的 200 条待处理记录这次已处理完" in rerun


def test_replay_after_sigkill(tmp_path, io):
    from bot.events import Actor, Message, MessageKind

    def setup(d: Path) -> None:
        lines = [json.dumps(Message(event_id=f"replay:m{i}", platform="console", occurred_at=1772413200000 + i,
                                    received_at=1772413200000 + i, actor=Actor(platform_id=f"u{i % 7}"),
                                    kind=MessageKind.TEXT, text=f"第{i}条 报价", to_bot=False).to_dict(),
                            ensure_ascii=False) for i in range(N)]
        (d / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    args = ["replay", "events.jsonl"]
    clean = workdir(tmp_path, "clean")
    setup(clean)
    assert in_process(clean, *args, **io)[0] == 0
    want = state(clean / "sp.db", ("event_tags",))
    d, rerun = crash_then_finish(tmp_path, "killed", args, "dispatch.batch:1", setup, io)
    assert state(d / "sp.db", ("event_tags",)) == want
    assert "上次中断留下的 300 条待处理记录这次已处理完" in rerun


def test_import_calls_after_sigkill(tmp_path, io):
    def setup(d: Path) -> None:
        rows = [f"C-{i},2026-03-02 09:{i % 60:02d}:00,{'inbound' if i % 3 else 'outbound'},r{i % 5},"
                f"139{i:08d},{'yes' if i % 4 else 'no'},{i % 300}" for i in range(N)]
        (d / "calls.csv").write_text("call_id,started_at,direction,rep,customer_phone,answered,duration_s\n"
                                     + "\n".join(rows) + "\n", encoding="utf-8")

    args = ["import", "calls", "calls.csv"]
    clean = workdir(tmp_path, "clean")
    setup(clean)
    assert in_process(clean, *args, **io)[0] == 0
    want = state(clean / "sp.db", ())
    assert len(want["inbox"]) == N
    d, rerun = crash_then_finish(tmp_path, "killed", args, "import.row:250", setup, io)
    assert state(d / "sp.db", ()) == want


def test_import_deals_after_sigkill(tmp_path, io):
    template = (ROOT / "mappings" / "generic_deals_template.csv").read_text(encoding="utf-8").splitlines()

    def setup(d: Path) -> None:
        header, first = template[0], template[1].split(",")
        rows = []
        for i in range(60):
            row = list(first)
            row[0], row[1], row[3] = f"D-{i:03d}", f"商机{i}", f"客户{i % 9}"
            rows.append(",".join(row))
        (d / "deals.csv").write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")

    args = ["import", "deals", "deals.csv", "--map", str(ROOT / "mappings" / "generic.toml")]
    clean = workdir(tmp_path, "clean")
    setup(clean)
    assert in_process(clean, *args, **io)[0] == 0
    want = state(clean / "sp.db", ("deal_details", "customers", "leads"))
    assert want["deal_details"] == 60
    d, rerun = crash_then_finish(tmp_path, "killed", args, "import.row:40", setup, io)
    assert state(d / "sp.db", ("deal_details", "customers", "leads")) == want


def test_restore_after_sigkill(tmp_path, io):
    source = workdir(tmp_path, "source")
    (source / "archive.jsonl").write_text("".join(json.dumps(record(i)) + "\n" for i in range(120)), encoding="utf-8")
    assert in_process(source, "import", "archive", "archive.jsonl", **io)[0] == 0
    assert in_process(source, "export", str(tmp_path / "backup.zip"), **io)[0] == 0
    args = ["restore", str(tmp_path / "backup.zip"), "--db", "restored.db"]
    clean = workdir(tmp_path, "clean")
    assert in_process(clean, *args, **io)[0] == 0
    tables = ("events", "event_tags", "customers")
    want = state(clean / "restored.db", tables)
    d, rerun = crash_then_finish(tmp_path, "killed", args, "restore.copy:1", lambda d: None, io)
    assert state(d / "restored.db", tables) == want
    assert not (d / "restored.db.restore-pending").exists()
    assert "这次已完成" in rerun


def test_inbox_and_doctor_show_unfinished_work(tmp_path, io):
    d = workdir(tmp_path, "pending")
    (d / "archive.jsonl").write_text("".join(json.dumps(record(i)) + "\n" for i in range(30)), encoding="utf-8")
    code, out = in_process(d, "import", "archive", "archive.jsonl", "--no-process", **io)
    assert code == 0 and "收件箱里还有 30 条待处理记录" in out
    code, out = in_process(d, "inbox", **io)
    assert code == 0 and "pending 30" in out and "crash-000029" in out and "有 30 条记录还没处理完" in out
    (d / "sp.db.restore-pending").write_text("abc\nbackup.zip\n", encoding="utf-8")
    code, out = in_process(d, "doctor", **io)
    assert "未完成的工作：收件箱待处理 30 条" in out
    assert "恢复 backup.zip 被中断过" in out
