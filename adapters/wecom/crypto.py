"""Callback crypto: msg_signature check and AES decryption, delegated to wechatpy's enterprise WeChatCrypto.

Why a wrapper: wechatpy compares signatures with a plain `!=` and lets low-level errors (binascii, struct, unicode)
escape. We check the SHA1 signature first in constant time, then let wechatpy decrypt, and turn every failure into
one of our typed errors: PlatformAuthError (wrong signature / corp id, stale timestamp) or BadPayload.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct

from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from adapters.guard import digits
from bot.errors import BadPayload, PlatformAuthError

# WeCom retries a callback 3 times within about 15 s and may keep the first timestamp; a wide window tolerates
# that and modest clock drift while still refusing a replayed capture from yesterday.
MAX_SKEW_S = 3600


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """SHA1 of the sorted, concatenated [token, timestamp, nonce, encrypt] (what WeCom sends as msg_signature)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def aes_key_ok(encoding_aes_key: str) -> bool:
    """EncodingAESKey is 43 base64 characters that decode (with one '=') to 32 bytes."""
    if len(encoding_aes_key) != 43:
        return False
    try:
        return len(binascii.a2b_base64(encoding_aes_key + "=")) == 32
    except (binascii.Error, ValueError):
        return False


class CallbackCrypto:
    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        if not aes_key_ok(encoding_aes_key):
            raise PlatformAuthError("wecom encoding_aes_key must be 43 base64 characters")
        self.token = token
        self._crypto = WeChatCrypto(token, encoding_aes_key, corp_id)

    def check_timestamp(self, timestamp: str, now_s: float) -> None:
        ts = digits(timestamp)
        if ts is None:
            raise PlatformAuthError("timestamp is not a number")
        if abs(now_s - ts) > MAX_SKEW_S:
            raise PlatformAuthError("timestamp outside the accepted window")

    def check_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), msg_signature.encode("utf-8", "replace")):
            raise PlatformAuthError("msg_signature mismatch")

    def decrypt_echo(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        return self._run(lambda: self._crypto.check_signature(msg_signature, timestamp, nonce, echostr))

    def decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """The inner XML of a POSTed callback (signature already verified here, in constant time)."""
        self.check_signature(msg_signature, timestamp, nonce, encrypt)
        return self._run(lambda: self._crypto.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce))

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """Outer XML for a passive reply (and for tests)."""
        return self._crypto.encrypt_message(xml, nonce, timestamp)

    @staticmethod
    def _run(fn) -> str:
        try:
            return fn()
        except InvalidSignatureException:
            raise PlatformAuthError("msg_signature mismatch") from None
        except InvalidCorpIdException:
            raise PlatformAuthError("message is for another corp id") from None
        except (binascii.Error, ValueError, struct.error, UnicodeDecodeError, IndexError, TypeError) as exc:
            raise BadPayload(f"cannot decrypt: {type(exc).__name__}") from None
