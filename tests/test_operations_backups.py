"""Scheduled verified backups, `restore --verify`, and safe upgrades (backup first, newer databases refused)."""

from __future__ import annotations

import dataclasses
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Runtime
from bot.backup import BackupError
from bot.backup_schedule import LAST_RUN_KEY, ScheduledBackups, verify_backup, write_verified_backup
from bot.cli import main as cli_main
from bot.clock import VirtualClock, to_ms
from bot.config import BackupSection
from bot.errors import DatabaseError
from bot.upgrade import backup_before_migrations, pending_migrations
from store import kv, open_store
from store import outbox as outbox_store
from store.migrate import available
from tests.conftest import T0


def _config(config, tmp_path, **backup):
    return dataclasses.replace(config, backup=BackupSection(folder=str(tmp_path / "backups"), **backup))


def _schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT type, name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        return sorted((kind, name, " ".join(sql.split())) for kind, name, sql in rows)  # layout aside
    finally:
        conn.close()


def _oldest_database(path: Path) -> None:
    """A database exactly as the first release left it: migration 1 only, with a row of data."""
    number, name, sql = available()[0]
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.execute("CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
    conn.execute("INSERT INTO schema_migrations (id, name) VALUES (?, ?)", (number, name))
    conn.execute("INSERT INTO teams (id, name) VALUES ('t1', '华东一组')")
    conn.commit()
    conn.close()


def test_verified_backups_are_pruned_to_keep(store, config, tmp_path):
    config = _config(config, tmp_path, keep=2)
    clock = VirtualClock(T0)
    made = []
    for _ in range(3):
        made.append(write_verified_backup(config, store.path, clock).path)
        clock.advance(60_000)
    left = sorted((tmp_path / "backups").glob("*.zip"))
    assert left == made[1:]
    assert verify_backup(left[-1]).rows > 0


def test_verify_refuses_a_tampered_backup_and_never_touches_the_live_database(store, config, tmp_path, capsys):
    archive = write_verified_backup(_config(config, tmp_path), store.path, VirtualClock(T0)).path
    before = Path(store.path).read_bytes()
    assert cli_main(["restore", "--verify", str(archive), "--db", store.path]) == 0
    assert "校验通过" in capsys.readouterr().out
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[:4096] + bytes(b ^ 0xFF for b in data[4096:4196]) + data[4196:]
                         if item.filename == "salespulse.db" else data)
    with pytest.raises(BackupError):
        verify_backup(bad)
    assert cli_main(["restore", "--verify", str(bad), "--db", store.path]) == 2
    assert Path(store.path).read_bytes() == before


async def test_schedule_runs_once_per_slot_and_alerts_admins_on_failure(store, config, tmp_path):
    clock = VirtualClock(to_ms(datetime(2026, 3, 2, 19, 0, tzinfo=UTC)))  # 03:00 Shanghai, before the 03:30 slot
    rt = Runtime(config=_config(config, tmp_path, enabled=True), store=store, clock=clock, deferred_in_thread=False)
    backups = ScheduledBackups(rt.services)
    assert await backups.maybe_run() is None  # first start: records itself, no backup at once
    assert kv.get(store, LAST_RUN_KEY) is not None
    clock.advance(20 * 60_000)
    assert await backups.maybe_run() is None  # 03:20: not due yet
    clock.advance(15 * 60_000)
    first = await backups.maybe_run()  # 03:35: the 03:30 slot
    assert first is not None and first.path.is_file()
    assert await backups.maybe_run() is None  # the same slot never runs twice
    # The next night the folder cannot be written: the admins hear of it once, the older backup stays.
    (tmp_path / "backups").rename(tmp_path / "moved")
    (tmp_path / "backups").write_text("not a folder")
    clock.advance(24 * 3_600_000)
    assert await backups.maybe_run() is None
    alerts = [r for r in outbox_store.listing(store) if "定时备份失败" in str(r.reply)]
    admins = [p for p in rt.services.directory.people.values() if p.is_admin]
    assert len(alerts) == len(admins) >= 1
    assert (tmp_path / "moved" / first.path.name).is_file()
    rt.close()


def test_oldest_schema_upgrades_to_the_same_schema_as_a_fresh_database(tmp_path):
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    _oldest_database(old)
    assert pending_migrations(old) == [name for _n, name, _s in available()[1:]]
    open_store(old).close()
    open_store(fresh).close()
    assert _schema(old) == _schema(fresh)
    assert pending_migrations(old) == []


def test_a_start_that_must_migrate_writes_a_verified_backup_first(config, tmp_path, capsys):
    db = tmp_path / "prod.db"
    _oldest_database(db)
    config = _config(config, tmp_path)
    config = dataclasses.replace(config, bot=dataclasses.replace(config.bot, database=str(db)))
    todo, backup = backup_before_migrations(config, VirtualClock(T0))
    assert todo and backup is not None
    restored = verify_backup(backup.path)
    assert restored.rows >= 2  # the team row and the migration row survived
    with zipfile.ZipFile(backup.path) as zf:  # the archive holds the database as the old version left it
        zf.extract("salespulse.db", tmp_path / "x")
    conn = sqlite3.connect(tmp_path / "x" / "salespulse.db")
    assert [r[0] for r in conn.execute("SELECT id FROM schema_migrations")] == [available()[0][0]]
    conn.close()
    assert cli_main(["migrate", "--dry-run", "--db", str(db)]) == 0
    assert "将应用" in capsys.readouterr().out


def test_a_database_from_a_newer_version_stops_the_start_with_one_sentence(tmp_path, capsys):
    db = tmp_path / "newer.db"
    open_store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations (id, name) VALUES (9999, '9999_future.sql')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError) as info:
        open_store(db)
    assert info.value.reason == "too_new" and "9999" in str(info.value)
    assert cli_main(["migrate", "--dry-run", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "更新版本" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
