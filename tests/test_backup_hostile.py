"""`salespulse restore` of an archive someone else made: the zip is untrusted input. Each hostile archive below is
self-consistent (its manifest lists the right checksums and row counts), so only the new checks can stop it; every
refusal is one sentence and leaves neither a database nor unpacked files behind."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from collections import namedtuple

import pytest

from bot import backup
from bot.backup import BackupError, export_backup, restore_backup
from prompts import Prompts
from store import customers as customer_store
from store.maintenance import table_counts

EN = Prompts("en").t


@pytest.fixture
def good(tmp_path, runtime, clock, config):
    """A genuine backup of a database with the org and a customer in it."""
    store = runtime.store
    with store.transaction():
        customer_store.upsert(store, "c1", "华鑫精密", owner_id="r1", created_at=1)
    out = tmp_path / "good.zip"
    export_backup(config, store.path, out, clock, t=EN)
    return out


def forge(src, dst, db: bytes | None = None, extra: dict[str, bytes] | None = None):
    """Copy a backup, replacing the database and adding members, with a manifest that matches them exactly."""
    with zipfile.ZipFile(src) as zin:
        manifest = json.loads(zin.read("manifest.json"))
        members = {n: zin.read(n) for n in zin.namelist() if n != "manifest.json"}
    if db is not None:
        members["salespulse.db"] = db
        scratch = dst.with_suffix(".probe.db")
        scratch.write_bytes(db)
        conn = sqlite3.connect(scratch)
        try:
            manifest["tables"] = table_counts(conn)
        except sqlite3.DatabaseError:
            pass
        finally:
            conn.close()
            scratch.unlink()
    members.update(extra or {})
    manifest["files"] = {n: hashlib.sha256(b).hexdigest() for n, b in members.items()}
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zout.writestr(name, data)
    return dst


def sqlite_bytes(tmp_path, name: str, *statements: str, base: bytes | None = None) -> bytes:
    path = tmp_path / name
    if base is not None:
        path.write_bytes(base)
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path.read_bytes()


def assert_refused(archive, tmp_path, message: str) -> None:
    target = tmp_path / "restored" / "salespulse.db"
    with pytest.raises(BackupError, match=message):
        restore_backup(archive, target, files_dir=tmp_path / "review", t=EN)
    assert not target.exists() and not (tmp_path / "review").exists()


def test_a_database_that_is_not_ours_is_refused(good, tmp_path):
    with zipfile.ZipFile(good) as zf:
        ours = zf.read("salespulse.db")
    cases = {
        "not-sqlite": b"PK this is no database at all " * 200,
        "foreign": sqlite_bytes(tmp_path, "foreign.db", "CREATE TABLE users (name TEXT, password TEXT)",
                                "INSERT INTO users VALUES ('admin', 'hunter2')"),
        "ours-plus-a-table": sqlite_bytes(tmp_path, "plus.db", "CREATE TABLE stash (x)", base=ours),
        "unknown-migration": sqlite_bytes(tmp_path, "mig.db", "INSERT INTO schema_migrations (id, name) VALUES"
                                          " (9, '0009_elsewhere.sql')", base=ours),
    }
    for name, db in cases.items():
        archive = forge(good, tmp_path / f"{name}.zip", db=db)
        assert_refused(archive, tmp_path, "not a SalesPulse database")
    restore_backup(good, tmp_path / "real" / "salespulse.db", t=EN)  # the genuine one still restores


@pytest.mark.parametrize("name", ["../evil.toml", "/tmp/evil.toml", "rules/../../evil.toml", "rules/../../../x"])
def test_member_names_cannot_leave_the_review_folder(good, tmp_path, name):
    archive = forge(good, tmp_path / "slip.zip", extra={name: b"owned = true\n"})
    assert_refused(archive, tmp_path, "unsafe file name")
    assert not (tmp_path / "evil.toml").exists()


def test_a_side_file_that_unpacks_huge_is_refused_before_reading(good, tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "MAX_SIDE_FILE_BYTES", 64 * 1024)
    bomb = b"\0" * (1 << 20)  # 1 MiB of zeros deflates to about a kilobyte
    archive = forge(good, tmp_path / "bomb.zip", extra={"rules/packs/bomb.toml": bomb})
    assert archive.stat().st_size < 64 * 1024
    assert_refused(archive, tmp_path, "larger than 0.1 MB")


def test_a_database_larger_than_the_free_space_is_refused_before_unpacking(good, tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(backup.shutil, "disk_usage", lambda path: usage(1 << 30, (1 << 30) - 1024, 1024))
    assert_refused(good, tmp_path, "only 0.0 MB are free")


def test_damaged_compressed_data_is_one_sentence_not_a_traceback(good, tmp_path):
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("salespulse.db")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + 40, start + info.compress_size - 40, 97):  # the stream itself, not its header
        data[offset] ^= 0x5A
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    assert_refused(damaged, tmp_path, "does not match its checksum")
