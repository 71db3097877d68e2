"""`salespulse init` (issue 13, "Set-up in minutes") against the fake WeCom / DingTalk / Feishu servers: each
platform's way through (token fetched, bot.toml written from the commented example and loadable, org imported,
callback URL printed), the platforms' refusals explained per error code, an unreachable server, an existing
bot.toml, wrong answers asked again, and `--yes` with missing or wrong flags (exit code 2, nothing written)."""

from __future__ import annotations

import io
import os
import stat

import pytest
import wecom_helpers as h
from conftest import T0
from fakes import free_port
from fakes.dingtalk import FakeDingTalk
from fakes.feishu import APP_ID, APP_SECRET, ENCRYPT_KEY, VERIFICATION_TOKEN, FakeFeishu

from adapters.wecom.fake_api import FakeWeComApi
from bot.cli import main as cli_main
from bot.clock import VirtualClock
from bot.config import load_config
from bot.setup_wizard.flow import Answers, Wizard
from store import open_store
from store import org as org_store


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for env in ("SALESPULSE_WECOM_SECRET", "SALESPULSE_WECOM_TOKEN", "SALESPULSE_WECOM_AES_KEY",
                "SALESPULSE_DINGTALK_SECRET", "SALESPULSE_FEISHU_SECRET", "SALESPULSE_FEISHU_ENCRYPT_KEY",
                "SALESPULSE_FEISHU_VERIFICATION_TOKEN"):
        monkeypatch.delenv(env, raising=False)
    return tmp_path


@pytest.fixture
def wecom():
    api = FakeWeComApi(corp_id=h.CORP, secret=h.SECRET)
    api.departments = [
        {"id": 1, "name": "星河科技", "parentid": 0, "department_leader": ["boss"]},
        {"id": 2, "name": "华东销售部", "parentid": 1, "department_leader": ["lead2"]},
    ]
    api.users = {
        1: [{"userid": "boss", "name": "周总", "department": [1], "main_department": 1, "status": 1}],
        2: [{"userid": "lead2", "name": "钱主管", "department": [2], "main_department": 2, "status": 1},
            {"userid": "sunli", "name": "孙立", "department": [2], "main_department": 2, "status": 1}],
    }
    api.start()
    yield api
    api.stop()


@pytest.fixture
def dingtalk():
    server = FakeDingTalk().start()
    server.org["depts"] = {2: {"dept_id": 2, "name": "华北销售部", "parent_id": 1}}
    server.org["managers"] = {2: ["boss2"]}
    server.org["users"] = {
        "boss2": {"userid": "boss2", "name": "周经理", "mobile": "13900000003", "dept_id_list": [2]},
        "u21": {"userid": "u21", "name": "吴销售", "mobile": "13900000031", "dept_id_list": [2]},
    }
    yield server
    server.stop()


@pytest.fixture
def feishu():
    server = FakeFeishu().start()
    server.org["depts"] = [{"name": "深圳销售部", "open_department_id": "od-sz", "parent_department_id": "0",
                            "leader_user_id": "ou_lead"}]
    server.org["users"] = {
        "ou_lead": {"open_id": "ou_lead", "name": "黄经理", "mobile": "+8613700000001", "department_ids": ["od-sz"]},
        "ou_r1": {"open_id": "ou_r1", "name": "林销售", "mobile": "+8613700000002", "department_ids": ["od-sz"]},
    }
    yield server
    server.stop()


def wecom_flags(api_base: str, **override: str) -> list[str]:
    values = {"--corp-id": h.CORP, "--agent-id": str(h.AGENT), "--secret": h.SECRET, "--token": h.TOKEN,
              "--aes-key": h.AES_KEY, "--public-url": "https://bot.example.com", "--wecom-api-base": api_base}
    values.update({"--" + k.replace("_", "-"): v for k, v in override.items()})
    return ["init", "--yes", "--platform", "wecom", *[x for kv in values.items() for x in kv]]


def run(capsys, argv: list[str]) -> tuple[int, str]:
    code = cli_main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def people(db) -> dict[str, str]:
    store = open_store(db)
    try:
        return {p.name: p.role for p in org_store.all_people(store)}
    finally:
        store.close()


def admins(db) -> list[str]:
    store = open_store(db)
    try:
        return [p.name for p in org_store.all_people(store) if p.is_admin]
    finally:
        store.close()


def wizard(answers: Answers, typed: str) -> tuple[Wizard, io.StringIO]:
    out = io.StringIO()
    return Wizard(answers, interactive=True, inp=io.StringIO(typed), out=out, clock=VirtualClock(T0)), out


# ---------------------------------------------------------------- each platform's way through

def test_wecom_yes_writes_a_commented_loadable_bot_toml_imports_the_org_and_prints_the_url(folder, wecom, capsys):
    code, out = run(capsys, wecom_flags(wecom.base_url))
    assert code == 0, out
    assert len(wecom.calls("/cgi-bin/gettoken")) >= 1
    config = load_config(folder / "bot.toml")
    assert config.wecom.enabled and config.wecom.corp_id == h.CORP and config.wecom.agent_id == h.AGENT
    assert config.wecom.secret == h.SECRET and config.wecom.encoding_aes_key == h.AES_KEY
    assert config.server.public_base_url == "https://bot.example.com"
    assert not config.dingtalk.enabled and not config.feishu.enabled
    assert config.org.people == () and config.org.teams == ()  # the sample 王经理 / 张伟 are gone
    text = (folder / "bot.toml").read_text(encoding="utf-8")
    assert "# corp_id：企业ID（我的企业 → 企业信息）" in text and "王经理" not in text
    assert stat.S_IMODE(os.stat(folder / "bot.toml").st_mode) == 0o600  # it holds secrets
    assert people(folder / "salespulse.db") == {"周总": "manager", "钱主管": "manager", "孙立": "rep"}
    assert "https://bot.example.com/wecom/callback" in out and "企业可信IP" in out
    assert "导入了 2 个部门/团队，新增 3 人" in out
    assert h.SECRET not in out and h.AES_KEY not in out  # secrets are never echoed


def test_dingtalk_stream_needs_no_public_url_and_imports_managers(folder, dingtalk, capsys):
    code, out = run(capsys, ["init", "--yes", "--platform", "钉钉", "--client-id", "ding-app",
                             "--client-secret", "ding-secret", "--dingtalk-api-base", dingtalk.base_url])
    assert code == 0, out
    config = load_config(folder / "bot.toml")
    assert config.dingtalk.enabled and config.dingtalk.mode == "stream"
    assert config.dingtalk.api_base_url == dingtalk.base_url == config.dingtalk.oapi_base_url
    assert dingtalk.tokens_issued >= 1
    assert people(folder / "salespulse.db") == {"周经理": "manager", "吴销售": "rep"}
    assert "不需要回调地址" in out and "Stream 模式" in out and "ding-secret" not in out


def test_feishu_http_prints_the_event_url_and_imports_leaders(folder, feishu, capsys):
    code, out = run(capsys, ["init", "--yes", "--platform", "feishu", "--app-id", APP_ID, "--app-secret", APP_SECRET,
                             "--encrypt-key", ENCRYPT_KEY, "--verification-token", VERIFICATION_TOKEN,
                             "--public-url", "https://bot.example.com/", "--feishu-domain", feishu.base_url])
    assert code == 0, out
    config = load_config(folder / "bot.toml")
    assert config.feishu.enabled and config.feishu.mode == "http" and config.feishu.domain == feishu.base_url
    assert config.feishu.encrypt_key == ENCRYPT_KEY
    assert feishu.tokens_issued >= 1
    assert people(folder / "salespulse.db") == {"黄经理": "manager", "林销售": "rep"}
    assert "https://bot.example.com/feishu/events" in out and "im.message.receive_v1" in out


def test_two_platforms_at_once(folder, wecom, feishu, capsys):
    argv = wecom_flags(wecom.base_url) + ["--platform", "feishu", "--feishu-mode", "ws", "--app-id", APP_ID,
                                          "--app-secret", APP_SECRET, "--feishu-domain", feishu.base_url]
    code, out = run(capsys, argv)
    assert code == 0, out
    config = load_config(folder / "bot.toml")
    assert config.enabled_platforms() == ["wecom", "feishu"] and config.feishu.mode == "ws"
    assert {"周总", "黄经理", "林销售"} <= set(people(folder / "salespulse.db"))
    assert "使用长连接接收事件" in out


def test_english_locale(folder, wecom, capsys):
    code, out = run(capsys, wecom_flags(wecom.base_url) + ["--locale", "en"])
    assert code == 0, out
    assert load_config(folder / "bot.toml").bot.locale == "en"
    assert "Callback URL (paste it into the console): https://bot.example.com/wecom/callback" in out
    assert "企业" not in out


# ---------------------------------------------------------------- refusals and wrong input

@pytest.mark.parametrize(("override", "sentence"), [
    ({"secret": "wrong-secret-1"}, "企业微信说 Secret 不对（错误码 40001）"),
    ({"corp_id": "wwnotmine"}, "企业微信说企业ID不对（错误码 40013）"),
])
def test_wecom_refused_credentials_are_named_and_nothing_is_written(folder, wecom, capsys, override, sentence):
    code, out = run(capsys, wecom_flags(wecom.base_url, **override))
    assert code == 2
    assert sentence in out
    assert not (folder / "bot.toml").exists() and not (folder / "salespulse.db").exists()


def test_wecom_untrusted_ip_during_org_import_keeps_the_config_and_says_what_to_do(folder, wecom, capsys):
    wecom.fail_next("/cgi-bin/department/list", 60020)
    code, out = run(capsys, wecom_flags(wecom.base_url))
    assert code == 1
    assert "企业可信IP" in out and "60020" in out and "serve 启动时会自动再同步" in out
    assert load_config(folder / "bot.toml").wecom.enabled
    assert "https://bot.example.com/wecom/callback" in out  # the console steps are still printed


def test_dingtalk_wrong_secret_and_ip_allow_list(folder, dingtalk, capsys):
    argv = ["init", "--yes", "--platform", "dingtalk", "--client-id", "ding-app", "--client-secret", "not-the-secret",
            "--dingtalk-api-base", dingtalk.base_url]
    code, out = run(capsys, argv)
    assert code == 2 and "钉钉说 Client ID 或 Client Secret 不对（invalidClientIdOrSecret）" in out
    dingtalk.routes[("POST", "/v1.0/oauth2/accessToken")] = lambda rec: (
        403, {"code": "Forbidden.AccessDenied.IpNotInWhiteList", "message": "ip not in white list"})
    argv[argv.index("not-the-secret")] = "ding-secret"
    code, out = run(capsys, argv)
    assert code == 1 and "钉钉拒绝了本机的 IP" in out and "服务器出口IP" in out
    assert not (folder / "bot.toml").exists()


def test_feishu_wrong_secret(folder, feishu, capsys):
    code, out = run(capsys, ["init", "--yes", "--platform", "feishu", "--feishu-mode", "ws", "--app-id", APP_ID,
                             "--app-secret", "wrong-secret", "--feishu-domain", feishu.base_url])
    assert code == 2 and "飞书说 App Secret 不对（错误码 10014）" in out


def test_unreachable_server(folder, capsys):
    code, out = run(capsys, wecom_flags(f"http://127.0.0.1:{free_port()}"))
    assert code == 1 and "连不上平台的服务器" in out
    assert not (folder / "bot.toml").exists()


def test_existing_bot_toml_is_kept_unless_forced(folder, wecom, capsys):
    (folder / "bot.toml").write_text("# mine\n", encoding="utf-8")
    code, out = run(capsys, wecom_flags(wecom.base_url))
    assert code == 2 and "已存在，没有改动它" in out and "--force" in out
    assert (folder / "bot.toml").read_text(encoding="utf-8") == "# mine\n"
    w, out = wizard(Answers(out=folder / "bot.toml"), "否\n")
    assert w.run() == 1 and "保持原样" in out.getvalue()
    assert (folder / "bot.toml").read_text(encoding="utf-8") == "# mine\n"
    code, out = run(capsys, wecom_flags(wecom.base_url) + ["--force"])
    assert code == 0 and load_config(folder / "bot.toml").wecom.enabled


def test_yes_names_every_missing_flag(folder, capsys):
    code, out = run(capsys, ["init", "--yes", "--platform", "wecom", "--corp-id", h.CORP])
    assert code == 2
    for flag in ("--agent-id", "--secret（或环境变量 SALESPULSE_WECOM_SECRET）", "--token", "--aes-key", "--public-url"):
        assert flag in out
    code, out = run(capsys, ["init", "--yes"])
    assert code == 2 and "--platform" in out
    assert not (folder / "bot.toml").exists()


def test_yes_refuses_a_wrong_flag_value_with_one_sentence(folder, wecom, capsys):
    code, out = run(capsys, wecom_flags(wecom.base_url, aes_key="too-short"))
    assert code == 2 and "--aes-key：EncodingAESKey 必须正好 43 个字符" in out
    code, out = run(capsys, wecom_flags(wecom.base_url, public_url="bot.example.com"))
    assert code == 2 and "--public-url：" in out
    code, out = run(capsys, ["init", "--yes", "--platform", "qq"])
    assert code == 2 and "没认出这个平台" in out
    assert "Traceback" not in out and not (folder / "bot.toml").exists()


def test_secrets_may_come_from_the_environment(folder, wecom, capsys, monkeypatch):
    monkeypatch.setenv("SALESPULSE_WECOM_SECRET", h.SECRET)
    argv = wecom_flags(wecom.base_url)
    i = argv.index("--secret")
    del argv[i:i + 2]
    code, out = run(capsys, argv)
    assert code == 0, out
    assert load_config(folder / "bot.toml").wecom.secret == h.SECRET


# ---------------------------------------------------------------- interactive

def test_interactive_wrong_answers_are_asked_again_and_a_refused_secret_only_re_asks_the_secret(folder, wecom):
    typed = "\n".join([
        "4",  # no such platform
        "1",
        h.CORP,
        "abc",  # AgentId is a number
        str(h.AGENT),
        "wrong-secret-1",  # refused by WeCom (40001) after all questions
        h.TOKEN,
        "short",  # EncodingAESKey must be 43 characters
        h.AES_KEY,
        "bot.example.com",  # not a URL
        "https://bot.example.com",
        h.SECRET,  # asked again: only the Secret
        "王经理",  # admin: nobody of that name was imported
        "sunli",  # … by platform account
    ]) + "\n"
    w, out = wizard(Answers(out=folder / "bot.toml", api_bases={"wecom": wecom.base_url}), typed)
    assert w.run() == 0, out.getvalue()
    text = out.getvalue()
    assert "没认出这个平台" in text and "AgentId 是一串数字" in text and "必须正好 43 个字符" in text
    assert "要写成 https://域名" in text and "企业微信说 Secret 不对（错误码 40001）" in text
    assert text.count("自建应用的 Secret") == 2 and text.count("企业ID（管理后台") == 1
    assert h.SECRET not in text and "wrong-secret-1" not in text
    assert load_config(folder / "bot.toml").wecom.secret == h.SECRET
    assert "https://bot.example.com/wecom/callback" in text
    assert "组织目录里没有“王经理”" in text and "孙立（wecom:sunli）是管理员了" in text
    assert admins(folder / "salespulse.db") == ["孙立"]


def test_yes_admin_by_name_and_a_wrong_admin(folder, wecom, capsys):
    code, out = run(capsys, wecom_flags(wecom.base_url) + ["--admin", "钱主管"])
    assert code == 0 and "钱主管（wecom:lead2）是管理员了" in out
    assert admins(folder / "salespulse.db") == ["钱主管"]
    code, out = run(capsys, wecom_flags(wecom.base_url) + ["--admin", "王经理", "--force"])
    assert code == 2 and "--admin：组织目录里没有“王经理”" in out


def test_interactive_unreachable_can_be_retried_or_skipped(folder):
    port = free_port()
    typed = "\n".join(["钉钉", "", "ding-app", "ding-secret", "否", "是"]) + "\n"  # default mode; no retry; skip
    w, out = wizard(Answers(out=folder / "bot.toml", api_bases={"dingtalk": f"http://127.0.0.1:{port}"}), typed)
    assert w.run() == 1
    text = out.getvalue()
    assert "连不上平台的服务器" in text and "再试一次吗" in text
    config = load_config(folder / "bot.toml")
    assert config.dingtalk.enabled and config.dingtalk.client_secret == "ding-secret"
    assert "Stream 模式" in text


def test_interactive_input_ending_early_writes_nothing(folder):
    w, out = wizard(Answers(out=folder / "bot.toml"), "1\n" + h.CORP + "\n")
    assert w.run() == 2 and "输入结束了" in out.getvalue()
    assert not (folder / "bot.toml").exists()


def test_help_is_chinese(capsys, monkeypatch):
    monkeypatch.delenv("SALESPULSE_LOCALE", raising=False)
    with pytest.raises(SystemExit):
        cli_main(["init", "--help"])
    text = capsys.readouterr().out
    assert "配置向导" in text or "一步步配置" in text
    assert "--corp-id" in text and "SALESPULSE_WECOM_SECRET" in text and "显示此帮助并退出" in text
    assert text.startswith("用法：salespulse init") and "\n选项:" in text and "usage:" not in text


def test_missing_contacts_permissions_during_the_import_are_named(folder, dingtalk, feishu, capsys):
    dingtalk.routes[("POST", "/topapi/v2/department/get")] = lambda rec: (
        200, {"errcode": 60011, "errmsg": "没有调用该接口的权限"})
    code, out = run(capsys, ["init", "--yes", "--platform", "dingtalk", "--client-id", "ding-app",
                             "--client-secret", "ding-secret", "--dingtalk-api-base", dingtalk.base_url])
    assert code == 1 and "钉钉说这个应用缺少权限（60011）" in out and "通讯录只读权限" in out
    feishu.routes[("GET", "/open-apis/contact/v3/departments/0/children")] = lambda rec: (
        400, {"code": 99991672, "msg": "Access denied. One of the following scopes is required"})
    code, out = run(capsys, ["init", "--yes", "--force", "--platform", "feishu", "--feishu-mode", "ws",
                             "--app-id", APP_ID, "--app-secret", APP_SECRET, "--feishu-domain", feishu.base_url])
    assert code == 1 and "飞书说这个应用缺少通讯录权限（错误码 99991672）" in out
    assert load_config(folder / "bot.toml").feishu.enabled  # the config stays; serve syncs again at start


def test_an_answer_that_is_not_the_platform_api(folder, capsys):
    from fakes import FakeServer

    with FakeServer() as other:  # answers 404 JSON for everything: some other web server
        other.routes[("GET", "/cgi-bin/gettoken")] = lambda rec: (200, b"<html>hello</html>")
        code, out = run(capsys, wecom_flags(other.base_url))
    assert code == 1 and "的回答不像平台接口" in out and "检查接口地址" in out


def test_wecom_agent_id_is_checked_against_the_secrets_app(folder, wecom, capsys):
    code, out = run(capsys, wecom_flags(wecom.base_url, agent_id="1000099"))
    assert code == 2 and "企业微信说 AgentId 不对（错误码 40056）" in out
    assert wecom.calls("/cgi-bin/agent/get")[-1].query["agentid"] == "1000099"
    assert not (folder / "bot.toml").exists()


def test_after_init_an_imported_person_can_chat_in_the_console(folder, wecom, capsys, monkeypatch):
    code, _out = run(capsys, wecom_flags(wecom.base_url))
    assert code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("/我是谁\n"))
    code, out = run(capsys, ["-c", "bot.toml", "chat", "--as", "钱主管"])
    assert code == 0, out
    assert "我还不认识你" not in out and "钱主管" in out.split("\n", 2)[-1]
