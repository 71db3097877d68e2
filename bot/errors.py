"""Typed errors raised at the edges. One error path turns them into a short user-facing sentence and a log line."""

from __future__ import annotations


class SalesPulseError(Exception):
    """Base class: everything we raise on purpose."""


class ConfigError(SalesPulseError):
    """bot.toml is wrong. The message names file, key and expected type in one line."""


class DatabaseError(SalesPulseError):
    """The database file cannot be opened, is locked or is not a SalesPulse database.

    Raised by store/ with a `reason` code; the sentence shown to the admin comes from prompts (core.db_<reason>).
    """

    def __init__(self, reason: str, path: str, detail: str | OSError = "") -> None:
        from prompts import Prompts

        self.reason, self.path, self.detail = reason, path, detail
        super().__init__(self.in_locale(Prompts().locale))

    def in_locale(self, locale: str) -> str:
        """The sentence in the admin's locale (store/ raises it before any config is at hand: zh-CN). An OSError
        detail is said in that locale too (the OS's own text is English)."""
        from prompts import Prompts
        from prompts.library import os_reason

        t = Prompts(locale).t
        detail = os_reason(self.detail, t) if isinstance(self.detail, OSError) else self.detail
        return t(f"core.db_{self.reason}", path=self.path, detail=detail)


class BadPayload(SalesPulseError):
    """A platform payload or an input file line could not be parsed.

    `key` / `values` (optional): the reason as a prompts key, for messages an admin reads in their locale (replay);
    the exception text stays the English sentence stored in the inbox's error column."""

    def __init__(self, message: str, key: str = "", **values: object) -> None:
        super().__init__(message)
        self.key, self.values = key, values


class UnsupportedEvent(SalesPulseError):
    """A well-formed payload of a kind we do not handle; kept in the inbox as `unsupported`."""


class PlatformAuthError(SalesPulseError):
    """Signature, token or timestamp check failed."""


class PlatformError(SalesPulseError):
    """An outbound platform call failed; retryable unless `permanent`."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class PlatformRetryAfter(PlatformError):
    """The platform asked us to wait (HTTP 429 / rate-limit errcode) for `seconds`."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = float(seconds)


class UserInputError(SalesPulseError):
    """A chat command was understood but its arguments were not; the message is shown to the user."""
