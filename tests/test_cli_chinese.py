"""With the zh-CN locale (the default) every line the command line shows is Chinese: --help of every command and
argparse's own words, argument errors, doctor, a deal import with bad rows, a short demo and a chat session (whose
log lines go to a file, never on the screen). Identifiers may stay: paths, command and key names, units, metavars.
The en locale keeps English."""

from __future__ import annotations

import argparse
import re

import pytest

from bot.cli import build_parser
from bot.cli import main as cli_main
from store import open_store

# identifiers, removed before looking for English: `code`, URLs, paths, --options, [sections], {placeholders},
# METAVARS, snake_case, dotted.names, tokens with digits, comma-joined column lists (id,name,role), commands
_IDENTIFIERS = [r"`[^`]*`", r"\b(?:salespulse|pip install)(?: [a-z][\w-]*)*", r"https?://\S+", r"\S*[/\\]\S*", r"--?[A-Za-z][\w-]*", r"\[[^\]\n]*\]", r"\b\w+(?:,\w+)+\b",
                r"\{[^}\n]*\}", r"\b[A-Z][A-Z0-9_]+\b", r"\b\w*_\w*\b", r"\b\w+\.\w+\b", r"\b[A-Za-z]*\d\w*\b"]
_SENTENCE = re.compile(r"\b[A-Za-z][a-z']+(?:[ ,:;]+[A-Za-z][a-z']+){2,}\b")  # three English words in a row


def english(text: str) -> list[str]:
    """The lines of `text` holding an English phrase (three words or more) outside identifiers."""
    found = []
    # argparse's usage block ("用法：salespulse import deals [-h] --map MAPPING file", wrapped) is command names and
    # metavars only; that it starts with 用法 is checked apart
    text = re.sub(r"^用法：.*\n(?:[ \t]+\S.*\n)*", "", text, flags=re.M)
    for line in text.splitlines():
        rest = line
        for pattern in _IDENTIFIERS:
            rest = re.sub(pattern, " ", rest)
        if _SENTENCE.search(rest):
            found.append(line)
    return found


def test_the_detector_finds_english_and_lets_identifiers_pass():
    assert english("! links public URL: http://127.0.0.1:8080/d/… — customers must reach it")
    assert english("salespulse: error: the following arguments are required: --as")
    assert english("show this help message and exit")
    assert not english("用法：salespulse chat [-h] --as USER [--db DB] [--at 'YYYY-MM-DD HH:MM']")
    assert not english("✓ ffmpeg：已找到内置版本 /x/imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v9.0.2")
    assert not english("请在 [server] public_base_url 填写；运行 `salespulse import stores FILE.csv`")


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _commands(sub, (*path, name))
    return out


def _run(capsys, argv: list[str]) -> tuple[int, str]:
    try:
        code = cli_main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_help_of_every_command_is_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no bot.toml: the default locale, zh-CN
    commands = _commands(build_parser([]))
    assert len(commands) > 30
    bad = {}
    for path in commands:
        code, text = _run(capsys, [*path, "--help"])
        assert code == 0 and text.startswith("用法："), (path, text[:200])
        if english(text):
            bad[" ".join(path)] = english(text)
    assert bad == {}


def test_argument_errors_are_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for argv, words in ((["outbox", "--status", "x"], "无效的选项"), (["chat"], "缺少必填参数"),
                        (["nosuch"], "无效的选项"), (["doctor", "--bogus"], "无法识别的参数")):
        code, text = _run(capsys, argv)
        assert code == 2 and "错误" in text and words in text, (argv, text)
        assert english(text) == [], (argv, text)


def test_english_stays_available_with_the_en_locale(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text('[bot]\nlocale = "en"\n', encoding="utf-8")
    code, text = _run(capsys, ["chat", "--help"])
    assert code == 0 and text.startswith("usage: ") and "show this help message and exit" in text
    assert "who you are: a person id or name" in text
    _run(capsys, ["--help"])  # back to zh-CN for the tests after this one
    monkeypatch.chdir(tmp_path.parent)


def test_doctor_is_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _code, text = _run(capsys, ["doctor"])
    assert "跟踪链接公网地址" in text and english(text) == []
    # with every platform enabled (half configured), their own self-check rows too
    (tmp_path / "bot.toml").write_text(
        '[wecom]\nenabled = true\ncorp_id = "ww1"\nagent_id = 1000002\ntoken = "t"\nencoding_aes_key = "short"\n'
        '[dingtalk]\nenabled = true\nclient_id = "ding1"\nmode = "http"\ngroup_robot_token = "x"\n'
        '[feishu]\nenabled = true\napp_id = "cli_1"\nmode = "http"\n', encoding="utf-8")
    _code, text = _run(capsys, ["doctor"])
    assert "企业微信回调" in text and "钉钉消息接收" in text and "飞书事件接收" in text, text
    assert english(text) == [], text


def test_deal_import_with_bad_rows_is_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deals.csv").write_text("商机编号,客户,阶段,金额,创建日期,成交日期\nX1,甲,赢单,abc,2017-13-01,2017-02-01\n"
                                        ",甲,赢单,100,2017-01-01,2017-02-01\nX3,甲,飞了,100,2017-01-01,\n"
                                        "X4,甲,谈判,100,2017-01-01,\n", encoding="utf-8")
    (tmp_path / "map.toml").write_text('[columns]\nid = "商机编号"\ncustomer = "客户"\nstage = "阶段"\namount = "金额"\n'
                                       'created_at = "创建日期"\nclosed_at = "成交日期"\n[status]\n"赢单" = "won"\n'
                                       '"谈判" = "open"\n', encoding="utf-8")
    code, text = _run(capsys, ["import", "deals", "deals.csv", "--map", "map.toml", "--db", "x.db"])
    assert code == 1 and "deals.csv:3: 商机编号是空的" in text and "已导入 1 个商机" in text
    assert english(text) == [], text
    code, text = _run(capsys, ["import", "deals", "deals.csv", "--map", "nosuch.toml", "--db", "x.db"])
    assert code == 2 and "找不到列对照文件" in text and english(text) == []


@pytest.mark.timeout(600)
def test_a_short_demo_and_a_chat_on_it_are_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, text = _run(capsys, ["demo", "--seed", "3", "--days", "4", "--customers", "12", "--leads", "14",
                               "--sweep-minutes", "30"])
    assert code == 0 and "沉默预警" in text
    assert english(text) == []
    lines = iter(["/帮助", "/我是谁", "/沉默", "/预测", "/健康度", "/help nosuch", "/基线", "你好",
                  # wrong arguments: each answered in Chinese
                  "/预测 xyz", "/调整", "/调整 不存在 概率 90% 提前签约", "/目标 删除 本季 不存在的组", "/目标 本季 abc",
                  "/修订 abc", "/导出 什么", "/教练 maybe", "/商机 %", "/热力图 不存在", "/备注", "/金句 abc"])

    def typed(prompt: str = "") -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", typed)
    store = open_store("demo-out/salespulse-demo.db")
    manager = store.conn.execute("SELECT name FROM people WHERE role = 'manager' ORDER BY id LIMIT 1").fetchone()[0]
    store.close()
    code, text = _run(capsys, ["chat", "--db", "demo-out/salespulse-demo.db", "--as", manager, "--at",
                               "2026-05-20 10:00"])
    assert code == 0 and "没有这个命令" in text and manager in text, text[-600:]
    assert "WARNING" not in text and "INFO" not in text  # logs go to salespulse-chat.log
    assert english(text) == []


# --- mistakes in the files an admin edits: classifier packs, planograms, [stores], cron strings ------------------

_BROKEN_PACK = '''[[cue]]
label = "nosuch"
words = ["贵"]

[[cue]]
label = "price_objection"
regex = ["(太贵"]

[[example]]
role = "boss"
text = "x"
'''


def test_a_broken_classifier_pack_reads_in_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.toml").write_text(_BROKEN_PACK, encoding="utf-8")
    (tmp_path / "bad_toml.toml").write_text('[[cue]]\nlabel = "price_objection"\nwords = [贵]\n', encoding="utf-8")
    code, text = _run(capsys, ["rules", "check", "mine.toml", "bad_toml.toml"])
    assert code == 1
    assert "mine.toml:1: [[cue]]：标签“nosuch”不在可选值里" in text, text
    assert "mine.toml:5: 正则“(太贵”写错了：第 0 个字符处：缺少“)”" in text, text
    assert "mine.toml:9: [[example]]：role 必须是" in text, text
    assert "bad_toml.toml:3: TOML 语法错误：第 3 行第 10 列：值写得不对" in text, text
    assert english(text) == [], text
    (tmp_path / "bot.toml").write_text('[bot]\nlocale = "en"\n', encoding="utf-8")
    _code, text = _run(capsys, ["rules", "check", "mine.toml"])
    assert "label 'nosuch' is not one of" in text and "missing ), unterminated subpattern" in text, text
    monkeypatch.chdir(tmp_path.parent)


def test_a_broken_rule_pack_reads_in_chinese(tmp_path, monkeypatch, capsys):
    """Rule packs: the key lists and Python's own TOML / regex words are Chinese too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.toml").write_text('[[rule]]\nid = "r1"\ntag = "x"\ncategory = "客户响应"\nregex = "(报价"\n\n[[rule]]\nid = "r2"\n'
                                     'tag = "y"\nkeywords = ["a"]\nfield = 1\n\n[[rule]]\nid = "r3"\ntag = "z"\n'
                                     'keywords = ["b"]\n', encoding="utf-8")
    (tmp_path / "t.toml").write_text('[[rule]\nid = 1\n', encoding="utf-8")
    (tmp_path / "e.toml").write_text('[[rule]]\nid = "q"\ntag = "z"\nregex = "\\d+"\n', encoding="utf-8")
    code, text = _run(capsys, ["rules", "check", "r.toml", "t.toml", "e.toml"])
    assert code == 1 and "正则“(报价”写错了：第 0 个字符处：缺少“)”" in text, text
    assert "不认识的键“field”" in text and "数组表头缺少结尾的“]]”" in text and "未转义的“\\”" in text, text
    assert "r.toml:14：规则 r3：缺少 category（应为 销售动作 / 客户响应 / 跨部门协作 之一）" in text, text
    assert english(text) == [], text


def test_a_bad_cron_string_in_bot_toml_reads_in_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for cron, words in (("61 9 * * *", "分钟字段“61”不对（应在 0-59 之间）"), ("0 9 * *", "字段数不对，有 4 个"),
                        ("0 9 * * 8", "星期字段“8”里的“8”不对")):
        (tmp_path / "bot.toml").write_text(f'[[scheduler.jobs]]\nname = "daily_digest"\ncron = "{cron}"\n',
                                           encoding="utf-8")
        _code, text = _run(capsys, ["doctor"])
        assert words in text and english(text) == [], text


def test_a_broken_planogram_reads_in_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo.jpg").write_bytes(b"not a photo")
    folder = tmp_path / "饮料"
    folder.mkdir()
    for toml, words in (("shelf = \n", "不是有效的 TOML：第 1 行第 9 列：值写得不对"),
                        ('shelf = "饮料"\ncolour = 1\n', "不认识的键 colour"),
                        ('store_type = "a"\n', "缺少 shelf"),
                        ('shelf = "饮料"\n', "找不到参考照片")):
        (folder / "planogram.toml").write_text(toml, encoding="utf-8")
        code, text = _run(capsys, ["shelf", "check", "photo.jpg", "--planogram", str(folder)])
        assert code == 2 and words in text and english(text) == [], text
    code, text = _run(capsys, ["shelf", "check", "photo.jpg", "--planogram", "nosuch"])
    assert code == 2 and "找不到货架模板文件夹" in text and english(text) == [], text


def test_stores_mistakes_read_in_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    people = '[[org.people]]\nid = "li"\nname = "李店长"\nrole = "manager"\n'
    open_store(tmp_path / "s.db").close()
    for section, words in (('[stores]\npromotion_days = ["2026-13-01"]\n', "“2026-13-01”不是 YYYY-MM-DD"),
                           ('[stores]\nreceptions_red = 20.0\nreceptions_healthy = 10.0\n', "每条红线都要低于"),
                           ('[stores]\nmorning_time = "9点"\n', "stores.morning_time：应为 HH:MM"),
                           ('[stores]\nreceptions_red_days = 0\n', "应为不小于 1 的整数")):
        (tmp_path / "bot.toml").write_text(people + section, encoding="utf-8")
        code, text = _run(capsys, ["chat", "--as", "李店长", "--db", "s.db"])
        assert code == 2 and words in text and english(text) == [], text
    (tmp_path / "bot.toml").unlink()
    (tmp_path / "stores.csv").write_text("编号,名字\nS1,一店\n", encoding="utf-8")
    code, text = _run(capsys, ["import", "stores", "stores.csv", "--db", "s.db"])
    assert code == 2 and "找不到 " in text and english(text) == [], text
    code, text = _run(capsys, ["import", "stores", "stores.csv", "--db", "s.db", "--map", "nosuch.toml"])
    assert code == 2 and "找不到列对照文件" in text and english(text) == [], text


def test_settings_the_handlers_check_at_start_read_in_chinese(tmp_path, monkeypatch, capsys):
    """Values with the right type that cannot work (checked when the handlers start) used to stop `chat` and `serve`
    with an English line; each names its key in the admin's language."""
    monkeypatch.chdir(tmp_path)
    people = '[[org.people]]\nid = "li"\nname = "李经理"\nrole = "manager"\n'
    open_store(tmp_path / "s.db").close()
    for section, words in (('[coaching]\ninterval = 1.5\n', "coaching.interval：应在 0 和 1 之间"),
                           ('[coaching]\nlive_minutes = 0\n', "coaching.live_minutes：应不小于 1"),
                           ('[coaching]\nquiet_hours = "22点"\n', "coaching.quiet_hours：应为 HH:MM-HH:MM"),
                           ('[coaching]\nsentiment = "gpt"\n', "coaching.sentiment：应为 lexicon, snownlp 之一"),
                           ('[pipeline]\nkeep_days = 3\ncompare_days = 7\n', "pipeline.keep_days：应大于"),
                           ('[heatmap]\nlevels = [3.0, 1.0]\n', "heatmap.levels：应为从小到大的正数"),
                           ('[silence]\nhours = 0\n', "silence.hours：应大于 0"),
                           ('[silence]\nworking_hours_only = true\nwork_start = "18:00"\nwork_end = "09:00"\n',
                            "工作时间的结束（09:00）应晚于开始（18:00）"),
                           ('[baseline]\nwindow_days = 0\n', "baseline.window_days：应不小于 1")):
        (tmp_path / "bot.toml").write_text(people + section, encoding="utf-8")
        code, text = _run(capsys, ["chat", "--as", "李经理", "--db", "s.db"])
        assert code == 2 and words in text and english(text) == [], text


def test_file_errors_say_why_in_the_admins_language(tmp_path, monkeypatch, capsys):
    """The OS's strerror is English ("No such file or directory") whatever the locale."""
    import errno

    from prompts import Prompts
    from prompts.library import os_reason

    zh, en = Prompts("zh-CN").t, Prompts("en").t
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", "x.csv")
    assert os_reason(missing, zh) == "找不到文件或文件夹" and os_reason(missing, en) == "no such file or folder"
    assert os_reason(PermissionError(errno.EACCES, "Permission denied"), zh) == "没有权限"
    assert os_reason(OSError(errno.ENOSPC, "No space left on device"), zh) == "磁盘空间不足"
    assert os_reason(OSError(errno.EXDEV, "Invalid cross-device link"), zh) == "Invalid cross-device link"  # kept
    monkeypatch.chdir(tmp_path)
    code, text = _run(capsys, ["classify", "nofile.jsonl"])
    assert "找不到文件或文件夹" in text and english(text) == [], text
