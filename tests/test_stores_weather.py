"""Weather against a fake provider server (aiohttp, on 127.0.0.1): Open-Meteo and QWeather answers, one call per
city and day (the cache), errors as one line; a promotion day meeting rain sends the rainy-day pack at 08:30 store
time, a dry one sends nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from stores_helpers import chain_config, sent_to

from bot.clock import to_ms
from bot.config import WeatherSection
from handlers.stores.weather import WeatherClient, WeatherError, day_weather

SH = ZoneInfo("Asia/Shanghai")


class FakeProvider:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.rain = {"上海": 12.5, "乌鲁木齐": 0.0}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/geo", self.geo)
        app.router.add_get("/forecast", self.forecast)
        app.router.add_get("/qgeo", self.qgeo)
        app.router.add_get("/q3d", self.q3d)
        return app

    async def geo(self, request: web.Request) -> web.Response:
        self.calls.append("geo:" + request.query["name"])
        name = request.query["name"]
        if name not in self.rain:
            return web.json_response({"generationtime_ms": 0.1})
        return web.json_response({"results": [{"name": name, "latitude": 31.2, "longitude": 121.5 if name == "上海" else 87.6}]})

    async def forecast(self, request: web.Request) -> web.Response:
        self.calls.append("forecast:" + request.query["longitude"])
        assert request.query["daily"] == "precipitation_sum,weather_code"
        city = "上海" if request.query["longitude"] == "121.5" else "乌鲁木齐"
        day = request.query["start_date"]
        return web.json_response({"daily": {"time": [day], "precipitation_sum": [self.rain[city]], "weather_code": [63]}})

    async def qgeo(self, request: web.Request) -> web.Response:
        self.calls.append("qgeo")
        if request.query.get("key") != "qkey":
            return web.json_response({"code": "401"})
        return web.json_response({"code": "200", "location": [{"id": "101020100", "name": request.query["location"]}]})

    async def q3d(self, request: web.Request) -> web.Response:
        self.calls.append("q3d")
        return web.json_response({"code": "200", "daily": [{"fxDate": "2026-03-02", "precip": "3.4", "textDay": "小雨"},
                                                           {"fxDate": "2026-03-03", "precip": "0.0", "textDay": "晴"}]})


@pytest.fixture
async def provider(aiohttp_server):
    fake = FakeProvider()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url(""))
    return fake


def open_meteo(fake) -> WeatherSection:
    return WeatherSection(provider="open-meteo", base_url=fake.base + "/forecast", geo_url=fake.base + "/geo")


async def test_open_meteo_cached_per_city_and_day(provider, store, clock):
    client = WeatherClient(open_meteo(provider))
    first = await asyncio.to_thread(day_weather, store, client, "上海", "2026-03-02", clock.now_ms())
    assert first.precipitation_mm == 12.5 and first.rainy(1.0) and not first.cached
    again = await asyncio.to_thread(day_weather, store, client, "上海", "2026-03-02", clock.now_ms())
    assert again.cached and again.precipitation_mm == 12.5
    assert provider.calls == ["geo:上海", "forecast:121.5"], "the second ask is answered from the cache"
    with pytest.raises(WeatherError, match="not found"):
        await asyncio.to_thread(day_weather, store, client, "火星", "2026-03-02", clock.now_ms())


async def test_qweather_with_key(provider, store, clock):
    cfg = WeatherSection(provider="qweather", api_key="qkey", base_url=provider.base + "/q3d",
                         geo_url=provider.base + "/qgeo")
    weather = await asyncio.to_thread(WeatherClient(cfg).fetch, "上海", "2026-03-02")
    assert weather.precipitation_mm == 3.4 and weather.summary == "小雨"
    with pytest.raises(WeatherError, match="401"):
        await asyncio.to_thread(WeatherClient(dataclasses.replace(cfg, api_key="bad")).fetch, "上海", "2026-03-02")
    with pytest.raises(WeatherError, match="api_key"):
        WeatherClient(dataclasses.replace(cfg, api_key="")).fetch("上海", "2026-03-02")
    with pytest.raises(WeatherError, match="cannot reach"):
        WeatherClient(dataclasses.replace(cfg, base_url="http://127.0.0.1:9/x", geo_url="http://127.0.0.1:9/g",
                                          timeout_s=2)).fetch("上海", "2026-03-02")


async def test_rainy_promotion_morning_sends_the_pack(provider, store, clock, config, tmp_path):
    from adapters.base import AdapterContext
    from adapters.console import ConsoleAdapter
    from bot.app import Runtime
    from prompts import Prompts

    config = chain_config(config, str(tmp_path / "data"), promotion_days=("2026-03-03",))
    config = dataclasses.replace(config, weather=open_meteo(provider))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=True)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts())
    rt.add_sender("console", console.send)
    rt.console = console
    pid = store.conn.execute("SELECT id FROM people WHERE name = '小美'").fetchone()[0]
    await rt.advance_to(to_ms(datetime(2026, 3, 3, 8, 20, tzinfo=SH)))
    assert not [d for d in console.delivered if "雨天话术包" in d.text]
    await rt.advance_to(to_ms(datetime(2026, 3, 3, 8, 40, tzinfo=SH)))
    for _ in range(50):  # the worker thread answers; settle until it has
        await rt.settle()
        if [d for d in sent_to(rt, pid) if "雨天话术包" in d.text]:
            break
        await asyncio.sleep(0.05)
    rainy = [d for d in console.delivered if "雨天话术包" in d.text]
    assert {d.target.person_id for d in rainy} >= {pid}
    assert "12.5" in rainy[0].text
    assert provider.calls.count("forecast:121.5") == 1, "two Shanghai stores, five people: one provider call"
    urumqi = store.conn.execute("SELECT id FROM people WHERE name = '马店长'").fetchone()[0]
    await rt.advance_to(to_ms(datetime(2026, 3, 3, 11, 0, tzinfo=SH)))  # 09:00 in Urumqi: dry
    for _ in range(20):
        await rt.settle()
        await asyncio.sleep(0.02)
    assert not [d for d in sent_to(rt, urumqi) if "雨天" in d.text]
    rt.close()
