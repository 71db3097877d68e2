"""The product spec's tag examples on realistic Chinese chat with the default pack, and the near misses that must
not tag; plus rule-file mistakes an admin makes that used to slip through or lack a line number."""

from __future__ import annotations

import pytest

from bot.cli import main as cli_main
from rules import Engine, EventView, MemoryHistory, load_files, load_text, pack_files
from rules.loader import parse_catalog_entries

LEAD = "L"
DAY = 86_400_000


@pytest.fixture(scope="module")
def engine() -> Engine:
    products = {"products": parse_catalog_entries(["GW-300", "GW-3000", "QC-8", "QC-80", "EMS-2|能耗管理系统"])}
    rules, cats = load_files(pack_files((), ()), products)
    return Engine(rules, cats)


def msg(text: str, role: str = "rep", at: int = 10 * DAY, file: str = "") -> EventView:
    return EventView("message", role, "file" if file else "text", f"{text}\n{file}" if file else text,
                     (file,) if file else (), {"with_customer": True, "length": len(text), "is_group": False}, "",
                     frozenset(), "", LEAD, at)


def tags(engine: Engine, view: EventView, history: MemoryHistory | None = None) -> set[str]:
    return {h.tag for h in engine.evaluate(view, history or MemoryHistory())[0]}


QUOTE_SENT = [
    ("报价单v2.3已经发您邮箱了，请查收", "已发送报价单v2.3"),
    ("已发送报价单v2.3，请查收", "已发送报价单v2.3"),
    ("王总，刚把报价单V2.3发给您了", "已发送报价单V2.3"),
    ("给您发了最新报价单v2.3，有问题随时联系", "已发送报价单v2.3"),
    ("报价单发您了", "已发送报价单"),
    ("附件:报价单v2.3.pdf", "已发送报价单v2.3"),
]


@pytest.mark.parametrize("text, tag", QUOTE_SENT)
def test_quote_sent_in_every_word_order(engine, text, tag):
    assert tag in tags(engine, msg(text))


@pytest.mark.parametrize("text", [
    "还没发报价单，明天给您",
    "报价单还没发给您，稍等",
    "报价单v2.3还没发",
    "报价单明天发给您",
    "报价单我晚点发您",
    "报价单等领导审批后发您",
    "报价单没发出去，系统有问题",
    "报价单发给您了吗？",
    "报价单做好了就发您",
    "您收到报价单了吗",
])
def test_a_quote_not_yet_sent_is_not_tagged(engine, text):
    assert not any(t.startswith("已发送报价单") for t in tags(engine, msg(text)))


def test_a_customer_sending_the_quote_back_is_not_our_quote(engine):
    got = tags(engine, msg("附件:报价单v2.3.pdf", role="customer"))
    assert "客户发来文件" in got and not any(t.startswith("已发送报价单") for t in got)


def test_parameter_sheet_in_a_chat_line_is_material_delivery_only_from_our_side(engine):
    assert "资料交付" in tags(engine, msg("王总，附件：XX型号参数.pdf 请查收"))
    assert "资料交付" in tags(engine, msg("", file="XX型号参数.pdf"))
    assert "资料交付" not in tags(engine, msg("附件:XX型号参数.pdf", role="customer"))
    assert "资料交付" not in tags(engine, msg("参数表稍后发给您"))  # a promise, no file
    # file names with spaces, as saved on a PC
    assert "资料交付" in tags(engine, msg("附件: GW-300 型号参数表.pdf 请查收"))
    assert "已发送报价单v2.3" in tags(engine, msg("附件：恒通 报价单v2.3.xlsx，请查收"))


def test_one_question_about_gw_3000_is_not_also_about_gw_300(engine):
    """Model numbers that are prefixes of each other (GW-300 / GW-3000, QC-8 / QC-80): two inquiries are two
    products, not four, so 同一客户3次不同产品询价 does not fire."""
    history = MemoryHistory()
    fired = []
    for i, text in enumerate(["GW-3000多少钱", "QC-80什么价", "GW-3000再报个价", "gw-300呢，报个价"]):
        view = msg(text, role="customer", at=10 * DAY + i * 3_600_000)
        hits, values = engine.evaluate(view, history)
        for h in hits:
            history.add_tag(LEAD, h.tag, view.occurred_at)
        for k, v in values:
            history.add_value(LEAD, k, v, view.occurred_at)
        fired.append("同一客户3次不同产品询价" in {h.tag for h in hits})
        if i == 0:
            assert values == [("multi_product_inquiry", "GW-3000")]
    assert fired == [False, False, False, True]  # the third distinct product (GW-300) is the 4th question


def test_same_product_asked_three_times_does_not_tag(engine):
    history = MemoryHistory()
    for i, text in enumerate(["GW-300多少钱", "GW-300能便宜点吗", "GW-300最低什么价"]):
        view = msg(text, role="customer", at=10 * DAY + i * 3_600_000)
        hits, values = engine.evaluate(view, history)
        for k, v in values:
            history.add_value(LEAD, k, v, view.occurred_at)
        assert "同一客户3次不同产品询价" not in {h.tag for h in hits}


# ---------------------------------------------------------------- rule-file mistakes


def errors_of(text: str) -> list[str]:
    try:
        load_files_from_text(text)
    except Exception as exc:  # RulePackErrors
        return [str(e) for e in exc.errors]
    return []


def load_files_from_text(text: str, tmp=[]) -> None:  # noqa: B006 - one temp dir per module is fine
    import tempfile
    from pathlib import Path

    if not tmp:
        tmp.append(Path(tempfile.mkdtemp()))
    path = tmp[0] / "mine.toml"
    path.write_text(text, encoding="utf-8")
    load_files([path])


HEAD = '[[rule]]\nid = "r1"\ntag = "T"\ncategory = "客户响应"\n'


@pytest.mark.parametrize("key", ["keywords", "regex", "attachment", "has_tag", "role", "type"])
def test_an_empty_list_is_an_error_not_a_rule_without_conditions(key):
    """`keywords = []` used to load as a rule with no condition: it tagged every message."""
    (err,) = errors_of(HEAD + f"{key} = []\n")
    assert err.endswith(f"mine.toml:5: rule r1: {key} is an empty list; give at least one value or delete the line")


def test_keywords_emptied_does_not_tag_everything():
    p, errors = load_text(HEAD + "keywords = []\n", "mine.toml")
    assert errors and not p.rules


def test_duplicate_id_is_reported_even_while_the_first_definition_is_broken():
    text = HEAD + "regex = ['报价(单']\n\n" + HEAD.replace('"T"', '"T2"') + 'keywords = ["x"]\n'
    errs = errors_of(text)
    assert any(":5: rule r1: regex '报价(单' is invalid" in e for e in errs)
    assert any(e.endswith(":7: rule r1: duplicate rule id (first defined at " + e.split(":7:")[0] + ":1)")
               for e in errs), errs


def test_rules_written_as_rules_is_located():
    (err,) = errors_of('[pack]\nname = "x"\n\n[[rules]]\nid = "a"\ntag = "A"\ncategory = "客户响应"\n')
    assert "mine.toml:4: unknown top-level key 'rules'" in err and "[[rule]]" in err


def test_a_backslash_in_a_double_quoted_regex_gets_a_hint():
    (err,) = errors_of(HEAD + 'regex = "\\d+"\n')
    assert "mine.toml:5: rule r1: TOML syntax" in err and "single quotes" in err


def test_cli_check_reports_every_mistake_with_file_line_and_rule(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "mine.toml"
    bad.write_text(
        '[[rule]]\nid = "a"\ntag = "A"\ncategory = "客户响应"\nregex = [\'(a+)+\']\n\n'
        '[[rule]]\nid = "b"\ntag = "B"\ncategory = "客户响应"\nfeilds = ["duration_s >= 3"]\n\n'
        '[[rule]]\nid = "c"\ntag = "C"\ncategory = "客户响应"\nweight = "3"\n\n'
        '[[rule]]\nid = "a"\ntag = "A2"\ncategory = "客户响应"\nkeywords = ["z"]\n\n'
        '[[rule]]\nid = "d"\ntag = "D"\ncategory = "客户响应"\n[[rule.window]]\ndays = 3\nat_least = 2\n',
        encoding="utf-8")
    assert cli_main(["rules", "check", str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split("：", 2)[:2] for line in out] == [
        [f"{bad}:5", "规则 a"], [f"{bad}:11", "规则 b"], [f"{bad}:17", "规则 c"], [f"{bad}:29", "规则 d"],
        [f"{bad}:19", "规则 a"]]
    assert "规则 id 重复" in out[-1] and "一个窗口只能写 count" in out[3]


def test_a_customer_sending_a_quote_file_back_is_not_an_inquiry():
    """"附件:报价单v2.3-盖章.pdf" from the customer is a file (客户发来文件, 合同/盖章), not a price question."""
    from rules import EventView, RuleSet, pack_files

    rs = RuleSet(lambda: pack_files((), (), True))
    rs.load()

    def tags(text: str) -> set[str]:
        return {h.tag for h in rs.engine.evaluate(EventView("message", "customer", "text", text))[0]}

    assert "客户询价" not in tags("附件:报价单v2.3-盖章.pdf")
    assert "客户询价" in tags("能发个报价单吗") and "客户询价" in tags("GW-300多少钱？")
