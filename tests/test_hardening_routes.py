"""Feishu and WeCom routes under attack (issue 14): no 500 from unauthenticated input, authentic but oddly shaped
events kept as unsupported and acked, the challenge reply escaped, error bodies with a fixed reason and a
reference id, refusal logs aggregated per source and reason per minute, counted as metrics."""

from __future__ import annotations

import json
import logging

import pytest
import wecom_helpers as h
from fakes.feishu import encrypt, message_event, signed_request
from platform_helpers import attach_feishu, feishu_fixtures

from adapters.base import AdapterContext
from adapters.wecom.adapter import WeComAdapter
from bot.server import build_app
from store import inbox as inbox_store

pytestmark = pytest.mark.timeout(90)  # the first test pays for importing lark-oapi
PATH = "/feishu/events"

fake, config = feishu_fixtures()


@pytest.fixture
async def feishu_adapter(runtime):
    adapter = attach_feishu(runtime)
    await adapter.start()
    yield adapter
    await adapter.stop()


@pytest.fixture
async def feishu(feishu_adapter, runtime, aiohttp_client):
    return await aiohttp_client(build_app(runtime.config, [feishu_adapter]))


def now_s(runtime) -> int:
    return runtime.clock.now_ms() // 1000


def statuses(store) -> list[tuple[str, str]]:
    return store.conn.execute("SELECT external_id, status FROM inbox ORDER BY id").fetchall()


async def test_feishu_deep_brackets_and_huge_timestamp_are_4xx(feishu, runtime, caplog):
    resp = await feishu.post(PATH, data=b"[" * 200_000, headers={"Content-Type": "application/json"})
    assert resp.status == 400 and len(await resp.text()) < 80
    body, hdrs = signed_request(message_event("ev-ts"), now_s(runtime))
    hdrs["X-Lark-Request-Timestamp"] = "7" * 5000
    resp = await feishu.post(PATH, data=body, headers=hdrs)
    assert resp.status == 401
    inner_deep = json.dumps({"encrypt": encrypt("[" * 100_000)})
    assert (await feishu.post(PATH, data=inner_deep)).status == 400
    assert "Traceback" not in caplog.text and inbox_store.counts(runtime.store) == {}


@pytest.mark.parametrize("shape", ["event-string", "message-string", "content-deep", "sender-list"])
async def test_authentic_odd_shapes_are_kept_as_unsupported_and_acked(feishu, runtime, shape):
    envelope = message_event("ev-odd")
    if shape == "event-string":
        envelope["event"] = "surprise"
    elif shape == "message-string":
        envelope["event"]["message"] = "surprise"
    elif shape == "content-deep":
        envelope["event"]["message"]["content"] = "[" * 50_000
    else:
        envelope["event"]["sender"] = ["ou_x"]
    body, hdrs = signed_request(envelope, now_s(runtime))
    for _ in range(2):  # Feishu's redelivery is acked and not stored twice
        resp = await feishu.post(PATH, data=body, headers=hdrs)
        assert resp.status == 200
    assert inbox_store.counts(runtime.store) == {"unsupported": 1}


async def test_challenge_reply_is_escaped_json(feishu):
    challenge = 'a"b\\c</script>\n'
    body = json.dumps({"encrypt": encrypt(json.dumps({"challenge": challenge, "token": "vt-456",
                                                      "type": "url_verification"}))})
    resp = await feishu.post(PATH, data=body)
    assert resp.status == 200 and json.loads(await resp.text()) == {"challenge": challenge}


async def test_error_bodies_name_no_internals_and_carry_a_reference(runtime, aiohttp_client, store, clock, caplog):
    wconfig = h.wecom_config(runtime.config)
    client = await aiohttp_client(build_app(wconfig, [WeComAdapter(AdapterContext(store, wconfig, clock, lambda: 0))]))
    ts = clock.now_ms() // 1000
    # a validly signed body whose ciphertext is not a whole number of blocks: wechatpy fails inside
    encrypt_b64 = "QUJD" * 5
    sig = h.hashlib.sha1("".join(sorted([h.TOKEN, str(ts), "n", encrypt_b64])).encode()).hexdigest()
    resp = await client.post(f"{h.PATH}?msg_signature={sig}&timestamp={ts}&nonce=n",
                             data=f"<xml><Encrypt>{encrypt_b64}</Encrypt></xml>".encode())
    text = await resp.text()
    assert resp.status == 400 and text.startswith("cannot decrypt (ref ")
    assert "Error" not in text
    ref = text.rsplit("ref ", 1)[1].rstrip(")")
    assert any(ref in r.getMessage() for r in caplog.records)  # the details are in the log, under that ref


async def test_refusal_logs_are_aggregated_per_minute_and_counted(feishu, feishu_adapter, runtime, caplog):
    caplog.set_level(logging.WARNING, logger="salespulse.refusals")
    for _ in range(300):
        assert (await feishu.post(PATH, data=b"{nope")).status == 400
    lines = [r for r in caplog.records if r.name == "salespulse.refusals"]
    assert len(lines) == 1  # the first one, at once
    runtime.clock.advance(61_000)
    assert (await feishu.post(PATH, data=b"{nope")).status == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "salespulse.refusals"]
    assert len(lines) == 2 and "×299" in lines[1]
    assert feishu_adapter.ctx.refused[("feishu", "malformed_json")] == 301
    from prometheus_client import generate_latest

    from bot.metrics import Metrics

    ctx = feishu_adapter.ctx
    text = generate_latest(Metrics(runtime, ctx.accepted, refused=lambda: dict(ctx.refused)).registry).decode()
    assert 'salespulse_refused_requests_total{platform="feishu",reason="malformed_json"} 301.0' in text


def test_aiohttp_parser_errors_are_counted_not_tracebacked(clock, caplog):
    from aiohttp.http_exceptions import LineTooLong

    from adapters.refusals import ParserErrorFilter, Refusals
    refusals = Refusals(clock)
    logger = logging.getLogger("aiohttp.server")
    flt = ParserErrorFilter(refusals)
    saved, logger.filters = logger.filters, [flt]
    try:
        for _ in range(50):
            try:
                raise LineTooLong("x" * 100, 8190)
            except LineTooLong as exc:
                logger.error("Error handling request from %s", "203.0.113.9", exc_info=exc)
        logger.error("something else")  # not a parser error: passes
    finally:
        logger.filters = saved
    assert "Traceback" not in caplog.text and "LineTooLong" in caplog.text  # one aggregated refusal line
    assert refusals.counts[("http", "bad_request")] == 50
    assert "something else" in caplog.text


async def test_deeply_nested_xml_is_refused_before_parsing(runtime, aiohttp_client, store, clock):
    wconfig = h.wecom_config(runtime.config)
    client = await aiohttp_client(build_app(wconfig, [WeComAdapter(AdapterContext(store, wconfig, clock, lambda: 0))]))
    ts = clock.now_ms() // 1000
    for body in (b"<a>" * 200_000, b'<!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>'):
        resp = await client.post(f"{h.PATH}?msg_signature=x&timestamp={ts}&nonce=n", data=body)
        assert resp.status == 400 and (await resp.text()).startswith("malformed XML (ref ")


async def test_the_body_guard_answers_with_a_reference_and_counts(feishu, feishu_adapter):
    resp = await feishu.post(PATH, data=b"x" * 70_000 * 16, headers={"Content-Type": "application/json"})
    text = await resp.text()
    assert resp.status == 413 and text.startswith("body too large (ref ")
    assert feishu_adapter.ctx.refused[("http", "too_large")] == 1
