"""The Wi-Fi probe webhook: POST [stores] wifi_path with JSON probe records from in-store sensors.

A record is {"time": "2026-03-02 12:00:05" | epoch s/ms | ISO 8601, "store": store id or name (or "sensor" mapped
by the vendor to a store id), "device": the device hash, "rssi": dBm (optional)}; the body is one record, a list,
or {"records": [...]}. Authenticated like the telephony webhook (`Authorization: Bearer …` or
`X-SalesPulse-Token`, constant-time compare; no token configured = the route answers 401 to everybody). Good
records are stored (store_wifi_probes, duplicates ignored) before the answer; a bad one is named by its index with
the reason, and the good ones of the same request are kept, so a retried batch is harmless. The sweep after
closing time turns the day's records into visits and the average dwell (handlers/stores/wifi.py).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from adapters import guard
from adapters.base import Adapter, AdapterContext
from adapters.telephony import parse_time
from bot.errors import BadPayload, PlatformError
from bot.replies import Reply, Target
from store import stores as stores_store

log = logging.getLogger("salespulse.wifi")
MAX_RECORDS = 5000
FUTURE_SLACK_MS = 3_600_000


def _records_of(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        records = data.get("records")
        return records if isinstance(records, list) else [data]
    raise BadPayload("body must be a record object or a list of records")


def probe_from(record: Any, stores: dict[str, stores_store.StoreRow], now_ms: int) -> tuple[str, int, str, int | None]:
    if not isinstance(record, dict):
        raise BadPayload("a record must be a JSON object")
    key = str(record.get("store") or record.get("sensor") or "").strip()
    row = stores.get(key)
    if row is None:
        raise BadPayload(f"store: {key!r} is not a known store" if key else "store: missing")
    device = record.get("device")
    if not isinstance(device, str) or not device.strip() or len(device) > 200:
        raise BadPayload("device: missing (a device hash, at most 200 characters)")
    try:
        at = parse_time(record.get("time"), row.timezone)
    except BadPayload as exc:
        raise BadPayload(str(exc).replace("started_at", "time")) from None
    if at > now_ms + FUTURE_SLACK_MS:
        raise BadPayload("time: later than now")
    rssi = record.get("rssi")
    if rssi is not None:
        if isinstance(rssi, bool) or not isinstance(rssi, (int, float)) or not -130 <= rssi <= 0:
            raise BadPayload("rssi: expected dBm between -130 and 0")
        rssi = int(rssi)
    return row.id, at, device.strip(), rssi


class WifiProbeAdapter(Adapter):
    platform = "wifi"

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.section = ctx.config.stores

    def routes(self) -> list[web.RouteDef]:
        return [web.post(self.section.wifi_path, self.handle)]

    def authorised(self, request: web.Request) -> bool:
        expected = self.section.wifi_token
        if not expected:
            return False
        given = request.headers.get("X-SalesPulse-Token", "")
        auth = request.headers.get("Authorization", "")
        if not given and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        # surrogateescape: a garbled (non-UTF-8) header is a 401, not an encoding error
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.ctx.refusals.refuse(request, self.platform, "token", "bad or missing token")
        body = await request.read()
        try:
            data = guard.loads(body)  # bounded depth: 200,000 '[' is a 400, not a RecursionError 500
        except BadPayload as exc:
            return self.ctx.refusals.refuse(request, self.platform, "malformed_json", str(exc))
        try:
            records = _records_of(data)
        except BadPayload as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if not records:
            return web.json_response({"error": "no records in body"}, status=400)
        if len(records) > MAX_RECORDS:
            return web.json_response({"error": f"too many records in one request (max {MAX_RECORDS})"}, status=400)
        rows = stores_store.all_stores(self.ctx.store)
        known = {r.id: r for r in rows} | {r.name: r for r in rows}
        now = self.ctx.clock.now_ms()
        good, rejected = [], []
        for index, record in enumerate(records):
            try:
                good.append(probe_from(record, known, now))
            except BadPayload as exc:
                rejected.append({"index": index, "error": str(exc)})
        with self.ctx.store.transaction():
            accepted = stores_store.add_probes(self.ctx.store, good)
        result: dict[str, Any] = {"accepted": accepted, "duplicates": len(good) - accepted, "rejected": rejected}
        if rejected:
            result["error"] = f"{len(rejected)} of {len(records)} records rejected"
            return web.json_response(result, status=400)
        return web.json_response(result)

    async def send(self, target: Target, reply: Reply, key: str) -> str | None:
        raise PlatformError("the Wi-Fi webhook cannot deliver messages", permanent=True)

    def doctor(self) -> list[tuple[str, bool, str]]:
        ok = bool(self.section.wifi_token)
        return [(self.t("platforms.doctor_wifi_token"), ok,
                 self.t("platforms.doctor_token_set") if ok else self.t("platforms.doctor_wifi_token_unset"))]

