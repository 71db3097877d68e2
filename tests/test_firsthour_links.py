"""/链接 without a public URL (issue 13, defect 11): the link is still made (it works on this machine, for a try), but
the reply says a customer cannot open it and which bot.toml key fixes that."""

from __future__ import annotations

import dataclasses

import pytest
from test_links import env, files, make_link  # noqa: F401  (fixtures)

from bot.config import ServerSection
from handlers.links import is_public


async def test_a_local_link_comes_with_a_warning(env):  # noqa: F811
    await make_link(env, "张伟", "/链接 XX型号参数.pdf 华东机床")
    text = env.console.delivered[-1].text
    assert "客户打不开" in text and "public_base_url" in text


@pytest.mark.parametrize(("url", "public"), [
    ("http://127.0.0.1:8080", False), ("http://localhost:8080", False), ("http://192.168.1.20", False),
    ("http://10.0.0.5:8080", False), ("https://bot.example.cn", True), ("https://8.8.8.8", True),
    ("http://salespulse", False), ("", False),
])
def test_which_base_urls_customers_can_reach(url, public):
    assert is_public(url) is public


def test_default_server_section_is_local():
    assert not is_public(dataclasses.replace(ServerSection()).public_base_url)
