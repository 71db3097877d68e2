"""Feishu HTTP callbacks with garbled auth input: a 401, never a 500 with a logged traceback. aiohttp turns
non-UTF-8 header bytes into lone surrogates and JSON may carry "\\ud800"; a strict `.encode()` raised on both."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from fakes.feishu import message_event, signed_request
from platform_helpers import attach_feishu, feishu_fixtures

from bot.server import build_app

pytestmark = pytest.mark.timeout(30)
fake, config = feishu_fixtures()


@pytest.fixture
async def client(runtime, aiohttp_client):
    adapter = attach_feishu(runtime)
    await adapter.start()
    client = await aiohttp_client(build_app(runtime.config, [adapter]))
    client.adapter = adapter
    yield client
    await adapter.stop()


async def post_raw(client, body: bytes, headers: dict[str, bytes]) -> bytes:
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    head = b"".join(k.encode() + b": " + v + b"\r\n" for k, v in headers.items())
    writer.write(b"POST /feishu/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + head
                 + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    finally:
        writer.close()


@pytest.mark.parametrize("field, value", [("X-Lark-Signature", b"\xff\xfe"), ("X-Lark-Request-Timestamp", "²".encode())])
async def test_garbled_signature_headers_are_401(client, runtime, field, value):
    body, headers = signed_request(message_event("ev-g"), runtime.clock.now_ms() // 1000)
    raw_headers = {k: v.encode() for k, v in headers.items()}
    raw_headers[field] = value
    answer = await post_raw(client, body, raw_headers)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:120]
    assert runtime.store.conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 0


async def test_a_lone_surrogate_token_in_plain_json_is_401(client, runtime):
    client.adapter.section = dataclasses.replace(client.adapter.section, encrypt_key="")  # plain-JSON mode
    body = json.dumps({"challenge": "c", "token": "\ud800", "type": "url_verification"}).encode()
    answer = await post_raw(client, body, {"Content-Type": b"application/json"})
    assert answer.startswith(b"HTTP/1.1 401"), answer[:120]
