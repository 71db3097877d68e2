"""WeCom payloads in the shapes the platform's docs show them.

- template_card_event: the example XML of 模板卡片事件推送 (developer.work.weixin.qq.com/document/path/90376, as
  reproduced verbatim in binarywang/WxJava WxCpXmlMessageTest.testTemplateCardEvent), through the real callback
  route (wechatpy crypto);
- message/update_template_card: the body of 更新模版卡片消息 (document/path/94888) and the fallback to a new message
  when WeCom refuses a used or expired response_code.
"""

from __future__ import annotations

import json

import pytest
import wecom_helpers as h

from adapters.base import AdapterContext
from adapters.wecom import keys, parse
from adapters.wecom.adapter import WeComAdapter
from bot.events import CardAction
from bot.replies import Button, Reply, Target
from bot.server import build_app

# The documentation's example, field for field (only indentation differs).
DOC_TEMPLATE_CARD_EVENT = """<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[template_card_event]]></Event>
<EventKey><![CDATA[key111]]></EventKey>
<TaskId><![CDATA[taskid111]]></TaskId>
<CardType><![CDATA[text_notice]]></CardType>
<ResponseCode><![CDATA[ResponseCode]]></ResponseCode>
<AgentID>1</AgentID>
<SelectedItems>
    <SelectedItem>
        <QuestionKey><![CDATA[QuestionKey1]]></QuestionKey>
        <OptionIds>
            <OptionId><![CDATA[OptionId1]]></OptionId>
            <OptionId><![CDATA[OptionId2]]></OptionId>
        </OptionIds>
    </SelectedItem>
    <SelectedItem>
        <QuestionKey><![CDATA[QuestionKey2]]></QuestionKey>
        <OptionIds>
            <OptionId><![CDATA[OptionId3]]></OptionId>
            <OptionId><![CDATA[OptionId4]]></OptionId>
        </OptionIds>
    </SelectedItem>
</SelectedItems>
</xml>"""


def click_xml(user: str, key: str, task_id: str, code: str, create_s: int, selected: str = "") -> str:
    """A button_interaction click as WeCom sends it (same element order as the doc example)."""
    return (f"<xml><ToUserName><![CDATA[{h.CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_s}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
            f"<TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[{code}]]></ResponseCode><AgentID>{h.AGENT}</AgentID>{selected}</xml>")


def test_doc_example_parses_every_documented_field():
    parsed = parse.to_event(parse.parse_xml(DOC_TEMPLATE_CARD_EVENT), 5)
    ev = parsed.event
    assert (parsed.task_id, parsed.response_code) == ("taskid111", "ResponseCode")
    assert isinstance(ev, CardAction) and ev.action == "key111" and ev.card_ref == "taskid111"
    assert ev.actor.platform_id == "FromUser" and ev.occurred_at == 123456789 * 1000 and ev.received_at == 5
    assert ev.value == {"selected": {"QuestionKey1": ["OptionId1", "OptionId2"],
                                     "QuestionKey2": ["OptionId3", "OptionId4"]}}
    assert parsed.dedupe_key == "evt:FromUser:123456789:template_card_event:taskid111"


def test_single_selected_item_with_single_option_is_still_a_list():
    key, _ = keys.encode("vote", {"poll": 3})
    one = ("<SelectedItems><SelectedItem><QuestionKey><![CDATA[q]]></QuestionKey><OptionIds>"
           "<OptionId><![CDATA[o1]]></OptionId></OptionIds></SelectedItem></SelectedItems>")
    ev = parse.to_event(parse.parse_xml(click_xml("lina", key, "sp_t", "rc", 1_772_000_000, one)), 0).event
    assert ev.action == "vote" and ev.value == {"poll": 3, "selected": {"q": ["o1"]}}


def test_click_without_event_key_is_bad_payload():
    from bot.errors import BadPayload

    with pytest.raises(BadPayload):
        parse.to_event(parse.parse_xml(click_xml("lina", "", "sp_t", "rc", 1_772_000_000)), 0)


fake = h.fake_api_fixture()


@pytest.fixture
def wconfig(config, fake):
    return h.wecom_config(config, fake.base_url)


@pytest.fixture
async def adapter(store, clock, wconfig):
    ad = WeComAdapter(AdapterContext(store, wconfig, clock, lambda: None))
    yield ad
    await ad.client.close()


def inbox(store):
    return store.conn.execute("SELECT external_id, status, event FROM inbox ORDER BY id").fetchall()


async def test_doc_example_through_the_callback_route_is_stored(aiohttp_client, adapter, wconfig, store, clock):
    client = await aiohttp_client(build_app(wconfig, [adapter]))
    t = clock.now_ms() // 1000
    query, body = h.wechatpy_encrypt(DOC_TEMPLATE_CARD_EVENT, t)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await adapter.drain_background()
    (row,) = inbox(store)
    event = json.loads(row["event"])
    assert row["external_id"] == "evt:FromUser:123456789:template_card_event:taskid111"
    assert event["action"] == "key111" and event["card_ref"] == "taskid111"
    assert event["value"]["selected"]["QuestionKey2"] == ["OptionId3", "OptionId4"]


async def test_presses_on_two_cards_in_one_second_are_both_kept(aiohttp_client, adapter, wconfig, store, clock):
    client = await aiohttp_client(build_app(wconfig, [adapter]))
    t = clock.now_ms() // 1000
    key, _ = keys.encode("lead.claim", {"lead": "L-1"})
    for task_id in ("sp_a", "sp_b", "sp_a"):  # the third is WeCom retrying the first
        query, body = h.wechatpy_encrypt(click_xml("zhangwei", key, task_id, f"rc-{task_id}", t), t)
        assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await adapter.drain_background()
    assert [r["external_id"] for r in inbox(store)] == [f"evt:zhangwei:{t}:template_card_event:sp_a",
                                                        f"evt:zhangwei:{t}:template_card_event:sp_b"]


async def test_press_updates_the_button_with_the_documented_body(aiohttp_client, adapter, wconfig, fake, clock):
    card = Reply.card("跟进", buttons=[Button("已跟进", "lead.done", {"lead": "L-2"})])
    await adapter.send(Target(platform="wecom", user_id="zhangwei"), card, "card-1")
    tc = fake.calls("/cgi-bin/message/send")[0].json["template_card"]
    client = await aiohttp_client(build_app(wconfig, [adapter]))
    t = clock.now_ms() // 1000
    query, body = h.wechatpy_encrypt(click_xml("zhangwei", tc["button_list"][0]["key"], tc["task_id"], "rc-9", t), t)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await adapter.drain_background()
    (update,) = fake.calls("/cgi-bin/message/update_template_card")
    assert set(update.json) == {"userids", "agentid", "response_code", "button"}
    assert update.json["userids"] == ["zhangwei"] and update.json["agentid"] == h.AGENT
    assert update.json["response_code"] == "rc-9" and update.json["button"]["replace_name"].startswith("已收到：已跟进")


async def test_refused_update_falls_back_to_a_new_message(adapter, fake):
    card = Reply.card("审批", buttons=[Button("同意", "ok", {"id": 1})])
    await adapter.send(Target(platform="wecom", user_id="zhangwei"), card, "appr-1")
    task_id = fake.calls("/cgi-bin/message/send")[0].json["template_card"]["task_id"]
    fake.fail_next("/cgi-bin/message/update_template_card", 40058)  # e.g. the code expired after 72 h
    answer = Reply.card("审批（已更新）", buttons=[Button("同意", "ok", {"id": 2})])
    ref = await adapter.send(Target(platform="wecom", user_id="zhangwei", reply_token=task_id), answer, "appr-2")
    assert not ref.startswith("update:")
    assert len(fake.calls("/cgi-bin/message/update_template_card")) == 1
    sends = fake.calls("/cgi-bin/message/send")
    assert len(sends) == 2 and sends[1].json["template_card"]["main_title"]["title"] == "审批（已更新）"
    # the refused code is not tried again
    await adapter.send(Target(platform="wecom", user_id="zhangwei", reply_token=task_id), answer, "appr-3")
    assert len(fake.calls("/cgi-bin/message/update_template_card")) == 1
