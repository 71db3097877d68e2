"""Helpers for the WeCom tests: config, callback encryption (wechatpy's and an independent AES), XML builders."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import struct
from urllib.parse import urlencode

from Crypto.Cipher import AES
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from bot.config import Config, WeComSection

CORP = "wwcorp"
TOKEN = "cbtoken"
AES_KEY = base64.b64encode(bytes(range(1, 33))).decode().rstrip("=")  # 43 characters
SECRET = "app-secret"
AGENT = 1000002
PATH = "/wecom/callback"


def wecom_config(config: Config, base_url: str = "http://127.0.0.1:9", **extra) -> Config:
    section = WeComSection(enabled=True, corp_id=CORP, agent_id=AGENT, secret=SECRET, token=TOKEN,
                           encoding_aes_key=AES_KEY, callback_path=PATH, api_base_url=base_url, **extra)
    return dataclasses.replace(config, wecom=section)


def text_xml(user: str, content: str, msg_id: str, create_s: int) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_s}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{AGENT}</AgentID></xml>")


def card_event_xml(user: str, key: str, task_id: str, response_code: str, create_s: int) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_s}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
            f"<TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode><AgentID>{AGENT}</AgentID></xml>")


def generic_xml(user: str, msg_type: str, create_s: int, msg_id: str = "", **fields: str) -> str:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    mid = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_s}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{inner}{mid}</xml>")


def wechatpy_encrypt(inner: str, timestamp: int, nonce: str = "nonce1") -> tuple[str, bytes]:
    """(query string, body) exactly as WeCom would POST them, encrypted by wechatpy's own crypto."""
    import xmltodict

    outer = WeChatCrypto(TOKEN, AES_KEY, CORP).encrypt_message(inner, nonce, str(timestamp))
    fields = xmltodict.parse(outer)["xml"]
    body = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><AgentID><![CDATA[{AGENT}]]></AgentID>"
            f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>").encode()
    query = urlencode({"msg_signature": fields["MsgSignature"], "timestamp": fields["TimeStamp"], "nonce": nonce})
    return query, body


def independent_encrypt(inner: str, timestamp: int, nonce: str = "nonce2") -> tuple[str, bytes]:
    """The same wire format built from scratch with pycryptodome (so wechatpy is not only checked against itself)."""
    key = base64.b64decode(AES_KEY + "=")
    msg = inner.encode()
    plain = os.urandom(16) + struct.pack(">I", len(msg)) + msg + CORP.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encrypt = base64.b64encode(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(plain)).decode()
    sig = hashlib.sha1("".join(sorted([TOKEN, str(timestamp), nonce, encrypt])).encode()).hexdigest()
    body = f"<xml><ToUserName>{CORP}</ToUserName><Encrypt>{encrypt}</Encrypt></xml>".encode()
    return urlencode({"msg_signature": sig, "timestamp": str(timestamp), "nonce": nonce}), body


def echo_params(plain: str, timestamp: int, nonce: str = "n3", want_plus: bool = True) -> tuple[str, str, str]:
    """(msg_signature, echostr, plain) for URL verification; with want_plus the echostr contains a '+'."""
    for _ in range(500):
        echostr = PrpCrypto(base64.b64decode(AES_KEY + "=")).encrypt(plain, CORP).decode()
        if ("+" in echostr) == want_plus:
            sig = hashlib.sha1("".join(sorted([TOKEN, str(timestamp), nonce, echostr])).encode()).hexdigest()
            return sig, echostr, plain
    raise AssertionError("could not produce the wanted echostr")


def fake_api_fixture():
    """The `fake` fixture of a WeCom test module (a FakeWeComApi on 127.0.0.1): `fake = h.fake_api_fixture()`."""
    import pytest

    from adapters.wecom.fake_api import FakeWeComApi

    @pytest.fixture
    def fake():
        api = FakeWeComApi(corp_id=CORP, secret=SECRET)
        api.start()
        yield api
        api.stop()

    return fake
