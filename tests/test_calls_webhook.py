"""The telephony webhook over a real aiohttp server on 127.0.0.1: token auth, malformed bodies, persistence before
200, dedupe of repeated call ids, the body limit."""

from __future__ import annotations

import dataclasses
import json

import pytest

from adapters.base import AdapterContext
from adapters.telephony import TelephonyAdapter
from bot.config import ServerSection, TelephonySection
from bot.server import build_app
from store import inbox as inbox_store

TOKEN = "s3cret-token-0123456789"


def call(call_id: str = "A-1", **over) -> dict:
    record = {"call_id": call_id, "started_at": "2026-03-02 09:15:00", "direction": "呼入", "rep": "8001",
              "customer_phone": "139 1111 2222", "answered": "未接", "duration_s": 0}
    record.update(over)
    return record


@pytest.fixture
async def client(aiohttp_client, store, clock, config):
    config = dataclasses.replace(config, telephony=TelephonySection(enabled=True, token=TOKEN),
                                 server=ServerSection(max_body_bytes=64 * 1024))
    woken: list[int] = []
    ctx = AdapterContext(store, config, clock, lambda: woken.append(1))
    client = await aiohttp_client(build_app(config, [TelephonyAdapter(ctx)]))
    client.woken = woken
    return client


def bearer(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def pending_events(store) -> list[dict]:
    return [json.loads(r.event) for r in inbox_store.pending(store, 100)]


async def test_wrong_or_missing_token_is_401_and_stores_nothing(client, store):
    for headers in ({}, bearer("wrong"), {"X-SalesPulse-Token": TOKEN[:-1]}, {"Authorization": TOKEN}):
        resp = await client.post("/telephony/calls", json=call(), headers=headers)
        assert resp.status == 401, headers
    assert inbox_store.counts(store) == {}


async def test_good_call_is_in_the_inbox_before_200(client, store):
    resp = await client.post("/telephony/calls", json=call(), headers=bearer())
    assert resp.status == 200
    assert await resp.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    (event,) = pending_events(store)
    assert event["type"] == "call" and event["event_id"] == "telephony:A-1" and event["platform"] == "telephony"
    assert event["direction"] == "inbound" and event["answered"] is False
    assert event["customer_phone"] == "13911112222" and event["actor"]["platform_id"] == "8001"
    assert event["occurred_at"] == 1772414100000  # 09:15 Shanghai = 01:15 UTC
    assert client.woken


async def test_list_body_and_header_token_and_dedupe(client, store):
    batch = [call("A-1"), call("A-2", direction="outbound", answered=True, duration_s="8:12")]
    resp = await client.post("/telephony/calls", json=batch, headers={"X-SalesPulse-Token": TOKEN})
    assert resp.status == 200 and (await resp.json())["accepted"] == 2
    again = await client.post("/telephony/calls", json={"calls": batch}, headers=bearer())
    assert again.status == 200 and await again.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    events = pending_events(store)
    assert len(events) == 2 and events[1]["duration_s"] == 492


@pytest.mark.parametrize("body, needle", [
    (b"{not json", "malformed JSON"),
    (b"42", "call object"),
    (b"[]", "no calls"),
    (json.dumps({"call_id": "X"}).encode(), "missing started_at, direction, customer_phone"),
    (json.dumps(call(direction="sideways")).encode(), "direction"),
    (json.dumps(call(started_at="yesterday-ish")).encode(), "started_at"),
    (json.dumps(call(started_at="2062-03-02 09:15:00")).encode(), "later than now"),  # would block silence alerts
])
async def test_malformed_is_400_with_a_short_reason(client, store, body, needle):
    resp = await client.post("/telephony/calls", data=body, headers={**bearer(), "Content-Type": "application/json"})
    assert resp.status == 400
    text = await resp.text()
    assert needle in text and "Traceback" not in text and len(text) < 300
    assert inbox_store.counts(store) == {}


async def test_bad_record_in_a_batch_is_named_and_the_good_ones_kept(client, store):
    resp = await client.post("/telephony/calls", json=[call("A-1"), call("A-2", answered="maybe")], headers=bearer())
    assert resp.status == 400
    data = await resp.json()
    assert data["accepted"] == 1 and data["rejected"] == [{"index": 1, "error": "answered: 'maybe' is neither yes (已接) nor no (未接)"}]
    assert [e["event_id"] for e in pending_events(store)] == ["telephony:A-1"]


async def test_oversized_body_is_413(client, store):
    big = [call(f"A-{n}", rep="x" * 200) for n in range(400)]
    resp = await client.post("/telephony/calls", json=big, headers=bearer())
    assert resp.status == 413
    assert inbox_store.counts(store) == {}


async def test_no_token_configured_refuses_everyone(aiohttp_client, store, clock, config):
    config = dataclasses.replace(config, telephony=TelephonySection(enabled=True, token=""))
    client = await aiohttp_client(build_app(config, [TelephonyAdapter(AdapterContext(store, config, clock, lambda: None))]))
    resp = await client.post("/telephony/calls", json=call(), headers=bearer(""))
    assert resp.status == 401


async def test_webhook_call_escalates_end_to_end(aiohttp_client, runtime, store, clock):
    """The webhook's record goes through the same inbox → dispatcher → sweep path as everything else."""
    config = dataclasses.replace(runtime.config, telephony=TelephonySection(enabled=True, token=TOKEN))
    client = await aiohttp_client(build_app(config, [TelephonyAdapter(AdapterContext(store, config, clock, runtime.wake))]))
    await runtime.settle()
    resp = await client.post("/telephony/calls", json=call(started_at=clock.now_ms(), rep="张伟"), headers=bearer())
    assert resp.status == 200
    await runtime.advance_to(clock.now_ms() + 31 * 60_000)
    alerted = sorted(d.target.person_id for d in runtime.console.delivered if d.key.startswith("missed-call:"))
    assert alerted == ["cs1", "m1", "r1"]
