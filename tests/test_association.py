"""Lead association: every event finds its customer and open lead by external id, recipients, phone, email,
bound group chat or lead id; what cannot be matched is listed by /unmatched (admins) and bound by /bind, after
which its past events count."""

from __future__ import annotations

import pytest
from conftest import T0

from bot.events import Actor, CallRecord, DocumentOpen, Message
from handlers.association import key_kind, normalise_phone
from store import customers as customer_store
from store import leads as lead_store

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
        lead_store.upsert(store, "L1", "c1", "r1", "华鑫-网关项目", T0 - 10 * DAY)
        lead_store.upsert(store, "L0", "c1", "r1", "华鑫-旧项目", T0 - 90 * DAY, status="lost")
        customer_store.upsert(store, "c2", "恒通机械", owner_id="r2")
        lead_store.upsert(store, "L2", "c2", "r2", "恒通-质检项目", T0 - 5 * DAY)
        lead_store.upsert(store, "L3", "c2", "r2", "恒通-能耗项目", T0 - 4 * DAY)
        customer_store.upsert(store, "c3", "恒通物流", owner_id="r2")
    return runtime


def feed(runtime, event) -> None:
    _n[0] += 1
    runtime.console.ctx.accept(event.platform, f"{event.event_id}:{_n[0]}", {}, event)


def msg(eid, sender, text="你好", to=(), room="", at=T0 + HOUR, platform="wecom") -> Message:
    return Message(event_id=eid, platform=platform, occurred_at=at, actor=Actor(platform_id=sender), text=text,
                   recipients=tuple(to), conversation_id=room or "|".join(sorted({sender, *to})), is_group=bool(room))


def where(store, eid):
    r = store.conn.execute("SELECT customer_id, lead_id, match_key FROM events WHERE event_id = ?", (eid,)).fetchone()
    return tuple(r) if r else None


def replies_to(runtime, person):
    return [d.text for d in runtime.console.delivered if d.target.person_id == person]


def test_phone_and_key_kinds():
    assert normalise_phone("+86 139-0000-1111") == "13900001111"
    assert normalise_phone("0086 13900001111") == "13900001111"
    assert key_kind("wmAbc") == "external_id" and key_kind("a@b.cn") == "email"
    assert key_kind("139 0000 1111") == "phone" and key_kind("zhangwei") == "platform_user"


async def test_each_kind_of_evidence_finds_the_customer_and_open_lead(company):
    feed(company, msg("e:ext", "wmCust1", to=("zhangwei",)))                 # customer's external id
    feed(company, msg("e:rcpt", "zhangwei", to=("wmCust1",)))                # the customer among recipients
    feed(company, msg("e:mail", "li@huaxin.cn", to=("zhangwei@corp.cn",), platform="email"))  # email
    feed(company, Message(event_id="e:conv", platform="wecom", occurred_at=T0 + HOUR, actor=Actor(platform_id="zhangwei"),
                          text="在吗", conversation_id="wmCust1|zhangwei"))  # no recipient list: the 1:1 chat id
    feed(company, CallRecord(event_id="e:call", platform="telephony", occurred_at=T0 + HOUR,
                             actor=Actor(platform_id="zhangwei"), customer_phone="+86 139 0000 1111", duration_s=60))
    feed(company, DocumentOpen(event_id="e:doc", platform="links", occurred_at=T0 + HOUR, actor=Actor(platform_id="x"),
                               document="方案.pdf", lead_id="L3"))
    await company.settle()
    for eid in ("e:ext", "e:rcpt", "e:mail", "e:call", "e:conv"):
        assert where(company.store, eid) == ("c1", "L1", None), eid  # the open lead, not the lost one
    assert where(company.store, "e:doc") == ("c2", "L3", None)
    assert company.store.conn.execute("SELECT role FROM events WHERE event_id = 'e:mail'").fetchone()[0] == "customer"


async def test_internal_chat_is_neither_matched_nor_unmatched(company):
    feed(company, msg("e:int", "zhangwei", to=("lina",), text="中午吃什么"))
    await company.settle()
    assert where(company.store, "e:int") == (None, None, None)


async def test_unmatched_list_is_for_admins_only(company):
    feed(company, msg("u:1", "wmStranger", text="你好，想了解下报价", to=("zhangwei",)))
    feed(company, msg("u:2", "wmStranger", text="在吗", to=("zhangwei",), at=T0 + 2 * HOUR))
    feed(company, msg("u:3", "zhangwei", text="群里同步下", to=("wmOther", "lina"), room="wrRoom9"))
    feed(company, CallRecord(event_id="u:4", platform="telephony", occurred_at=T0 + HOUR,
                             actor=Actor(platform_id="zhangwei"), customer_phone="021-5555 6666"))
    await company.settle()
    assert where(company.store, "u:1") == (None, None, "external_id:wmStranger")
    assert where(company.store, "u:3") == (None, None, "chat:wrRoom9")
    assert where(company.store, "u:4") == (None, None, "phone:02155556666")
    company.console.type_line("张伟", "/未匹配")
    company.console.type_line("王经理", "/unmatched")
    company.console.type_line("管理员", "/未匹配")
    await company.settle()
    assert replies_to(company, "r1") == [company.services.prompts.t("core.admin_only")]
    assert replies_to(company, "m1") == [company.services.prompts.t("core.admin_only")]
    (listing,) = replies_to(company, "a1")
    assert "3 个，共 4 条事件" in listing
    first = listing.splitlines()[1]
    assert "外部联系人 wmStranger — 2 条" in first and "在吗" in first
    assert "群聊 wrRoom9" in listing and "手机号 02155556666" in listing


async def test_bind_counts_past_events_and_future_ones(company):
    feed(company, msg("b:1", "wmStranger", text="GW-300多少钱", to=("zhangwei",), at=T0 + HOUR))
    feed(company, msg("b:2", "zhangwei", text="附件:GW-300型号参数.pdf", to=("wmStranger",), at=T0 + 3 * HOUR))
    await company.settle()
    assert company.store.conn.execute("SELECT last_activity_at FROM leads WHERE id = 'L2'").fetchone()[0] is None
    company.console.type_line("管理员", "/绑定 wmStranger 恒通-质检项目")
    await company.settle()
    reply = replies_to(company, "a1")[-1]
    assert "已绑定" in reply and "补记了 2 条历史事件" in reply
    assert where(company.store, "b:1")[:2] == ("c2", "L2")
    assert where(company.store, "b:2")[:2] == ("c2", "L2")
    lead_tags = company.store.conn.execute("SELECT tag FROM event_tags WHERE lead_id = 'L2'").fetchall()
    assert {"资料交付", "客户询价"} <= {r[0] for r in lead_tags}
    assert company.store.conn.execute("SELECT last_activity_at FROM leads WHERE id = 'L2'").fetchone()[0] == T0 + 3 * HOUR
    # from now on the key goes straight to the bound lead (L2, although L3 is the customer's newest open lead)
    feed(company, msg("b:3", "wmStranger", text="收到", to=("zhangwei",), at=T0 + 5 * HOUR))
    await company.settle()
    assert where(company.store, "b:3") == ("c2", "L2", None)
    company.console.type_line("管理员", "/未匹配")
    await company.settle()
    assert "没有未匹配的来源" in replies_to(company, "a1")[-1]


def _tags_of(store, eid) -> set[str]:
    return {r[0] for r in store.conn.execute(
        "SELECT tag FROM event_tags JOIN events ON events.id = event_tags.event_rowid WHERE event_id = ?", (eid,))}


async def test_bind_re_evaluates_window_rules_over_the_bound_history(company):
    """Before /bind the stranger's chats had no lead, so no window rule could count them; after it, the second
    contact within 3 days earns 3日内二次联系 — once, and the lead's own later contact does not earn it again."""
    feed(company, msg("w:1", "zhangwei", text="王总您好，方案发您了", to=("wmNew",), at=T0 + HOUR))
    feed(company, msg("w:2", "zhangwei", text="王总，方案看了吗？", to=("wmNew",), at=T0 + 26 * HOUR))
    await company.settle()
    assert "销售联系" in _tags_of(company.store, "w:2")
    assert "3日内二次联系" not in _tags_of(company.store, "w:2")
    company.console.type_line("管理员", "/绑定 wmNew 恒通-质检项目")
    await company.settle()
    reply = replies_to(company, "a1")[-1]
    assert "重算了组合规则" in reply and "3日内二次联系×1" in reply, reply
    assert "3日内二次联系" not in _tags_of(company.store, "w:1")
    assert "3日内二次联系" in _tags_of(company.store, "w:2")
    row = company.store.conn.execute("SELECT event_tags.lead_id FROM event_tags JOIN events ON events.id = event_rowid"
                                     " WHERE event_id = 'w:2' AND tag = '3日内二次联系'").fetchone()
    assert row[0] == "L2"
    # a third contact the next day is within 3 days of the re-computed tag: the rule records it only once
    feed(company, msg("w:3", "zhangwei", text="王总早", to=("wmNew",), at=T0 + 50 * HOUR))
    await company.settle()
    assert "3日内二次联系" not in _tags_of(company.store, "w:3")


async def test_bind_group_chat_to_customer_by_name(company):
    feed(company, msg("g:1", "zhangwei", text="群里发下资料", to=("wmNew",), room="wrRoom1"))
    await company.settle()
    company.console.type_line("管理员", "/bind wrRoom1 华鑫精密")
    await company.settle()
    assert "已绑定：群聊 wrRoom1 → 客户 华鑫精密" in replies_to(company, "a1")[-1]
    assert where(company.store, "g:1")[:2] == ("c1", "L1")
    feed(company, msg("g:2", "lina", text="好的", room="wrRoom1"))
    await company.settle()
    assert where(company.store, "g:2")[:2] == ("c1", "L1")


async def test_bind_phone_with_explicit_kind(company):
    feed(company, CallRecord(event_id="p:1", platform="telephony", occurred_at=T0 + HOUR,
                             actor=Actor(platform_id="zhangwei"), customer_phone="13700002222", duration_s=30))
    await company.settle()
    company.console.type_line("管理员", "/bind phone:137-0000-2222 c1")
    await company.settle()
    assert where(company.store, "p:1")[:2] == ("c1", "L1")


async def test_bind_ambiguous_or_unknown_names_get_suggestions(company):
    company.console.type_line("管理员", "/绑定 wmX 恒通")
    company.console.type_line("管理员", "/绑定 wmX 恒通精密机械")
    company.console.type_line("管理员", "/绑定 wmX")
    company.console.type_line("管理员", "/绑定 zzz 华鑫精密")
    company.console.type_line("刘洋", "/绑定 wmX 华鑫精密")
    await company.settle()
    ambiguous, unknown, usage, badkey = replies_to(company, "a1")
    assert "对应多个" in ambiguous and "恒通机械（c2）" in ambiguous and "恒通物流（c3）" in ambiguous
    assert "找不到" in unknown and "你是不是要找" in unknown and "恒通机械" in unknown
    assert "用法" in usage
    assert "看不出「zzz」" in badkey
    assert replies_to(company, "r3") == [company.services.prompts.t("core.admin_only")]
    assert customer_store.find_by_key(company.store, "external_id", "wmX") is None


async def test_keys_added_outside_bind_are_seen_at_once(company):
    """A customer key written by an import in this process invalidates the association cache."""
    feed(company, msg("k:1", "wmLate", to=("zhangwei",)))
    await company.settle()
    assert where(company.store, "k:1")[0] is None
    with company.store.transaction():
        customer_store.add_key(company.store, "external_id", "wmLate", "c2")
    feed(company, msg("k:2", "wmLate", to=("zhangwei",), at=T0 + 2 * HOUR))
    await company.settle()
    assert where(company.store, "k:2")[:2] == ("c2", "L3")


async def test_a_failed_bind_leaves_no_binding_in_memory(company, monkeypatch):
    """/bind remembers the new key in the association cache; if the command then fails, its writes are rolled
    back and so must the cache be — later messages from that key stay unmatched."""
    from store import events as events_store

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(events_store, "rebind_customer", broken)
    feed(company, msg("f:1", "wmGhost", text="在吗", to=("zhangwei",)))
    await company.settle()
    company.console.type_line("管理员", "/绑定 wmGhost 恒通-质检项目")
    await company.settle()
    assert "出错" in company.console.delivered[-1].text  # the apology with a reference
    assert company.store.conn.execute("SELECT COUNT(*) FROM customer_keys WHERE value = 'wmGhost'").fetchone()[0] == 0
    feed(company, msg("f:2", "wmGhost", text="还在吗", to=("zhangwei",), at=T0 + 2 * HOUR))
    await company.settle()
    assert where(company.store, "f:2") == (None, None, "external_id:wmGhost")


async def test_the_same_message_is_answered_once_until_a_cache_is_dropped(company):
    """Every observer of a message asks for its association: the answer is computed once per event, and computed
    again when something that could change it was written in between (here a new customer key)."""
    associator = company.services.extras["tagging"].associator
    calls = []
    inner = associator._for_message
    associator._for_message = lambda ev: calls.append(ev) or inner(ev)
    ev = msg("e:memo", "zhangwei", to=("wmNew1",))
    first = associator.for_message(ev)
    assert associator.for_message(ev) is first and len(calls) == 1 and first.customer_id is None
    with company.store.transaction():
        customer_store.add_key(company.store, "external_id", "wmNew1", "c2")
    assert associator.for_message(ev).customer_id == "c2" and len(calls) == 2
    assert associator.for_message(msg("e:memo2", "zhangwei", to=("wmNew1",))).customer_id == "c2"
    assert len(calls) == 3
