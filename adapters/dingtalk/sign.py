"""DingTalk HMAC signatures (neither SDK ships a helper).

Outgoing robot (DingTalk → us): headers `timestamp` (ms) and `sign`, where
sign = Base64(HMAC-SHA256(key=appSecret, msg=f"{timestamp}\\n{appSecret}")); DingTalk allows a 1-hour window, we
accept `[dingtalk] http_sign_window_s` (5 minutes by default) and compare in constant time. The sign covers only the
timestamp, never the body: the adapter therefore also accepts each pair once (store/used_signatures.py).
Custom group robot (us → DingTalk): the same formula with the robot's SEC… secret, appended to the webhook URL as
`timestamp` and the URL-encoded `sign`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from adapters.guard import digits
from bot.errors import PlatformAuthError

WINDOW_MS = 3_600_000


def sign(secret: str, timestamp_ms: int | str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def verify(secret: str, timestamp: str | None, signature: str | None, now_ms: int, window_ms: int = WINDOW_MS) -> None:
    """Raise PlatformAuthError unless the headers are present, fresh and correctly signed."""
    if not secret:
        raise PlatformAuthError("dingtalk client_secret is not configured")
    if not timestamp or not signature:
        raise PlatformAuthError("missing timestamp/sign headers")
    ts = digits(timestamp)  # "²".isdigit() is True and 5,000 digits pass isdigit(): both would make int() raise
    if ts is None:
        raise PlatformAuthError("timestamp is not a number")
    if abs(now_ms - ts) > window_ms:
        raise PlatformAuthError(f"timestamp outside the {window_ms // 1000} s window")
    # surrogateescape: a header with non-UTF-8 bytes reaches us as surrogates and must be a 401, not a 500
    if not hmac.compare_digest(sign(secret, timestamp).encode(), signature.encode("utf-8", "surrogateescape")):
        raise PlatformAuthError("bad signature")
