"""The Wi-Fi probe webhook over a real aiohttp server: token, bad records named by index, good ones kept, no 5xx
on hostile bodies; the sweep then turns the day's probes into the 场效 figure."""

from __future__ import annotations

import pytest
from stores_helpers import chain_config

from adapters.base import AdapterContext
from adapters.wifi import WifiProbeAdapter
from bot.app import Runtime
from bot.server import build_app
from store import stores as stores_store

TOKEN = "wifi-token-0123456789"


@pytest.fixture
async def client(aiohttp_client, store, clock, config, tmp_path):
    config = chain_config(config, str(tmp_path / "data"), wifi_token=TOKEN)
    Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)  # loads the stores
    ctx = AdapterContext(store, config, clock, lambda: None)
    return await aiohttp_client(build_app(config, [WifiProbeAdapter(ctx)]))


async def test_token_and_records(client, store):
    body = [{"time": "2026-03-02 08:00:00", "store": "s1", "device": "d1", "rssi": -60}]
    assert (await client.post("/stores/wifi", json=body)).status == 401
    assert (await client.post("/stores/wifi", json=body, headers={"Authorization": "Bearer nope"})).status == 401
    auth = {"X-SalesPulse-Token": TOKEN}
    records = [{"time": "2026-03-02 08:00:00", "store": "s1", "device": "d1", "rssi": -60},
               {"time": "2026-03-02 08:01:00", "store": "南京西路店", "device": "d1"},
               {"time": "not a time", "store": "s1", "device": "d2"},
               {"time": "2026-03-02 08:01:00", "store": "s9", "device": "d2"},
               {"time": "2026-03-02 08:01:00", "store": "s1", "device": ""},
               {"time": "2026-03-02 08:01:00", "store": "s1", "device": "d3", "rssi": 20},
               "junk"]
    resp = await client.post("/stores/wifi", json={"records": records}, headers=auth)
    data = await resp.json()
    assert resp.status == 400 and data["accepted"] == 2
    assert [r["index"] for r in data["rejected"]] == [2, 3, 4, 5, 6]
    assert "time" in data["rejected"][0]["error"] and "s9" in data["rejected"][1]["error"]
    resp = await client.post("/stores/wifi", json=records[:2], headers=auth)
    assert (await resp.json())["duplicates"] == 2
    for hostile in (b"{", b"\xff\xfe", b"[]", b"42", b'{"records": 5}'):
        resp = await client.post("/stores/wifi", data=hostile, headers=auth)
        assert resp.status == 400, hostile
    assert len(stores_store.probes(store, "s1", 0, 2**62)) == 2


async def test_sweep_turns_probes_into_dwell(store, clock, config, tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from adapters.console import ConsoleAdapter
    from bot.clock import to_ms
    from prompts import Prompts

    config = chain_config(config, str(tmp_path / "data"))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts())
    rt.add_sender("console", console.send)
    sh = ZoneInfo("Asia/Shanghai")
    base = to_ms(datetime(2026, 3, 2, 14, 0, tzinfo=sh))
    rows = [("s1", base + i * 60_000, "cust-1", -60) for i in range(3)]  # 2 minutes
    rows += [("s1", base + 3_600_000 + i * 60_000, "cust-2", -60) for i in range(3)]  # 2 minutes
    with store.transaction():
        stores_store.add_probes(store, rows)
    await rt.advance_to(to_ms(datetime(2026, 3, 2, 22, 40, tzinfo=sh)))
    assert stores_store.dwell(store, "s1", "2026-03-02", "2026-03-02") == {"2026-03-02": (2.0, 2)}
    code = next(d for d in console.delivered if d.key.startswith("stores:code:s1"))
    assert "场效：🟥 红" in code.text and "2.0 分钟" in code.text
    rt.close()


async def test_deeply_nested_body_is_400_not_500(client, store):
    auth = {"X-SalesPulse-Token": TOKEN}
    for body in (b"[" * 200_000, b'{"records": ' * 5000):
        resp = await client.post("/stores/wifi", data=body, headers=auth)
        assert resp.status == 400 and (await resp.text()).startswith("malformed JSON (ref ")
