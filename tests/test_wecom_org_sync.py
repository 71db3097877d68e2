"""WeCom org sync: departments + members (with leaders) from the fake API into the org directory."""

from __future__ import annotations

import pytest
import wecom_helpers as h

from adapters.base import AdapterContext
from adapters.wecom import org_sync
from adapters.wecom.adapter import WeComAdapter
from adapters.wecom.fake_api import FakeWeComApi
from bot.org import Directory, load_org_section
from store import kv
from store import org as org_store


@pytest.fixture
def fake():
    api = FakeWeComApi(corp_id=h.CORP, secret=h.SECRET)
    api.departments = [
        {"id": 1, "name": "星河科技", "parentid": 0, "department_leader": ["boss"]},
        {"id": 2, "name": "华东一组", "parentid": 1, "department_leader": ["lead2"]},  # name clash with bot.toml
        {"id": 3, "name": "华北组", "parentid": 1, "department_leader": []},
    ]
    api.users = {
        1: [{"userid": "boss", "name": "周总", "department": [1], "main_department": 1, "is_leader_in_dept": [1],
             "status": 1}],
        2: [{"userid": "lead2", "name": "钱主管", "department": [2], "main_department": 2,
             "is_leader_in_dept": [1], "status": 1},
            {"userid": "zhangwei", "name": "张伟", "department": [2], "main_department": 2, "status": 1}],
        3: [{"userid": "sunli", "name": "孙立", "department": [3], "main_department": 3, "is_leader_in_dept": [1],
             "status": 1, "mobile": "13900000009"},
            {"userid": "gone", "name": "离职", "department": [3], "status": 5}],
    }
    api.start()
    yield api
    api.stop()


async def test_sync_builds_teams_people_and_leaders(store, clock, config, fake):
    load_org_section(store, config.org)
    cfg = h.wecom_config(config, fake.base_url)
    adapter = WeComAdapter(AdapterContext(store, cfg, clock, lambda: None))
    try:
        result = await org_sync.sync(adapter.ctx, adapter.client)
    finally:
        await adapter.client.close()
    assert result.departments == 3 and result.people == 4 and result.created == 3
    teams = {tid: (name, mgr) for tid, name, mgr in org_store.all_teams(store)}
    assert teams["wecom-dept:1"] == ("星河科技", "wecom:boss")
    assert teams["wecom-dept:2"] == ("华东一组（2）", "wecom:lead2")  # bot.toml already has a 华东一组
    assert teams["wecom-dept:3"] == ("华北组", "wecom:sunli")  # leader flagged on the member
    people = {p.id: p for p in org_store.all_people(store)}
    assert people["wecom:sunli"].role == "manager" and people["wecom:sunli"].phone == "13900000009"
    assert "wecom:gone" not in people
    # 张伟 is configured in bot.toml (wecom_id zhangwei): keeps id r1, role and team
    assert people["r1"].team_id == "华东一组" and people["r1"].role == "rep" and "wecom:zhangwei" not in people
    directory = Directory(store)
    assert directory.manager_of("wecom:lead2") is None
    assert directory.person("wecom:boss").role.value == "manager"
    assert kv.get(store, org_sync.LAST_SYNC_KEY) == str(clock.now_ms())


async def test_people_who_left_are_deactivated_and_next_sync_follows_cron(store, clock, config, fake):
    cfg = h.wecom_config(config, fake.base_url)
    adapter = WeComAdapter(AdapterContext(store, cfg, clock, lambda: None))
    try:
        assert adapter.next_org_sync_ms() == clock.now_ms()  # never synced: due now
        await org_sync.sync(adapter.ctx, adapter.client)
        fake.users[3] = [u for u in fake.users[3] if u["userid"] != "sunli"]
        clock.advance(3600_000)
        result = await org_sync.sync(adapter.ctx, adapter.client)
        nxt = adapter.next_org_sync_ms()
    finally:
        await adapter.client.close()
    assert result.deactivated == 1
    assert "wecom:sunli" not in {p.id for p in org_store.all_people(store)}
    assert clock.now_ms() < nxt <= clock.now_ms() + 86_400_000  # "30 2 * * *" in Asia/Shanghai
