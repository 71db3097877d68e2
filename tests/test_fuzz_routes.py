"""Property tests of every platform route (issue 14): hypothesis draws sequences of valid, replayed and hostile
requests — wrong and stale signatures and timestamps, huge and hostile headers, bit-flipped and truncated
ciphertext, deeply nested and non-JSON bodies, wrong shapes inside valid signatures, bodies over the limit — and
each sequence is sent to a fresh server. Whatever the sequence: no 5xx, nothing unauthenticated stored, every
valid message stored once and answered once (one outbox row, sent), replays changing nothing.

The request builders live in bench/fuzz_requests.py and are shared with `python -m bench.fuzz`, which sends
thousands of them to a live `salespulse serve`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
import wecom_helpers as h
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from platform_helpers import dingtalk_config, feishu_config

from adapters.base import AdapterContext
from bench import fuzz_requests as fr
from bot.app import Runtime
from bot.clock import VirtualClock
from bot.server import build_adapters, build_app
from store import open_store

pytestmark = pytest.mark.timeout(120)
LIMIT = 65_536
FUZZ = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def dingtalk_fake():
    from fakes.dingtalk import FakeDingTalk

    server = FakeDingTalk().start()
    yield server
    server.stop()


@pytest.fixture
def feishu_fake():
    from fakes.feishu import FakeFeishu

    server = FakeFeishu().start()
    yield server
    server.stop()


wecom_fake = h.fake_api_fixture()

steps = st.lists(st.tuples(st.sampled_from(fr.KINDS), st.integers(0, 2**32 - 1)), min_size=1, max_size=14)


def run(config, platform: str, plan: list[tuple[str, int]], t0: int) -> dict:
    """Send the plan to a fresh server (fresh database), settle, and report what happened."""
    config = dataclasses.replace(config, server=dataclasses.replace(config.server, max_body_bytes=LIMIT))
    store = open_store(":memory:")
    clock = VirtualClock(t0)
    runtime = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    ctx = AdapterContext(store, config, clock, runtime.wake)
    adapters = build_adapters(config, ctx)
    for adapter in adapters:
        runtime.add_sender(adapter.platform, adapter.send)
    builder = fr.BUILDERS[platform](config, clock.now_ms)
    statuses: list[tuple[str, int]] = []

    async def go() -> None:
        from aiohttp.test_utils import TestClient, TestServer

        async with TestClient(TestServer(build_app(config, adapters))) as client:
            for kind, seed in plan:
                req = builder.build(kind, seed)
                resp = await client.request(req.method, req.path, data=req.body, headers=req.headers,
                                            skip_auto_headers=("Content-Type",))
                await resp.read()
                statuses.append((req.expect, resp.status))
                builder.answered(req, resp.status)
                clock.advance(7)
            await runtime.settle()
        for adapter in adapters:
            await adapter.stop()

    try:
        asyncio.run(go())
        rows = store.conn.execute("SELECT platform, external_id, status FROM inbox").fetchall()
        outbox = store.conn.execute("SELECT source_event_id, status FROM outbox").fetchall()
    finally:
        runtime.close()
        store.close()
    return {"statuses": statuses, "rows": rows, "outbox": outbox, "builder": builder}


def check(result: dict, platform: str) -> None:
    builder: fr.Builder = result["builder"]
    assert all(status < 500 for _e, status in result["statuses"]), result["statuses"]
    for expect, status in result["statuses"]:
        if expect in ("valid", "replay"):
            assert status == 200, result["statuses"]
        elif expect == "invalid":
            assert 400 <= status < 500, result["statuses"]
    stored = {ext: status for _p, ext, status in result["rows"]}
    assert len(stored) == len(result["rows"])  # stored once
    valid = builder.valid_ids
    assert valid <= set(stored), (valid, stored)  # every valid message stored
    assert all(stored[v] == "done" for v in valid), stored
    others = {ext: s for ext, s in stored.items() if ext not in valid}
    assert len(others) <= builder.odd_sent, (others, builder.odd_sent)  # only authentic odd shapes, nothing forged
    assert all(s in ("unsupported", "done") for s in others.values()), others
    answered: dict[str, int] = {}
    for source, status in result["outbox"]:
        answered[source] = answered.get(source, 0) + 1
        assert status == "sent", result["outbox"]
    for v in valid:
        assert answered.get(f"{platform}:{builder.event_id_of(v)}") == 1, (v, answered)


@FUZZ
@given(plan=steps)
def test_dingtalk_route_under_fuzz(config, dingtalk_fake, plan):
    cfg = dingtalk_config(config, dingtalk_fake.base_url, mode="http")
    check(run(cfg, "dingtalk", plan, 1_772_413_200_000), "dingtalk")


@FUZZ
@given(plan=steps)
def test_feishu_route_under_fuzz(config, feishu_fake, plan):
    cfg = feishu_config(config, feishu_fake.base_url)
    check(run(cfg, "feishu", plan, 1_772_413_200_000), "feishu")


@FUZZ
@given(plan=steps)
def test_wecom_route_under_fuzz(config, wecom_fake, plan):
    cfg = h.wecom_config(config, wecom_fake.base_url)
    check(run(cfg, "wecom", plan, 1_772_413_200_000), "wecom")


def test_every_kind_is_exercised():
    """The plans above draw from all kinds; make sure each builder knows every one of them."""
    for name in fr.BUILDERS:
        assert set(fr.KINDS) <= set(fr.Builder.kinds()) | {"replay"}, name
    assert json.dumps(fr.KINDS)
