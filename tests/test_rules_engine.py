"""Table tests for every rule kind, on the default pack and on small packs written inline."""

from __future__ import annotations

import pytest

from rules import Engine, EventView, MemoryHistory, default_pack_path, load_files, load_text
from rules.engine import DAY_MS, HOUR_MS
from rules.loader import check_rule_set, parse_catalog_entries

T = 1_772_413_200_000
PRODUCTS = {"products": parse_catalog_entries(["GW-300", "QC-8", "EMS-2|EMS2|能耗管理系统", "POS-5"])}


@pytest.fixture(scope="module")
def engine() -> Engine:
    rules, catalogs = load_files([default_pack_path()], PRODUCTS)
    return Engine(rules, catalogs)


def msg(text: str = "", role: str = "rep", kind: str = "text", file: str = "", with_customer: bool = True,
        lead: str | None = "L1", at: int = T, department: str = "", group: bool = False, **fields) -> EventView:
    searchable = "\n".join(p for p in (text, file) if p)
    return EventView("message", role, kind, searchable, (file,) if file else (),
                     {"length": len(text), "with_customer": with_customer, "is_group": group, **fields}, department,
                     frozenset(), "", lead, at)


def call(duration: int, answered: bool = True, direction: str = "outbound", lead: str | None = "L1",
         at: int = T) -> EventView:
    return EventView("call", "rep", "", "", (), {"duration_s": duration, "answered": answered,
                                                 "direction": direction, "with_customer": True},
                     "", frozenset(), "", lead, at)


def tags(engine: Engine, view: EventView, history=None) -> set[str]:
    hits, _values = engine.evaluate(view, history if history is not None else MemoryHistory())
    return {h.tag for h in hits}


def record(engine: Engine, history: MemoryHistory, view: EventView) -> set[str]:
    """Evaluate and remember the outcome, as the SQL store would."""
    hits, values = engine.evaluate(view, history)
    for h in hits:
        history.add_tag(view.lead_id, h.tag, view.occurred_at)
    for key, value in values:
        history.add_value(view.lead_id, key, value, view.occurred_at)
    if view.type == "document_open":
        history.add_open(view.lead_id, view.document, view.occurred_at)
    return {h.tag for h in hits}


# ---------------------------------------------------------------- the seed's examples


@pytest.mark.parametrize("view, expected, absent", [
    # 资料交付 for "附件:XX型号参数.pdf" as a chat line from a rep (the seed's fault case), both colon forms
    (msg("附件:XX型号参数.pdf"), {"资料交付", "销售联系"}, {"已发送报价单"}),
    (msg("参数表发您了 附件：GW-300型号参数.pdf 请查收"), {"资料交付"}, set()),
    # … and as a real file message
    (msg(kind="file", file="XX型号参数.pdf"), {"资料交付"}, set()),
    # a customer sending a file is not a delivery by us
    (msg("附件:XX型号参数.pdf", role="customer"), {"客户发来文件", "客户回复"}, {"资料交付"}),
    # 已发送报价单v2.3: the version comes from the file name or the sentence
    (msg(kind="file", file="GW-300报价单v2.3.pdf"), {"已发送报价单v2.3"}, {"资料交付"}),
    (msg("王总您好，GW-300的报价单v2.3已经发您邮箱了，请查收。"), {"已发送报价单v2.3"}, set()),
    (msg("附件:报价单.xlsx"), {"已发送报价单"}, set()),
    (msg(kind="file", file="报价单_终版_V3.pdf"), {"已发送报价单V3"}, set()),
    # day-one customer signals
    (msg("GW-300的价格能不能再便宜一点？预算有点紧。", role="customer"), {"客户询价", "价格异议", "预算"}, set()),
    (msg("我们再比较一下，竞品那边报价低不少。", role="customer"), {"竞品提及", "价格异议"}, set()),
    (msg("交付时间能保证吗？我们下个月就要上线。", role="customer"), {"交期疑虑"}, set()),
    (msg("合同已经盖章了，今天寄回", role="customer"), {"合同/盖章"}, set()),
    (msg("款已经打到对公账户", role="customer"), {"付款"}, set()),
    (msg("您看下周二上午方便吗？我带技术同事过去做个演示。"), {"演示/试用"}, set()),
    (msg("下周过去拜访您"), {"约见/拜访"}, set()),
    (msg(kind="voice", role="rep", duration_s=12), {"语音沟通", "销售联系"}, set()),
    (msg(kind="recall"), {"撤回消息"}, {"销售联系"}),
    # 跨部门协作: a 技术部 colleague in a customer chat; a rep asking 技术部 internally
    (msg("这个接口我们支持", role="colleague", department="技术部"), {"技术部参与沟通", "同事协同沟通"}, set()),
    (msg("需要技术支持一起看下方案", with_customer=False), {"申请内部支持"}, {"销售联系"}),
    # bots and internal small talk get nothing
    (msg("大家中午吃什么", with_customer=False), set(), {"销售联系", "申请内部支持"}),
])
def test_default_pack_message_table(engine, view, expected, absent):
    got = tags(engine, view)
    assert expected <= got, got
    assert not (absent & got), got


@pytest.mark.parametrize("duration, first, fires", [
    (492, True, True),     # 8 min 12 s exactly, first call on the lead
    (491, True, False),    # one second short
    (900, False, False),   # long, but not the first call
])
def test_first_call_at_least_492_seconds(engine, duration, first, fires):
    history = MemoryHistory()
    if not first:
        record(engine, history, call(120, at=T - DAY_MS))
    got = record(engine, history, call(duration))
    assert ("首次通话时长≥8分12秒" in got) is fires
    assert "通话" in got


def test_unanswered_inbound_call_is_missed_call_and_not_a_conversation(engine):
    got = tags(engine, call(0, answered=False, direction="inbound"))
    assert "未接来电" in got and "通话" not in got and "首次通话时长≥8分12秒" not in got


def test_second_contact_within_three_days(engine):
    h = MemoryHistory()
    assert "3日内二次联系" not in record(engine, h, msg("王总您好", at=T))
    # same conversation ten minutes later: still one contact
    assert "3日内二次联系" not in record(engine, h, msg("资料稍后发您", at=T + 10 * 60_000))
    # next day: the second contact
    assert "3日内二次联系" in record(engine, h, msg("王总，昨天的问题有答复了", at=T + DAY_MS))
    # and once per three days only
    assert "3日内二次联系" not in record(engine, h, msg("再跟进一下", at=T + 2 * DAY_MS))


def test_second_contact_after_four_days_is_not_within_three(engine):
    h = MemoryHistory()
    record(engine, h, msg("王总您好", at=T))
    assert "3日内二次联系" not in record(engine, h, msg("王总，好久不见", at=T + 4 * DAY_MS))


def test_three_distinct_products_asked_by_the_same_customer(engine):
    h = MemoryHistory()
    assert "同一客户3次不同产品询价" not in record(engine, h, msg("GW-300多少钱", role="customer", at=T))
    assert "同一客户3次不同产品询价" not in record(engine, h, msg("GW-300再报个价", role="customer", at=T + HOUR_MS))
    assert "同一客户3次不同产品询价" not in record(engine, h, msg("QC-8什么价", role="customer", at=T + 2 * HOUR_MS))
    # an alias of the third product counts as that product
    assert "同一客户3次不同产品询价" in record(engine, h, msg("能耗管理系统的价格呢", role="customer", at=T + 3 * HOUR_MS))
    # repeating an earlier product brings nothing new
    assert "同一客户3次不同产品询价" not in record(engine, h, msg("QC-8报价多少", role="customer", at=T + 4 * HOUR_MS))


def test_products_mentioned_without_an_inquiry_do_not_count(engine):
    h = MemoryHistory()
    for i, p in enumerate(("GW-300", "QC-8", "POS-5")):
        record(engine, h, msg(f"{p}收到了，谢谢", role="customer", at=T + i * HOUR_MS))
    assert "同一客户3次不同产品询价" not in record(engine, h, msg("EMS-2看起来不错", role="customer", at=T + 5 * HOUR_MS))


def doc_open(name: str, at: int) -> EventView:
    return EventView("document_open", "customer", "", name, (), {"with_customer": True}, "", frozenset(), name,
                     "L1", at)


def test_fourth_open_of_the_same_proposal_pdf(engine):
    h = MemoryHistory()
    fired = [("客户打开方案PDF超3次" in record(engine, h, doc_open("智能工厂方案.pdf", T + i * HOUR_MS))) for i in range(5)]
    assert fired == [False, False, False, True, True]
    # another document starts its own count
    assert "客户打开方案PDF超3次" not in record(engine, h, doc_open("报价说明.pdf", T + 6 * HOUR_MS))


def test_tech_department_in_a_meeting_is_cross_department(engine):
    view = EventView("calendar", "rep", "", "方案评审会", (), {"with_customer": True, "attendees": 3,
                                                          "external_attendees": 1},
                     "", frozenset({"技术部"}), "", "L1", T)
    hits, _ = engine.evaluate(view, MemoryHistory())
    by_tag = {h.tag: h for h in hits}
    assert by_tag["技术部参与会议"].category == "跨部门协作"
    assert "客户会议" in by_tag
    other = EventView("calendar", "rep", "", "周会", (), {"with_customer": False}, "", frozenset({"财务部"}), "",
                      None, T)
    assert "技术部参与会议" not in tags(engine, other)


def test_window_rules_need_a_lead(engine):
    assert "首次通话时长≥8分12秒" not in tags(engine, call(600, lead=None))


# ---------------------------------------------------------------- rule kinds on small packs


def pack(body: str, catalogs=None) -> Engine:
    p, errors = load_text(body, "t.toml")
    assert not errors, [str(e) for e in errors]
    cats = dict(catalogs or {})
    assert not check_rule_set(p.rules, {**cats, **p.catalogs})
    for i, r in enumerate(p.rules):
        r.index = i
    return Engine(p.rules, {**cats, **p.catalogs})


def test_keywords_are_case_insensitive_and_exclude_wins():
    e = pack('[[rule]]\nid="a"\ntag="A"\ncategory="客户响应"\nkeywords=["Demo"]\nexclude=["不要"]\n')
    assert tags(e, msg("可以安排一次DEMO吗")) == {"A"}
    assert tags(e, msg("不要 demo")) == set()


def test_regex_named_group_fills_the_tag_template():
    e = pack('[[rule]]\nid="v"\ntag="版本{ver}"\ncategory="销售动作"\nregex=[\'版本\\s*(?P<ver>\\d+(?:\\.\\d+)*)\']\n')
    assert tags(e, msg("这是版本 3.1.4 的说明")) == {"版本3.1.4"}
    assert tags(e, msg("没有版本号")) == set()


def test_attachment_globs_match_files_chat_lines_and_documents():
    e = pack('[[rule]]\nid="p"\ntag="参数"\ncategory="销售动作"\nattachment=["*参数*.pdf"]\n')
    assert tags(e, msg(kind="file", file="A型号参数.PDF")) == {"参数"}
    assert tags(e, msg("附件：B型号参数.pdf")) == {"参数"}
    assert tags(e, msg("附件:B型号参数.docx")) == set()
    assert tags(e, msg("参数.pdf 在群文件里")) == set()  # a name without "附件:" is not an attachment
    assert tags(e, doc_open("C参数.pdf", T)) == {"参数"}


@pytest.mark.parametrize("cond, fields, fires", [
    ("duration_s >= 492", {"duration_s": 492}, True),
    ("duration_s >= 492", {"duration_s": 491.9}, False),
    ("answered = false", {"answered": False}, True),
    ("answered = false", {"answered": True}, False),
    ('direction = "inbound"', {"direction": "inbound"}, True),
    ("direction != inbound", {"direction": "inbound"}, False),
    ("length < 5", {"length": 3}, True),
    ("length < 5", {}, False),  # a missing field never matches
])
def test_field_comparisons(cond, fields, fires):
    e = pack(f'[[rule]]\nid="f"\ntag="F"\ncategory="销售动作"\nfields=[\'{cond}\']\n')
    view = EventView("call", "rep", "", "", (), fields, "", frozenset(), "", "L1", T)
    assert (tags(e, view) == {"F"}) is fires


def test_role_kind_type_and_staff_group():
    e = pack('[[rule]]\nid="s"\ntag="S"\ncategory="销售动作"\ntype="message"\nkind=["voice"]\nrole="staff"\n')
    assert tags(e, msg(kind="voice", role="cs")) == {"S"}
    assert tags(e, msg(kind="voice", role="customer")) == set()
    assert tags(e, msg(kind="text", role="rep")) == set()
    assert tags(e, call(10)) == set()


def test_has_tag_builds_on_another_rule_of_the_same_event():
    e = pack('[[rule]]\nid="b"\ntag="Base"\ncategory="销售动作"\nkeywords=["报价"]\n'
             '[[rule]]\nid="d"\ntag="Derived"\ncategory="销售动作"\nhas_tag="Base"\nkeywords=["紧急"]\n')
    assert tags(e, msg("紧急报价")) == {"Base", "Derived"}
    assert tags(e, msg("紧急")) == set()


def test_count_window_with_gap_and_cooldown():
    e = pack('[[rule]]\nid="c"\ntag="C"\ncategory="销售动作"\nkeywords=["跟进"]\n'
             '[[rule]]\nid="w"\ntag="W"\ncategory="销售动作"\nhas_tag="C"\n'
             '[[rule.window]]\ncount="C"\ndays=1\nat_least=3\ngap_hours=1\n')
    h = MemoryHistory()
    seen = [record(e, h, msg("跟进", at=T + i * 2 * HOUR_MS)) for i in range(3)]
    assert ["W" in s for s in seen] == [False, False, True]
    # within the gap: the prior events closer than 1 h do not count, the older ones still do
    assert "W" in record(e, h, msg("跟进", at=T + 4 * HOUR_MS + 60_000))


def test_thousand_keyword_rules_still_match_exactly():
    body = "".join(f'[[rule]]\nid="k{i}"\ntag="K{i}"\ncategory="客户响应"\nkeywords=["词{i:04d}号"]\n' for i in range(1000))
    e = pack(body)
    assert e.keyword_count == 1000
    assert tags(e, msg("提到了词0042号和词0999号")) == {"K42", "K999"}
    assert tags(e, msg("什么都没有")) == set()


def test_explain_agrees_with_evaluate(engine):
    h = MemoryHistory()
    for view in (msg("附件:XX型号参数.pdf"), msg("GW-300多少钱？太贵了", role="customer"), call(600),
                 call(0, answered=False, direction="inbound"), doc_open("方案.pdf", T)):
        fired = {t.tag for t in engine.explain(view, h) if t.fired}
        assert fired == tags(engine, view, h)
        for t in engine.explain(view, h):
            if t.fired:
                assert t.reasons
            elif view.type in t.rule.types:
                assert t.failed
