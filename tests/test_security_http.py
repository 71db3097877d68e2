"""What a stranger on the internet can send to `salespulse serve`: oversized or trickling bodies, garbled auth
headers, hostile tracked-link paths and file names. Real aiohttp server on 127.0.0.1; raw sockets where the client
library would refuse to send the bytes."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import pytest
from aiohttp import web
from conftest import T0

from adapters.base import Adapter, AdapterContext
from adapters.dingtalk.sign import verify
from adapters.links import LinkAdapter
from adapters.telephony import TelephonyAdapter
from bot.config import LinksSection, ServerSection, TelephonySection
from bot.errors import PlatformAuthError
from bot.server import build_app
from store import links as links_store

TOKEN = "s3cret-token-0123456789"
BROWSER = "Mozilla/5.0 (Windows NT 10.0) Chrome/120 Safari/537.36"


async def raw(client, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes and read the status line and headers (or say the server kept waiting for more)."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except TimeoutError:
        return b"<server kept waiting>"
    finally:
        writer.close()


class Counting(Adapter):
    platform = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def routes(self):
        async def take(request: web.Request) -> web.Response:
            self.calls += 1
            return web.Response(text=str(len(await request.read())))

        return [web.post("/take", take)]


@pytest.fixture
def small(config):
    return dataclasses.replace(config, server=ServerSection(max_body_bytes=1024))


async def test_declared_oversized_body_is_413_before_any_byte_is_read(aiohttp_client, small):
    adapter = Counting()
    client = await aiohttp_client(build_app(small, [adapter]))
    # Headers only: the 99 MB body never comes. Without the guard the handler sat waiting for it.
    answer = await raw(client, b"POST /take HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413") and adapter.calls == 0
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"  # no Content-Length: 2 KiB in two chunks
    chunked = await raw(client, b"POST /take HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + chunk * 2 + b"0\r\n\r\n")
    assert chunked.startswith(b"HTTP/1.1 413") and adapter.calls == 0
    ok = await client.post("/take", data=b"x" * 1000)
    assert ok.status == 200 and await ok.text() == "1000" and adapter.calls == 1


async def test_a_body_that_does_not_arrive_in_time_is_408(aiohttp_client, small):
    adapter = Counting()
    # A zero timeout stands in for "the client stopped sending": no wall-clock wait in the test.
    client = await aiohttp_client(build_app(small, [adapter], body_timeout_s=0))
    answer = await raw(client, b"POST /take HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    assert answer.startswith(b"HTTP/1.1 408") and adapter.calls == 0
    health = await client.get("/healthz")  # requests without a body are not affected
    assert health.status == 200


async def test_telephony_token_header_with_non_utf8_bytes_is_401_not_500(aiohttp_client, store, clock, config):
    config = dataclasses.replace(config, telephony=TelephonySection(enabled=True, token=TOKEN))
    client = await aiohttp_client(build_app(config, [TelephonyAdapter(AdapterContext(store, config, clock, lambda: 0))]))
    for header in (b"X-SalesPulse-Token: \xff\xfe", b"Authorization: Bearer \xe4\xb8"):
        answer = await raw(client, b"POST /telephony/calls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + header
                           + b"\r\nContent-Length: 2\r\n\r\n{}")
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


@pytest.mark.parametrize("timestamp, signature", [
    (str(T0), "\udcff\udcfe"),  # what aiohttp makes of non-UTF-8 header bytes
    ("²", "x"),  # a Unicode digit: isdigit() says yes, int() says no
])
def test_dingtalk_signature_check_refuses_garbled_headers(timestamp, signature):
    with pytest.raises(PlatformAuthError):
        verify("app-secret", timestamp, signature, T0)


# ---------------------------------------------------------------- tracked-link files


@pytest.fixture
def folder(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "方案.pdf").write_bytes(b"%PDF-1.4 ok")
    (files / "报价<img src=x onerror=alert(1)>.html").write_text("<script>alert(document.cookie)</script>")
    (files / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    (files / "readme").write_text("<script>alert(1)</script>")  # no extension: nothing to guess from
    (tmp_path / "outside.pdf").write_bytes(b"%PDF outside the folder")
    os.symlink(tmp_path / "outside.pdf", files / "link-out.pdf")
    os.symlink("/etc/passwd", files / "passwd.txt")
    return files


@pytest.fixture
async def link_client(aiohttp_client, store, clock, config, folder):
    config = dataclasses.replace(config, links=LinksSection(files_dir=str(folder), hash_salt="s"))
    client = await aiohttp_client(build_app(config, [LinkAdapter(AdapterContext(store, config, clock, lambda: 0))]))
    for i, name in enumerate(sorted(p.name for p in folder.iterdir())):
        links_store.create(store, f"code{i:08d}", "L1", "c1", name, name, "file", "r1", T0)
    client.codes = {name: f"code{i:08d}" for i, name in enumerate(sorted(p.name for p in folder.iterdir()))}
    return client


async def test_symlinks_out_of_the_folder_and_hostile_names_are_never_served(link_client, folder, store):
    for name in ("link-out.pdf", "passwd.txt"):
        resp = await link_client.get(f"/d/{link_client.codes[name]}", headers={"User-Agent": BROWSER})
        body = await resp.text()
        assert resp.status == 404 and "outside" not in body and "root:" not in body
    for name in ("../outside.pdf", "/etc/passwd", str(folder / "方案.pdf"), "..", "a\x00b", "sub\\..\\x"):
        assert links_store.resolve_file(folder, name) is None, name
    # A file swapped for a symlink after its link was made is refused at open time, not only at /link time.
    (folder / "方案.pdf").unlink()
    os.symlink(folder.parent / "outside.pdf", folder / "方案.pdf")
    resp = await link_client.get(f"/d/{link_client.codes['方案.pdf']}")
    assert resp.status == 404
    assert store.conn.execute("SELECT COUNT(*) FROM inbox WHERE platform = 'links'").fetchone()[0] == 0


async def test_only_passive_types_are_inline_and_nothing_is_sniffed(link_client):
    pdf = await link_client.get(f"/d/{link_client.codes['方案.pdf']}")
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("报价<img src=x onerror=alert(1)>.html", "logo.svg", "readme"):
        resp = await link_client.get(f"/d/{link_client.codes[name]}")
        assert resp.status == 200, name
        assert resp.headers["Content-Type"] == "application/octet-stream", name
        disposition = resp.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "<" not in disposition and '"' not in disposition
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in resp.headers["Content-Security-Policy"]


async def test_probing_codes_gets_the_same_short_page_and_echoes_nothing(link_client, store):
    pages = set()
    for path in ("/d/AAAAAAAAAAAA", "/d/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/d/" + "A" * 65,
                 "/d/..%2F..%2Fetc%2Fpasswd"):
        resp = await link_client.get(path)
        assert resp.status == 404
        pages.add(await resp.text())
    assert len(pages) == 1 and "script" not in pages.pop()
    assert store.conn.execute("SELECT COUNT(*) FROM inbox WHERE platform = 'links'").fetchone()[0] == 0


async def test_an_open_stores_neither_address_nor_user_agent(link_client, store):
    agent = "Mozilla/5.0 UniqueAgent-7f3a"
    links_store.create(store, "urlcode00001", "L1", "c1", "a.pdf", "https://example.com/a.pdf", "url", "r1", T0)
    resp = await link_client.get("/d/urlcode00001", allow_redirects=False,
                                 headers={"User-Agent": agent, "X-Forwarded-For": "203.0.113.9"})
    assert resp.status == 302 and resp.headers["Referrer-Policy"] == "no-referrer"
    tables = [r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    dump = " ".join(str(tuple(row)) for t in tables for row in store.conn.execute(f'SELECT * FROM "{t}"'))
    assert "opener_hash" in dump  # the open was recorded …
    for secret in ("UniqueAgent", "127.0.0.1", "203.0.113.9"):  # … without who opened it
        assert secret not in dump


def test_behind_a_proxy_the_opener_is_the_address_the_proxy_appended(store, clock, config):
    """A client can send any X-Forwarded-For; the proxy appends the address it saw. Trusting the first entry would
    let one opener pose as many distinct openers (and fake 客户打开方案PDF超3次)."""
    from aiohttp.test_utils import make_mocked_request

    config = dataclasses.replace(config, links=LinksSection(trust_forwarded_for=True, hash_salt="s"))
    adapter = LinkAdapter(AdapterContext(store, config, clock, lambda: 0))
    forged = make_mocked_request("GET", "/d/x", headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.7"})
    assert adapter.client_address(forged) == "198.51.100.7"
    plain = make_mocked_request("GET", "/d/x", headers={"X-Forwarded-For": "198.51.100.7"})
    assert adapter.client_address(plain) == "198.51.100.7"
