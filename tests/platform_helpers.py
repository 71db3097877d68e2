"""Shared set-up for the DingTalk and Feishu tests: config pointed at a fake server, an adapter wired into a Runtime."""

from __future__ import annotations

import dataclasses

import pytest

from adapters.base import AdapterContext
from adapters.dingtalk.adapter import DingTalkAdapter
from bot.config import Config, DingTalkSection, OrgSection


def with_platform_ids(org: OrgSection) -> OrgSection:
    """The small test org, with DingTalk staff ids and Feishu open_ids derived from the WeCom ids."""
    people = tuple(
        dataclasses.replace(p, dingtalk_id=p.wecom_id, feishu_id=f"ou_{p.wecom_id}") if p.wecom_id else p
        for p in org.people
    )
    return dataclasses.replace(org, people=people)


def dingtalk_config(config: Config, base_url: str, mode: str = "stream", **extra) -> Config:
    section = DingTalkSection(enabled=True, mode=mode, client_id="ding-app", client_secret="ding-secret",
                              api_base_url=base_url, oapi_base_url=base_url, org_sync_cron="", **extra)
    return dataclasses.replace(config, dingtalk=section, org=with_platform_ids(config.org))


def attach(runtime) -> DingTalkAdapter:
    adapter = DingTalkAdapter(AdapterContext(runtime.store, runtime.config, runtime.clock, runtime.wake))
    adapter.stream_retry_s = 0.05
    runtime.add_sender("dingtalk", adapter.send)
    return adapter


def feishu_config(config: Config, domain: str, mode: str = "http") -> Config:
    from fakes.feishu import APP_ID, APP_SECRET, ENCRYPT_KEY, VERIFICATION_TOKEN

    from bot.config import FeishuSection

    section = FeishuSection(enabled=True, mode=mode, app_id=APP_ID, app_secret=APP_SECRET, encrypt_key=ENCRYPT_KEY,
                            verification_token=VERIFICATION_TOKEN, domain=domain, org_sync_cron="")
    return dataclasses.replace(config, feishu=section, org=with_platform_ids(config.org))


def attach_feishu(runtime):
    from adapters.feishu.adapter import FeishuAdapter

    adapter = FeishuAdapter(AdapterContext(runtime.store, runtime.config, runtime.clock, runtime.wake))
    runtime.add_sender("feishu", adapter.send)
    return adapter


def dingtalk_fixtures(**config_kw):
    """The `fake` (a FakeDingTalk server) and `config` (pointed at it) fixtures of a DingTalk test module:
    `fake, config = dingtalk_fixtures(mode="http")` at module level."""
    from fakes.dingtalk import FakeDingTalk

    @pytest.fixture
    def fake():
        server = FakeDingTalk().start()
        yield server
        server.stop()

    @pytest.fixture
    def config(config, fake):
        return dingtalk_config(config, fake.base_url, **config_kw)

    return fake, config


def feishu_fixtures(mode: str = "http"):
    """The `fake` (a FakeFeishu server) and `config` (pointed at it) fixtures of a Feishu test module:
    `fake, config = feishu_fixtures(mode="ws")` at module level."""
    from fakes.feishu import FakeFeishu

    @pytest.fixture
    def fake():
        server = FakeFeishu().start()
        yield server
        server.stop()

    @pytest.fixture
    def config(config, fake):
        return feishu_config(config, fake.base_url, mode)

    return fake, config
