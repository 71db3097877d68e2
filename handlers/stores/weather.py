"""Weather per city and day, for the rainy-day script pack on promotion days ([weather] in bot.toml).

Two providers: Open-Meteo (no key; geocoding + daily precipitation_sum) and QWeather 和风天气 (API key; city
lookup + 3-day forecast, `precip` in mm). Either answer is cached per city and day in SQLite (weather_cache), so
a chain of 500 stores in 40 cities asks 40 times a day, and a restart asks nothing again.

The client is synchronous (urllib) on purpose: it runs in the deferred-job worker thread, off the event loop, and
needs no loop of its own. Network errors and odd answers become WeatherError with one line, never a traceback in
a chat; the morning job then sends nothing (no rain known, no rainy pack) and logs why.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from bot.config import WeatherSection
from store import stores as stores_store
from store.db import Store

log = logging.getLogger("salespulse.weather")

OPEN_METEO = ("https://api.open-meteo.com/v1/forecast", "https://geocoding-api.open-meteo.com/v1/search")
QWEATHER = ("https://devapi.qweather.com/v7/weather/3d", "https://geoapi.qweather.com/v2/city/lookup")
MAX_BYTES = 1_000_000


class WeatherError(Exception):
    """The provider could not tell us (network, key, unknown city, unexpected answer)."""


@dataclass(frozen=True)
class DayWeather:
    city: str
    day: str
    precipitation_mm: float | None
    summary: str
    provider: str
    cached: bool = False

    def rainy(self, threshold_mm: float) -> bool:
        return self.precipitation_mm is not None and self.precipitation_mm >= threshold_mm


class WeatherClient:
    def __init__(self, cfg: WeatherSection, tz: str = "Asia/Shanghai") -> None:
        self.cfg = cfg
        self.tz = tz
        if cfg.provider == "qweather":
            self.base, self.geo = cfg.base_url or QWEATHER[0], cfg.geo_url or QWEATHER[1]
        else:
            self.base, self.geo = cfg.base_url or OPEN_METEO[0], cfg.geo_url or OPEN_METEO[1]

    def _get(self, url: str, params: dict[str, Any]) -> Any:
        full = f"{url}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(full, headers={"User-Agent": "SalesPulse", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.cfg.timeout_s) as resp:  # noqa: S310 (configured https URL)
                body = resp.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise WeatherError(f"{self.cfg.provider}: HTTP {exc.code} from {url}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise WeatherError(f"{self.cfg.provider}: cannot reach {url}: {getattr(exc, 'reason', exc)}") from None
        if len(body) > MAX_BYTES:
            raise WeatherError(f"{self.cfg.provider}: answer larger than {MAX_BYTES} bytes")
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise WeatherError(f"{self.cfg.provider}: answer is not JSON") from None

    def fetch(self, city: str, day: str) -> DayWeather:
        if self.cfg.provider == "qweather":
            return self._qweather(city, day)
        return self._open_meteo(city, day)

    def _open_meteo(self, city: str, day: str) -> DayWeather:
        geo = self._get(self.geo, {"name": city, "count": 1, "language": "zh", "format": "json"})
        results = geo.get("results") if isinstance(geo, dict) else None
        if not results or not isinstance(results[0], dict):
            raise WeatherError(f"open-meteo: city {city!r} not found")
        place = results[0]
        data = self._get(self.base, {"latitude": place.get("latitude"), "longitude": place.get("longitude"),
                                     "daily": "precipitation_sum,weather_code", "timezone": self.tz,
                                     "start_date": day, "end_date": day})
        daily = data.get("daily") if isinstance(data, dict) else None
        try:
            index = list(daily["time"]).index(day)
            mm = daily["precipitation_sum"][index]
            code = daily.get("weather_code", [None] * (index + 1))[index]
        except (KeyError, TypeError, ValueError, IndexError):
            raise WeatherError(f"open-meteo: no forecast for {city} on {day}") from None
        return DayWeather(city, day, None if mm is None else float(mm), f"wmo:{code}", "open-meteo")

    def _qweather(self, city: str, day: str) -> DayWeather:
        if not self.cfg.api_key:
            raise WeatherError("qweather: [weather] api_key (SALESPULSE_WEATHER_KEY) is not set")
        geo = self._get(self.geo, {"location": city, "key": self.cfg.api_key, "number": 1})
        if not isinstance(geo, dict) or geo.get("code") != "200" or not geo.get("location"):
            raise WeatherError(f"qweather: city {city!r} not found (code {geo.get('code') if isinstance(geo, dict) else '?'})")
        location = geo["location"][0].get("id")
        data = self._get(self.base, {"location": location, "key": self.cfg.api_key})
        if not isinstance(data, dict) or data.get("code") != "200":
            raise WeatherError(f"qweather: forecast refused (code {data.get('code') if isinstance(data, dict) else '?'})")
        for item in data.get("daily", ()):
            if isinstance(item, dict) and item.get("fxDate") == day:
                try:
                    mm = float(item.get("precip", ""))
                except ValueError:
                    mm = None
                return DayWeather(city, day, mm, str(item.get("textDay", "")), "qweather")
        raise WeatherError(f"qweather: no forecast for {city} on {day}")


def day_weather(store: Store, client: WeatherClient, city: str, day: str, now_ms: int) -> DayWeather:
    """From the cache, else from the provider (and then cached)."""
    hit = stores_store.cached_weather(store, city, day)
    if hit is not None:
        return DayWeather(city, day, hit[0], hit[1], hit[2], cached=True)
    weather = client.fetch(city, day)
    with store.transaction():
        stores_store.cache_weather(store, city, day, weather.provider, weather.precipitation_mm, weather.summary,
                                   now_ms)
    return weather
