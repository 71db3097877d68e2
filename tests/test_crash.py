"""kill -9 at any moment loses nothing and duplicates nothing.

A subprocess (tests/test_ingest_worker.py) ingests 50,000 WeCom archive records into the inbox and runs the real
dispatcher. We kill it with SIGKILL several times — at seeded random moments from outside, and at exact points
inside an ingest transaction and inside a dispatch batch from inside — restart it each time, and finally let it
finish. The database must then hold exactly 50,000 distinct events, every inbox row done once, a processed-counter
(not protected by any unique key) of exactly 50,000, and exactly one outbox row per tenth event.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("test_ingest_worker.py")
TOTAL = 50_000


def _launch(db: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), "--db", str(db), "--total", str(TOTAL), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})


def _kill_after_lines(db: Path, lines: int) -> int:
    """Start the worker, let it report `lines` progress lines, then SIGKILL it while it keeps working."""
    proc = _launch(db)
    seen = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("progress"):
            seen += 1
            if seen >= lines:
                os.kill(proc.pid, signal.SIGKILL)
                break
    proc.wait(timeout=60)
    return proc.returncode


def _run_until_self_kill(db: Path, *flags: str) -> int:
    proc = _launch(db, *flags)
    proc.communicate(timeout=60)
    return proc.returncode


def _state(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        q = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
        return {
            "events": q("SELECT COUNT(*) FROM events")[0],
            "distinct_events": q("SELECT COUNT(DISTINCT event_id) FROM events")[0],
            "inbox": q("SELECT COUNT(*) FROM inbox")[0],
            "inbox_done": q("SELECT COUNT(*) FROM inbox WHERE status = 'done'")[0],
            "max_attempts": q("SELECT COALESCE(MAX(attempts), 0) FROM inbox")[0],
            "counter": int((q("SELECT value FROM kv WHERE key = 'crashtest.processed'") or ["0"])[0]),
            "outbox": q("SELECT COUNT(*) FROM outbox")[0],
            "distinct_keys": q("SELECT COUNT(DISTINCT idempotency_key) FROM outbox")[0],
            "integrity": q("PRAGMA integrity_check")[0],
        }


@pytest.mark.timeout(90)
def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path):
    db = tmp_path / "crash.db"
    rng = random.Random(20260302)
    kills = 0
    plan = [
        ("lines", rng.randint(3, 10)),
        ("ingest", rng.randint(1, 499)),      # half-written inbox chunk
        ("lines", rng.randint(5, 20)),
        ("dispatch", rng.randint(600, 9000)),  # mid-batch: some rows of the batch already routed
        ("lines", rng.randint(5, 20)),
        ("dispatch", rng.randint(1, 499)),
    ]
    previous = -1
    for kind, n in plan:
        if kind == "lines":
            rc = _kill_after_lines(db, n)
        elif kind == "ingest":
            rc = _run_until_self_kill(db, "--die-in-ingest", str(n))
        else:
            rc = _run_until_self_kill(db, "--die-in-dispatch", str(n))
        assert rc == -signal.SIGKILL, f"{kind} {n}: worker ended with {rc}, not killed"
        kills += 1
        state = _state(db)
        assert state["integrity"] == "ok"
        # Every kill hit a run still in progress, and what is committed is consistent at that instant.
        assert state["inbox_done"] < TOTAL
        assert state["events"] == state["distinct_events"] == state["inbox_done"] == state["counter"]
        assert state["inbox_done"] >= previous  # committed work never goes backwards
        previous = state["inbox_done"]

    proc = _launch(db)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1])["done"] is True

    final = _state(db)
    assert kills >= 6
    assert final == {
        "events": TOTAL,
        "distinct_events": TOTAL,
        "inbox": TOTAL,
        "inbox_done": TOTAL,
        "max_attempts": 1,  # each inbox row was marked done exactly once
        "counter": TOTAL,
        "outbox": TOTAL // 10,
        "distinct_keys": TOTAL // 10,
        "integrity": "ok",
    }
