"""Export / restore: a round trip gives identical data in every table; secrets never reach the zip; restore refuses
to overwrite data without --force and refuses damaged, foreign or too-new archives before touching anything."""

from __future__ import annotations

import json
import sqlite3
import zipfile

import pytest

from bot.backup import BackupError, export_backup, restore_backup, secret_keys, strip_secrets
from bot.cli import main as cli_main
from bot.config import load_config
from prompts import Prompts
from store import customers as customer_store
from store import kv, open_store
from store import leads as lead_store

EN = Prompts("en").t

BOT_TOML = """\
# 我们公司的配置（注释要保留）
[bot]
locale = "zh-CN"   # 中文

[wecom]
enabled = false
corp_id = "ww-corp-1"          # not a secret
secret = "file-secret-1"       # the app secret
token = 'literal-token-2'
encoding_aes_key = \"\"\"
multi-line-aes-3\"\"\"
archive_secret = ""            # already empty

[feishu]
app_secret = "esc\\"aped-4"    # escaped quote inside
"""


def all_rows(path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {n: sorted((tuple(r) for r in conn.execute(f'SELECT * FROM "{n}"')), key=repr) for n in names}
    finally:
        conn.close()


@pytest.fixture
def live(tmp_path, runtime, monkeypatch):
    """A database with real traffic in it (inbox, outbox, org, customers, leads, scheduler, kv) and a bot.toml."""
    monkeypatch.setenv("SALESPULSE_WECOM_TOKEN", "env-token-5")
    store = runtime.store
    runtime.console.type_line("张伟", "/帮助")
    runtime.console.type_line("李娜", "/我是谁")
    with store.transaction():
        customer_store.upsert(store, "c1", "华鑫精密", industry="制造业", owner_id="r1", created_at=1)
        customer_store.add_key(store, "external_id", "wmABC", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "GW-300 网关项目", 1)
        kv.put(store, "archive.seq", "4242")
    config_path = tmp_path / "bot.toml"
    config_path.write_text(BOT_TOML, encoding="utf-8")
    return runtime, load_config(config_path)


async def test_round_trip_gives_identical_data(live, tmp_path, clock):
    runtime, config = live
    await runtime.settle()
    await runtime.advance_to(clock.now_ms() + 3 * 3_600_000)
    before = all_rows(runtime.store.path)
    assert before["inbox"] and before["outbox"] and before["people"] and before["scheduler_runs"]

    result = export_backup(config, runtime.store.path, tmp_path / "backup.zip", clock)
    manifest = result.manifest
    assert manifest["schema_version"] == runtime.store.conn.execute("PRAGMA user_version").fetchone()[0]
    assert manifest["tables"] == {name: len(rows) for name, rows in before.items()}
    assert manifest["created_at"].startswith("2026-03-02T")

    restored = restore_backup(tmp_path / "backup.zip", tmp_path / "restored" / "salespulse.db")
    assert all_rows(restored.db_path) == before
    assert restored.files_dir is not None
    assert (restored.files_dir / "bot.toml").is_file()
    assert (restored.files_dir / "rules" / "packs" / "default.toml").is_file()


def test_secrets_are_blanked_comments_kept_and_never_in_the_zip(live, tmp_path, clock):
    runtime, config = live
    result = export_backup(config, runtime.store.path, tmp_path / "b.zip", clock)
    raw = (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        toml_text = zf.read("bot.toml").decode("utf-8")
        everything = b"".join(zf.read(n) for n in zf.namelist())
    for secret in ("file-secret-1", "literal-token-2", "multi-line-aes-3", "aped-4", "env-token-5"):
        assert secret not in toml_text
        assert secret.encode() not in everything and secret.encode() not in raw
    assert "# 我们公司的配置（注释要保留）" in toml_text
    assert 'secret = ""       # the app secret' in toml_text
    assert 'corp_id = "ww-corp-1"' in toml_text
    reloaded = load_config_text(tmp_path, toml_text)
    assert reloaded.wecom.corp_id == "ww-corp-1" and reloaded.wecom.secret == ""
    assert result.manifest["secrets_removed"] == ["feishu.app_secret", "wecom.encoding_aes_key", "wecom.secret",
                                                  "wecom.token"]


def load_config_text(tmp_path, text: str):
    path = tmp_path / "check.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_secret_paths_come_from_the_config_metadata():
    keys = secret_keys()
    assert ("wecom", "secret") in keys and ("dingtalk", "client_secret") in keys
    assert ("feishu", "encrypt_key") in keys
    assert ("wecom", "corp_id") not in keys


def test_strip_secrets_handles_dotted_keys_and_refuses_what_it_cannot_clean():
    text, blanked = strip_secrets('wecom.secret = "s1"\n[feishu]\napp_id = "cli_1"\n')
    assert blanked == ["wecom.secret"] and "s1" not in text and 'app_id = "cli_1"' in text
    with pytest.raises(BackupError):
        strip_secrets('wecom = { secret = "inline-secret" }\n')


def test_restore_refuses_to_overwrite_data_unless_forced(live, tmp_path, clock):
    runtime, config = live
    export_backup(config, runtime.store.path, tmp_path / "b.zip", clock)
    expected = all_rows(runtime.store.path)
    target = tmp_path / "other.db"
    other = open_store(target)
    with other.transaction():
        kv.put(other, "precious", "yes")
    other.close()
    with pytest.raises(BackupError, match="--force"):
        restore_backup(tmp_path / "b.zip", target, t=EN)
    assert all_rows(target)["kv"] == [("precious", "yes")]  # untouched
    restore_backup(tmp_path / "b.zip", target, force=True)
    assert all_rows(target) == expected


def test_restore_into_an_empty_migrated_database_needs_no_force(live, tmp_path, clock):
    runtime, config = live
    export_backup(config, runtime.store.path, tmp_path / "b.zip", clock)
    empty = tmp_path / "fresh.db"
    open_store(empty).close()
    restore_backup(tmp_path / "b.zip", empty)
    assert all_rows(empty) == all_rows(runtime.store.path)


def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)


def test_damaged_or_foreign_archives_are_refused(live, tmp_path, clock):
    runtime, config = live
    good = tmp_path / "b.zip"
    export_backup(config, runtime.store.path, good, clock)

    def flip_db(name, data):
        if name == "salespulse.db":
            data = bytearray(data)
            data[len(data) // 2] ^= 0xFF
            return bytes(data)
        return data

    cases = {
        "checksum": lambda n, d: flip_db(n, d),
        "manifest.json is missing": lambda n, d: None if n == "manifest.json" else d,
        "newer than this": lambda n, d: json.dumps({**json.loads(d), "schema_version": 9999}).encode()
        if n == "manifest.json" else d,
        "another format": lambda n, d: b'{"format": "something-else"}' if n == "manifest.json" else d,
        "row counts": lambda n, d: json.dumps({**json.loads(d), "tables": {"inbox": 1}}).encode()
        if n == "manifest.json" else d,
    }
    for i, (message, change) in enumerate(cases.items()):
        bad = tmp_path / f"bad{i}.zip"
        _rewrite(good, bad, change)
        target = tmp_path / f"target{i}.db"
        with pytest.raises(BackupError, match=message):
            restore_backup(bad, target, t=EN)
        assert not target.exists()  # nothing was written
    (tmp_path / "not.zip").write_text("hello")
    with pytest.raises(BackupError, match="not a zip"):
        restore_backup(tmp_path / "not.zip", tmp_path / "x.db", t=EN)


def test_export_never_overwrites_an_existing_file(live, tmp_path, clock):
    runtime, config = live
    (tmp_path / "b.zip").write_text("keep me")
    with pytest.raises(BackupError, match="already exists"):
        export_backup(config, runtime.store.path, tmp_path / "b.zip", clock, t=EN)
    assert (tmp_path / "b.zip").read_text() == "keep me"


def test_cli_export_and_restore(live, tmp_path, capsys):
    runtime, config = live
    zip_path = tmp_path / "cli.zip"
    assert cli_main(["-c", config.source, "export", str(zip_path), "--db", runtime.store.path]) == 0
    out = capsys.readouterr().out
    assert "cli.zip" in out and "wecom.secret" in out
    target = tmp_path / "cli-restored.db"
    assert cli_main(["-c", config.source, "restore", str(zip_path), "--db", str(target)]) == 0
    assert "cli-restored.db" in capsys.readouterr().out
    assert cli_main(["-c", config.source, "restore", str(zip_path), "--db", str(target)]) == 2
    assert "--force" in capsys.readouterr().err
    assert all_rows(target) == all_rows(runtime.store.path)


def test_configured_rule_packs_travel_with_the_backup(live, tmp_path, clock):
    runtime, config = live
    packs = tmp_path / "rules.d"  # [rules] packs_dirs default, relative to bot.toml
    packs.mkdir()
    (packs / "our-team.toml").write_text('[pack]\nname = "our-team"\n', encoding="utf-8")
    result = export_backup(config, runtime.store.path, tmp_path / "b.zip", clock)
    assert "rules/rules.d/our-team.toml" in result.manifest["files"]
    assert "rules/packs/default.toml" in result.manifest["files"]
    restored = restore_backup(tmp_path / "b.zip", tmp_path / "r.db", files_dir=tmp_path / "review")
    assert (tmp_path / "review" / "rules" / "rules.d" / "our-team.toml").read_text(encoding="utf-8").startswith("[pack]")
    assert restored.files_dir == tmp_path / "review"


def test_unwritable_destination_is_one_sentence(live, tmp_path, clock):
    runtime, config = live
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(BackupError, match="cannot write"):
        export_backup(config, runtime.store.path, blocker / "sub" / "b.zip", clock, t=EN)
    assert not list(tmp_path.glob("**/*.partial"))
