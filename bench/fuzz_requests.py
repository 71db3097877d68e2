"""Valid, replayed and hostile requests for each platform route, built the way the platform (or an attacker) would.

Shared by tests/test_fuzz_routes.py (hypothesis picks the kinds and seeds) and `python -m bench.fuzz` (thousands
of them against a live `salespulse serve`). A builder signs and encrypts with the configured secrets exactly as
the platform does (DingTalk: HMAC-SHA256 of the timestamp; Feishu: AES-256-CBC + sha256 signature over the body;
WeCom: wechatpy's own WeChatCrypto), remembers which requests were valid (`valid_ids`, each must be stored and
answered exactly once) and how many authentic but oddly shaped ones it sent (`odd_sent`, each may be kept as
unsupported), so the caller can tell "nothing invalid stored" from "odd but authentic kept".

Expectations: "valid" and "replay" → 200; "invalid" → 4xx; "odd" (authentic, unusable) → anything but 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

KINDS = ("valid", "replay", "wrong_sig", "stale", "huge_ts", "garbage_header", "no_headers", "deep_json",
         "not_json", "over_limit", "odd_shape", "bitflip", "truncate", "forged_replay")


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    expect: str  # valid | replay | invalid | odd


def _junk(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def _header_junk(rng: random.Random) -> str:
    """What an attacker can put in a header: latin-1 text with odd characters, very long digit runs, signs."""
    printable = [chr(c) for c in (*range(0x21, 0x7F), *range(0xA0, 0x100))]  # what a client can put on the wire
    return rng.choice(["9" * 5000, "-1", "1e30", "NaN", " 123", "ÿ" * 300, "\u00b2\u00b3",
                       "".join(rng.choice(printable) for _ in range(rng.randint(1, 400)))])


class Builder:
    """Common kinds; subclasses implement valid(), odd() and the signing of an arbitrary body."""

    platform = ""

    def __init__(self, config, now_ms: Callable[[], int], limit: int | None = None) -> None:
        self.config = config
        self.now_ms = now_ms
        self.limit = limit or config.server.max_body_bytes
        self.valid_ids: set[str] = set()
        self.odd_sent = 0
        self.n = 0
        self.last_valid: Req | None = None

    @staticmethod
    def kinds() -> tuple[str, ...]:
        return KINDS

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n:07d}"

    def event_id_of(self, external_id: str) -> str:
        return external_id

    def build(self, kind: str, seed: int) -> Req:
        rng = random.Random(seed)
        if kind == "replay":
            if self.last_valid is None:
                return self.valid(rng)
            r = self.last_valid
            return Req(r.method, r.path, dict(r.headers), r.body, "replay")
        if kind == "valid":
            return self.valid(rng)
        if kind == "odd_shape":
            self.odd_sent += 1
            return self.odd(rng)
        if kind == "bitflip":  # re-signed corrupted ciphertext may still decrypt to an (authentic) event
            self.odd_sent += 1
        return self.hostile(kind, rng)

    def answered(self, req: Req, status: int) -> None:
        """Tell the builder how a request was answered: replays and captured-signature forgeries reuse a valid
        request only once it has been delivered (a forgery racing ahead of the genuine request is the one thing a
        timestamp-only signature cannot stop; docs/platforms/dingtalk.md)."""
        if req.expect == "valid" and status == 200:
            self.last_valid = req

    # subclasses
    def valid(self, rng: random.Random) -> Req:
        raise NotImplementedError

    def odd(self, rng: random.Random) -> Req:
        raise NotImplementedError

    def hostile(self, kind: str, rng: random.Random) -> Req:
        raise NotImplementedError

    def deep_body(self, rng: random.Random) -> bytes:
        depth = rng.choice([40, 999, 5000, 200_000])
        opener = rng.choice([b"[", b'{"a":'])
        return opener * min(depth, self.limit // 6)

    def over_limit_body(self, rng: random.Random) -> bytes:
        return b'{"x":"' + b"y" * (self.limit + rng.randint(1, 5000)) + b'"}'


# ---------------------------------------------------------------------------------------------------- DingTalk


class DingTalkBuilder(Builder):
    platform = "dingtalk"

    def __init__(self, config, now_ms, limit=None) -> None:
        super().__init__(config, now_ms, limit)
        self.secret = config.dingtalk.client_secret
        self.path = config.dingtalk.callback_path
        self.webhook_base = config.dingtalk.oapi_base_url.rstrip("/")
        self.window_ms = config.dingtalk.http_sign_window_s * 1000

    def _ts(self) -> int:
        """Distinct, increasing timestamps (so distinct pairs), all inside the window."""
        self.n += 1
        self._last_ts = max(self.now_ms(), getattr(self, "_last_ts", 0) + 1)
        return self._last_ts

    def headers(self, ts: int | str, secret: str | None = None) -> dict[str, str]:
        key = (secret if secret is not None else self.secret)
        mac = hmac.new(key.encode(), f"{ts}\n{key}".encode(), hashlib.sha256).digest()
        return {"timestamp": str(ts), "sign": base64.b64encode(mac).decode(), "Content-Type": "application/json"}

    def message(self, msg_id: str, **extra) -> dict:
        data = {"msgId": msg_id, "msgtype": "text", "text": {"content": "/help"}, "conversationId": "cid-fuzz",
                "conversationType": "1", "senderStaffId": "zhangwei", "senderNick": "张伟", "robotCode": "ding-app",
                "isInAtList": True, "createAt": self.now_ms(),
                "sessionWebhook": f"{self.webhook_base}/session/{msg_id}",
                "sessionWebhookExpiredTime": self.now_ms() + 3_600_000}
        data.update(extra)
        return data

    def valid(self, rng: random.Random) -> Req:
        msg_id = self.next_id("dv")
        self.valid_ids.add(msg_id)
        body = json.dumps(self.message(msg_id), ensure_ascii=False).encode()
        return Req("POST", self.path, self.headers(self._ts()), body, "valid")

    def odd(self, rng: random.Random) -> Req:
        msg_id = self.next_id("do")
        shapes = [{"msgtype": rng.choice(["hologram", "text", "audio"]), "msgId": msg_id, "text": "not an object",
                   "content": "[" * 5000, "senderStaffId": ["x"]},
                  {"msgId": msg_id, "msgtype": "audio", "senderStaffId": "zhangwei", "content": "{" * 100_000},
                  {"msgId": msg_id, "msgtype": "text", "createAt": "9" * 4000, "senderStaffId": "zhangwei",
                   "text": {"content": "x"}, "sessionWebhook": "https://evil.example/steal"},
                  {"msgtype": "text"}, [1, 2, 3]]
        body = json.dumps(rng.choice(shapes[:4])).encode()
        return Req("POST", self.path, self.headers(self._ts()), body, "odd")

    def hostile(self, kind: str, rng: random.Random) -> Req:
        body = json.dumps(self.message(self.next_id("dx"))).encode()
        now = self.now_ms()
        hdrs = self.headers(self._ts())
        if kind == "wrong_sig":
            hdrs = self.headers(now, secret="not-the-secret")
        elif kind == "stale":
            hdrs = self.headers(now + (self.window_ms + 1001 + rng.randint(0, 10**8)) * rng.choice([1, -1]))
        elif kind == "huge_ts":
            hdrs = self.headers("1" * rng.choice([20, 4301, 5000]))
        elif kind == "garbage_header":
            hdrs = {"timestamp": _header_junk(rng), "sign": _header_junk(rng)}
        elif kind == "no_headers":
            hdrs = {}
        elif kind == "deep_json":
            body = self.deep_body(rng)
        elif kind == "not_json":
            body = rng.choice([_junk(rng, rng.randint(0, 3000)), b"", b"\xff\xfe{", b"NaN", b'{"a": Infinity}'])
        elif kind == "over_limit":
            body = self.over_limit_body(rng)
        elif kind in ("bitflip", "truncate"):  # no ciphertext: a signed body cut or corrupted
            body = body[: rng.randint(0, len(body) - 1)] if kind == "truncate" else _flip(body, rng)
            if kind == "bitflip":
                try:
                    json.loads(body)
                    body = body + b"}"  # still valid JSON after the flip: make sure it is not
                except ValueError:
                    pass
        elif kind == "forged_replay":  # a captured pair with another body
            if self.last_valid is not None:
                hdrs = dict(self.last_valid.headers)
                body = json.dumps(self.message(self.next_id("dx"), senderStaffId="a1",
                                               sessionWebhook="https://evil.example/steal")).encode()
            else:
                hdrs = self.headers(now, secret="")
        return Req("POST", self.path, hdrs, body, "invalid")


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"\x00"
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]


# ---------------------------------------------------------------------------------------------------- Feishu


class FeishuBuilder(Builder):
    platform = "feishu"

    def __init__(self, config, now_ms, limit=None) -> None:
        super().__init__(config, now_ms, limit)
        s = config.feishu
        self.key, self.token, self.path = s.encrypt_key, s.verification_token, s.callback_path
        self.message_of: dict[str, str] = {}

    def event_id_of(self, external_id: str) -> str:
        return self.message_of[external_id]

    def encrypt(self, plain: bytes, rng: random.Random) -> str:
        from Crypto.Cipher import AES
        from Crypto.Util.Padding import pad

        iv = bytes(rng.getrandbits(8) for _ in range(16))
        cipher = AES.new(hashlib.sha256(self.key.encode()).digest(), AES.MODE_CBC, iv)
        return base64.b64encode(iv + cipher.encrypt(pad(plain, 16))).decode()

    def signed(self, body: bytes, ts: int | str | None = None, key: str | None = None) -> dict[str, str]:
        ts = str(self.now_ms() // 1000) if ts is None else str(ts)
        nonce = "n0nce"
        sig = hashlib.sha256((ts + nonce + (self.key if key is None else key)).encode() + body).hexdigest()
        return {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce, "X-Lark-Signature": sig,
                "Content-Type": "application/json"}

    def envelope(self, event_id: str, message_id: str) -> dict:
        return {"schema": "2.0",
                "header": {"event_id": event_id, "event_type": "im.message.receive_v1", "token": self.token,
                           "create_time": str(self.now_ms()), "app_id": "cli_fuzz", "tenant_key": "tk"},
                "event": {"sender": {"sender_id": {"open_id": "ou_zhangwei"}, "sender_type": "user"},
                          "message": {"message_id": message_id, "chat_id": "oc_1", "chat_type": "p2p",
                                      "message_type": "text", "create_time": str(self.now_ms()),
                                      "content": json.dumps({"text": "/help"})}}}

    def wrap(self, inner: dict | bytes, rng: random.Random) -> bytes:
        plain = inner if isinstance(inner, bytes) else json.dumps(inner, ensure_ascii=False).encode()
        return json.dumps({"encrypt": self.encrypt(plain, rng)}).encode()

    def valid(self, rng: random.Random) -> Req:
        event_id, message_id = self.next_id("fv"), self.next_id("om_")
        self.valid_ids.add(event_id)
        self.message_of[event_id] = message_id
        body = self.wrap(self.envelope(event_id, message_id), rng)
        return Req("POST", self.path, self.signed(body), body, "valid")

    def odd(self, rng: random.Random) -> Req:
        env = self.envelope(self.next_id("fo"), self.next_id("om_"))
        choice = rng.randrange(5)
        if choice == 0:
            env["event"] = "a string"
        elif choice == 1:
            env["event"]["message"] = ["a", "list"]
        elif choice == 2:
            env["event"]["message"]["content"] = "[" * 50_000
        elif choice == 3:
            env["header"]["event_type"] = "contact.user.created_v3"
        else:
            env["event"]["message"]["create_time"] = "9" * 4500
        body = self.wrap(env, rng)
        return Req("POST", self.path, self.signed(body), body, "odd")

    def hostile(self, kind: str, rng: random.Random) -> Req:
        env = self.envelope(self.next_id("fx"), self.next_id("om_"))
        body = self.wrap(env, rng)
        hdrs = self.signed(body)
        if kind == "wrong_sig":
            hdrs = self.signed(body, key="wrong-key")
        elif kind == "stale":
            hdrs = self.signed(body, ts=self.now_ms() // 1000 - 3601 - rng.randint(0, 10**6))
        elif kind == "huge_ts":
            hdrs = self.signed(body, ts="7" * rng.choice([20, 4301, 5000]))
        elif kind == "garbage_header":
            hdrs = {"X-Lark-Request-Timestamp": _header_junk(rng), "X-Lark-Signature": _header_junk(rng)}
        elif kind == "no_headers":
            hdrs = {}
        elif kind == "deep_json":
            body = self.deep_body(rng) if rng.random() < 0.5 else self.wrap(b"[" * 100_000, rng)
            hdrs = self.signed(body)
        elif kind == "not_json":
            body = rng.choice([_junk(rng, rng.randint(0, 3000)), b"", b'{"encrypt": 5}', b'{"encrypt": "%%%"}',
                               b"[" * 200_000])
            hdrs = self.signed(body)
        elif kind == "over_limit":
            body = self.over_limit_body(rng)
        elif kind in ("bitflip", "truncate"):
            raw = bytearray(base64.b64decode(json.loads(body)["encrypt"]))
            if kind == "bitflip":
                i = rng.randrange(len(raw))
                raw[i] ^= 1 << rng.randrange(8)
                cipher = base64.b64encode(bytes(raw)).decode()
            else:
                cipher = base64.b64encode(bytes(raw[: rng.randrange(len(raw))])).decode()
                if rng.random() < 0.5:
                    cipher = cipher[: rng.randrange(max(len(cipher), 1))]
            body = json.dumps({"encrypt": cipher}).encode()
            hdrs = self.signed(body) if rng.random() < 0.7 else hdrs
        elif kind == "forged_replay":  # a captured signature on another body
            hdrs = dict(self.last_valid.headers) if self.last_valid is not None else self.signed(body, key="x")
        expect = "invalid"
        if kind == "bitflip":
            expect = "maybe"  # a flipped bit in the last block can leave a decryptable, authentic-looking event
        return Req("POST", self.path, hdrs, body, expect)


# ---------------------------------------------------------------------------------------------------- WeCom


class WeComBuilder(Builder):
    platform = "wecom"

    def __init__(self, config, now_ms, limit=None) -> None:
        super().__init__(config, now_ms, limit)
        from wechatpy.enterprise.crypto import WeChatCrypto

        s = config.wecom
        self.corp, self.token, self.path, self.agent = s.corp_id, s.token, s.callback_path, s.agent_id
        self.crypto = WeChatCrypto(s.token, s.encoding_aes_key, s.corp_id)

    def event_id_of(self, external_id: str) -> str:
        return external_id

    def text_xml(self, msg_id: str, text: str = "/help", user: str = "zhangwei") -> str:
        return (f"<xml><ToUserName><![CDATA[{self.corp}]]></ToUserName><FromUserName><![CDATA[{user}]]>"
                f"</FromUserName><CreateTime>{self.now_ms() // 1000}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{self.agent}</AgentID></xml>")

    def sign(self, encrypt: str, ts: str, nonce: str, token: str | None = None) -> str:
        return hashlib.sha1("".join(sorted([self.token if token is None else token, ts, nonce, encrypt]))
                            .encode()).hexdigest()

    def encrypted(self, inner: str) -> tuple[str, str, str]:
        """(Encrypt, timestamp, nonce) for an inner XML, by wechatpy as WeCom would."""
        import xmltodict

        ts, nonce = str(self.now_ms() // 1000), f"n{self.n}"
        fields = xmltodict.parse(self.crypto.encrypt_message(inner, nonce, ts))["xml"]
        return fields["Encrypt"], ts, nonce

    def request(self, encrypt: str, ts: str, nonce: str, sig: str | None = None, expect: str = "invalid",
                body: bytes | None = None) -> Req:
        query = urlencode({"msg_signature": sig if sig is not None else self.sign(encrypt, ts, nonce),
                           "timestamp": ts, "nonce": nonce})
        if body is None:
            body = (f"<xml><ToUserName><![CDATA[{self.corp}]]></ToUserName><AgentID>{self.agent}</AgentID>"
                    f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>").encode()
        return Req("POST", f"{self.path}?{query}", {"Content-Type": "text/xml"}, body, expect)

    def valid(self, rng: random.Random) -> Req:
        msg_id = str(7_000_000_000 + self.n + 1)
        self.n += 1
        self.valid_ids.add(f"msg:{msg_id}")
        return self.request(*self.encrypted(self.text_xml(msg_id)), expect="valid")

    def event_id_of_valid(self, external_id: str) -> str:
        return external_id

    def odd(self, rng: random.Random) -> Req:
        self.n += 1
        inner = rng.choice(["<xml><MsgType>text</MsgType></xml>", "<xml><unclosed>", "not xml at all",
                            "<xml><MsgType>text</MsgType><FromUserName>u</FromUserName><CreateTime>"
                            + "9" * 5000 + "</CreateTime><MsgId>1</MsgId></xml>",
                            "<a>" * 3000 + "</a>" * 3000])
        return self.request(*self.encrypted(inner), expect="odd")

    def hostile(self, kind: str, rng: random.Random) -> Req:
        self.n += 1
        encrypt, ts, nonce = self.encrypted(self.text_xml(str(8_000_000_000 + self.n)))
        if kind == "wrong_sig":
            return self.request(encrypt, ts, nonce, sig=self.sign(encrypt, ts, nonce, token="wrong"))
        if kind == "stale":
            old = str(int(ts) - 3601 - rng.randint(0, 10**6))
            return self.request(encrypt, old, nonce)
        if kind == "huge_ts":
            huge = "1" * rng.choice([20, 4301, 5000])
            return self.request(encrypt, huge, nonce)
        if kind == "garbage_header":
            junk = _header_junk(rng)
            return Req("POST", f"{self.path}?{urlencode({'msg_signature': junk, 'timestamp': junk, 'nonce': junk})}",
                       {"Content-Type": "text/xml", "X-Junk": junk}, b"<xml/>", "invalid")
        if kind == "no_headers":
            return Req("POST", self.path, {}, b"<xml><Encrypt>x</Encrypt></xml>", "invalid")
        if kind == "deep_json":
            body = rng.choice([b"<a>" * 100_000, b"[" * 200_000, b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml>&a;</xml>'])
            return self.request(encrypt, ts, nonce, body=body[: self.limit])
        if kind == "not_json":
            return self.request(encrypt, ts, nonce, body=_junk(rng, rng.randint(0, 3000)))
        if kind == "over_limit":
            return self.request(encrypt, ts, nonce, body=b"<xml>" + b"x" * (self.limit + 10) + b"</xml>")
        if kind == "bitflip":
            raw = bytearray(base64.b64decode(encrypt))
            i = rng.randrange(len(raw))
            raw[i] ^= 1 << rng.randrange(8)
            flipped = base64.b64encode(bytes(raw)).decode()
            return self.request(flipped, ts, nonce, expect="maybe")  # re-signed: only decryption can object
        if kind == "truncate":
            cut = encrypt[: rng.randrange(len(encrypt))]
            return self.request(cut, ts, nonce)
        if kind == "forged_replay":
            if self.last_valid is not None:  # the captured query string with another body
                other, _ts, _n = self.encrypted(self.text_xml(str(9_000_000_000 + self.n), text="/预测"))
                path = self.last_valid.path
                body = (f"<xml><Encrypt><![CDATA[{other}]]></Encrypt></xml>").encode()
                return Req("POST", path, {"Content-Type": "text/xml"}, body, "invalid")
            return self.request(encrypt, ts, nonce, sig="0" * 40)
        raise ValueError(kind)


BUILDERS: dict[str, type[Builder]] = {"dingtalk": DingTalkBuilder, "feishu": FeishuBuilder, "wecom": WeComBuilder}
