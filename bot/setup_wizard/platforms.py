"""What each platform needs from the admin: the bot.toml keys of its section, the flag that gives each one in
`--yes` mode, whether it is a secret (never echoed), and a check of the typed value before anything is sent.

Why check locally first: a pasted value with a space, a 42-character EncodingAESKey or a URL without https fails
much later and far from where it was typed (WeCom only says "URL 校验失败" when the console saves). One sentence at
the question, and the question again, is cheaper for everyone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from adapters.wecom.crypto import aes_key_ok

PLATFORMS = ("wecom", "dingtalk", "feishu")

# A validator returns None when the value is fine, else the prompts key (setup.bad_*) of the one sentence to show.
Validator = Callable[[str], "str | None"]

_ID = re.compile(r"^[A-Za-z0-9_.-]{4,128}$")
_SECRET = re.compile(r"^[\x21-\x7e]{8,256}$")  # printable ASCII without spaces: what every console shows
_KEY_TEXT = re.compile(r"^[\x21-\x7e]{4,256}$")
_WECOM_TOKEN = re.compile(r"^[A-Za-z0-9]{1,32}$")  # 企业微信: Token 为英文或数字，长度为 3–32


def plain_id(value: str) -> str | None:
    return None if _ID.match(value) else "setup.bad_id"


def secret(value: str) -> str | None:
    return None if _SECRET.match(value) else "setup.bad_secret"


def key_text(value: str) -> str | None:
    """Feishu's Encrypt Key / Verification Token: set or shown in the console, shorter than an app secret."""
    return None if _KEY_TEXT.match(value) else "setup.bad_key_text"


def agent_id(value: str) -> str | None:
    return None if value.isdigit() and 0 < int(value) < 2**31 else "setup.bad_agent_id"


def wecom_token(value: str) -> str | None:
    return None if _WECOM_TOKEN.match(value) and len(value) >= 3 else "setup.bad_wecom_token"


def wecom_aes_key(value: str) -> str | None:
    return None if aes_key_ok(value) else "setup.bad_aes_key"


def feishu_app_id(value: str) -> str | None:
    return None if value.startswith("cli_") and _ID.match(value) else "setup.bad_feishu_app_id"


def public_url(value: str) -> str | None:
    """http(s)://host[:port][/prefix], nothing after the path; the platforms call it, so no query or fragment."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 — raises ValueError on a bad port
    except ValueError:
        return "setup.bad_url"
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return "setup.bad_url"
    return None


def api_base(value: str) -> str | None:
    return public_url(value)


def is_local(url: str) -> bool:
    """A URL no platform can reach (loopback, a private LAN address): worth a warning, not a refusal."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "0.0.0.0", "::1") or host.startswith(("127.", "10.", "192.168.")) or bool(
        re.match(r"^172\.(1[6-9]|2\d|3[01])\.", host))


@dataclass(frozen=True)
class Field:
    key: str  # bot.toml key in the platform's section
    flag: str  # the `--yes` flag (also the argparse dest, with - → _)
    validate: Validator
    secret: bool = False
    integer: bool = False
    env: str = ""  # environment variable that may give it instead of the flag
    only_mode: str = ""  # asked only in this mode ("" = always)


@dataclass(frozen=True)
class Platform:
    name: str
    fields: tuple[Field, ...]
    modes: tuple[str, ...] = ()  # first = default; () = no choice
    callback_modes: tuple[str, ...] = ()  # modes whose inbound traffic needs public_base_url + callback_path
    mode_flag: str = ""

    def fields_for(self, mode: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.only_mode or f.only_mode == mode)

    def needs_public_url(self, mode: str) -> bool:
        return not self.modes or mode in self.callback_modes


SPECS: dict[str, Platform] = {
    "wecom": Platform("wecom", (
        Field("corp_id", "corp-id", plain_id),
        Field("agent_id", "agent-id", agent_id, integer=True),
        Field("secret", "secret", secret, secret=True, env="SALESPULSE_WECOM_SECRET"),
        Field("token", "token", wecom_token, secret=True, env="SALESPULSE_WECOM_TOKEN"),
        Field("encoding_aes_key", "aes-key", wecom_aes_key, secret=True, env="SALESPULSE_WECOM_AES_KEY"),
    )),
    "dingtalk": Platform("dingtalk", (
        Field("client_id", "client-id", plain_id),
        Field("client_secret", "client-secret", secret, secret=True, env="SALESPULSE_DINGTALK_SECRET"),
    ), modes=("stream", "http"), callback_modes=("http",), mode_flag="dingtalk-mode"),
    "feishu": Platform("feishu", (
        Field("app_id", "app-id", feishu_app_id),
        Field("app_secret", "app-secret", secret, secret=True, env="SALESPULSE_FEISHU_SECRET"),
        Field("encrypt_key", "encrypt-key", key_text, secret=True, env="SALESPULSE_FEISHU_ENCRYPT_KEY",
              only_mode="http"),
        Field("verification_token", "verification-token", key_text, secret=True,
              env="SALESPULSE_FEISHU_VERIFICATION_TOKEN", only_mode="http"),
    ), modes=("http", "ws"), callback_modes=("http",), mode_flag="feishu-mode"),
}

# Words an admin may type for a platform (the question lists 1 / 2 / 3 too).
_NAMES = {
    "1": "wecom", "wecom": "wecom", "企业微信": "wecom", "企微": "wecom", "weixin": "wecom", "wework": "wecom",
    "2": "dingtalk", "dingtalk": "dingtalk", "钉钉": "dingtalk", "ding": "dingtalk",
    "3": "feishu", "feishu": "feishu", "飞书": "feishu", "lark": "feishu",
}


def parse_platforms(text: str) -> list[str] | None:
    """"1,3" / "企业微信 飞书" / "wecom" → ["wecom", "feishu"] in the order typed; None if any word is unknown."""
    words = [w for w in re.split(r"[\s,，、;；/]+", text.strip().lower()) if w]
    if not words:
        return None
    out: list[str] = []
    for word in words:
        name = _NAMES.get(word)
        if name is None:
            return None
        if name not in out:
            out.append(name)
    return out
