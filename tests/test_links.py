"""Tracked links end to end: /link makes an unguessable short URL, the link server (real aiohttp server on
127.0.0.1) records each open as a DocumentOpen through the inbox and redirects or serves the file; /links shows
counts, first and last open; openers are only ever stored as a salted hash."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from conftest import T0

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from adapters.links import LinkAdapter, opener_hash
from bot.app import Runtime
from bot.config import LinksSection
from bot.server import build_app
from prompts import Prompts
from store import customers as customer_store
from store import leads as lead_store
from store import links as links_store

URL = "https://files.example.com/docs/%E6%96%B9%E6%A1%88v2.pdf"
BROWSER = "Mozilla/5.0 (Windows NT 10.0) Chrome/120 Safari/537.36"


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "XX型号参数.pdf").write_bytes(b"%PDF-1.4 parameters")
    (tmp_path / "secret.txt").write_text("outside", encoding="utf-8")
    return folder


@pytest.fixture
async def env(store, clock, config, files, aiohttp_client):
    config = dataclasses.replace(config, links=LinksSection(files_dir=str(files), hash_salt="test-salt"))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale))
    rt.add_sender("console", console.send)
    rt.console = console
    with store.transaction():
        customer_store.upsert(store, "c1", "华东机床", owner_id="r1", created_at=T0)
        lead_store.upsert(store, "L1", "c1", "r1", "华东机床 数控机床采购", T0)
        customer_store.upsert(store, "c3", "深圳电子", owner_id="r3", created_at=T0)
        lead_store.upsert(store, "L3", "c3", "r3", "深圳电子 产线改造", T0)
    rt.client = await aiohttp_client(build_app(config, [LinkAdapter(AdapterContext(store, config, clock, rt.wake))]))
    yield rt
    rt.close()


async def make_link(rt, who: str, line: str) -> str:
    rt.console.type_line(who, line)
    await rt.settle()
    text = rt.console.delivered[-1].text
    match = re.search(r"http://127\.0\.0\.1:8080/d/([A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


async def test_four_opens_are_four_document_opens_with_counts(env, store, clock):
    code = await make_link(env, "张伟", f"/链接 {URL} 华东机床")
    assert len(code) >= 12
    assert "方案v2.pdf" in env.console.delivered[-1].text
    for n in range(4):
        clock.advance(60_000 * (n + 1))
        resp = await env.client.get(f"/d/{code}", allow_redirects=False, headers={"User-Agent": BROWSER})
        assert resp.status == 302 and resp.headers["Location"] == URL
    await env.settle()
    stats = links_store.stats(store, code)
    assert stats.opens == 4 and stats.openers == 1
    assert stats.first_open == T0 + 60_000 and stats.last_open == T0 + 60_000 * 10
    assert links_store.opens_of_document(store, "L1", "方案v2.pdf") == 4
    rows = store.conn.execute("SELECT event, payload FROM inbox WHERE platform = 'links'").fetchall()
    assert len(rows) == 4
    event = json.loads(rows[0][0])
    assert event["type"] == "document_open" and event["lead_id"] == "L1" and event["document"] == "方案v2.pdf"
    assert event["actor"]["role"] == "customer" and event["actor"]["customer_id"] == "c1"
    assert event["opener_hash"] == opener_hash("test-salt", "127.0.0.1", BROWSER)
    everything = " ".join(r[0] + r[1] for r in rows)
    everything += " ".join(str(tuple(r)) for r in store.conn.execute("SELECT * FROM link_opens"))
    assert "127.0.0.1" not in everything
    env.console.type_line("张伟", "/links L1")
    await env.settle()
    listing = env.console.delivered[-1].text
    assert "方案v2.pdf" in listing and "打开 4 次" in listing and "首次 03-02 09:01" in listing and "最近 03-02 09:10" in listing


async def test_distinct_openers_crawlers_and_head_requests(env, store):
    code = await make_link(env, "张伟", f"/link {URL} L1")
    await env.client.get(f"/d/{code}", allow_redirects=False, headers={"User-Agent": BROWSER})
    await env.client.get(f"/d/{code}", allow_redirects=False, headers={"User-Agent": "WeChat/8.0 iPhone"})
    preview = await env.client.get(f"/d/{code}", allow_redirects=False,
                                   headers={"User-Agent": "Mozilla/5.0 (compatible; LinkPreview bot)"})
    head = await env.client.head(f"/d/{code}", allow_redirects=False, headers={"User-Agent": BROWSER})
    assert preview.status == 302 and head.status == 302
    await env.settle()
    stats = links_store.stats(store, code)
    assert stats.opens == 2 and stats.openers == 2


async def test_unknown_or_malformed_code_is_a_short_404(env, store):
    for path in ("/d/AAAAAAAAAAAA", "/d/short", "/d/..%2F..%2Fetc%2Fpasswd"):
        resp = await env.client.get(path, allow_redirects=False)
        assert resp.status == 404
        body = await resp.text()
        assert "链接不存在" in body and len(body) < 600
    assert store.conn.execute("SELECT COUNT(*) FROM inbox WHERE platform = 'links'").fetchone()[0] == 0


async def test_local_file_is_served_and_counted(env, store):
    code = await make_link(env, "张伟", "/link XX型号参数.pdf 华东机床")
    resp = await env.client.get(f"/d/{code}", headers={"User-Agent": BROWSER})
    assert resp.status == 200 and await resp.read() == b"%PDF-1.4 parameters"
    assert "filename*=UTF-8''XX%E5%9E%8B" in resp.headers["Content-Disposition"]
    await env.settle()
    assert links_store.stats(store, code).opens == 1


@pytest.mark.parametrize("line, needle", [
    ("/link ../secret.txt 华东机床", "没有文件"),
    ("/link 不存在.pdf 华东机床", "没有文件"),
    ("/link https:// 华东机床", "网址不能用"),
    (f"/link {URL}", "用法"),
    (f"/link {URL} 深圳电子", "找不到你能查看的商机"),  # another team's lead
    (f"/link {URL} 没有这个客户", "找不到你能查看的商机"),
])
async def test_bad_link_requests_get_a_clear_answer(env, store, line, needle):
    env.console.type_line("张伟", line)
    await env.settle()
    assert needle in env.console.delivered[-1].text
    assert store.conn.execute("SELECT COUNT(*) FROM links").fetchone()[0] == 0


async def test_visibility_manager_admin_and_customer(env, store):
    await make_link(env, "王经理", f"/link {URL} 华东机床")  # manager of 张伟's team
    await make_link(env, "管理员", f"/link {URL} 深圳电子")
    env.console.type_line("王经理", "/links 深圳电子")  # not his team
    env.console.type_line("赵客服", "/links 华东机床")
    await env.settle()
    assert "找不到你能查看的商机" in env.console.delivered[-2].text
    assert "没有权限" in env.console.delivered[-1].text


async def test_no_links_yet_and_unopened_listing(env, store):
    env.console.type_line("张伟", "/links 华东机床")
    await env.settle()
    assert "还没有跟踪链接" in env.console.delivered[-1].text
    await make_link(env, "张伟", f"/link {URL} 华东机床")
    env.console.type_line("张伟", "/打开记录 华东机床")
    await env.settle()
    assert "尚未打开" in env.console.delivered[-1].text


def test_open_recorded_once_per_event_and_salt_kept(store):
    links_store.create(store, "abcdefgh1234", "L1", "c1", "a.pdf", "https://x/a.pdf", "url", "r1", T0)
    assert links_store.record_open(store, "links:e1", "abcdefgh1234", "L1", "a.pdf", "h", T0)
    assert not links_store.record_open(store, "links:e1", "abcdefgh1234", "L1", "a.pdf", "h", T0)
    assert links_store.stats(store, "abcdefgh1234").opens == 1
    salt = links_store.opener_salt(store)
    assert len(salt) == 32 and links_store.opener_salt(store) == salt


@pytest.mark.parametrize("area", ["calls", "links"])
def test_every_text_exists_in_both_locales(area):
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "prompts" / "locales"
    zh = tomllib.loads((root / "zh-CN" / f"{area}.toml").read_text(encoding="utf-8"))
    en = tomllib.loads((root / "en" / f"{area}.toml").read_text(encoding="utf-8"))
    assert set(zh) == set(en)
