"""Scheduled, verified backups while `serve` runs (`[backup]` in bot.toml), and the backup before a migration.

Why verified: a backup nobody has restored is a hope. Each archive (`export`'s format: online SQLite copy, bot.toml
without secrets, rule packs, manifest) is restored into a temporary file right after writing and must pass
`PRAGMA integrity_check` and the manifest's row counts; only then do older archives get pruned to `keep`. A failure
keeps every older archive and tells the admins in chat, once per failed run.

The last run's due time is kept in the database, so a restart neither repeats a backup nor skips one that fell
due while the process was down (it runs once at start, not once per missed slot). The copy and the check run in a
worker thread on their own connections: acks and chats never wait for a backup.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.backup import BackupError, export_backup, restore_backup
from bot.clock import Clock, from_ms, to_ms
from bot.config import Config
from bot.context import Context, Services
from bot.replies import Reply
from bot.scheduler import parse_cron
from store import kv, maintenance
from store.db import open_store

log = logging.getLogger("salespulse.backup")

LAST_RUN_KEY = "backup.last_due"
PREFIX = "salespulse-backup-"


@dataclass(frozen=True)
class Verified:
    path: Path
    rows: int
    schema: int


def backup_folder(config: Config) -> Path:
    folder = Path(config.backup.folder)
    if not folder.is_absolute() and config.source and not config.source.startswith("<"):
        folder = Path(config.source).parent / folder
    return folder


def verify_backup(archive: str | Path, t=None) -> Verified:
    """Restore `archive` into a throw-away file and check it; raises BackupError saying what is wrong.

    Never touches the live database: everything happens in a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="salespulse-verify-") as tmp:
        result = restore_backup(archive, Path(tmp) / "verify.db", files_dir=Path(tmp) / "files", t=t)
        store = open_store(result.db_path, run_migrations=False)
        try:
            check = maintenance.integrity(store.conn)
            schema = maintenance.schema_version(store.conn)
        finally:
            store.close()
        if check != "ok":
            raise BackupError((t or _t)("operations.backup_verify_failed", path=archive, check=check))
        return Verified(Path(archive), sum(result.manifest["tables"].values()), schema)


def write_verified_backup(config: Config, db_path: str | Path, clock: Clock, folder: Path | None = None,
                          t=None) -> Verified:
    """One archive named by its time, verified; then the oldest beyond `keep` are removed."""
    folder = folder or backup_folder(config)
    stamp = from_ms(clock.now_ms()).strftime("%Y%m%d-%H%M%S")
    out = folder / f"{PREFIX}{stamp}.zip"
    n = 1
    while out.exists():  # two runs in one second (a test, a manual run): never overwrite
        out = folder / f"{PREFIX}{stamp}-{n}.zip"
        n += 1
    export_backup(config, db_path, out, clock, t=t)
    try:
        verified = verify_backup(out, t)
    except BackupError:
        out.rename(out.with_suffix(".zip.bad"))  # kept for inspection, never counted as a good backup
        raise
    prune(folder, config.backup.keep)
    return verified


def prune(folder: Path, keep: int) -> list[Path]:
    archives = sorted(folder.glob(f"{PREFIX}*.zip"))
    gone = archives[:-keep] if keep > 0 else []
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


class ScheduledBackups:
    """Runs `[backup] cron` from the serve loop (checked on every wake-up; the work itself is off the loop)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.config = services.config
        self.trigger = parse_cron(self.config.backup.cron, self.config.scheduler.timezone)

    def _next_after(self, ms: int) -> int:
        fire = self.trigger.get_next_fire_time(None, from_ms(ms) + timedelta(milliseconds=1))
        return to_ms(fire)

    def due_at(self) -> int | None:
        """The due time of the run to do now, or None. The first start only records itself (no backup at once)."""
        store = self.services.store
        now = self.services.clock.now_ms()
        last = kv.get(store, LAST_RUN_KEY)
        if last is None:
            with store.transaction():
                kv.put(store, LAST_RUN_KEY, str(now))
            return None
        due = self._next_after(int(last))
        return due if due <= now else None

    async def run_forever(self, stop: asyncio.Event, poll_s: float) -> None:
        """The serve task: check every `poll_s`; a run never blocks the runtime loop (it is in a thread)."""
        while not stop.is_set():
            try:
                await self.maybe_run()
            except Exception:  # keep the schedule alive; the failure is logged with its traceback
                log.exception("backup schedule step failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_s)
            except TimeoutError:
                pass

    async def maybe_run(self) -> Verified | None:
        due = self.due_at()
        if due is None:
            return None
        store = self.services.store
        with store.transaction():
            kv.put(store, LAST_RUN_KEY, str(self.services.clock.now_ms()))
        t = self.services.prompts.t
        try:
            verified = await asyncio.to_thread(write_verified_backup, self.config, store.path, self.services.clock,
                                               None, t)
        except (BackupError, OSError) as exc:
            log.error("scheduled backup failed: %s", exc)
            self._alert(t("operations.backup_failed_alert", error=str(exc)), due)
            self.services.extras["backup.last_ok"] = False
            return None
        self.services.extras["backup.last_ok"] = True
        log.info("backup written and verified: %s (%d rows)", verified.path, verified.rows)
        return verified

    def _alert(self, text: str, due: int) -> None:
        store = self.services.store
        ctx = Context(self.services, None)
        with store.transaction():
            for person in self.services.directory.people.values():
                if person.is_admin:
                    ctx.notify(person.id, Reply.plain(text), f"backup-failed:{due}")


def _t(key: str, **values) -> str:
    from prompts import Prompts

    return Prompts("zh-CN").t(key, **values)
