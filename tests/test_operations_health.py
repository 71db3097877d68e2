"""/healthz, /readyz and /metrics against a live `serve` (the real Server on a free port, telephony enabled)."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import aiohttp
import pytest

from bot.clock import VirtualClock
from bot.config import HealthSection, MetricsSection, ServerSection, TelephonySection, load_config
from bot.server import Server
from store import inbox as inbox_store
from tests.conftest import T0

TOKEN = "tel-token-1"


def live_config(tmp_path, **metrics):
    base = load_config(None)
    return dataclasses.replace(
        base,
        bot=dataclasses.replace(base.bot, database=str(tmp_path / "live.db"), data_dir=str(tmp_path / "data")),
        server=ServerSection(host="127.0.0.1", port=0),
        telephony=TelephonySection(enabled=True, token=TOKEN),
        health=HealthSection(max_inbox_age_s=60, max_outbox_backlog=5),
        metrics=MetricsSection(enabled=True, **metrics),
    )


async def start(server: Server) -> asyncio.Task:
    ready = asyncio.Event()
    task = asyncio.create_task(server.run(ready))
    await asyncio.wait_for(ready.wait(), 10)
    return task


async def stop(server: Server, task: asyncio.Task) -> None:
    server.stop()
    await asyncio.wait_for(task, 10)


async def test_health_ready_and_metrics_on_a_live_server(tmp_path):
    clock = VirtualClock(T0)
    server = Server(live_config(tmp_path), clock=clock)
    task = await start(server)
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as r:
                assert r.status == 200
            async with http.get(f"{base}/readyz") as r:
                assert r.status == 200 and await r.json() == {"ready": True, "failing": []}
            call = {"calls": [{"call_id": "c1", "direction": "inbound", "customer_phone": "13900000009", "answered": False,
                               "started_at": "2026-03-02 09:00:00", "rep": "8001"}]}
            async with http.post(f"{base}/telephony/calls", json=call,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                assert r.status < 300
            async with http.post(f"{base}/telephony/calls", json=call, headers={"Authorization": "Bearer wrong"}) as r:
                assert r.status == 401
            for _ in range(50):  # the runtime loop processes the accepted call
                if server.runtime.dispatcher.by_type:
                    break
                await asyncio.sleep(0.02)
            async with http.get(f"{base}/metrics") as r:
                assert r.status == 200
                text = await r.text()
        assert 'salespulse_events_accepted_total{platform="telephony",type="call"} 1.0' in text
        assert 'salespulse_events_processed_total{platform="telephony",type="call"} 1.0' in text
        assert "salespulse_inbox_pending 0.0" in text
        assert 'salespulse_ack_latency_seconds_count{platform="telephony"} 2.0' in text
        assert "salespulse_deferred_pending 0.0" in text
        assert "salespulse_rule_pack_version 1.0" in text
        assert "salespulse_deferred_pending_jobs" in text and "salespulse_speech_stage_runs_total" in text
        assert TOKEN not in text and str(tmp_path) not in text  # nothing of the configuration leaks

        # An event stuck for longer than max_inbox_age_s makes the process not ready (but still alive).
        with server.store.transaction():
            inbox_store.put(server.store, "telephony", "stuck-1", "{}", json.dumps({"type": "nope"}),
                            clock.now_ms() - 120_000)
        server.runtime.dispatcher.process_pending = lambda limit=None: 0  # the loop is wedged
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/readyz") as r:
                body = await r.json()
                assert r.status == 503 and body == {"ready": False, "failing": ["inbox"]}
            async with http.get(f"{base}/healthz") as r:
                assert r.status == 200
    finally:
        await stop(server, task)


async def test_metrics_on_their_own_port_behind_a_token(tmp_path, unused_tcp_port):
    server = Server(live_config(tmp_path, port=unused_tcp_port, token="scrape-secret"), clock=VirtualClock(T0))
    task = await start(server)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{server.port}/metrics") as r:
                assert r.status == 404  # not on the public port
            async with http.get(f"http://127.0.0.1:{unused_tcp_port}/metrics") as r:
                assert r.status == 401
            async with http.get(f"http://127.0.0.1:{unused_tcp_port}/metrics",
                                headers={"Authorization": "Bearer scrape-secret"}) as r:
                assert r.status == 200 and "salespulse_outbox_rows" in await r.text()
    finally:
        await stop(server, task)


async def test_metrics_are_off_unless_enabled(tmp_path):
    config = dataclasses.replace(live_config(tmp_path), metrics=MetricsSection(enabled=False))
    server = Server(config, clock=VirtualClock(T0))
    task = await start(server)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{server.port}/metrics") as r:
                assert r.status == 404
    finally:
        await stop(server, task)


@pytest.mark.parametrize("failing", ["database", "migrations"])
def test_readiness_names_a_broken_database_or_schema(tmp_path, failing):
    from bot import health
    from store import open_store

    store = open_store(tmp_path / "r.db")
    config = live_config(tmp_path)
    if failing == "migrations":
        store.conn.execute("DELETE FROM schema_migrations WHERE id = (SELECT MAX(id) FROM schema_migrations)")
        store.conn.commit()
        result = health.check(store, config, T0, [], {})
    else:
        other = open_store(tmp_path / "r.db")
        other.conn.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        store.conn.execute("PRAGMA busy_timeout = 10")
        result = health.check(store, config, T0, [], {})
        other.conn.execute("ROLLBACK")
        other.close()
    store.close()
    assert result.ready is False and result.failing == [failing]


def test_json_log_lines_carry_the_reference_id():
    import logging

    from bot.logsetup import JsonFormatter

    record = logging.LogRecord("salespulse.server", logging.ERROR, __file__, 1, "request %s failed (ref %s)",
                               ("POST /feishu/events", "1a2b3c4d"), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["ref"] == "1a2b3c4d" and line["level"] == "error" and line["logger"] == "salespulse.server"
    assert line["msg"] == "request POST /feishu/events failed (ref 1a2b3c4d)"


async def test_the_serve_banner_reads_in_the_configured_language(tmp_path, caplog):
    """The line every admin sees when `serve` starts is a log line: Chinese with zh-CN, English with en."""
    caplog.set_level("WARNING", logger="salespulse")
    server = Server(live_config(tmp_path), clock=VirtualClock(T0))
    task = await start(server)
    await stop(server, task)
    assert f"SalesPulse 已启动：http://127.0.0.1:{server.port}" in caplog.text and "serving on" not in caplog.text
    caplog.clear()
    config = live_config(tmp_path / "en")
    server = Server(dataclasses.replace(config, bot=dataclasses.replace(config.bot, locale="en")), clock=VirtualClock(T0))
    task = await start(server)
    await stop(server, task)
    assert "SalesPulse serving on http://127.0.0.1:" in caplog.text
