"""Export and restore: everything an admin needs to move or rebuild a SalesPulse install, in one zip.

What goes in, and why:
- `salespulse.db`: a consistent copy taken with SQLite's online backup API, so the bot can keep running (WAL
  readers and the writer are not blocked, and the copy includes what still sits in the -wal file).
- `bot.toml` with every secret blanked: a backup is copied around (USB sticks, chat); the platform secrets are not.
  Comments and layout are kept, so the file stays the documented example the admin edited. The result is
  re-parsed and checked; if a secret cannot be removed for sure, the export is refused rather than leaked.
- the rule packs in load order (built-in default, every configured packs dir, extra files): the tags in the
  database only make sense with the rules that produced them.
- `manifest.json`: format version, created_at, schema version, migrations, row counts per table and a SHA-256 of
  every file, so restore can refuse a truncated or tampered archive before touching anything.

Restore never overwrites a database that holds data unless forced, verifies the manifest and the copy's row counts
first (an archive is untrusted input: member names may not leave the review folder, nothing is unpacked beyond the
free disk space or, for bot.toml and rule packs, beyond MAX_SIDE_FILE_BYTES, and the database must be one our
migrations made — applied migrations we ship, no table we do not create), writes the database through the backup API as well, migrates it to this version's schema, and unpacks
bot.toml and the rule packs into a separate folder for review (the live bot.toml keeps its secrets).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import sqlite3
import tempfile
import tomllib
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bot import __version__, crashpoints
from bot.clock import Clock, from_ms
from bot.config import Config
from bot.errors import SalesPulseError
from prompts import Prompts
from prompts.library import os_reason
from store import maintenance, open_store
from store.maintenance import table_counts
from store.migrate import available as available_migrations

FORMAT = "salespulse-backup"
FORMAT_VERSION = 1
DB_NAME = "salespulse.db"
CONFIG_NAME = "bot.toml"
MANIFEST = "manifest.json"
MAX_SIDE_FILE_BYTES = 16 << 20  # bot.toml and a rule pack are kilobytes; anything near this is not ours
# damaged data, an unsupported compression method, an encrypted member
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)

Progress = Callable[[int, int], None]  # (pages done, pages total)
Translate = Callable[..., str]


class BackupError(SalesPulseError):
    """The archive cannot be written or restored; the message says why in one sentence."""


# ------------------------------------------------------------------ secrets in bot.toml


def secret_keys(cls: type = Config, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Dotted paths of every secret field (e.g. ("wecom", "secret")), from the config dataclasses' metadata."""
    out: set[tuple[str, ...]] = set()
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        path = (*prefix, f.name)
        if f.metadata.get("secret"):
            out.add(path)
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        tp = type(default) if dataclasses.is_dataclass(default) else None
        if tp is not None:
            out |= secret_keys(tp, path)
        elif isinstance(default, tuple) and default and dataclasses.is_dataclass(default[0]):
            out |= secret_keys(type(default[0]), path)
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            made = f.default_factory()  # type: ignore[misc]
            if dataclasses.is_dataclass(made):
                out |= secret_keys(type(made), path)
    return out


_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEYVAL = re.compile(r"^(\s*)((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)(\s*=\s*)(.*)$")


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = re.findall(r"\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+", dotted)
    return tuple(p[1:-1] if p[:1] in ('"', "'") else p for p in parts)


def _string_end(value: str) -> int | None:
    """Index just after a single-line TOML string at the start of `value`; None when it is not one."""
    if value.startswith('"') and not value.startswith('"""'):
        i = 1
        while i < len(value):
            if value[i] == "\\":
                i += 2
                continue
            if value[i] == '"':
                return i + 1
            i += 1
        return None
    if value.startswith("'") and not value.startswith("'''"):
        end = value.find("'", 1)
        return end + 1 if end > 0 else None
    return None


def strip_secrets(text: str, secrets: set[tuple[str, ...]] | None = None, t: Translate | None = None
                  ) -> tuple[str, list[str]]:
    """Blank every secret value in a bot.toml text, keeping comments and layout.

    Returns (new text, dotted names of the secrets that had a value). Raises BackupError when the result still
    holds a secret (a form this line-based editor does not understand, e.g. an inline table) — never leaks one.
    """
    secrets = secret_keys() if secrets is None else secrets
    t = t or _default_t()
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    table: tuple[str, ...] = ()
    blanked: list[str] = []
    skip_until: str | None = None
    for line in lines:
        if skip_until is not None:  # inside a multi-line secret string being dropped
            if skip_until in line:
                skip_until = None
            continue
        header = _HEADER.match(line)
        if header and "=" not in line.split("#", 1)[0]:
            table = _split_key(header.group(1))
            out.append(line)
            continue
        kv = _KEYVAL.match(line)
        if kv is None:
            out.append(line)
            continue
        indent, key, eq, rest = kv.groups()
        path = (*table, *_split_key(key))
        if path not in secrets:
            out.append(line)
            continue
        newline = "\n" if line.endswith("\n") else ""
        body = rest.rstrip("\r\n")
        for triple in ('"""', "'''"):
            if body.startswith(triple):
                if body.count(triple) < 2:
                    skip_until = triple
                comment = ""
                break
        else:
            end = _string_end(body)
            comment = body[end:] if end is not None else ""
            if end is None:
                comment = ""
            original = body[:end] if end is not None else body
            if original.strip() not in ('""', "''"):
                blanked.append(".".join(path))
            out.append(f'{indent}{key}{eq}""{comment}{newline}')
            continue
        blanked.append(".".join(path))
        out.append(f'{indent}{key}{eq}""{comment}{newline}')
    result = "".join(out)
    _verify_no_secrets(result, secrets, t)
    return result, blanked


def _verify_no_secrets(text: str, secrets: set[tuple[str, ...]], t: Translate) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BackupError(t("ops.backup_toml_unparsable", error=str(exc))) from None

    def values(node: Any, path: tuple[str, ...]) -> list[Any]:
        if not path:
            return [node]
        if isinstance(node, list):
            return [v for item in node for v in values(item, path)]
        if isinstance(node, dict) and path[0] in node:
            return values(node[path[0]], path[1:])
        return []

    for path in secrets:
        for value in values(data, path):
            if value not in ("", None):
                raise BackupError(t("ops.backup_secret_left", name=".".join(path)))


# ------------------------------------------------------------------ database helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _online_copy(src_path: Path, dst_path: Path, progress: Progress | None) -> None:
    """SQLite's online backup API, page by page, so a running bot is never blocked for long."""
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(dst_path)
    try:
        def step(status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        src.backup(dst, pages=256, progress=step)
    finally:
        dst.close()
        src.close()


def _has_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        counts = table_counts(conn)
    except sqlite3.DatabaseError:
        return True  # something that is not an empty SalesPulse database: treat as precious
    finally:
        conn.close()
    return any(n for name, n in counts.items() if name != "schema_migrations")


# ------------------------------------------------------------------ export


@dataclass(frozen=True)
class ExportResult:
    path: Path
    manifest: dict[str, Any]


def _rule_files(config: Config) -> list[tuple[str, Path]]:
    """(name in the zip, file) of every rule pack in load order."""
    from rules.reload import default_pack_path, pack_files

    source = config.source
    base = Path(source).parent if source and not source.startswith("<") else None
    rules_cfg = config.rules
    files = pack_files(rules_cfg.packs_dirs, rules_cfg.extra_files, rules_cfg.use_default_pack, base)
    shipped_dir = default_pack_path().resolve().parent
    shipped = sorted(shipped_dir.glob("*.toml"))  # every shipped pack, loaded or not
    out: list[tuple[str, Path]] = []
    used: set[str] = set()
    for path in [*shipped, *(f for f in files if f.resolve() not in set(shipped))]:
        if not path.is_file():
            continue
        if path.resolve().parent == shipped_dir:
            name = f"rules/packs/{path.name}"
        else:
            name = f"rules/{path.parent.name}/{path.name}"
        while name in used:
            name = name[:-5] + "_.toml"
        used.add(name)
        out.append((name, path))
    return out


def export_backup(config: Config, db_path: str | Path, out: str | Path, clock: Clock,
                  progress: Progress | None = None, t: Translate | None = None) -> ExportResult:
    """Write the backup zip; refuses to overwrite an existing file."""
    t = t or _default_t()
    db_path, out = Path(db_path), Path(out)
    if not db_path.is_file():
        raise BackupError(t("ops.backup_db_missing", path=db_path))
    if out.exists():
        raise BackupError(t("ops.backup_exists", path=out))
    open_store(db_path, run_migrations=False).close()  # a locked / foreign file stops here; never migrates what it backs up
    with tempfile.TemporaryDirectory(prefix="salespulse-export-") as tmp:
        copy = Path(tmp) / DB_NAME
        _online_copy(db_path, copy, progress)
        conn = sqlite3.connect(copy)
        try:
            schema = maintenance.schema_version(conn)
            migrations = maintenance.applied_migrations(conn)
            counts = table_counts(conn)
            check = maintenance.integrity(conn)
        finally:
            conn.close()
        if check != "ok":
            raise BackupError(t("ops.backup_integrity", check=check))
        files: dict[str, bytes] = {}
        blanked: list[str] = []
        source = config.source
        if source and not source.startswith("<") and Path(source).is_file():
            text, blanked = strip_secrets(Path(source).read_text(encoding="utf-8"), t=t)
            files[CONFIG_NAME] = text.encode("utf-8")
        for name, path in _rule_files(config):
            files[name] = path.read_bytes()
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": __version__,
            "created_at": from_ms(clock.now_ms()).isoformat(),
            "schema_version": schema,
            "migrations": migrations,
            "tables": counts,
            "config_source": source,
            "secrets_removed": sorted(blanked),
            "files": {DB_NAME: _sha256(copy), **{n: hashlib.sha256(b).hexdigest() for n, b in files.items()}},
        }
        partial = out.with_name(out.name + ".partial")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
                zf.write(copy, DB_NAME)
                for name, data in files.items():
                    zf.writestr(name, data)
            partial.replace(out)  # a crash mid-write never leaves a plausible-looking half archive
        except OSError as exc:
            if partial.is_file():
                partial.unlink()
            raise BackupError(t("ops.write_failed", path=out, error=os_reason(exc, t))) from None
    return ExportResult(out, manifest)


# ------------------------------------------------------------------ restore


@dataclass(frozen=True)
class RestoreResult:
    db_path: Path
    manifest: dict[str, Any]
    files_dir: Path | None
    files: list[str]
    migrated: bool
    resumed: bool = False  # this run finished a restore of the same backup that had been interrupted


def restore_marker(db_path: str | Path) -> Path:
    """`<db>.restore-pending`: written before the copy starts, removed when the restore finished. If it is there, a
    restore was killed half-way (the copy itself is one SQLite transaction, but migrations and side files follow);
    it names the backup's database digest, so re-running the same restore finishes it without --force, and
    `salespulse doctor` can say so."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".restore-pending")


def read_manifest(zf: zipfile.ZipFile, t: Translate | None = None) -> dict[str, Any]:
    t = t or _default_t()
    try:
        manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except KeyError:
        raise BackupError(t("ops.restore_no_manifest")) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(t("ops.restore_bad_manifest", error=str(exc))) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(t("ops.restore_other_format"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(t("ops.restore_format_version", found=manifest.get("format_version"),
                            supported=FORMAT_VERSION))
    top = available_migrations()[-1][0]
    if int(manifest.get("schema_version", 0)) > top:
        raise BackupError(t("ops.restore_schema_newer", found=manifest.get("schema_version"), supported=top))
    return manifest


def _member_size(zf: zipfile.ZipFile, name: str, t: Translate) -> int:
    """The size a member declares it unpacks to (zipfile never yields more than that, and checks its CRC)."""
    try:
        return zf.getinfo(name).file_size
    except KeyError:
        raise BackupError(t("ops.restore_missing_member", name=name)) from None


def _not_ours(conn: sqlite3.Connection) -> bool:
    """True unless every applied migration is one we ship and every table is one our migrations create."""
    try:
        applied = maintenance.applied_migrations(conn)
        tables = set(table_counts(conn))
    except sqlite3.DatabaseError:
        return True
    ours = open_store(":memory:")
    try:
        known_tables = set(table_counts(ours.conn))
    finally:
        ours.close()
    shipped = {number for number, _name, _sql in available_migrations()}
    return not applied or not set(applied) <= shipped or not tables <= known_tables


def _safe_member(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and name not in (MANIFEST, DB_NAME)


def restore_backup(archive: str | Path, db_path: str | Path, *, force: bool = False,
                   files_dir: str | Path | None = None, progress: Progress | None = None,
                   t: Translate | None = None) -> RestoreResult:
    t = t or _default_t()
    archive, db_path = Path(archive), Path(db_path)
    if not archive.is_file():
        raise BackupError(t("ops.restore_missing", path=archive))
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise BackupError(t("ops.restore_not_zip", path=archive)) from None
    with zf, tempfile.TemporaryDirectory(prefix="salespulse-restore-") as tmp:
        manifest = read_manifest(zf, t)
        expected = manifest.get("files") or {}
        if DB_NAME not in expected or DB_NAME not in zf.namelist():
            raise BackupError(t("ops.restore_no_db"))
        extracted = Path(tmp) / DB_NAME
        size = _member_size(zf, DB_NAME, t)
        free = shutil.disk_usage(tmp).free
        if size > free:
            raise BackupError(t("ops.restore_no_space", name=DB_NAME, size=_mb(size), free=_mb(free), dir=tmp))
        try:
            with zf.open(DB_NAME) as src, extracted.open("wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
        except _ZIP_READ_ERRORS:
            raise BackupError(t("ops.restore_checksum", name=DB_NAME)) from None
        except OSError as exc:
            raise BackupError(t("ops.write_failed", path=extracted, error=os_reason(exc, t))) from None
        if _sha256(extracted) != expected[DB_NAME]:
            raise BackupError(t("ops.restore_checksum", name=DB_NAME))
        others: dict[str, bytes] = {}
        for name, digest in expected.items():
            if name == DB_NAME:
                continue
            if not _safe_member(name):
                raise BackupError(t("ops.restore_unsafe_name", name=name))
            if _member_size(zf, name, t) > MAX_SIDE_FILE_BYTES:
                raise BackupError(t("ops.restore_member_too_large", name=name, limit=_mb(MAX_SIDE_FILE_BYTES)))
            try:
                data = zf.read(name)
            except _ZIP_READ_ERRORS:
                raise BackupError(t("ops.restore_checksum", name=name)) from None
            if hashlib.sha256(data).hexdigest() != digest:
                raise BackupError(t("ops.restore_checksum", name=name))
            others[name] = data
        conn = sqlite3.connect(f"file:{extracted}?mode=ro", uri=True)
        try:
            if _not_ours(conn):
                raise BackupError(t("ops.restore_not_ours"))
            counts = table_counts(conn)
            check = maintenance.integrity(conn)
        except sqlite3.DatabaseError:
            raise BackupError(t("ops.restore_not_ours")) from None
        finally:
            conn.close()
        if check != "ok" or counts != manifest.get("tables"):
            raise BackupError(t("ops.restore_mismatch"))
        marker = restore_marker(db_path)
        resumed = marker.is_file() and marker.read_text(encoding="utf-8").split("\n")[0] == expected[DB_NAME]
        if _has_data(db_path) and not force and not resumed:
            raise BackupError(t("ops.restore_not_empty", path=db_path))
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(t("ops.write_failed", path=db_path, error=os_reason(exc, t))) from None
        if db_path.exists():
            open_store(db_path, run_migrations=False).close()  # locked by a running bot → one clear sentence
        try:
            marker.write_text(f"{expected[DB_NAME]}\n{archive}\n", encoding="utf-8")
        except OSError as exc:
            raise BackupError(t("ops.write_failed", path=marker, error=os_reason(exc, t))) from None
        _online_copy(extracted, db_path, progress)
        crashpoints.reached("restore.copy")
    store = open_store(db_path)  # migrates an older backup to this version's schema
    after = maintenance.schema_version(store.conn)
    store.close()
    written: list[str] = []
    target_dir: Path | None = None
    if others:
        target_dir = Path(files_dir) if files_dir else db_path.parent / "salespulse-restored"
        for name, data in sorted(others.items()):
            dest = target_dir / name
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
            except OSError as exc:
                raise BackupError(t("ops.write_failed", path=dest, error=os_reason(exc, t))) from None
            written.append(str(dest))
    marker.unlink(missing_ok=True)
    return RestoreResult(db_path, manifest, target_dir, written, migrated=after != manifest.get("schema_version"),
                         resumed=resumed)


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f}"


def _default_t() -> Translate:
    return Prompts().t
