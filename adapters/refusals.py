"""How every inbound route says no: a fixed short reason and a reference id in the body, the details in the log,
and the log rate-limited so unauthenticated traffic cannot grow it.

Why: a refused callback used to write one warning each (423 KB for 9,600 forged requests) and its body named
internals (`cannot decrypt: UnicodeDecodeError`). Now refusals are counted per (source address, platform, reason)
in one-minute windows on the injected clock: the first refusal of a quiet key is logged at once (an admin setting
up a wrong token sees it immediately), the rest of the window is summed, and the window's count is written as one
line when it closes — so a sustained attack costs one line per source and reason per minute. Every refusal in a
window answers the same reference id, and that id is in the log line that covers it. The counts also go to the
`refused` Counter of the AdapterContext, which `/metrics` exposes as
`salespulse_refused_requests_total{platform,reason}` (bot/metrics.py reads it at scrape time).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from dataclasses import dataclass

from aiohttp import web

from bot.clock import Clock
from prompts import Keyed

log = logging.getLogger("salespulse.refusals")

WINDOW_MS = 60_000
MAX_KEYS = 1024  # beyond this many (source, platform, reason) keys in one minute, new sources share "*"

# The only texts a refused caller ever reads (status, body text); details stay in the log.
REASONS: dict[str, tuple[int, str]] = {
    "signature": (401, "invalid signature"),
    "token": (401, "invalid token"),
    "forbidden": (403, "invalid signature"),
    "replayed": (401, "request already used"),
    "too_large": (413, "body too large"),
    "too_slow": (408, "body too slow"),
    "malformed_json": (400, "malformed JSON"),
    "malformed_xml": (400, "malformed XML"),
    "decrypt": (400, "cannot decrypt"),
    "bad_request": (400, "bad request"),
}


@dataclass
class _Window:
    started_ms: int
    ref: str
    count: int = 0  # refusals after the one already logged
    detail: str = ""


class Refusals:
    def __init__(self, clock: Clock, counts: Counter | None = None) -> None:
        self.clock = clock
        self.counts: Counter[tuple[str, str]] = counts if counts is not None else Counter()  # (platform, reason)
        self._windows: dict[tuple[str, str, str], _Window] = {}
        self._lock = threading.Lock()
        self._last_sweep = 0

    def refuse(self, request: web.Request | None, platform: str, reason: str, detail: str = "",
               status: int | None = None) -> web.Response:
        """Count and (rate-limited) log one refusal; the response with the fixed text and the window's ref."""
        default_status, text = REASONS[reason]
        ref = self.note(request.remote if request is not None else None, platform, reason, detail)
        return web.Response(status=status or default_status, text=f"{text} (ref {ref})")

    def note(self, source: str | None, platform: str, reason: str, detail: str = "") -> str:
        now = self.clock.now_ms()
        self.counts[(platform, reason)] += 1  # a dict increment: cheap enough for a flood
        source = source or "-"
        with self._lock:
            if now - self._last_sweep >= WINDOW_MS:
                self._sweep(now)
            key = (source, platform, reason)
            window = self._windows.get(key)
            if window is None and len(self._windows) >= MAX_KEYS:
                key, source = ("*", platform, reason), "*"
                window = self._windows.get(key)
            if window is not None and now - window.started_ms >= WINDOW_MS:
                window = self._roll(key, window, now)
            if window is None:
                window = self._windows[key] = _Window(now, uuid.uuid4().hex[:8])
                log.warning("refused %s request from %s: %s (%s; ref %s)", platform, source, _words(reason),
                            detail or reason, window.ref)
                return window.ref
            window.count += 1
            window.detail = detail or window.detail
            return window.ref

    def flush(self, *, force: bool = False) -> None:
        """Write the lines of windows that have closed (all of them with `force`, e.g. at shutdown)."""
        with self._lock:
            self._sweep(self.clock.now_ms(), force=force)

    def _sweep(self, now: int, *, force: bool = False) -> None:
        self._last_sweep = now
        for key, window in list(self._windows.items()):
            if force:
                self._close(key, window)
                del self._windows[key]
            elif now - window.started_ms >= WINDOW_MS:
                self._roll(key, window, now)

    def _roll(self, key: tuple[str, str, str], window: _Window, now: int) -> _Window | None:
        """Close an expired window. A busy one continues silently (a sustained stream of refusals stays at one line
        a minute); a quiet one is dropped, so the next refusal of that key is logged at once again."""
        self._close(key, window)
        if window.count:
            fresh = self._windows[key] = _Window(now, uuid.uuid4().hex[:8])
            return fresh
        del self._windows[key]
        return None

    @staticmethod
    def _close(key: tuple[str, str, str], window: _Window) -> None:
        if window.count:
            source, platform, reason = key
            log.warning("refused %s request from %s: %s ×%d in the last minute (last: %s; ref %s)",
                        platform, source, _words(reason), window.count, window.detail or reason, window.ref)


def _words(reason: str) -> Keyed:
    """The reason of a log line in words: English here, the admin's locale in the log formatter (the detail
    after it is the technical one — a library's parse error, a header value — and stays as it is)."""
    return Keyed(f"platforms.refusal_{reason}")


class ParserErrorFilter(logging.Filter):
    """aiohttp answers a malformed request line or header (an 8 KB URL, a bad method, a broken chunk) with 400 by
    itself and logs it at ERROR with a traceback on `aiohttp.server`. That is hostile input, not our failure: count
    it as a refusal (rate-limited line, metric) and drop the traceback. Anything else passes through untouched."""

    def __init__(self, refusals: Refusals) -> None:
        super().__init__()
        self.refusals = refusals

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        source = record.args[0] if isinstance(record.args, tuple) and record.args else None
        self.refusals.note(str(source) if source else None, "http", "bad_request", type(exc).__name__)
        return False
