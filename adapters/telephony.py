"""Call records from the phone system: one normaliser for both ways they arrive, and the HTTP webhook.

A call record (from `salespulse import calls FILE.csv` or POST [telephony] path) has the fields
call_id, started_at, direction, rep, customer_phone, answered, duration_s (see docs/call-import.md). It becomes a
CallRecord event in the inbox with platform "telephony" and external id = call_id, so a re-import or a retried
webhook delivery never counts a call twice. The rep is left as the raw value (person id, name, phone or
extension); the dispatcher resolves it through the telephony identities handlers/calls.py registers.

The webhook authenticates with a shared token (`Authorization: Bearer …` or `X-SalesPulse-Token`), compared in
constant time; it persists every good record before answering 200, and answers 400 with a short reason per bad
record (the good ones of the same request are kept: a retry of the whole batch is harmless).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from adapters import guard
from adapters.base import Adapter, AdapterContext
from bot.clock import to_ms
from bot.errors import BadPayload, PlatformError
from bot.events import Actor, CallRecord
from bot.replies import Reply, Target
from store.calls import normalise_phone

log = logging.getLogger("salespulse.telephony")

PLATFORM = "telephony"
FIELDS = ("call_id", "started_at", "direction", "rep", "customer_phone", "answered", "duration_s")
REQUIRED = ("call_id", "started_at", "direction", "customer_phone")

_DIRECTIONS = {
    "inbound": "inbound", "in": "inbound", "incoming": "inbound", "呼入": "inbound", "来电": "inbound", "入": "inbound",
    "outbound": "outbound", "out": "outbound", "outgoing": "outbound", "呼出": "outbound", "去电": "outbound",
    "外呼": "outbound", "出": "outbound",
}
_YES = {"true", "1", "yes", "y", "answered", "是", "已接", "接通", "已接通", "成功"}
_NO = {"false", "0", "no", "n", "missed", "no answer", "noanswer", "unanswered", "否", "未接", "未接通", "漏接", "失败"}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_DURATION_UNITS = re.compile(r"^(?:(\d+)\s*(?:小时|h))?\s*(?:(\d+)\s*(?:分钟|分|m|min))?\s*(?:(\d+)\s*(?:秒|s|sec))?$")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_time(value: Any, tz: str, time_format: str = "") -> int:
    """A timestamp → UTC ms. Offsets are respected; naive times are read in `tz`; numbers are epoch s or ms."""
    if isinstance(value, bool):
        raise BadPayload("started_at: not a time", "calls.bad_time", text=value)
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{9,13}(\.\d+)?", value.strip())):
        number = float(value)
        return int(number if number > 1e11 else number * 1000)
    text = _text(value)
    if not text:
        raise BadPayload("started_at: empty", "calls.bad_time_empty")
    dt: datetime | None = None
    if time_format:
        try:
            dt = datetime.strptime(text, time_format)
        except ValueError:
            raise BadPayload(f"started_at: {text!r} does not match {time_format!r}", "calls.bad_time_format", text=text,
                             format=time_format) from None
    else:
        cleaned = text.replace("年", "-").replace("月", "-").replace("日", " ").replace("/", "-").strip()
        cleaned = re.sub(r"\s+", " ", cleaned)
        try:
            dt = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
        except ValueError:
            for fmt in _TIME_FORMATS:
                try:
                    dt = datetime.strptime(cleaned, fmt)
                    break
                except ValueError:
                    continue
    if dt is None:
        raise BadPayload(f"started_at: cannot read {text!r} (use e.g. 2026-03-02 09:15:00 or ISO 8601)", "calls.bad_time",
                         text=text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return to_ms(dt.astimezone(UTC))


def parse_duration(value: Any) -> int:
    """Seconds from 492, "492", "492s", "8:12", "00:08:12", "8分12秒"; empty = 0."""
    if isinstance(value, bool):
        raise BadPayload("duration_s: not a duration", "calls.bad_duration", text=value)
    if isinstance(value, (int, float)):
        seconds = int(value)
    else:
        text = _text(value).lower()
        if not text:
            return 0
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = int(float(text))
        elif re.fullmatch(r"\d+(:\d{1,2}){1,2}", text):
            seconds = 0
            for part in text.split(":"):
                seconds = seconds * 60 + int(part)
        else:
            match = _DURATION_UNITS.match(text)
            if not match or not any(match.groups()):
                raise BadPayload(f"duration_s: cannot read {text!r} (seconds, m:ss or 8分12秒)", "calls.bad_duration",
                                 text=text)
            h, m, s = (int(g or 0) for g in match.groups())
            seconds = h * 3600 + m * 60 + s
    if seconds < 0:
        raise BadPayload("duration_s: negative", "calls.bad_duration", text=seconds)
    return seconds


def parse_direction(value: Any, extra: Mapping[str, Any] | None = None) -> str:
    text = _text(value)
    if extra and text in extra:
        text = _text(extra[text])
    direction = _DIRECTIONS.get(text.lower())
    if direction is None:
        raise BadPayload(f"direction: {text!r} is neither inbound (呼入) nor outbound (呼出)", "calls.bad_direction",
                         text=text)
    return direction


def parse_answered(value: Any, duration_s: int, extra: Mapping[str, Any] | None = None) -> bool:
    """Yes/no words in English and Chinese; an empty cell means "answered if it lasted more than 0 s"."""
    if isinstance(value, bool):
        return value
    text = _text(value)
    if extra and text in extra:
        mapped = extra[text]
        if isinstance(mapped, bool):
            return mapped
        text = _text(mapped)
    if not text:
        return duration_s > 0
    low = text.lower()
    if low in _YES:
        return True
    if low in _NO:
        return False
    raise BadPayload(f"answered: {text!r} is neither yes (已接) nor no (未接)", "calls.bad_answered", text=text)


# A call cannot have started after it reaches us. A record dated later (a typo in the year, an export or a phone
# system writing another timezone than configured) would make its lead look active until that date, so it would never
# be reported silent (store.leads.touch keeps the latest time): refuse it, by line in imports, with a 400 on the
# webhook. The slack covers phone-system clocks that run a little ahead.
FUTURE_SLACK_MS = 3_600_000


def call_from_record(record: Mapping[str, Any], *, tz: str, received_at: int,
                     value_maps: Mapping[str, Mapping[str, Any]] | None = None, time_format: str = "") -> CallRecord:
    """One call record (our field names) → CallRecord. Raises BadPayload naming the first bad field."""
    if not isinstance(record, Mapping):
        raise BadPayload("a call must be a JSON object")
    maps = value_maps or {}
    missing = [f for f in REQUIRED if not _text(record.get(f))]
    if missing:
        raise BadPayload("missing " + ", ".join(missing), "calls.bad_missing", fields=", ".join(missing))
    call_id = _text(record["call_id"])
    if len(call_id) > 200:
        raise BadPayload("call_id: longer than 200 characters", "calls.bad_call_id")
    phone = normalise_phone(_text(record["customer_phone"]))
    if len(phone) < 3:
        raise BadPayload(f"customer_phone: {_text(record['customer_phone'])!r} has no phone number in it",
                         "calls.bad_phone", text=_text(record["customer_phone"]))
    duration = parse_duration(record.get("duration_s"))
    started = parse_time(record["started_at"], tz, time_format)
    if started > received_at + FUTURE_SLACK_MS:
        raise BadPayload(f"started_at: {_text(record['started_at'])!r} is later than now; check the year, or the"
                         f" timezone (times without an offset are read in {tz})", "calls.bad_future",
                         text=_text(record["started_at"]), tz=tz)
    rep = _text(record.get("rep"))
    return CallRecord(
        event_id=f"{PLATFORM}:{call_id}", platform=PLATFORM, occurred_at=started, received_at=received_at,
        actor=Actor(platform_id=rep), conversation_id="",
        direction=parse_direction(record["direction"], maps.get("direction")),
        customer_phone=phone, answered=parse_answered(record.get("answered"), duration, maps.get("answered")),
        duration_s=duration,
    )


def _records_of(data: Any) -> list[Any]:
    """A single call object, a list of them, or {"calls": [...]}."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        calls = data.get("calls")
        if isinstance(calls, list):
            return calls
        return [data]
    raise BadPayload("body must be a call object or a list of calls")


class TelephonyAdapter(Adapter):
    """POST [telephony] path: JSON call records from the phone system (PBX / cloud call centre)."""

    platform = PLATFORM

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.section = ctx.config.telephony

    def routes(self) -> list[web.RouteDef]:
        return [web.post(self.section.path, self.handle)]

    def authorised(self, request: web.Request) -> bool:
        expected = self.section.token
        if not expected:
            log.warning("telephony webhook called but [telephony] token is not set; refusing")
            return False
        given = request.headers.get("X-SalesPulse-Token", "")
        auth = request.headers.get("Authorization", "")
        if not given and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        # aiohttp decodes non-UTF-8 header bytes as surrogates; "surrogateescape" gives the bytes back (a strict
        # encode raised, so a garbled token header was a logged 500 instead of a 401).
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.ctx.refusals.refuse(request, PLATFORM, "token", "bad or missing token")
        body = await request.read()  # over server.max_body_bytes: aiohttp answers 413
        try:
            data = guard.loads(body)
        except BadPayload as exc:
            return self.ctx.refusals.refuse(request, PLATFORM, "malformed_json", str(exc))
        try:
            records = _records_of(data)
        except BadPayload as exc:  # the caller is authenticated: name the field
            return web.json_response({"error": str(exc)}, status=400)
        if not records:
            return web.json_response({"error": "no calls in body"}, status=400)
        if len(records) > self.section.max_calls_per_request:
            return web.json_response(
                {"error": f"too many calls in one request (max {self.section.max_calls_per_request})"}, status=400)
        now = self.ctx.clock.now_ms()
        good: list[tuple[Any, CallRecord]] = []
        rejected: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            try:
                good.append((record, call_from_record(record, tz=self.section.timezone, received_at=now)))
            except BadPayload as exc:
                rejected.append({"index": index, "error": str(exc)})
        accepted = 0
        with self.ctx.store.transaction():
            for record, event in good:
                if self.ctx.accept(PLATFORM, event.event_id.removeprefix(f"{PLATFORM}:"), record, event):
                    accepted += 1
        result = {"accepted": accepted, "duplicates": len(good) - accepted, "rejected": rejected}
        if rejected:
            result["error"] = f"{len(rejected)} of {len(records)} calls rejected"
            return web.json_response(result, status=400)
        return web.json_response(result)

    async def send(self, target: Target, reply: Reply, key: str) -> str | None:
        raise PlatformError("the telephony webhook cannot deliver messages", permanent=True)

    def doctor(self) -> list[tuple[str, bool, str]]:
        ok = bool(self.section.token)
        return [(self.t("platforms.doctor_telephony_token"), ok,
                 self.t("platforms.doctor_token_set") if ok else self.t("platforms.doctor_telephony_token_unset"))]
