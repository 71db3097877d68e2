"""`salespulse serve` wiring: refusal without platforms, body limit, error middleware, adapter routes."""

from __future__ import annotations

import dataclasses

import pytest
from aiohttp import web

from adapters.base import Adapter
from bot.config import ServerSection, load_config
from bot.errors import ConfigError
from bot.server import build_app, serve


def test_serve_without_platform_points_to_config_and_demo():
    with pytest.raises(ConfigError) as info:
        serve(load_config(None))
    text = str(info.value)
    assert "bot.toml" in text and "salespulse demo" in text


class EchoAdapter(Adapter):
    platform = "echo"

    def routes(self):
        async def echo(request: web.Request) -> web.Response:
            body = await request.read()
            return web.Response(text=str(len(body)))

        async def boom(request: web.Request) -> web.Response:
            raise RuntimeError("secret internals")

        return [web.post("/echo", echo), web.get("/boom", boom)]


async def test_body_limit_and_short_errors(aiohttp_client):
    config = dataclasses.replace(load_config(None), server=ServerSection(max_body_bytes=1024))
    client = await aiohttp_client(build_app(config, [EchoAdapter(None)]))
    ok = await client.post("/echo", data=b"x" * 1000)
    assert ok.status == 200 and await ok.text() == "1000"
    big = await client.post("/echo", data=b"x" * 2048)
    assert big.status == 413
    boom = await client.get("/boom")
    body = await boom.text()
    assert boom.status == 500 and "secret internals" not in body and "Traceback" not in body
    health = await client.get("/healthz")
    assert (await health.json()) == {"ok": True}
