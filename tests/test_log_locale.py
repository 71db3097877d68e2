"""Log lines in the admin's language (issue 13): with `[bot] locale = "zh-CN"` the lines `serve`, the CLI and the
console chat's log file write are Chinese, with en the code's own English.

The code logs English %-templates; prompts/locales/zh-CN/logs.toml maps each one to Chinese and bot/logsetup.py
applies it in the formatter. The scan below keeps the catalog complete: a new English log line at info or above
fails here until it is translated, with the same %-conversions in the same order (the record's args are applied
to the translation unchanged).
"""

from __future__ import annotations

import ast
import io
import json
import logging
import random
import re
from pathlib import Path

import pytest
from fakes.dingtalk import robot_message
from platform_helpers import attach, dingtalk_fixtures

from adapters.dingtalk.sign import sign
from bot import logsetup
from bot.config import OutboxSection
from bot.errors import PlatformError
from bot.logsetup import JsonFormatter, TextFormatter, localised
from bot.replies import Reply, Target
from bot.sender import OutboxSender
from bot.server import build_app
from prompts import Keyed, log_templates
from store import outbox as outbox_store

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "adapters", "store", "rules")
SHOWN = {"info", "warning", "warn", "error", "exception", "critical"}  # `[logging] level` is "info" by default
_LEVEL_NAMES = {"INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"}
# a printf conversion as `%` applies it: flags, width, precision, length modifier, type ("%%" is a literal %)
CONVERSION = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
CATALOG = log_templates("zh-CN")

pytestmark = pytest.mark.timeout(60)


def conversions(template: str) -> list[str]:
    return [c for c in CONVERSION.findall(template) if c != "%%"]


def has_words(template: str) -> bool:
    """"%s" or "%s\\n%s" (a line already built with t(...)) has nothing to translate."""
    return bool(re.search(r"[A-Za-z]", CONVERSION.sub("", template)))


def _is_logger(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):  # logging.getLogger(...).warning(...)
        return isinstance(node.func, ast.Attribute) and node.func.attr == "getLogger"
    name = ast.unparse(node)
    return bool(re.search(r"(^|\.)(_?log|_?logger|logging|LOG)$", name))


def _template_arg(call: ast.Call) -> ast.expr | None:
    """The template of a logging call shown at the default level, or None for a debug line / another call."""
    func = call.func
    if not isinstance(func, ast.Attribute) or not _is_logger(func.value) or not call.args:
        return None
    if func.attr in SHOWN:
        return call.args[0]
    if func.attr == "log" and len(call.args) > 1:  # log.log(logging.WARNING, "...")
        level = ast.unparse(call.args[0]).rsplit(".", 1)[-1]
        return call.args[1] if level in _LEVEL_NAMES or not level.isupper() else None
    return None


def logged_templates() -> tuple[dict[str, list[str]], list[str]]:
    """{template: [where]} of every logging call at info or above in the product code, and the calls whose
    template is not a string literal (an f-string or a variable cannot be looked up in a catalog)."""
    found: dict[str, list[str]] = {}
    not_literal: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or (arg := _template_arg(node)) is None:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.setdefault(arg.value, []).append(where)
                else:
                    not_literal.append(f"{where}: {ast.unparse(arg)[:60]}")
    return found, not_literal


# --- (a) the catalog is complete, exact and has nothing left over ---------------------------------------------

def test_the_scan_sees_the_product_log_lines():
    found, _ = logged_templates()
    assert len(found) > 60
    assert "refused %s request from %s: %s (%s; ref %s)" in found  # adapters/refusals.py
    assert "send %s failed (attempt %d): %s" in found  # bot/sender.py
    assert "%s" in found  # the t(...) lines are seen, and need no entry
    assert not has_words("%s\n%s") and has_words("%s org sync: %s")
    assert conversions("a %s b %d c %.0f s %r 100%% %(n)s") == ["%s", "%d", "%.0f", "%r", "%(n)s"]


def test_every_template_is_a_literal():
    assert logged_templates()[1] == []


def test_every_english_log_line_has_a_chinese_translation():
    found, _ = logged_templates()
    missing = [f"{where[0]}: {template!r}" for template, where in sorted(found.items())
               if has_words(template) and template not in CATALOG]
    assert missing == [], "add these to prompts/locales/zh-CN/logs.toml:\n" + "\n".join(missing)


def test_translations_keep_the_conversions_in_order_and_are_chinese():
    bad = [f"{en!r} {conversions(en)} → {zh!r} {conversions(zh)}" for en, zh in CATALOG.items()
           if conversions(en) != conversions(zh)]
    assert bad == []
    assert [en for en, zh in CATALOG.items() if not re.search(r"[\u4e00-\u9fff]", zh)] == []
    for en, zh in CATALOG.items():  # each one formats with sample args of the right types
        sample = tuple(1 if c[-1] in "dif" else "x" for c in conversions(en))
        assert (zh % sample if sample else zh)


def test_no_translation_is_left_over_from_a_reworded_line():
    found, _ = logged_templates()
    assert sorted(set(CATALOG) - set(found)) == []


# --- (b) the formatters, text and JSON, zh-CN and en ---------------------------------------------------------------

def record(msg: str, *args, level: int = logging.WARNING, name: str = "salespulse.refusals") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


REFUSED = ("refused %s request from %s: %s (%s; ref %s)", "dingtalk", "10.0.0.7", Keyed("platforms.refusal_signature"),
           "bad signature", "1a2b3c4d")


def test_text_lines_are_chinese_with_zh_cn_and_english_with_en():
    line = TextFormatter("zh-CN").format(record(*REFUSED))
    assert line.endswith(" 警告 salespulse.refusals: 已拒绝 dingtalk 请求，来源 10.0.0.7：签名无效（bad signature；编号 1a2b3c4d）")
    line = TextFormatter("en").format(record(*REFUSED))
    assert line.endswith(" WARNING salespulse.refusals: refused dingtalk request from 10.0.0.7: invalid signature "
                         "(bad signature; ref 1a2b3c4d)")
    with_float = record("%s failed: %s; retrying in %.0f s", "wecom org sync", "timeout", 29.6, name="salespulse.x")
    assert TextFormatter("zh-CN").format(with_float).endswith("wecom org sync 出错：timeout；30 秒后重试")


def test_json_lines_translate_the_message_and_keep_machine_fields_and_the_ref():
    zh = json.loads(JsonFormatter("zh-CN").format(record(*REFUSED)))
    assert zh["msg"] == "已拒绝 dingtalk 请求，来源 10.0.0.7：签名无效（bad signature；编号 1a2b3c4d）"
    assert zh["ref"] == "1a2b3c4d" and zh["level"] == "warning" and zh["logger"] == "salespulse.refusals"
    en = json.loads(JsonFormatter("en").format(record(*REFUSED)))
    assert en["msg"] == "refused dingtalk request from 10.0.0.7: invalid signature (bad signature; ref 1a2b3c4d)"
    assert en["ref"] == "1a2b3c4d" and en["level"] == "warning"
    assert json.loads(JsonFormatter().format(record(*REFUSED)))["msg"] == en["msg"]  # no locale: the code's text


@pytest.mark.parametrize("template", sorted(t for t in CATALOG if "ref %s" in t))
def test_the_ref_is_found_in_every_translated_line_that_carries_one(template):
    args = tuple("9f8e7d6c" if i == len(conversions(template)) - 1 else (3 if c[-1] == "d" else "x")
                 for i, c in enumerate(conversions(template)))
    line = json.loads(JsonFormatter("zh-CN").format(record(template, *args)))
    assert line["ref"] == "9f8e7d6c", line["msg"]
    assert "编号 9f8e7d6c" in line["msg"]


def test_the_ref_pattern_needs_a_whole_id_next_to_chinese_text():
    def ref(msg: str) -> str | None:
        return json.loads(JsonFormatter().format(record(msg))).get("ref")

    assert ref("处理出错（编号 1a2b3c4d）") == "1a2b3c4d"
    assert ref("失败，编号 1a2b3c4d不再重试") == "1a2b3c4d"  # a Chinese character right after the id
    assert ref("请求失败ref 1a2b3c4d") == "1a2b3c4d"  # and right before "ref"
    assert ref("cannot decrypt (ref 0badf00d)") == "0badf00d"
    assert ref("编号 1a2b3c4d5 太长") is None and ref("preref 1a2b3c4d") is None


def test_exceptions_keep_their_traceback_under_the_translated_line():
    try:
        raise KeyError("template_card")
    except KeyError:
        import sys

        rec = logging.LogRecord("salespulse.sender", logging.ERROR, __file__, 1, "send %s raised an unexpected error",
                                ("k1",), sys.exc_info())
    text = TextFormatter("zh-CN").format(rec)
    assert "错误 salespulse.sender: 发送 k1 时出现意外错误\nTraceback" in text and "KeyError" in text
    assert "exc" in json.loads(JsonFormatter("zh-CN").format(rec))


def test_the_original_record_is_left_for_other_handlers():
    rec = record(*REFUSED)
    TextFormatter("zh-CN").format(rec)
    assert rec.msg == REFUSED[0] and rec.levelname == "WARNING" and rec.getMessage().startswith("refused")
    untouched = record("not in the catalog %s", "x")
    assert localised(untouched, CATALOG) is untouched  # nothing to do: no copy


# --- (c) a broken translation never breaks logging ----------------------------------------------------------------

@pytest.mark.parametrize("bad", ["已拒绝 %s 请求（编号 %s）", "已拒绝 %s %s %s %s %s %s", "已拒绝 %s 来自 %s：%s（%d；编号 %s）",
                                 "已拒绝 %s 来自 %s：%s（%s；编号 %s）100%"])
def test_a_translation_that_does_not_fit_falls_back_to_english(bad):
    formatter = TextFormatter("zh-CN")
    formatter.templates = {REFUSED[0]: bad}
    line = formatter.format(record(*REFUSED))
    assert "refused dingtalk request from 10.0.0.7: " in line and line.endswith("(bad signature; ref 1a2b3c4d)")
    assert "警告" in line  # the level is still in the locale


def test_a_broken_catalog_entry_writes_the_english_line_and_no_logging_error(capsys):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = TextFormatter("zh-CN")
    formatter.templates = {"disk %s is %d%% full": "磁盘 %s 已用 %d",  # fits the args: used
                           "only %s": "只有 %s 和 %s"}  # one conversion too many: TypeError inside the formatter
    handler.setFormatter(formatter)
    logger = logging.getLogger("salespulse.test_log_locale")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("disk %s is %d%% full", "/data", 97)
        logger.warning("only %s", "一个")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert stream.getvalue().splitlines()[0].endswith("磁盘 /data 已用 97")  # fits: "%d%%" → "%d" is one arg
    assert stream.getvalue().splitlines()[1].endswith(": only 一个")
    assert "Logging error" not in capsys.readouterr().err


# --- (d) real code paths, configured as `serve` configures them ------------------------------------------------------

@pytest.fixture
def terminal():
    """The root logger with one stream handler, as a terminal running `serve` has; pytest's own handlers and the
    salespulse level are put back afterwards (configure() re-formats every root handler)."""
    root, ours = logging.getLogger(), logging.getLogger("salespulse")
    saved, level = root.handlers[:], ours.level
    stream = io.StringIO()
    root.handlers = [logging.StreamHandler(stream)]
    yield stream
    root.handlers = saved
    ours.setLevel(level)


def english_templates(text: str) -> list[str]:
    """Lines of `text` that are one of the catalog's English templates with any args filled in."""
    patterns = [re.compile(".*?".join(re.escape(part) for part in CONVERSION.split(en))) for en in CATALOG]
    return [line for line in text.splitlines() if any(p.search(line) for p in patterns)]


def test_the_english_template_detector_finds_a_formatted_english_line():
    assert english_templates("x WARNING y: send k1 failed (attempt 2): boom")
    assert not english_templates("x 警告 y: 发送 k1 失败（第 2 次尝试）：boom")


fake, config = dingtalk_fixtures(mode="http")


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_refused_dingtalk_request_is_logged_in_chinese(fmt, terminal, runtime, aiohttp_client, fake):
    logsetup.configure(fmt, "info", "zh-CN")
    adapter = attach(runtime)
    client = await aiohttp_client(build_app(runtime.config, [adapter]))
    now = runtime.clock.now_ms()
    forged = {"timestamp": str(now), "sign": sign("not-the-secret", now), "Content-Type": "application/json"}
    for _ in range(3):  # the first is logged at once, the other two in the window's summary line
        resp = await client.post("/dingtalk/callback", data=json.dumps(robot_message("x-1")), headers=forged)
    adapter.ctx.refusals.flush(force=True)  # as at shutdown
    body = await resp.text()
    assert resp.status == 401 and "(ref " in body  # what the caller reads stays as it was
    ref = body.rsplit("ref ", 1)[1].rstrip(")")
    out = terminal.getvalue()
    assert english_templates(out) == [] and "refused" not in out
    if fmt == "text":
        assert re.search(rf"警告 salespulse\.refusals: 已拒绝 dingtalk 请求，来源 127\.0\.0\.1：签名无效（.*；编号 {ref}）",
                         out), out
        assert re.search(rf"已拒绝 dingtalk 请求，来源 127\.0\.0\.1：签名无效，最近一分钟 ×2（最后一次：.*；编号 {ref}）",
                         out), out
    else:
        line = json.loads(out.splitlines()[0])
        assert line["ref"] == ref and line["msg"].startswith("已拒绝 dingtalk 请求") and line["level"] == "warning"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_the_sender_failure_path_logs_in_the_configured_language(locale, terminal, store, clock):
    logsetup.configure("text", "info", locale)

    async def down(target, reply, key):
        raise PlatformError("接口 503")

    sender = OutboxSender(store, clock, OutboxSection(max_attempts=2, base_delay_s=1.0, max_delay_s=5.0),
                          {"wecom": down}, rng=random.Random(3))
    with store.transaction():
        outbox_store.enqueue(store, "k1", "wecom", Target("wecom", user_id="u1").to_dict(),
                             Reply.plain("你好").to_dict(), clock.now_ms())
    for _ in range(3):
        await sender.send_due()
        clock.advance(10_000)
    out = terminal.getvalue()
    if locale == "zh-CN":
        assert "警告 salespulse.sender: 发送 k1 失败（第 1 次尝试）：接口 503" in out
        assert "错误 salespulse.sender: 回复 k1 尝试 2 次后放弃，已移入失败队列：接口 503" in out
        assert english_templates(out) == []
    else:
        assert "WARNING salespulse.sender: send k1 failed (attempt 1): 接口 503" in out
        assert "ERROR salespulse.sender: reply k1 parked as dead after 2 attempts: 接口 503" in out


def test_the_cli_and_the_chat_log_file_speak_the_configured_locale(terminal, tmp_path, capsys, monkeypatch):
    from bot.cli import _log_to_terminal, build_parser
    from bot.cli.core import _logs_to_file

    monkeypatch.chdir(tmp_path)  # no bot.toml: the default locale
    build_parser(["doctor"])
    logging.getLogger().handlers = []
    _log_to_terminal(logging.WARNING)
    logging.getLogger("salespulse.scheduler").warning("job %s missed %s runs; catching up the last %d", "digest", 3, 1)
    assert "警告 salespulse.scheduler: 定时任务 digest 错过了 3 次运行；补跑最近 1 次" in capsys.readouterr().err

    (tmp_path / "bot.toml").write_text('[bot]\nlocale = "en"\n', encoding="utf-8")
    build_parser(["doctor"])
    logging.getLogger().handlers = []
    _log_to_terminal(logging.WARNING)
    logging.getLogger("salespulse.scheduler").warning("job %s missed %s runs; catching up the last %d", "digest", 3, 1)
    assert "WARNING salespulse.scheduler: job digest missed 3 runs; catching up the last 1" in capsys.readouterr().err

    path = _logs_to_file(str(tmp_path / "x.db"), "zh-CN")
    try:
        logging.getLogger("salespulse.silence").warning("silence sweep at %s: %d alerts", "2026-05-20T10:00", 4)
    finally:
        for handler in logging.getLogger().handlers:
            handler.close()
    assert "警告 salespulse.silence: 沉默巡检 2026-05-20T10:00：4 条预警" in path.read_text(encoding="utf-8")


# --- arguments that carry their own prompts key ----------------------------------------------------------------------

def test_keyed_arguments_are_shown_in_the_formatters_locale():
    from bot.errors import SalesPulseError
    from prompts import Keyed
    from rules.model import RuleError, Say

    keyed = SalesPulseError(Keyed("config_errors.cron_invalid"))
    rule = RuleError("packs/mine.toml", 7, "vip", Say("not_one_of", what="role", value="boss",
                                                      allowed="rep,manager"))
    rec = record("scheduled backup failed: %s", keyed, name="salespulse.backup")
    assert TextFormatter("zh-CN").format(rec).endswith("定时备份失败：无法解析")
    assert TextFormatter("en").format(rec).endswith("scheduled backup failed: cannot be parsed")
    assert json.loads(JsonFormatter("zh-CN").format(rec))["msg"] == "定时备份失败：无法解析"
    rec = record("rule packs not reloaded:\n%s", rule, name="salespulse.tagging")
    assert TextFormatter("zh-CN").format(rec).endswith(
        "规则包没有重新加载：\npacks/mine.toml:7：规则 vip：role 的“boss”不在可选值里：rep,manager")
    assert TextFormatter("en").format(rec).endswith("rule packs not reloaded:\npacks/mine.toml:7: rule vip: " + str(
        rule.message))
    assert rec.args == (rule,)  # the record other handlers see keeps its objects


def test_a_render_that_fails_leaves_the_argument_as_it_is():
    class Odd(str):
        def render(self, t):
            raise RuntimeError("broken prompt")

    rec = record("scheduled backup failed: %s", Odd("disk full"), name="salespulse.backup")
    assert TextFormatter("zh-CN").format(rec).endswith("定时备份失败：disk full")
