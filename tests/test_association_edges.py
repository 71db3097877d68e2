"""Lead association edge cases from real chat: addresses typed in another case, phones with spaces and +86,
staff identities that look like customers (a colleague's personal WeChat, a rep's own phone), a customer in two
group chats, and /bind re-computing window tags so the lead ends up as if the events had arrived bound."""

from __future__ import annotations

import pytest
from conftest import T0

from bot.events import Actor, CallRecord, Message
from handlers.association import normalise_phone
from store import customers as customer_store
from store import leads as lead_store
from store import org as org_store

DAY = 86_400_000
HOUR = 3_600_000
_n = [0]


@pytest.fixture
def company(runtime):
    store = runtime.store
    with store.transaction():
        customer_store.upsert(store, "c1", "华鑫精密", owner_id="r1")
        customer_store.add_key(store, "external_id", "wmCust1", "c1")
        customer_store.add_key(store, "phone", "13900001111", "c1")
        customer_store.add_key(store, "email", "li@huaxin.cn", "c1")
        customer_store.add_key(store, "chat", "wrRoomA", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "华鑫-网关项目", T0 - 10 * DAY)
        customer_store.upsert(store, "c2", "恒通机械", owner_id="r2")
        lead_store.upsert(store, "L2", "c2", "r2", "恒通-质检项目", T0 - 5 * DAY)
        # 李娜's personal WeChat, known to the directory (it shows up as a WeCom external contact)
        org_store.add_identity(store, "wecom", "wmLinaPersonal", "r2")
    runtime.services.directory.refresh()
    return runtime


def feed(runtime, event) -> None:
    _n[0] += 1
    runtime.console.ctx.accept(event.platform, f"{event.event_id}:{_n[0]}", {}, event)


def msg(eid, sender, text="你好", to=(), room="", at=T0 + HOUR, platform="wecom") -> Message:
    return Message(event_id=eid, platform=platform, occurred_at=at, actor=Actor(platform_id=sender), text=text,
                   recipients=tuple(to), conversation_id=room or "|".join(sorted({sender, *to})), is_group=bool(room))


def call(eid, phone, at=T0 + HOUR, seconds=60, actor="zhangwei") -> CallRecord:
    return CallRecord(event_id=eid, platform="telephony", occurred_at=at, actor=Actor(platform_id=actor),
                      customer_phone=phone, duration_s=seconds, answered=seconds > 0)


def where(store, eid):
    r = store.conn.execute("SELECT customer_id, lead_id, match_key, role FROM events WHERE event_id = ?",
                           (eid,)).fetchone()
    return tuple(r) if r else None


def tags_of(store, eid) -> set[str]:
    return {r[0] for r in store.conn.execute(
        "SELECT tag FROM event_tags JOIN events ON events.id = event_tags.event_rowid WHERE event_id = ?", (eid,))}


def replies_to(runtime, person):
    return [d.text for d in runtime.console.delivered if d.target.person_id == person]


def test_phones_written_every_which_way_are_one_key():
    for raw in ("+86 139 0000 1111", "+86-139-0000-1111", "(+86)13900001111", "0086 139 0000 1111", "139 0000 1111",
                "8613900001111"):
        assert normalise_phone(raw) == "13900001111", raw
    # a landline written internationally loses its trunk 0: +86 21 … is 021 …
    assert normalise_phone("+86 21 5555 6666") == normalise_phone("021-5555-6666") == "02155556666"
    assert normalise_phone("0086-755-8888-9999") == "075588889999"


async def test_email_in_another_case_finds_the_customer(company):
    feed(company, msg("m:1", "Li@HuaXin.CN", text="方案收到了，GW-300多少钱", to=("zhangwei@corp.cn",),
                      platform="email"))
    await company.settle()
    assert where(company.store, "m:1") == ("c1", "L1", None, "customer")
    assert {"客户回复", "客户询价"} <= tags_of(company.store, "m:1")


async def test_bind_an_email_typed_in_capitals_matches_later_mail(company):
    feed(company, msg("e:1", "Wang.Gong@HengTong.com", text="请报个价", to=("lina@corp.cn",), platform="email"))
    await company.settle()
    assert where(company.store, "e:1")[2] == "email:wang.gong@hengtong.com"  # the unknown sender, not our colleague
    company.console.type_line("管理员", "/绑定 Wang.Gong@HengTong.com 恒通机械")
    await company.settle()
    assert where(company.store, "e:1")[:2] == ("c2", "L2")
    feed(company, msg("e:2", "wang.gong@hengtong.com", text="收到", to=("lina@corp.cn",), platform="email",
                      at=T0 + 2 * HOUR))
    await company.settle()
    assert where(company.store, "e:2")[:3] == ("c2", "L2", None)


async def test_a_colleagues_personal_wechat_is_not_an_unmatched_customer(company):
    """张伟 chats with 李娜's personal WeChat: internal, so neither a customer contact nor an /unmatched entry."""
    feed(company, msg("w:1", "zhangwei", text="那个客户的报价你看下", to=("wmLinaPersonal",)))
    feed(company, msg("w:2", "wmLinaPersonal", text="好的", to=("zhangwei",)))
    await company.settle()
    assert where(company.store, "w:1")[:3] == (None, None, None)
    assert "销售联系" not in tags_of(company.store, "w:1")
    assert where(company.store, "w:2")[3] == "rep"
    # her personal WeChat talking to a customer is a rep contact on the customer's lead
    feed(company, msg("w:3", "wmLinaPersonal", text="王总，附件:GW-300型号参数.pdf", to=("wmCust1",)))
    await company.settle()
    assert where(company.store, "w:3") == ("c1", "L1", None, "rep")
    assert {"销售联系", "资料交付"} <= tags_of(company.store, "w:3")


async def test_bind_refuses_a_staff_identity(company):
    company.console.type_line("管理员", "/绑定 wmLinaPersonal 华鑫精密")
    await company.settle()
    reply = replies_to(company, "a1")[-1]
    assert "李娜" in reply and "已绑定" not in reply
    assert customer_store.find_by_key(company.store, "external_id", "wmLinaPersonal") is None


async def test_a_call_to_a_colleagues_phone_is_internal(company):
    feed(company, call("t:1", "+86 138 0000 0001", actor="lina"))  # 张伟's mobile
    await company.settle()
    assert where(company.store, "t:1")[:3] == (None, None, None)
    assert "销售联系" not in tags_of(company.store, "t:1")


async def test_customer_in_two_group_chats(company):
    """wmCust1 is in the customer's bound group and in an unbound one; both go to the customer's open lead, and
    the unbound group does not show up as unmatched because of the known customer."""
    feed(company, msg("g:1", "wmCust1", text="参数表发群里了吗", room="wrRoomA"))
    feed(company, msg("g:2", "wmCust1", text="报价什么时候有", room="wrRoomB"))
    feed(company, msg("g:3", "zhangwei", text="附件:GW-300型号参数.pdf", to=("wmCust1", "lina"), room="wrRoomB"))
    await company.settle()
    assert where(company.store, "g:1") == ("c1", "L1", None, "customer")
    assert where(company.store, "g:2") == ("c1", "L1", None, "customer")
    assert where(company.store, "g:3")[:3] == ("c1", "L1", None)
    assert "资料交付" in tags_of(company.store, "g:3")


def lead_tag_events(store, lead, tag) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT events.event_id FROM event_tags JOIN events ON events.id = event_tags.event_rowid"
        " WHERE event_tags.lead_id = ? AND tag = ? ORDER BY events.occurred_at", (lead, tag))]


async def test_bind_moves_the_first_long_call_to_the_truly_first_call(company):
    """The lead's own 15-minute call was its first as far as anyone knew; /bind then shows an earlier 10-minute
    call from a number nobody had recorded. 首次通话 belongs to the earlier call only — a lead has one first call."""
    with company.store.transaction():
        customer_store.add_key(company.store, "phone", "13911112222", "c2")
    feed(company, call("f:early", "137 0000 2222", at=T0 + HOUR, seconds=600))
    feed(company, call("f:own", "+86 139 1111 2222", at=T0 + 5 * HOUR, seconds=900))
    await company.settle()
    assert lead_tag_events(company.store, "L2", "首次通话时长≥8分12秒") == ["f:own"]
    company.console.type_line("管理员", "/绑定 +86 137-0000-2222 恒通机械")
    await company.settle()
    assert where(company.store, "f:early")[:2] == ("c2", "L2")
    assert lead_tag_events(company.store, "L2", "首次通话时长≥8分12秒") == ["f:early"]


async def test_bind_keeps_one_second_contact_per_three_days(company):
    """Own contacts on day 1 and day 2 (day 2 = 3日内二次联系); a stranger's chat on day 0 bound later makes day 1
    the second contact — and day 2 no longer is: the rule records one per three days."""
    with company.store.transaction():
        customer_store.add_key(company.store, "external_id", "wmHengtong", "c2")
    feed(company, msg("s:0", "lina", text="王总好，我是恒通的对接人李娜", to=("wmHtNew",), at=T0))
    feed(company, msg("s:1", "lina", text="王总，方案发您了", to=("wmHengtong",), at=T0 + DAY))
    feed(company, msg("s:2", "lina", text="王总，方案看了吗", to=("wmHengtong",), at=T0 + 2 * DAY))
    await company.settle()
    assert lead_tag_events(company.store, "L2", "3日内二次联系") == ["s:2"]
    company.console.type_line("管理员", "/绑定 wmHtNew 恒通-质检项目")
    await company.settle()
    assert lead_tag_events(company.store, "L2", "3日内二次联系") == ["s:1"]
    assert lead_tag_events(company.store, "L2", "销售联系") == ["s:0", "s:1", "s:2"]


def test_a_phone_in_digit_groups_is_one_key():
    from handlers.tagging import split_key_args

    assert split_key_args(("+86", "137", "0000", "2222", "恒通机械")) == ("+86 137 0000 2222", ("恒通机械",))
    assert split_key_args(("137", "0000", "2222")) == ("137 0000 2222", ())  # no target: the usage line
    assert split_key_args(("13700002222", "12345")) == ("13700002222", ("12345",))  # a numeric target stays one
    assert split_key_args(("wmAbc", "华鑫精密")) == ("wmAbc", ("华鑫精密",))
