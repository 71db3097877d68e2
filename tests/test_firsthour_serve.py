"""`salespulse serve` with a platform enabled but its credentials missing (issue 13, defect 8): it used to start
anyway and fail at the first message; now it stops before starting, naming the missing keys and the environment
variables that may supply them."""

from __future__ import annotations

import pytest

from bot.cli import main as cli_main


@pytest.fixture
def started(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr("bot.cli.serve.serve", lambda config: calls.append(config) or 0)
    for env in ("SALESPULSE_WECOM_SECRET", "SALESPULSE_WECOM_TOKEN", "SALESPULSE_WECOM_AES_KEY",
                "SALESPULSE_FEISHU_SECRET", "SALESPULSE_DINGTALK_SECRET"):
        monkeypatch.delenv(env, raising=False)
    return calls


def serve(capsys, toml: str, tmp_path):
    (tmp_path / "bot.toml").write_text(toml, encoding="utf-8")
    code = cli_main(["serve"])
    _, err = capsys.readouterr()
    return code, err


def test_wecom_without_secrets_does_not_start_and_names_them(started, capsys, tmp_path):
    code, err = serve(capsys, '[wecom]\nenabled = true\ncorp_id = "ww123"\n', tmp_path)
    assert code == 2 and started == []
    assert "[wecom]" in err and "secret" in err and "encoding_aes_key" in err and "agent_id" in err
    assert "SALESPULSE_WECOM_SECRET" in err and "corp_id" not in err
    assert len(err.strip().splitlines()) == 1 and "缺少" in err


def test_feishu_secret_from_the_environment_is_enough(started, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SALESPULSE_FEISHU_SECRET", "from-env")
    code, err = serve(capsys, '[feishu]\nenabled = true\napp_id = "cli_1"\nmode = "ws"\n', tmp_path)
    assert code == 0 and len(started) == 1, err


def test_a_disabled_platform_with_nothing_set_does_not_stop_an_enabled_one(started, capsys, tmp_path):
    code, err = serve(capsys, '[dingtalk]\nenabled = true\nclient_id = "ding1"\nclient_secret = "x"\n'
                              '[wecom]\nenabled = false\n', tmp_path)
    assert code == 0 and len(started) == 1, err
