"""Rule-file errors name file, line and rule id; unsafe regexes are refused; `salespulse rules check/try`."""

from __future__ import annotations

import re

import pytest

from bot.cli import main as cli_main
from rules import RulePackErrors, default_pack_path, load_files, load_text
from rules.guard import UnsafeRegex, compile_safe

GOOD = """[pack]
name = "mine"

[[rule]]
id = "ok_rule"
tag = "好"
category = "销售动作"
keywords = ["好"]
"""


def errors_of(text: str) -> list[str]:
    _pack, errors = load_text(text, "mine.toml")
    return [str(e) for e in errors]


@pytest.mark.parametrize("rule_body, line_starts, message", [
    ('id = "r1"\ntag = "T"\ncategory = "销售"\n', "category", "category must be one of"),
    ('id = "r1"\ntag = "T"\ncategory = "销售动作"\nkeyword = ["x"]\n', "keyword", "unknown key 'keyword'"),
    ('id = "r1"\ntag = "T"\ncategory = "销售动作"\nrole = ["boss"]\n', "role", "role 'boss' is not one of"),
    ('id = "r1"\ntag = "T"\ncategory = "销售动作"\nfields = ["duration >= 5"]\n', "fields", "unknown field 'duration'"),
    ('id = "r1"\ntag = "T"\ncategory = "销售动作"\nfields = ["answered >= true"]\n', "fields", "can only be compared with = or !="),
    ('id = "r1"\ntag = "T"\ncategory = "销售动作"\nregex = ["(a+)+b"]\n', "regex", "nested quantifier"),
    ('id = "r1"\ntag = "T"\ncategory = "销售动作"\nregex = ["(unclosed"]\n', "regex", "invalid"),
    ('id = "r1"\ntag = ""\ncategory = "销售动作"\n', "tag", "tag must be a non-empty string"),
    ('id = "r1"\ntag = "T"\ncategory = "销售动作"\n[[rule.window]]\ncount = "T"\ndays = 3\n', "[[rule.window]]",
     "at_least and/or at_most"),
    ('id = "r1"\ntag = "T"\ncategory = "销售动作"\ntype = "call"\n[[rule.window]]\nrepeat = "document"\nat_least = 2\n',
     "[[rule.window]]", 'needs type = "document_open"'),
    ('tag = "T"\ncategory = "销售动作"\n', "[[rule]]", "every rule needs id"),
])
def test_rule_errors_name_file_line_and_rule(rule_body, line_starts, message):
    text = GOOD + "\n[[rule]]\n" + rule_body
    (err,) = errors_of(text)
    m = re.match(r"mine\.toml:(\d+): rule (\S+): (.*)", err)
    assert m, err
    assert text.splitlines()[int(m.group(1)) - 1].startswith(line_starts), err
    assert m.group(2) == ("r1" if "id =" in rule_body else "?")
    assert message in m.group(3)


def test_error_points_at_the_offending_line_exactly():
    text = GOOD + '\n[[rule]]\nid = "bad_field"\ntag = "T"\ncategory = "客户响应"\nweight = 2\nfields = ["duration_s => 5"]\n'
    (err,) = errors_of(text)
    lines = text.splitlines()
    m = re.match(r"mine\.toml:(\d+): rule bad_field: ", err)
    assert m, err
    assert lines[int(m.group(1)) - 1].startswith("fields")


def test_toml_syntax_error_has_line_and_rule_id():
    text = GOOD + '\n[[rule]]\nid = "broken"\ntag = "T\ncategory = "销售动作"\n'
    (err,) = errors_of(text)
    assert re.match(r"mine\.toml:\d+: rule broken: TOML syntax", err), err


def test_duplicate_ids_and_unknown_tags_across_files(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text(GOOD, encoding="utf-8")
    b = tmp_path / "b.toml"
    b.write_text(GOOD + '\n[[rule]]\nid = "needs"\ntag = "N"\ncategory = "销售动作"\nhas_tag = "不存在"\n',
                 encoding="utf-8")
    with pytest.raises(RulePackErrors) as exc:
        load_files([a, b])
    text = str(exc.value)
    assert f"{b}:4: rule ok_rule: duplicate rule id (first defined at {a}:4)" in text
    assert f"{b}:10: rule needs: tag '不存在' is not produced by any rule" in text


def test_default_pack_loads_clean_and_covers_the_spec_examples():
    rules, _ = load_files([default_pack_path()], {"products": {"GW-300": ("GW-300",)}})
    produced = {r.tag for r in rules}
    for tag in ("已发送报价单{version}", "客户打开方案PDF超3次", "资料交付", "首次通话时长≥8分12秒", "3日内二次联系",
                "同一客户3次不同产品询价", "技术部参与会议", "未接来电", "价格异议", "竞品提及", "交期疑虑", "预算",
                "约见/拜访", "合同/盖章", "付款", "客户回复", "语音沟通", "撤回消息"):
        assert tag in produced, tag
    assert {r.category for r in rules} == {"销售动作", "客户响应", "跨部门协作"}


# ---------------------------------------------------------------- regex guard


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w+\s?)*x", r"(a|aa)+b", r"(x*)*y", r"(.*a){12}", r"(\d+)\1",
                                     r".*x.*y", r"a{1,5000}"])
def test_guard_refuses_catastrophic_shapes(pattern):
    with pytest.raises(UnsafeRegex):
        compile_safe(pattern)


@pytest.mark.parametrize("pattern", [r"报价单\s*(?P<version>[vV]\d+(?:\.\d+)*)?", r"(\d+\.)+\d+", r"(?:报价|报告)+",
                                     r"1[3-9]\d{9}", r"[^，。]{0,12}发"])
def test_guard_accepts_ordinary_patterns(pattern):
    compile_safe(pattern)


@pytest.mark.timeout(20)
def test_accepted_patterns_finish_on_hostile_input():
    """A pattern the guard lets through completes on the classic attack input (a regression to exponential
    backtracking would hang here and be stopped by the timeout, not pass)."""
    hostile = "1." * 1000 + "!"
    assert compile_safe(r"(\d+\.)+\d+$").search(hostile[:2000]) is None
    assert compile_safe(r"[vV]\d+(?:\.\d+)*x").search("v" + "1." * 1000) is None


# ---------------------------------------------------------------- CLI


def test_cli_check_ok_and_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["rules", "check"]) == 0
    assert "通过：" in capsys.readouterr().out  # zh-CN by default (issue 13, defect 14)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nid = "x1"\ntag = "X"\ncategory = "销售动作"\nfields = ["answered = maybe"]\n',
                   encoding="utf-8")
    assert cli_main(["rules", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:5：规则 x1：字段“answered”只能是 true/false，而不是“maybe”" in out
    (tmp_path / "bot.toml").write_text('[bot]\nlocale = "en"\n', encoding="utf-8")
    assert cli_main(["rules", "check", str(bad)]) == 1
    assert f"{bad}:5: rule x1: field 'answered' is true/false, got 'maybe'" in capsys.readouterr().out


def test_cli_try_shows_tags_and_why(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["rules", "try", "销售:附件:XX型号参数.pdf"]) == 0
    out = capsys.readouterr().out
    assert "✔ 资料交付" in out and "附件 XX型号参数.pdf 匹配 *参数*" in out
    assert cli_main(["rules", "try", "客户:附件:XX型号参数.pdf", "--as", "customer"]) == 0
    out = capsys.readouterr().out
    assert "角色：customer" in out and "✔ 客户发来文件" in out and "资料交付" not in out
    assert cli_main(["rules", "try", "", "--type", "call", "--duration", "492"]) == 0
    assert "✔ 首次通话时长≥8分12秒" in capsys.readouterr().out
    assert cli_main(["rules", "try", "", "--type", "call", "--duration", "600", "--prior", "通话=1", "--all"]) == 0
    out = capsys.readouterr().out
    assert "✘ 首次通话时长≥8分12秒" in out and "实际 2" in out
