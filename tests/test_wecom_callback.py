"""WeCom app callback: URL verification, signature + AES (wechatpy and an independent AES), parsing, dedupe,
refusals (403 / 400 / 413) and unsupported types kept — all through our aiohttp route."""

from __future__ import annotations

import json

import pytest
import wecom_helpers as h
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import AdapterContext
from adapters.wecom import parse
from adapters.wecom.adapter import WeComAdapter
from adapters.wecom.crypto import CallbackCrypto
from bot.errors import BadPayload, PlatformAuthError
from bot.server import build_app
from store import inbox as inbox_store


@pytest.fixture
def wconfig(config):
    return h.wecom_config(config)


@pytest.fixture
def adapter(store, clock, wconfig):
    woken = []
    ad = WeComAdapter(AdapterContext(store, wconfig, clock, lambda: woken.append(1)))
    ad.woken = woken
    return ad


@pytest.fixture
async def client(aiohttp_client, adapter, wconfig):
    return await aiohttp_client(build_app(wconfig, [adapter]))


def now_s(clock) -> int:
    return clock.now_ms() // 1000


def rows(store):
    return store.conn.execute("SELECT external_id, status, event, error FROM inbox ORDER BY id").fetchall()


async def test_echostr_with_plus_verifies_raw_and_percent_encoded(client, clock):
    ts = now_s(clock)
    sig, echostr, plain = h.echo_params("echo-7781", ts)
    assert "+" in echostr
    # literal '+' in the query string: aiohttp would read it as a space
    raw = await client.get(f"{h.PATH}?msg_signature={sig}&timestamp={ts}&nonce=n3&echostr={echostr}")
    assert raw.status == 200 and await raw.text() == plain
    enc = await client.get(h.PATH, params={"msg_signature": sig, "timestamp": str(ts), "nonce": "n3",
                                           "echostr": echostr})
    assert enc.status == 200 and await enc.text() == plain


async def test_echostr_wrong_signature_is_403(client, clock):
    ts = now_s(clock)
    _sig, echostr, _plain = h.echo_params("echo", ts, want_plus=False)
    resp = await client.get(h.PATH, params={"msg_signature": "0" * 40, "timestamp": str(ts), "nonce": "n3",
                                            "echostr": echostr})
    assert resp.status == 403 and "Traceback" not in await resp.text()


async def test_text_message_is_acked_empty_and_stored(client, store, clock, adapter):
    query, body = h.wechatpy_encrypt(h.text_xml("zhangwei", "/帮助", "7001", now_s(clock)), now_s(clock))
    resp = await client.post(f"{h.PATH}?{query}", data=body)
    assert resp.status == 200 and await resp.read() == b""
    (row,) = rows(store)
    assert row["external_id"] == "msg:7001" and row["status"] == "pending"
    event = json.loads(row["event"])
    assert event["type"] == "message" and event["text"] == "/帮助" and event["to_bot"] is True
    assert event["actor"]["platform_id"] == "zhangwei" and event["occurred_at"] == now_s(clock) * 1000
    assert adapter.woken


async def test_independent_aes_implementation_is_accepted(client, store, clock):
    query, body = h.independent_encrypt(h.text_xml("lina", "报价单v2.3已发", "7002", now_s(clock)), now_s(clock))
    resp = await client.post(f"{h.PATH}?{query}", data=body)
    assert resp.status == 200
    assert json.loads(rows(store)[0]["event"])["text"] == "报价单v2.3已发"


async def test_same_message_three_times_is_stored_once(client, store, clock):
    query, body = h.wechatpy_encrypt(h.text_xml("zhangwei", "hello", "7003", now_s(clock)), now_s(clock))
    statuses = [(await client.post(f"{h.PATH}?{query}", data=body)).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert len(rows(store)) == 1


async def test_wrong_signature_is_403_and_nothing_stored(client, store, clock):
    query, body = h.wechatpy_encrypt(h.text_xml("zhangwei", "x", "7004", now_s(clock)), now_s(clock))
    bad = query.replace("msg_signature=", "msg_signature=f")
    resp = await client.post(f"{h.PATH}?{bad}", data=body)
    assert resp.status == 403 and (await resp.text()).startswith("invalid signature (ref ")
    assert rows(store) == []


async def test_missing_query_is_403(client):
    resp = await client.post(h.PATH, data=b"<xml><Encrypt>abc</Encrypt></xml>")
    assert resp.status == 403


async def test_old_timestamp_is_refused_but_a_retry_window_is_not(client, store, clock):
    old = now_s(clock) - 2 * 3600
    query, body = h.wechatpy_encrypt(h.text_xml("zhangwei", "x", "7005", old), old)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 403
    recent = now_s(clock) - 20 * 60  # a WeCom retry keeping its first timestamp is still fine
    query, body = h.wechatpy_encrypt(h.text_xml("zhangwei", "x", "7006", recent), recent)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    assert [r["external_id"] for r in rows(store)] == ["msg:7006"]


async def test_body_over_one_mib_is_413(client, store, clock):
    query, _body = h.wechatpy_encrypt(h.text_xml("zhangwei", "x", "7007", now_s(clock)), now_s(clock))
    huge = b"<xml><Encrypt>" + b"A" * (1024 * 1024 + 10) + b"</Encrypt></xml>"
    resp = await client.post(f"{h.PATH}?{query}", data=huge)
    assert resp.status == 413
    assert rows(store) == []


@pytest.mark.parametrize("body", [b"<xml><Encrypt>abc", b"not xml at all", b"", b"<xml><Other>1</Other></xml>",
                                  b"<xml><Encrypt><A>1</A></Encrypt></xml>"])
async def test_malformed_outer_xml_is_400_without_trace(client, clock, body):
    ts = now_s(clock)
    resp = await client.post(f"{h.PATH}?msg_signature=abc&timestamp={ts}&nonce=n", data=body)
    text = await resp.text()
    assert resp.status == 400 and "Traceback" not in text and len(text) < 200


async def test_malformed_inner_xml_is_400_and_kept(client, store, clock):
    query, body = h.wechatpy_encrypt("<xml><MsgType>text</MsgType><unclosed>", now_s(clock))
    resp = await client.post(f"{h.PATH}?{query}", data=body)
    assert resp.status == 400 and "Traceback" not in await resp.text()
    (row,) = rows(store)
    assert row["status"] == "unsupported" and "bad payload" in row["error"]


async def test_unknown_type_is_stored_as_unsupported(client, store, clock):
    inner = h.generic_xml("zhangwei", "video", now_s(clock), msg_id="7008", MediaId="m1", ThumbMediaId="t1")
    query, body = h.wechatpy_encrypt(inner, now_s(clock))
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    inner = h.generic_xml("zhangwei", "event", now_s(clock), Event="enter_agent")
    query, body = h.wechatpy_encrypt(inner, now_s(clock))
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    got = rows(store)
    assert [r["status"] for r in got] == ["unsupported", "unsupported"]
    assert "video" in got[0]["error"] and got[1]["external_id"] == f"evt:zhangwei:{now_s(clock)}:enter_agent"
    assert inbox_store.payload_of(store, "wecom", "msg:7008")["MediaId"] == "m1"


async def test_each_message_kind_parses(client, store, clock):
    t = now_s(clock)
    cases = [
        h.generic_xml("zhangwei", "image", t, msg_id="1", PicUrl="http://x/p.jpg", MediaId="img1"),
        h.generic_xml("zhangwei", "voice", t, msg_id="2", MediaId="voice1", Format="amr"),
        h.generic_xml("zhangwei", "file", t, msg_id="3", MediaId="file1", FileName="XX型号参数.pdf"),
        h.generic_xml("zhangwei", "location", t, msg_id="4", Location_X="31.2", Location_Y="121.4", Label="上海"),
        h.generic_xml("zhangwei", "link", t, msg_id="5", Title="方案", Description="PDF", Url="https://x/a"),
        h.generic_xml("zhangwei", "event", t, Event="click", EventKey="/forecast"),
    ]
    for inner in cases:
        query, body = h.wechatpy_encrypt(inner, t)
        assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    events = [json.loads(r["event"]) for r in rows(store)]
    assert [(e["kind"], e["media_id"]) for e in events[:3]] == [("image", "img1"), ("voice", "voice1"),
                                                                 ("file", "file1")]
    assert events[2]["file_name"] == "XX型号参数.pdf"
    assert events[3]["text"] == "上海 (31.2,121.4)"
    assert events[4]["text"] == "方案\nPDF\nhttps://x/a"
    assert events[5]["text"] == "/forecast" and events[5]["to_bot"] is True


async def test_card_click_becomes_card_action_with_action_and_value(client, store, clock):
    from adapters.wecom import keys

    key, inline = keys.encode("lead.claim", {"lead": "L-1", "n": 2})
    assert inline
    inner = h.card_event_xml("zhangwei", key, "sp_task1", "rc-777", now_s(clock))
    query, body = h.wechatpy_encrypt(inner, now_s(clock))
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    event = json.loads(rows(store)[0]["event"])
    assert event["type"] == "card_action" and event["action"] == "lead.claim"
    assert event["value"] == {"lead": "L-1", "n": 2} and event["card_ref"] == "sp_task1"


def test_button_keys_round_trip_and_overflow():
    from adapters.wecom import keys

    for action, value in [("a", {}), ("store.fix", {"store": "S1", "item": "货架"}), ("x.y", {"k": [1, 2]})]:
        key, inline = keys.encode(action, value)
        assert inline and keys.decode(key) == (action, value)
    key, inline = keys.encode("big", {"t": "长" * 600})
    assert not inline and key.startswith("#") and len(key) < 64 and keys.decode(key) == key
    key, inline = keys.encode("has|bar", {})
    assert not inline


def test_aes_key_must_be_43_characters():
    with pytest.raises(PlatformAuthError):
        CallbackCrypto(h.TOKEN, h.AES_KEY[:-1], h.CORP)


_FIELD_NAMES = st.sampled_from(["MsgType", "FromUserName", "CreateTime", "MsgId", "Event", "EventKey", "Content",
                                "MediaId", "TaskId", "ResponseCode", "SelectedItems"])
_FIELD_VALUES = st.one_of(
    st.sampled_from(["text", "event", "template_card_event", "image", "voice", "file", "click", "123", "-1", "",
                     "a|{", "a|[1]", "#x", "<A>1</A>", "<A>1</A><A>2</A>", "99999999999999999999999"]),
    st.text(alphabet="abc<>&;/ 1|{}\"", max_size=20),
)
_XMLISH = st.builds(lambda fields: "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields) + "</xml>",
                    st.lists(st.tuples(_FIELD_NAMES, _FIELD_VALUES), max_size=8))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), _XMLISH))
def test_parser_fuzz_only_typed_errors(xml):
    try:
        parsed = parse.to_event(parse.parse_xml(xml), 0)
    except BadPayload:
        return
    assert parsed.dedupe_key and (parsed.event is not None or parsed.unsupported)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=12), st.text(max_size=8))
def test_decrypt_fuzz_only_typed_errors(encrypt, ts, nonce):
    crypto = CallbackCrypto(h.TOKEN, h.AES_KEY, h.CORP)
    from adapters.wecom.crypto import signature

    for sig in ("bad", signature(h.TOKEN, ts, nonce, encrypt)):
        try:
            crypto.decrypt(sig, ts, nonce, encrypt)
        except (BadPayload, PlatformAuthError):
            pass


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), _XMLISH.map(lambda x: x.replace("MsgType", "Encrypt").encode())))
def test_outer_xml_fuzz_only_typed_errors(body):
    from adapters.wecom.callback import _outer_encrypt

    try:
        assert isinstance(_outer_encrypt(body), str)
    except BadPayload:
        pass


def test_import_archive_cli(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    good = {"msgid": "c1", "action": "send", "from": "zhangwei", "tolist": ["wmK"], "roomid": "",
            "msgtime": 1_772_413_200_000, "msgtype": "text", "text": {"content": "好的"}}
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(good) + "\n{oops\n", encoding="utf-8")
    code = main(["import", "archive", str(path), "--db", str(tmp_path / "x.db"), "--no-process"])
    out = capsys.readouterr()
    assert code == 1 and "新增 1 条" in out.out and f"{path}:2：不是 JSON" in out.err
