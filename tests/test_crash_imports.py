"""SIGKILL during the other long imports — transcripts, stores, store-daily, Wi-Fi — then the same command again:
the end state equals an uninterrupted run (the archive, deals, calls, replay and restore jobs: test_crash_jobs.py).

Each import is killed by `SALESPULSE_CRASH_AT=import.row:<n>` (bot/crashpoints.py) in the middle of its writes, in
a real subprocess; the re-run (in this process) must exit normally and leave the same rows as a run that was never
interrupted. Columns that hold the wall-clock time of the run (updated_at, created_at, the import time of a figure)
differ between any two runs by nature and are left out of the comparison.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from test_crash_jobs import crash_then_finish, in_process, workdir

from store import customers as customer_store
from store import leads as lead_store
from store import org as org_store
from store.db import open_store

pytestmark = pytest.mark.timeout(120)
WALL_CLOCK = {"updated_at", "created_at", "outcome_at"}


def rows(db: Path, tables: dict[str, tuple[str, ...]]) -> dict[str, list[tuple]]:
    """Every row of each table (sorted), without the wall-clock columns and the ones named per table."""
    out = {}
    with sqlite3.connect(db) as conn:
        for table, skip in tables.items():
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                    if r[1] not in WALL_CLOCK and r[1] not in skip]
            out[table] = sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(),  # noqa: S608
                                key=repr)
    return out


def check(tmp_path: Path, io, args: list[str], setup, crash_at: str, tables: dict[str, tuple[str, ...]],
          expect_rows: str) -> None:
    clean = workdir(tmp_path, "clean")
    setup(clean)
    code, out = in_process(clean, *args, **io)
    assert code == 0, out[-2000:]
    want = rows(clean / "sp.db", tables)
    assert want[expect_rows], "the uninterrupted run wrote nothing: the test would prove nothing"
    d, _rerun = crash_then_finish(tmp_path, "killed", args, crash_at, setup, io)
    assert rows(d / "sp.db", tables) == want


@pytest.fixture
def io(capsys, monkeypatch):
    return {"capsys": capsys, "monkeypatch": monkeypatch}


STORES_HEADER = "id,name,area,type,manager,clerks,opens,closes,city,area_manager\n"


def stores_csv(n: int) -> str:
    return STORES_HEADER + "".join(
        f"s{i:02d},门店{i:02d},区域{i % 3},饮料柜,店长{i:02d},店员{i:02d}a、店员{i:02d}b,10:00,22:00,上海,区域经理{i % 3}\n"
        for i in range(n))


def seed_stores(d: Path, n: int = 12) -> None:
    (d / "stores.csv").write_text(stores_csv(n), encoding="utf-8")
    assert in_process_quiet(d, "import", "stores", str(d / "stores.csv")) == 0


def in_process_quiet(d: Path, *args: str) -> int:
    from bot.cli import main

    return main(["-c", str(d / "bot.toml"), *args, "--db", str(d / "sp.db")])


def test_import_stores_after_sigkill(tmp_path, io):
    def setup(d: Path) -> None:
        (d / "stores.csv").write_text(stores_csv(30), encoding="utf-8")

    check(tmp_path, io, ["import", "stores", "stores.csv"], setup, "import.row:15",
          {"stores": (), "store_staff": (), "store_areas": (), "people": ()}, "stores")


def test_import_store_daily_after_sigkill(tmp_path, io):
    def setup(d: Path) -> None:
        seed_stores(d)
        lines = ["store,date,receptions,staff,dwell_min,visits"]
        lines += [f"s{i % 12:02d},2026-02-{1 + i // 12:02d},{20 + i},{1 + i % 4},{5 + i % 30},{i}" for i in range(240)]
        (d / "daily.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    check(tmp_path, io, ["import", "store-daily", "daily.csv"], setup, "import.row:120",
          {"store_receptions": ("at",), "store_dwell": ("at",)}, "store_receptions")


def test_import_wifi_after_sigkill(tmp_path, io):
    def setup(d: Path) -> None:
        seed_stores(d)
        lines = ["time,store,device,rssi"]
        for day in range(1, 11):
            for s in range(6):
                for visitor in range(4):
                    for minute in range(0, 12, 3):
                        lines.append(f"2026-02-{day:02d} {12 + visitor}:{minute:02d}:00,s{s:02d},dev-{day}-{s}-{visitor},-60")
        (d / "probes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    check(tmp_path, io, ["import", "wifi", "probes.csv"], setup, "import.row:30",
          {"store_wifi_probes": (), "store_dwell": ("at",)}, "store_dwell")


def test_import_transcripts_after_sigkill(tmp_path, io):
    turns = [("rep", "王总您好，上次的方案您看了吗？", 0.0, 3.0),
             ("customer", "看了，说实话比别家贵不少。", 3.5, 6.0),
             ("rep", "明白。苏州一家同规模的客户，实施后三个月人工成本降了18%，实施费半年就回来了。", 8.0, 15.0),
             ("customer", "交货要多久？我们下个月就要上线。", 16.0, 19.0),
             ("rep", "我们给同行业客户做过，三周交付，合同里写明延期赔付。", 20.0, 26.0),
             ("customer", "好的，那你把那个案例发我看看，下周约个时间。", 27.0, 30.0)]

    def setup(d: Path) -> None:
        store = open_store(d / "sp.db")
        with store.transaction():
            org_store.upsert_team(store, "east", "华东一组", "m1")
            org_store.upsert_person(store, "r1", "张伟", "rep", "east")
            for i in range(6):
                customer_store.upsert(store, f"c{i}", f"恒瑞精密{i}", industry="制造业", owner_id="r1")
                lead_store.upsert(store, f"L{i}", f"c{i}", "r1", f"恒瑞-{i}", 1_772_000_000_000, product="GW-300")
        store.close()
        calls = [{"id": f"call-{n}", "lead": f"L{n % 6}", "rep": "r1",
                  "started_at": f"2026-03-0{1 + n % 9} 10:{n % 60:02d}",
                  "turns": [{"role": r, "text": t, "start": s, "end": e} for r, t, s, e in turns]} for n in range(40)]
        (d / "calls.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in calls),
                                       encoding="utf-8")

    check(tmp_path, io, ["import", "transcripts", "calls.jsonl"], setup, "import.row:20",
          {"coach_snippets": ("id",), "coach_snippet_cells": ("snippet_id",)}, "coach_snippets")
