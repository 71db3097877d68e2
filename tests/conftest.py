"""Shared fixtures: a migrated temporary database, a virtual clock, and a runtime wired with a console sender."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from bot.app import Runtime
from bot.clock import VirtualClock, to_ms
from bot.config import Config, OrgSection, PersonSection, TeamSection, load_config
from prompts import Prompts
from store import open_store

# ../shared next to the checkout; SALESPULSE_SHARED points elsewhere (a git worktree one level deeper)
SHARED = Path(os.environ.get("SALESPULSE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
T0 = to_ms(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # Monday 09:00 in Shanghai


def small_org() -> OrgSection:
    return OrgSection(
        teams=(TeamSection(name="华东一组", manager="m1"), TeamSection(name="华南组", manager="m2")),
        people=(
            PersonSection(id="m1", name="王经理", role="manager", team="华东一组", wecom_id="wangjl"),
            PersonSection(id="r1", name="张伟", role="rep", team="华东一组", wecom_id="zhangwei", phone="13800000001"),
            PersonSection(id="r2", name="李娜", role="rep", team="华东一组", wecom_id="lina"),
            PersonSection(id="m2", name="陈总监", role="manager", team="华南组"),
            PersonSection(id="r3", name="刘洋", role="rep", team="华南组"),
            PersonSection(id="cs1", name="赵客服", role="cs", team=""),
            PersonSection(id="t1", name="孙工", role="colleague", department="技术部"),
            PersonSection(id="a1", name="管理员", role="manager", admin=True),
        ),
    )


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def config(tmp_path) -> Config:
    base = load_config(None)  # data_dir under tmp_path: charts, voice notes and files never land in the checkout
    return dataclasses.replace(base, org=small_org(),
                               bot=dataclasses.replace(base.bot, data_dir=str(tmp_path / "salespulse-data")))


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "test.db")
    yield s
    s.close()


@pytest.fixture
def runtime(store, clock, config):
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale))
    rt.add_sender("console", console.send)
    rt.media.register("console", console.fetch_media)
    rt.console = console
    yield rt
    rt.close()
