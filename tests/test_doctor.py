"""`salespulse doctor`: one line per check with what to do, secrets only as set/unset, never a crash, and exit code 1
exactly when something required is missing."""

from __future__ import annotations

import sqlite3
import sys
import types
from pathlib import Path

import pytest

from bot import app as app_module
from bot.cli import main as cli_main
from bot.config import load_config
from bot.doctor import Check, check_archive_sdk, check_asr, generic_platform_checks, render, run_checks
from prompts import Prompts
from store import open_store

EN = Prompts("en").t


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def doctor(config_path, db=None, **kw) -> tuple[list[str], int]:
    checks, t = run_checks(str(config_path) if config_path else None, db, locale="en", **kw)
    return render(checks, t)


def test_fresh_install_with_defaults_passes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines, code = doctor(None, str(tmp_path / "new.db"))
    text = "\n".join(lines)
    assert code == 0, text
    assert "✓ config: no bot.toml found, using built-in defaults" in text
    assert "✓ database:" in text and "new.db" in text and "does not exist yet" in text
    assert "✓ ffmpeg: bundled binary found" in text
    assert "✓ CJK font: found" in text and "NotoSansCJKsc-Regular.otf" in text
    assert "· speech recognition: off" in text
    assert "· platforms: none enabled" in text
    assert lines[-1] == "All required checks passed."
    assert not (tmp_path / "new.db").exists()  # doctor looks, it does not create


def test_broken_config_is_one_line_and_exit_1(tmp_path):
    path = write_toml(tmp_path, "[outbox]\nmax_attempts = \"many\"\n")
    lines, code = doctor(path)
    assert code == 1
    bad = [ln for ln in lines if ln.startswith("✗")]
    assert bad == [f"✗ config: {path}:2: outbox.max_attempts: expected integer, got string"]
    assert any(ln.startswith("✓ ffmpeg") for ln in lines)  # the other checks still ran


def test_missing_ffmpeg_and_font_say_how_to_fix(tmp_path):
    def no_ffmpeg() -> str:
        raise RuntimeError("No ffmpeg exe could be found")

    def no_font() -> Path:
        raise FileNotFoundError("NotoSansCJKsc-Regular.otf is not in the mplfonts package")

    lines, code = doctor(write_toml(tmp_path, ""), str(tmp_path / "x.db"), ffmpeg_finder=no_ffmpeg,
                         font_finder=no_font)
    assert code == 1
    text = "\n".join(lines)
    assert "✗ ffmpeg: not found (RuntimeError: No ffmpeg exe could be found)" in text
    assert "pip install --force-reinstall imageio-ffmpeg" in text
    assert "✗ CJK font:" in text and "pip install --force-reinstall mplfonts" in text
    assert "2 required check(s) failed" in lines[-1]


def test_asr_enabled_without_its_pieces_explains_each(tmp_path):
    config = load_config(write_toml(tmp_path, "[asr]\nenabled = true\ndevice = \"gpu\"\n"))

    def importer(name: str):
        raise ModuleNotFoundError(f"No module named {name!r}")

    checks = [c for c in check_asr(config, EN, importer) if c.text.startswith("speech recognition")]
    texts = [c.text for c in checks]
    assert all(c.ok is False and c.required for c in checks)
    assert any("funasr does not import" in t and "salespulse[asr]" in t for t in texts)
    assert any("torch does not import" in t and "download.pytorch.org/whl/cpu" in t for t in texts)
    assert any("model_dir is not set" in t for t in texts)
    assert any("device = gpu is not valid" in t for t in texts)


def test_asr_enabled_and_ready(tmp_path):
    model = tmp_path / "models" / "paraformer"
    model.mkdir(parents=True)
    (model / "model.pt").write_bytes(b"\0")
    (model / "config.yaml").write_text("model: SeacoParaformer\nmodel_conf:\n  ctc_weight: 0.0\n")
    config = load_config(write_toml(tmp_path, '[asr]\nenabled = true\nmodel_dir = "models/paraformer"\n'))
    checks = [c for c in check_asr(config, EN, importer=lambda name: types.ModuleType(name))
              if c.text.startswith("speech recognition")]
    assert all(c.ok for c in checks), checks
    assert any("seaco_paraformer" in c.text for c in checks)
    assert any(str(model) in c.text for c in checks)  # relative to bot.toml's folder


def test_asr_import_crash_is_reported_not_raised(tmp_path):
    config = load_config(write_toml(tmp_path, "[asr]\nenabled = true\n"))

    def importer(name: str):
        raise OSError("libtorch_cpu.so: cannot open shared object file")

    funasr, torch = [c for c in check_asr(config, EN, importer) if "import" in c.text][:2]
    assert funasr.ok is False and "OSError" in funasr.text and "libtorch_cpu.so" in torch.text


def test_archive_sdk(tmp_path):
    unset = check_archive_sdk(load_config(write_toml(tmp_path, "")), EN)
    assert unset.ok is None and not unset.required
    missing = check_archive_sdk(load_config(write_toml(tmp_path, '[wecom]\narchive_sdk_path = "/nope/libWeWorkFinanceSdk_C.so"\n')), EN)
    assert missing.ok is False and "not found" in missing.text
    fake = tmp_path / "libWeWorkFinanceSdk_C.so"
    fake.write_text("not a library")
    bad = check_archive_sdk(load_config(write_toml(tmp_path, f'[wecom]\narchive_sdk_path = "{fake}"\n')), EN)
    assert bad.ok is False and "cannot be loaded" in bad.text and "x86_64" in bad.text


def test_credentials_are_named_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESPULSE_FEISHU_SECRET", "feishu-secret-value-9")
    monkeypatch.delenv("SALESPULSE_FEISHU_ENCRYPT_KEY", raising=False)
    config = load_config(write_toml(tmp_path, '[feishu]\nenabled = true\napp_id = "cli_a1"\n'
                                              'verification_token = "vt-secret-7"\n'))
    checks = generic_platform_checks("feishu", config.feishu, EN)
    text = "\n".join(c.text for c in checks)
    assert "feishu-secret-value-9" not in text and "vt-secret-7" not in text and "cli_a1" not in text
    assert "app_secret set" in text and "encrypt_key unset" in text and "verification_token set" in text
    assert checks[-1].ok is True and "credentials complete" in checks[-1].text

    monkeypatch.delenv("SALESPULSE_FEISHU_SECRET")
    config = load_config(write_toml(tmp_path, "[feishu]\nenabled = true\n"))
    verdict = generic_platform_checks("feishu", config.feishu, EN)[-1]
    assert verdict.ok is False
    assert "missing app_id, app_secret" in verdict.text and "SALESPULSE_FEISHU_SECRET" in verdict.text


class _GoodAdapter:
    def __init__(self, ctx):
        self.ctx = ctx

    def doctor(self):
        return [("fake credentials", True, "all set"), ("fake inbound", False, "register https://x/cb")]


class _BrokenAdapter(_GoodAdapter):
    def doctor(self):
        raise KeyError("section")


@pytest.fixture
def fake_adapters(monkeypatch):
    module = types.ModuleType("fake_doctor_adapters")
    module.Good = _GoodAdapter
    module.Broken = _BrokenAdapter
    monkeypatch.setitem(sys.modules, "fake_doctor_adapters", module)
    adapters = dict(app_module.ADAPTERS)
    adapters["dingtalk"] = "fake_doctor_adapters:Good"
    adapters["feishu"] = "fake_doctor_adapters:Broken"
    monkeypatch.setattr(app_module, "ADAPTERS", adapters)


def test_enabled_platforms_use_the_adapters_own_doctor(tmp_path, monkeypatch, fake_adapters):
    monkeypatch.setenv("SALESPULSE_DINGTALK_SECRET", "ding-secret-value-3")
    path = write_toml(tmp_path, '[dingtalk]\nenabled = true\nclient_id = "ding1"\n[feishu]\nenabled = true\n')
    lines, code = doctor(path, str(tmp_path / "db.sqlite"))
    text = "\n".join(lines)
    assert code == 1
    assert "✓ fake credentials: all set" in text
    assert "✗ fake inbound: register https://x/cb" in text
    assert "· DingTalk 钉钉: client_secret set" in text
    assert "✗ Feishu 飞书: the adapter's self-check failed (KeyError: 'section')" in text
    assert "ding-secret-value-3" not in text
    assert "· WeCom 企业微信: off" in text


def test_locked_or_foreign_database(tmp_path):
    path = write_toml(tmp_path, "")
    junk = tmp_path / "junk.db"
    junk.write_text("definitely not sqlite " * 100)
    lines, code = doctor(path, str(junk))
    assert code == 1 and any(ln.startswith("✗ database:") and "not a usable SQLite database" in ln for ln in lines)

    db = tmp_path / "busy.db"
    open_store(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        lines, code = doctor(path, str(db))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 1 and any(ln.startswith("✗ database:") and "locked" in ln for ln in lines)


def test_existing_database_reports_its_schema(tmp_path):
    from store.migrate import available

    db = tmp_path / "live.db"
    open_store(db).close()
    lines, code = doctor(write_toml(tmp_path, ""), str(db))
    top = available()[-1][0]
    assert code == 0
    assert any(ln.startswith("✓ database:") and f"schema version {top} ({len(available())} migrations" in ln
               for ln in lines)


def test_render_marks_advice_and_information():
    checks = [Check(True, "a"), Check(None, "b", required=False), Check(False, "c", required=False),
              Check(False, "d")]
    lines, code = render(checks, EN)
    assert lines[1:5] == ["✓ a", "· b", "! c", "✗ d"] and code == 1


def test_cli_doctor_exit_code(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["doctor", "--db", str(tmp_path / "x.db")]) == 0
    out = capsys.readouterr().out
    assert "✓" in out and "SalesPulse" in out
    write_toml(tmp_path, "[bot]\nlocale = 3\n")
    assert cli_main(["doctor"]) == 1
    assert "✗" in capsys.readouterr().out


def test_asr_packages_not_installed_are_said_in_chinese(tmp_path):
    """On a machine without FunASR (the usual case) the zh-CN doctor says 未安装 and what to install — not
    Python's "ModuleNotFoundError: No module named 'funasr'"."""
    config = load_config(write_toml(tmp_path, "[asr]\nenabled = true\n"))

    def importer(name: str):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    texts = [c.text for c in check_asr(config, Prompts("zh-CN").t, importer) if "导入" in c.text]
    assert len(texts) == 2 and all("未安装" in t for t in texts), texts
    assert not any("ModuleNotFoundError" in t or "No module named" in t for t in texts), texts
    assert any("pip install '.[asr]'" in t for t in texts)
