"""WeCom outbound length limits: a long digest or forecast is split into messages WeCom accepts (text and app
markdown 2048 bytes, group-robot markdown 4096), in order, without losing lines; only beyond MAX_PARTS is it cut,
visibly. Robot parts take their rate-limit slots together, so a retry-after never strands half a digest."""

from __future__ import annotations

import pytest
import wecom_helpers as h
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import AdapterContext
from adapters.wecom import render
from adapters.wecom.adapter import WeComAdapter
from bot.errors import PlatformError, PlatformRetryAfter
from bot.replies import Reply, Target

pytestmark = pytest.mark.timeout(30)
SEND = "/cgi-bin/message/send"
HOOK = "/cgi-bin/webhook/send"


fake = h.fake_api_fixture()


@pytest.fixture
async def adapter(store, clock, config, fake):
    ad = WeComAdapter(AdapterContext(store, h.wecom_config(config, fake.base_url, robot_webhook_key="robokey"),
                                     clock, lambda: None))
    yield ad
    await ad.client.close()


def digest(lines: int) -> str:
    return "\n".join(f"{i:03d}. 华东一组 张伟：客户「上海某某科技」已沉默 4 天，上次说“下周给报价”" for i in range(lines))


async def test_a_long_text_digest_arrives_whole_in_several_messages(adapter, fake):
    text = digest(40)  # ~4.4 KB
    ref = await adapter.send(Target("wecom", user_id="wangjl"), Reply.plain(text), "digest-1")
    parts = [c.json["text"]["content"] for c in fake.calls(SEND)]
    assert len(parts) == 3 and all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts) == text
    assert ref  # the first message's id


async def test_robot_markdown_uses_the_4096_byte_limit(adapter, fake):
    text = digest(30)  # ~3.3 KB: one robot markdown, but two app messages
    await adapter.send(Target("wecom", chat_id="robot"), Reply.markdown(text), "r1")
    (hook,) = fake.calls(HOOK)
    assert hook.json["markdown"]["content"] == text
    await adapter.send(Target("wecom", user_id="wangjl"), Reply.markdown(text), "a1")
    assert len(fake.calls(SEND)) == 2


async def test_beyond_the_part_limit_the_last_part_is_cut_visibly(adapter, fake):
    text = digest(400)  # ~44 KB
    await adapter.send(Target("wecom", user_id="wangjl"), Reply.plain(text), "huge")
    parts = [c.json["text"]["content"] for c in fake.calls(SEND)]
    assert len(parts) == render.MAX_PARTS and parts[-1].endswith("…")
    assert all(len(p.encode()) <= 2048 for p in parts)


async def test_robot_parts_reserve_their_slots_together(adapter, fake, clock):
    robot = Target("wecom", chat_id="robot")
    for i in range(18):
        await adapter.send(robot, Reply.plain(f"m{i}"), f"r{i}")
    with pytest.raises(PlatformRetryAfter):  # 3 parts, 2 slots left: nothing is sent yet
        await adapter.send(robot, Reply.plain(digest(40)), "long")
    assert len(fake.calls(HOOK)) == 18
    clock.advance(60_001)
    await adapter.send(robot, Reply.plain(digest(40)), "long")
    assert len(fake.calls(HOOK)) == 21


async def test_a_retried_multi_part_reply_asks_wecom_to_drop_what_it_already_has(adapter, fake, clock):
    fake.fail_next(SEND, -1)  # system busy on the first part
    text = digest(40)
    with pytest.raises(PlatformError):
        await adapter.send(Target("wecom", user_id="wangjl"), Reply.plain(text), "d")
    clock.advance(60_000)
    await adapter.send(Target("wecom", user_id="wangjl"), Reply.plain(text), "d")
    first_again, *rest = fake.calls(SEND)[1:]
    assert first_again.json["enable_duplicate_check"] == 1  # WeCom drops it if the failed attempt got through
    assert "\n".join(c.json["text"]["content"] for c in [first_again, *rest]) == text


@given(st.text(alphabet=st.sampled_from(list("ab长\n𝄞 ")), max_size=3000), st.integers(8, 300))
def test_split_bytes_keeps_every_visible_character_within_the_limit(text, limit):
    parts = render.split_bytes(text, limit, max_parts=1000)
    assert all(len(p.encode()) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())  # every visible character, in order
