"""Shared set-up for the DingTalk tests: config pointed at a fake DingTalk, an adapter wired into a Runtime."""

from __future__ import annotations

import dataclasses

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
