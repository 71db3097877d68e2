"""Config: strict loading (unknown key / wrong type → one line with file, key and expected type), secrets from the
environment, and describe() that never shows a secret's value."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import Config, describe, load_config
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def english_errors(monkeypatch):
    """Most tests here pin the English wording (SALESPULSE_LOCALE=en); the zh-CN tests below delete it again."""
    monkeypatch.setenv("SALESPULSE_LOCALE", "en")


def one_line_error(path: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_shipped_bot_toml_loads_and_matches_the_defaults_for_core_sections():
    config = load_config(ROOT / "bot.toml")
    defaults = Config()
    assert config.outbox == defaults.outbox
    assert config.scheduler.max_catch_up == defaults.scheduler.max_catch_up
    assert config.source.endswith("bot.toml")


def test_unknown_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, '[bot]\nname = "x"\nlocal = "en"\n')
    message = one_line_error(path)
    assert message.startswith(f"{path}:3: bot.local: unknown key")
    assert "locale" in message  # the known keys are listed, so the typo is obvious


def test_unknown_section(tmp_path):
    message = one_line_error(write(tmp_path, "[wechat]\nenabled = true\n"))
    assert "wechat: unknown key" in message


def test_wrong_type_names_the_expected_type(tmp_path):
    path = write(tmp_path, '[outbox]\nmax_attempts = "eight"\n')
    message = one_line_error(path)
    assert message == f"{path}:2: outbox.max_attempts: expected integer, got string"


def test_boolean_is_not_an_integer_and_integer_is_a_float(tmp_path):
    assert "expected integer, got boolean" in one_line_error(write(tmp_path, "[server]\nport = true\n"))
    assert "expected boolean" in one_line_error(write(tmp_path, '[wecom]\nenabled = "yes"\n'))
    config = load_config(write(tmp_path, "[outbox]\nbase_delay_s = 3\n"))
    assert config.outbox.base_delay_s == 3.0 and isinstance(config.outbox.base_delay_s, float)


def test_errors_inside_arrays_of_tables(tmp_path):
    text = '[[scheduler.jobs]]\nname = "daily_digest"\ncron = "0 18 * * *"\nenabled = 1\n'
    message = one_line_error(write(tmp_path, text))
    assert "scheduler.jobs[0].enabled: expected boolean" in message


def test_not_toml_and_missing_file(tmp_path):
    assert "not valid TOML" in one_line_error(write(tmp_path, "[bot\n"))
    assert "file not found" in one_line_error(tmp_path / "nope.toml")


def test_frozen_sections(tmp_path):
    config = load_config(write(tmp_path, ""))
    with pytest.raises(AttributeError):
        config.bot.locale = "en"  # type: ignore[misc]


def test_env_secret_overrides_file(tmp_path, monkeypatch):
    path = write(tmp_path, '[wecom]\nsecret = "from-file"\n[feishu]\napp_secret = "file-secret"\n')
    monkeypatch.setenv("SALESPULSE_WECOM_SECRET", "from-env")
    monkeypatch.delenv("SALESPULSE_FEISHU_SECRET", raising=False)
    config = load_config(path)
    assert config.wecom.secret == "from-env"
    assert config.feishu.app_secret == "file-secret"


def test_env_secret_applies_without_the_section(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESPULSE_DINGTALK_SECRET", "ding-secret")
    assert load_config(write(tmp_path, "")).dingtalk.client_secret == "ding-secret"


def test_describe_shows_set_unset_never_the_value(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESPULSE_WECOM_SECRET", "s3cr3t-value-123")
    monkeypatch.delenv("SALESPULSE_WECOM_TOKEN", raising=False)
    monkeypatch.delenv("SALESPULSE_FEISHU_ENCRYPT_KEY", raising=False)
    config = load_config(write(tmp_path, '[wecom]\ncorp_id = "ww123"\n[feishu]\nencrypt_key = "ek-987654"\n'))
    rows = dict(describe(config))
    assert rows["wecom.secret"] == "set"
    assert rows["wecom.token"] == "unset"
    assert rows["feishu.encrypt_key"] == "set"
    assert rows["wecom.corp_id"] == "'ww123'"
    flat = repr(describe(config))
    assert "s3cr3t-value-123" not in flat and "ek-987654" not in flat


def test_asr_section_defaults_off(tmp_path):
    config = load_config(write(tmp_path, '[asr]\nmodel_dir = "/models/paraformer"\n'))
    assert config.asr.enabled is False and config.asr.device == "cpu"
    assert config.asr.model_dir == "/models/paraformer"


def test_line_number_points_at_the_key_in_its_own_table(tmp_path):
    # `enabled` appears in several sections: the line must be the one under [dingtalk], not the first one
    path = write(tmp_path, '[wecom]\nenabled = true\n\n[dingtalk]\nenabled = "yes"\n')
    assert one_line_error(path) == f"{path}:5: dingtalk.enabled: expected boolean (true/false), got string"
    text = '[[org.people]]\nid = "a"\nname = "甲"\n\n[[org.people]]\nid = "b"\nadmin = 1\n'
    assert one_line_error(write(tmp_path, text)).startswith(f"{path}:7: org.people[1].admin: expected boolean")
    text = '[scheduler]\njobs = [\n  { name = "x", cron = 5 },\n]\n'  # inline: the enclosing key's line
    assert one_line_error(write(tmp_path, text)).startswith(f"{path}:2: scheduler.jobs[0].cron: expected string")
    assert one_line_error(write(tmp_path, '# c\n[wechat]\nenabled = true\n')).startswith(f"{path}:2: wechat: unknown key")


@pytest.mark.parametrize("text, line, key, expected", [
    ('[bot]\ntimezone = "Asia/Shangai"\n', 2, "bot.timezone", "unknown time zone 'Asia/Shangai'"),
    ('[telephony]\ntimezone = "UTC+8"\n', 2, "telephony.timezone", "unknown time zone"),
    ('[bot]\nlocale = "fr"\n', 2, "bot.locale", "expected one of zh-CN, en, got 'fr'"),
    ('[dingtalk]\nmode = "steam"\n', 2, "dingtalk.mode", "expected one of stream, http, got 'steam'"),
    ('[feishu]\nmode = "websocket"\n', 2, "feishu.mode", "expected one of http, ws"),
    ('[[org.people]]\nid = "r1"\nname = "张伟"\nrole = "boss"\n', 4, "org.people[0].role", "expected one of rep, "),
    ('[[scheduler.jobs]]\nname = "daily_digest"\ncron = "0 25 * * *"\n', 3, "scheduler.jobs[0].cron",
     "not a cron string '0 25 * * *'"),
    ('[[scheduler.jobs]]\nname = "daily_digest"\n', 1, "scheduler.jobs[0].cron", "wrong number of fields"),
    ('[wecom]\norg_sync_cron = "30 2 * *"\n', 2, "wecom.org_sync_cron", "expected 5 fields"),
])
def test_values_that_cannot_work_stop_the_start_with_file_line_and_key(tmp_path, text, line, key, expected):
    # each of these used to load fine and then crash `serve` / `chat` with a traceback (or silently do nothing)
    path = write(tmp_path, text)
    message = one_line_error(path)
    assert message.startswith(f"{path}:{line}: {key}: ")
    assert expected in message


def test_values_that_are_fine_or_switched_off_load(tmp_path):
    text = ('[bot]\nlocale = "en"\ntimezone = "UTC"\n[wecom]\norg_sync_cron = ""\n'
            '[[scheduler.jobs]]\nname = "old"\ncron = "nonsense"\nenabled = false\n'
            '[[scheduler.jobs]]\nname = "weekly_digest"\ncron = "0 9 * * mon-fri"\n')
    config = load_config(write(tmp_path, text))
    assert config.bot.locale == "en" and config.wecom.org_sync_cron == ""
    assert [j.name for j in config.scheduler.jobs] == ["old", "weekly_digest"]


@pytest.mark.parametrize("text, dotted", [
    ("[bot]\ndispatch_batch = 0\n", "bot.dispatch_batch"),
    ("[bot]\nserve_batch = -1\n", "bot.serve_batch"),
    ("[outbox]\nmax_attempts = 0\n", "outbox.max_attempts"),
    ("[scheduler]\nmax_catch_up = -5\n", "scheduler.max_catch_up"),
])
def test_counts_that_cannot_work_stop_the_start(tmp_path, text, dotted):
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"bot.toml:2: {dotted}: expected a whole number of at least" in str(err.value)


def test_shipped_bot_toml_shows_every_section_and_key():
    """bot.toml is the complete commented example: every section of Config and every key in it appears (set, or
    commented out as `# key = …`), so an admin never has to read code to learn a setting exists."""
    import re
    import typing

    text = (ROOT / "bot.toml").read_text(encoding="utf-8")
    missing = []

    def walk(cls, prefix):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("internal"):
                continue
            dotted = f"{prefix}.{f.name}" if prefix else f.name
            tp = hints[f.name]
            inner = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple and typing.get_args(tp) else None
            if dataclasses.is_dataclass(tp):
                if not re.search(rf"^\s*#?\s*\[{re.escape(dotted)}\]", text, re.M):
                    missing.append(f"[{dotted}]")
                walk(tp, dotted)
            elif inner is not None and dataclasses.is_dataclass(inner):
                if not re.search(rf"^\s*#?\s*\[\[{re.escape(dotted)}\]\]", text, re.M):
                    missing.append(f"[[{dotted}]]")
                walk(inner, dotted)
            elif typing.get_origin(tp) is dict:
                if not re.search(rf"^\s*#?\s*\[{re.escape(dotted)}\]", text, re.M):
                    missing.append(f"[{dotted}]")
            elif prefix and not re.search(rf"^\s*#?\s*{re.escape(f.name)}\s*=", text, re.M):
                missing.append(dotted)

    walk(Config, "")
    assert not missing, f"bot.toml lacks: {', '.join(missing)}"


# ---------------------------------------------------------------- bot.toml mistakes in the admin's language


@pytest.mark.parametrize("text, line, expected", [
    ('[bot]\nname = "x"\nlocal = "en"\n', 3, "bot.local: 未知的键（可用的键："),
    ('[wecom]\nenabled = "yes"\n', 2, "wecom.enabled: 应为布尔值（true/false），实际是字符串"),
    ('[bot]\ntimezone = "Asia/Shangai"\n', 2, "bot.timezone: 未知的时区 'Asia/Shangai'"),
    ('[dingtalk]\nmode = "steam"\n', 2, "dingtalk.mode: 应为 stream, http 之一，实际是 'steam'"),
    ('[outbox]\nmax_attempts = 0\n', 2, "outbox.max_attempts: 应为不小于 1 的整数，实际是 0"),
    ('[bot]\ndispatch_batch = "many"\n', 2, "bot.dispatch_batch: 应为整数，实际是字符串"),
])
def test_a_mistake_is_reported_in_chinese_by_default(tmp_path, monkeypatch, text, line, expected):
    monkeypatch.delenv("SALESPULSE_LOCALE")
    path = write(tmp_path, text)
    assert one_line_error(path).startswith(f"{path}:{line}: {expected}")


def test_broken_and_missing_files_are_reported_in_chinese_with_the_line(tmp_path, monkeypatch):
    monkeypatch.delenv("SALESPULSE_LOCALE")
    path = write(tmp_path, '[bot]\nname = "x"\nlocale = \n')
    message = one_line_error(path)
    assert message.startswith(f"{path}:3：第 3 行第 10 列不是有效的 TOML")
    assert "salespulse init" in one_line_error(tmp_path / "nope.toml")
    assert "文件不存在" in one_line_error(tmp_path / "nope.toml")


def test_the_files_own_locale_decides_the_language_of_its_mistakes(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESPULSE_LOCALE", "zh-CN")
    message = one_line_error(write(tmp_path, '[bot]\nlocale = "en"\ntimezone = "Mars/Base"\n'))
    assert message.endswith("bot.timezone: unknown time zone 'Mars/Base' (expected an IANA name such as Asia/Shanghai)")
    message = one_line_error(write(tmp_path, '[bot]\nlocale = "zh-CN"\ntimezone = "Mars/Base"\n'))
    assert "未知的时区" in message


def test_an_old_debrief_voice_limit_moves_to_its_one_place_in_asr(tmp_path):
    """[debrief] short_note_s / long_note_s were twins of [asr] max_note_s / max_single_note_s: an old file still
    loads, and the recogniser and the debrief then use the same limit."""
    config = load_config(write(tmp_path, "[debrief]\nshort_note_s = 20\nlong_note_s = 30\n"))
    assert (config.asr.max_note_s, config.asr.max_single_note_s) == (20, 30)
    same = load_config(write(tmp_path, "[asr]\nmax_single_note_s = 30\n[debrief]\nlong_note_s = 30\n"))
    assert same.asr.max_single_note_s == 30


def test_twins_that_disagree_are_named_with_the_line(tmp_path):
    path = write(tmp_path, "[asr]\nmax_single_note_s = 45\n\n[debrief]\nlong_note_s = 30\n")
    message = one_line_error(path)
    assert message.startswith(f"{path}:5: debrief.long_note_s: this key is now asr.max_single_note_s")
    assert "30" in message and "45" in message
