"""Import the org from the platform once, with the adapters' own org sync, into the new database.

Why reuse the adapters: the sync rules (who becomes a team, who a manager, how people already in bot.toml are
linked and never overwritten) live in adapters/wecom/org_sync.py and store/platform_org.py; the wizard must leave
exactly what `serve` would, so it runs the same code. It also records the sync time, so `serve` follows
org_sync_cron afterwards instead of syncing again at its first start.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.base import AdapterContext
from bot.clock import Clock
from bot.config import Config
from bot.errors import PlatformError
from bot.setup_wizard.checks import Problem, explain_error
from store import org as org_store
from store.db import Store


@dataclass(frozen=True)
class Imported:
    teams: int  # departments / teams the sync wrote
    added: int  # people new to the directory
    people: int  # everyone now in the directory


def _adapter(platform: str, ctx: AdapterContext):
    if platform == "wecom":
        from adapters.wecom.adapter import WeComAdapter

        return WeComAdapter(ctx)
    if platform == "dingtalk":
        from adapters.dingtalk.adapter import DingTalkAdapter

        return DingTalkAdapter(ctx)
    from adapters.feishu.adapter import FeishuAdapter

    return FeishuAdapter(ctx)


async def import_org(platform: str, config: Config, store: Store, clock: Clock) -> Imported | Problem:
    """The counts after one sync from `platform`, or the Problem that stopped it (nothing half-written: each
    sync is one transaction)."""
    adapter = _adapter(platform, AdapterContext(store, config, clock, lambda: None))
    try:
        result = await adapter.sync_org()
    except PlatformError as exc:
        return explain_error(platform, exc)
    finally:
        await adapter.stop()
    people = len(org_store.all_people(store))
    if platform == "wecom":
        return Imported(teams=result.departments, added=result.created, people=people)
    return Imported(teams=result.teams, added=result.added, people=people)
