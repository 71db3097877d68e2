"""Check the typed credentials against the platform by fetching one token, and explain a refusal.

One call per platform, the one every later call depends on: WeCom `GET /cgi-bin/gettoken` (then
`/cgi-bin/agent/get`, since a token proves the Secret but not the AgentId), DingTalk
`POST /v1.0/oauth2/accessToken`, Feishu `POST /open-apis/auth/v3/tenant_access_token/internal`. The answer becomes a
Problem: the sentence to show (prompts key setup.err_*), the fields worth asking again, and whether trying again as
is can help (network, rate limit). The same table explains errors of the org import that follows (an untrusted IP
or a missing 通讯录 permission usually shows up there first).

Error codes, from the platforms' documentation and SDKs:
- WeCom (全局错误码): 40013 invalid corpid, 41002 corpid missing, 40001 invalid secret (“获取access_token时Secret错误”),
  40091 invalid secret, 41004 secret missing, 42001 expired token, 60020 request IP not on the app's 企业可信IP list,
  60011 no privilege (the app cannot see the directory), 48002 API forbidden for the app, 45009/45033 rate limits,
  -1 system busy.
- DingTalk: HTTP 400 `invalidClientIdOrSecret` (无效的clientId或者clientSecret) on /v1.0/oauth2/accessToken;
  `Forbidden.AccessDenied.IpNotInWhiteList` when the app has an IP allow-list; oapi 40089 (不合法的corpid或corpsecret),
  60020 (访问ip不在白名单之中), 60011 (没有调用该接口的权限), 90002/90018 rate limits; `InvalidAuthentication`,
  `authFailed` for refused credentials.
- Feishu (服务端错误码): 10003 invalid param (app_id unknown or malformed), 10014 app secret invalid, 99991401 request
  denied (IP allow-list / permission), 99991672 the app lacks an API scope, 40004 no permission on the department,
  99991400 rate limit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import aiohttp

from bot.errors import PlatformError, PlatformRetryAfter


@dataclass(frozen=True)
class Problem:
    key: str  # prompts key of the sentence
    fields: tuple[str, ...] = ()  # bot.toml keys worth asking again
    code: str = ""  # the platform's code, quoted in the sentence
    detail: str = ""  # the platform's own words, shortened
    retry: bool = False  # trying again unchanged may work (network, busy, rate limit)


_RETRY = "retry"
# (platform, code) → (sentence key, fields to ask again or "retry")
_TABLE: dict[tuple[str, str], tuple[str, tuple[str, ...] | str]] = {
    ("wecom", "40013"): ("setup.err_wecom_corp_id", ("corp_id",)),
    ("wecom", "41002"): ("setup.err_wecom_corp_id", ("corp_id",)),
    ("wecom", "40001"): ("setup.err_wecom_secret", ("secret",)),
    ("wecom", "40091"): ("setup.err_wecom_secret", ("secret",)),
    ("wecom", "41004"): ("setup.err_wecom_secret", ("secret",)),
    ("wecom", "42001"): ("setup.err_wecom_secret", ("secret",)),
    ("wecom", "60020"): ("setup.err_wecom_ip", ()),
    ("wecom", "60011"): ("setup.err_wecom_privilege", ()),
    ("wecom", "48002"): ("setup.err_wecom_forbidden", ()),
    ("wecom", "45009"): ("setup.err_rate", _RETRY),
    ("wecom", "45033"): ("setup.err_rate", _RETRY),
    ("wecom", "-1"): ("setup.err_busy", _RETRY),
    ("dingtalk", "invalidClientIdOrSecret"): ("setup.err_dingtalk_credentials", ("client_id", "client_secret")),
    ("dingtalk", "InvalidAuthentication"): ("setup.err_dingtalk_credentials", ("client_id", "client_secret")),
    ("dingtalk", "authFailed"): ("setup.err_dingtalk_credentials", ("client_id", "client_secret")),
    ("dingtalk", "40089"): ("setup.err_dingtalk_credentials", ("client_id", "client_secret")),
    ("dingtalk", "Forbidden.AccessDenied.IpNotInWhiteList"): ("setup.err_dingtalk_ip", ()),
    ("dingtalk", "60020"): ("setup.err_dingtalk_ip", ()),
    ("dingtalk", "60011"): ("setup.err_dingtalk_privilege", ()),
    ("dingtalk", "Forbidden.AccessDenied.AccessTokenPermissionDenied"): ("setup.err_dingtalk_privilege", ()),
    ("dingtalk", "90002"): ("setup.err_rate", _RETRY),
    ("dingtalk", "90018"): ("setup.err_rate", _RETRY),
    ("dingtalk", "-1"): ("setup.err_busy", _RETRY),
    ("feishu", "10003"): ("setup.err_feishu_app_id", ("app_id",)),
    ("feishu", "10014"): ("setup.err_feishu_secret", ("app_secret",)),
    ("feishu", "99991401"): ("setup.err_feishu_denied", ()),
    ("feishu", "99991672"): ("setup.err_feishu_scope", ()),
    ("feishu", "40004"): ("setup.err_feishu_scope", ()),
    ("feishu", "99991400"): ("setup.err_rate", _RETRY),
}


def explain(platform: str, code: object, detail: str = "") -> Problem:
    """The Problem for a platform's error code (int or string); an unknown code is quoted as the platform said it."""
    code_s = str(code)
    detail = " ".join(str(detail).split())[:160]
    key, fields = _TABLE.get((platform, code_s), ("setup.err_unknown", ()))
    if fields == _RETRY:
        return Problem(key, (), code_s, detail, retry=True)
    return Problem(key, tuple(fields), code_s, detail)


@dataclass(frozen=True)
class Target:
    """Where to check: the platform's API base (bot.toml api_base_url / domain) and the credentials."""

    platform: str
    base_url: str
    values: dict[str, str]


class _Failed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.key)
        self.problem = problem


async def _call(session: aiohttp.ClientSession, method: str, url: str, **kw: object) -> tuple[int, dict]:
    """(HTTP status, JSON object); transport trouble and non-JSON answers become a Problem."""
    try:
        async with session.request(method, url, **kw) as resp:
            status, raw = resp.status, await resp.read()
    except TimeoutError:  # before OSError, its base class
        raise _Failed(Problem("setup.err_timeout", (), "", url.split("?")[0], retry=True)) from None
    except (aiohttp.ClientError, OSError) as exc:  # refused, reset, DNS, bad URL, broken answer
        raise _Failed(Problem("setup.err_unreachable", (), "", f"{url.split('?')[0]} ({type(exc).__name__})",
                              retry=True)) from None
    try:
        body = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        if status >= 500:
            raise _Failed(Problem("setup.err_server", (), str(status), url.split("?")[0], retry=True))
        raise _Failed(Problem("setup.err_not_platform", (), str(status), url.split("?")[0]))
    return status, body


async def _wecom(session: aiohttp.ClientSession, t: Target) -> None:
    status, body = await _call(session, "GET", t.base_url.rstrip("/") + "/cgi-bin/gettoken",
                               params={"corpid": t.values["corp_id"], "corpsecret": t.values["secret"]})
    code = body.get("errcode", 0)
    if code == 0 and isinstance(body.get("access_token"), str) and body["access_token"]:
        await _wecom_agent(session, t, body["access_token"])
        return
    if code == 0:
        raise _Failed(Problem("setup.err_not_platform", (), str(status), t.base_url))
    raise _Failed(explain("wecom", code, str(body.get("errmsg", ""))))


async def _wecom_agent(session: aiohttp.ClientSession, t: Target, token: str) -> None:
    """gettoken only proves corp id + Secret; the AgentId is checked by reading the app (应用管理 · 获取应用).
    40056 is 不合法的agentid; any other refusal means this AgentId is not the app the Secret belongs to."""
    _status, body = await _call(session, "GET", t.base_url.rstrip("/") + "/cgi-bin/agent/get",
                                params={"access_token": token, "agentid": t.values["agent_id"]})
    code = body.get("errcode", 0)
    if code == 0:
        return
    detail = str(body.get("errmsg", ""))
    if code == 40056:
        raise _Failed(Problem("setup.err_wecom_agent", ("agent_id",), "40056", detail))
    if explain("wecom", code, detail).retry:  # rate limit, busy: not the AgentId's fault
        raise _Failed(explain("wecom", code, detail))
    raise _Failed(Problem("setup.err_wecom_agent_mismatch", ("agent_id", "secret"), str(code), detail))


async def _dingtalk(session: aiohttp.ClientSession, t: Target) -> None:
    status, body = await _call(session, "POST", t.base_url.rstrip("/") + "/v1.0/oauth2/accessToken",
                               json={"appKey": t.values["client_id"], "appSecret": t.values["client_secret"]})
    if status == 200 and isinstance(body.get("accessToken"), str) and body["accessToken"]:
        return
    if status == 429:
        raise _Failed(explain("dingtalk", "90002", str(body.get("message", ""))))
    if status >= 500:
        raise _Failed(Problem("setup.err_server", (), str(status), str(body.get("message", ""))[:160], retry=True))
    code = body.get("code") or body.get("errcode") or status
    raise _Failed(explain("dingtalk", code, str(body.get("message") or body.get("errmsg") or "")))


async def _feishu(session: aiohttp.ClientSession, t: Target) -> None:
    status, body = await _call(session, "POST",
                               t.base_url.rstrip("/") + "/open-apis/auth/v3/tenant_access_token/internal",
                               json={"app_id": t.values["app_id"], "app_secret": t.values["app_secret"]})
    code = body.get("code", status if status != 200 else 0)
    if code == 0 and isinstance(body.get("tenant_access_token"), str) and body["tenant_access_token"]:
        return
    if status >= 500:
        raise _Failed(Problem("setup.err_server", (), str(status), str(body.get("msg", ""))[:160], retry=True))
    if code == 0:
        raise _Failed(Problem("setup.err_not_platform", (), str(status), t.base_url))
    raise _Failed(explain("feishu", code, str(body.get("msg", ""))))


_CHECKS = {"wecom": _wecom, "dingtalk": _dingtalk, "feishu": _feishu}


async def check(target: Target, timeout_s: float = 10.0) -> Problem | None:
    """None when the platform issued a token for these credentials, else what went wrong."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
        try:
            await _CHECKS[target.platform](session, target)
        except _Failed as failed:
            return failed.problem
    return None


# How the adapters' clients word a refusal (adapters/*/client.py): the code is read back from their message.
_CODE_PATTERNS = (
    re.compile(r"errcode (-?\d+)/(-?\d+)"),  # dingtalk oapi errcode 88 with its real sub_code
    re.compile(r"errcode (-?\d+)"),  # wecom / dingtalk oapi
    re.compile(r"credentials refused \((-?\d+)"),  # wecom gettoken
    re.compile(r"\bcode (-?\d+)"),  # feishu
    re.compile(r"dingtalk \d{3} on \S+: ([A-Za-z][\w.]+)"),  # dingtalk api.dingtalk.com string codes
)


def explain_error(platform: str, exc: PlatformError) -> Problem:
    """A Problem for an error raised by an adapter's client during the org import."""
    if isinstance(exc, PlatformRetryAfter):
        return Problem("setup.err_rate", (), "", "", retry=True)
    code = getattr(exc, "errcode", None)
    text = str(exc)
    if code is None:
        for pattern in _CODE_PATTERNS:
            m = pattern.search(text)
            if m:
                code = m.group(m.lastindex or 1)
                break
    if code is None:
        if "transport error" in text or "ClientConnect" in text or "ClientOSError" in text:
            return Problem("setup.err_unreachable", (), "", text[:160], retry=True)
        return Problem("setup.err_unknown", (), "?", text[:160])
    return explain(platform, code, text)
