"""Fetching a message's media without knowing the platform: the neutral boundary between handlers and adapters.

Handlers never import adapters, yet a voice note's audio lives behind a platform API (WeCom media/get or the
archive's stored file, DingTalk's downloadCode, Feishu's message resource, a local file typed into the console).
Whoever runs the bot registers one async fetcher per platform here (bot/server.py for the enabled adapters, the
console for `salespulse chat`); the runtime keeps the registry in `Services.extras["media"]`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


class MediaUnavailable(Exception):
    """The media could not be fetched. `permanent` = retrying will not help (expired, not found, too large)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class MediaRequest:
    platform: str
    media_id: str  # the Message's media_id: WeCom MediaId / archive sdkfileid, DingTalk downloadCode, Feishu file_key
    message_event_id: str  # Feishu needs the message id next to the file key
    kind: str = "voice"
    max_bytes: int = 20 * 1024 * 1024


Fetcher = Callable[[MediaRequest], Awaitable[bytes]]


class MediaFetchers:
    def __init__(self) -> None:
        self._fetchers: dict[str, Fetcher] = {}

    def register(self, platform: str, fetcher: Fetcher) -> None:
        self._fetchers[platform] = fetcher

    def has(self, platform: str) -> bool:
        return platform in self._fetchers

    async def fetch(self, request: MediaRequest) -> bytes:
        fetcher = self._fetchers.get(request.platform)
        if fetcher is None:
            raise MediaUnavailable(f"no media fetcher for platform {request.platform!r}", permanent=True)
        data = await fetcher(request)
        if len(data) > request.max_bytes:
            raise MediaUnavailable(f"media larger than {request.max_bytes} bytes", permanent=True)
        return data
