"""The WeCom app callback route: URL verification (GET echostr) and encrypted messages (POST).

Ack first, work later: a POST is verified (constant-time msg_signature, timestamp window), decrypted, parsed and
persisted to the inbox, then answered 200 with an empty body — well inside WeCom's 5 s, with no handler work on
the request path. A retry of the same MsgId (or event FromUserName+CreateTime) hits the inbox's unique key and is
acknowledged without being stored twice. Failures go through ctx.refusals (a fixed short text and a reference id,
details in a rate-limited log, no stack trace): 403 for a bad signature or stale timestamp, 400 for malformed XML
or an undecryptable body; bodies over server.max_body_bytes are refused with 413 before we read them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from urllib.parse import unquote
from xml.parsers.expat import ExpatError

import xmltodict
from aiohttp import web

from adapters.base import AdapterContext
from adapters.guard import check_xml
from adapters.wecom import parse
from adapters.wecom.crypto import CallbackCrypto
from bot.errors import BadPayload, PlatformAuthError
from bot.events import CardAction
from store import wecom as wecom_store

PLATFORM = "wecom"


def _raw_query(request: web.Request, name: str) -> list[str]:
    """Candidates for a query value: percent-decoded without the `+`→space rule first, then aiohttp's value.

    aiohttp's parser turns a literal `+` into a space; WeCom's echostr is base64 and often carries `+`, and whether
    it arrives percent-encoded is not documented — so try both readings (only one will match the signature).
    """
    out: list[str] = []
    for part in request.rel_url.raw_query_string.split("&"):
        k, _, v = part.partition("=")
        if unquote(k) == name:
            out.append(unquote(v))
            break
    parsed = request.query.get(name)
    if parsed is not None and parsed not in out:
        out.append(parsed)
    return out


def _outer_encrypt(body: bytes) -> str:
    check_xml(body, max_tags=32)  # <xml><ToUserName/><AgentID/><Encrypt/></xml>
    try:
        doc = xmltodict.parse(body)
    except (ExpatError, ValueError, TypeError, RecursionError):
        raise BadPayload("malformed XML") from None
    xml = doc.get("xml") if isinstance(doc, dict) else None
    encrypt = xml.get("Encrypt") if isinstance(xml, dict) else None
    if not isinstance(encrypt, str) or not encrypt.strip():
        raise BadPayload("no Encrypt field")
    return encrypt.strip()


def _reason(exc: BadPayload) -> str:
    text = str(exc)
    if text.startswith("cannot decrypt"):
        return "decrypt"
    return "malformed_xml" if "XML" in text or "Encrypt" in text else "bad_request"


class CallbackRoute:
    def __init__(self, ctx: AdapterContext, crypto: CallbackCrypto,
                 on_press: Callable[[CardAction, str, str], None] | None = None) -> None:
        self.ctx = ctx
        self.crypto = crypto
        self.on_press = on_press  # (event, task_id, response_code) after a new click was stored
        self.accepted = 0
        self.duplicates = 0

    def _params(self, request: web.Request) -> tuple[str, str, str]:
        q = request.query
        sig, ts, nonce = q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
        if not sig or not ts or not nonce:
            raise PlatformAuthError("missing msg_signature/timestamp/nonce")
        return sig, ts, nonce

    async def verify_url(self, request: web.Request) -> web.Response:
        """GET: decrypt echostr and return it as the raw body (what the admin console's "save" checks)."""
        try:
            sig, ts, nonce = self._params(request)
            self.crypto.check_timestamp(ts, self.ctx.clock.now_ms() / 1000)
            candidates = _raw_query(request, "echostr")
            if not candidates:
                raise BadPayload("missing echostr")
            last: Exception | None = None
            for echostr in candidates:
                try:
                    plain = self.crypto.decrypt_echo(sig, ts, nonce, echostr)
                    return web.Response(text=plain, content_type="text/plain")
                except PlatformAuthError as exc:
                    last = exc
            raise last or PlatformAuthError("msg_signature mismatch")
        except PlatformAuthError as exc:
            return self.ctx.refusals.refuse(request, PLATFORM, "forbidden", f"URL verification: {exc}")
        except BadPayload as exc:
            return self.ctx.refusals.refuse(request, PLATFORM, "bad_request", f"URL verification: {exc}")

    async def receive(self, request: web.Request) -> web.Response:
        """POST: verify, decrypt, parse, persist, then ack 200 with an empty body."""
        try:
            sig, ts, nonce = self._params(request)
            body = await request.read()  # raises 413 beyond client_max_size
            encrypt = _outer_encrypt(body)
            self.crypto.check_signature(sig, ts, nonce, encrypt)
            self.crypto.check_timestamp(ts, self.ctx.clock.now_ms() / 1000)
            inner = self.crypto.decrypt(sig, ts, nonce, encrypt)
        except PlatformAuthError as exc:
            return self.ctx.refusals.refuse(request, PLATFORM, "forbidden", str(exc))
        except BadPayload as exc:
            return self.ctx.refusals.refuse(request, PLATFORM, _reason(exc), str(exc))
        try:
            self.store_callback(inner)
        except BadPayload as exc:
            # Authentic but unreadable: keep it (nothing lost), tell WeCom it was bad.
            key = "bad:" + hashlib.sha1(encrypt.encode()).hexdigest()
            self.ctx.accept(PLATFORM, key, {"xml": inner[:65536]}, None, unsupported_reason=f"bad payload: {exc}")
            return self.ctx.refusals.refuse(request, PLATFORM, "bad_request", f"authentic but unreadable: {exc}")
        return web.Response(status=200, body=b"")

    def store_callback(self, inner_xml: str) -> bool:
        """Parse a decrypted callback and put it in the inbox; False for a duplicate delivery."""
        now = self.ctx.clock.now_ms()
        parsed = parse.to_event(parse.parse_xml(inner_xml), now)
        event = parsed.event
        reason = parsed.unsupported
        store = self.ctx.store
        if isinstance(event, CardAction):
            if parsed.digest_key:
                found = wecom_store.button_key(store, parsed.digest_key)
                if found is None:
                    event, reason = None, f"unknown button key {parsed.digest_key}"
                else:
                    event = dataclasses.replace(event, action=found[0], value=found[1])
        new = self.ctx.accept(PLATFORM, parsed.dedupe_key, parsed.raw, event, unsupported_reason=reason or None)
        if new:
            self.accepted += 1
            if isinstance(event, CardAction) and parsed.response_code and self.on_press is not None:
                self.on_press(event, parsed.task_id, parsed.response_code)
        else:
            self.duplicates += 1
        return new
