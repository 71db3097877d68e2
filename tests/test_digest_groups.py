"""Digests to a team's group chat ([[org.teams]] digest_chat), besides each manager's own copy."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import T0, small_org
from test_digests import seed_one_lead

from bot.config import ConfigError, load_config
from bot.events import Actor, Message, MessageKind

HOUR = 3_600_000


@pytest.fixture
def config():
    org = small_org()
    teams = (dataclasses.replace(org.teams[0], digest_chat="console:east-group"), org.teams[1])
    return dataclasses.replace(load_config(None), org=dataclasses.replace(org, teams=teams))


async def test_daily_digest_also_reaches_the_team_group_once(runtime):
    seed_one_lead(runtime)
    await runtime.advance_to(T0)
    msg = Message(event_id="wecom-archive:g1", platform="wecom", occurred_at=T0 + HOUR,
                  actor=Actor(platform_id="zhangwei"), kind=MessageKind.TEXT, text="附件:XX型号参数.pdf",
                  recipients=("wmCUST1",))
    runtime.console.ctx.accept("wecom", "g1", {"msgid": "g1"}, msg)
    await runtime.advance_to(T0 + 9 * HOUR + 60_000)
    group = [d for d in runtime.console.delivered if d.target.chat_id == "east-group"]
    assert len(group) == 1 and "华东一组" in group[0].text and "资料交付×1" in group[0].text
    assert "华南组" not in group[0].text  # only its own team
    managers = sorted(d.target.person_id for d in runtime.console.delivered if d.key.startswith("digest:daily"))
    assert managers == ["", "m1", "m2"]  # the group copy has no person; each manager still gets theirs
    await runtime.advance_to(T0 + 10 * HOUR)
    assert len([d for d in runtime.console.delivered if d.target.chat_id == "east-group"]) == 1


def test_a_malformed_digest_chat_stops_the_start_with_its_line(tmp_path):
    path = tmp_path / "bot.toml"
    path.write_text('[[org.teams]]\nname = "华东一组"\nmanager = "m1"\ndigest_chat = "oc_123"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "bot.toml:4" in text and "org.teams[0].digest_chat" in text and "<平台>:<群聊ID>" in text
