"""Stores through the real runtime in virtual time: /接待 with wrong args, the sweep per time zone, 人效 red after
three days with its actions, a fix card pressed, escalation once, shelf photos (fake verdicts at the boundary)
closing a 货效 task, 转化 red after 72 h with care SMS texts, the ranking chart and /baseline's 门店人效."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from stores_helpers import FakeShelf, chain_config, sent_to

from bot.clock import to_ms
from store import stores as stores_store

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hh: int, mm: int = 0, tz=SH) -> int:
    return to_ms(datetime(2026, 3, day, hh, mm, tzinfo=tz))


@pytest.fixture
def config(config, tmp_path):
    return chain_config(config, str(tmp_path / "data"))


@pytest.fixture
def shelf(runtime):
    fake = FakeShelf()
    runtime.services.extras["stores.shelf"] = fake
    return fake


def pid(store, name: str) -> str:
    return store.conn.execute("SELECT id FROM people WHERE name = ?", (name,)).fetchone()[0]


def last_text(runtime, n: int = 1) -> str:
    return "\n".join(d.text for d in runtime.console.delivered[-n:])


async def say(runtime, who: str, line: str) -> str:
    before = len(runtime.console.delivered)
    runtime.console.type_line(who, line)
    await runtime.settle()
    return "\n".join(d.text for d in runtime.console.delivered[before:])


async def test_receptions_wrong_args_and_saved(runtime, store):
    for bad in ("/接待", "/接待 abc", "/接待 -3", "/接待 99999", "/接待 3.5"):
        assert "用法" in await say(runtime, "小美", bad), bad
    assert store.conn.execute("SELECT COUNT(*) FROM store_receptions").fetchone()[0] == 0
    text = await say(runtime, "小美", "/接待 35")
    assert "35" in text and "南京西路店" in text
    text = await say(runtime, "小刚", "/接待 15")
    assert "25.0" in text, "per person = (35 + 15) / 2"
    assert "没有找到" in await say(runtime, "小美", "/接待 5 不存在的店")
    assert "没有关联" in await say(runtime, "张伟", "/接待 5"), "a sales rep has no store"


async def test_sweep_per_timezone_after_closing(runtime, store, clock):
    await runtime.advance_to(at(2, 22, 29))
    assert not sent_to(runtime, pid(store, "周店长"), "stores:code:")
    await runtime.advance_to(at(2, 22, 40))
    codes = sent_to(runtime, pid(store, "周店长"), "stores:code:s1:2026-03-02")
    assert len(codes) == 1 and "无数据" in codes[0].text
    assert not sent_to(runtime, pid(store, "马店长"), "stores:code:s3:2026-03-02"), "Urumqi closes two hours later"
    await runtime.advance_to(at(3, 0, 40))  # 22:40 in Urumqi
    assert len(sent_to(runtime, pid(store, "马店长"), "stores:code:s3:2026-03-02")) == 1
    await runtime.advance_to(at(3, 9, 0))
    assert len(sent_to(runtime, pid(store, "周店长"), "stores:code:s1:2026-03-02")) == 1, "once per day"


async def test_staff_red_after_three_days_opens_fix_with_actions_and_escalates_once(runtime, store, clock):
    manager, area = pid(store, "周店长"), pid(store, "区域王")
    for day in (1, 2, 3, 4, 5, 6, 7):  # the reference store does well
        with store.transaction():
            stores_store.put_receptions(store, "s2", f"2026-02-{21 + day:02d}" if day < 8 else "", "*", 60, 4, "pos", 0)
    for day in (2, 3, 4):
        await runtime.advance_to(at(day, 12))
        await say(runtime, "小美", "/接待 6")
        await say(runtime, "小刚", "/接待 7")
        await runtime.advance_to(at(day, 22, 40))
        fixes = sent_to(runtime, manager, "stores:fix:")
        assert bool(fixes) == (day == 4), f"red only on the third day below 8 (day {day})"
    card = next(d for d in sent_to(runtime, manager, "stores:fix:") if d.reply.buttons)
    assert "人效" in card.reply.title and "红" in card.reply.title
    assert [b.text for b in card.reply.buttons] == ["已整改", "需要支持", "不适用"]
    actions = "\n".join(d.text for d in sent_to(runtime, manager, "stores:fix:") if ":action:" in d.key)
    assert "邀约话术包" in actions and "徐家汇店" in actions and "video.example.cn/xujiahui" in actions
    assert "公里" in actions, "nearest by coordinates"
    assert "未完成的整改任务（1 项）" in await say(runtime, "周店长", "/整改")
    # nobody presses: 24 h later the area manager hears of it once
    await runtime.advance_to(at(5, 22, 50))
    await runtime.advance_to(at(6, 23, 0))
    escalations = sent_to(runtime, area, "stores:fix:")
    assert len([d for d in escalations if "escalation" in d.key]) == 1
    assert "超过 24 小时" in escalations[0].text
    fix_id = store.conn.execute("SELECT id FROM store_fixes WHERE dimension = 'staff'").fetchone()[0]
    trail = [a for _t, _p, a, _d in stores_store.audit_trail(store, fix_id)]
    assert trail.count("escalated") == 1 and trail[0] == "opened"


async def test_fix_card_pressed_closes_and_is_audited(runtime, store, clock):
    manager = pid(store, "周店长")
    with store.transaction():
        for d in ("2026-03-01", "2026-03-02", "2026-02-28"):
            stores_store.put_receptions(store, "s1", d, "*", 10, 5, "pos", 0)
    await runtime.advance_to(at(2, 22, 40))
    assert sent_to(runtime, manager, "stores:fix:")
    runtime.console.last_buttons[manager] = []  # the card went to the manager's id; press it by name below
    card = next(d for d in sent_to(runtime, manager, "stores:fix:") if d.reply.buttons)
    runtime.console.last_buttons["周店长"] = list(card.reply.buttons)
    text = await say(runtime, "周店长", "1")
    assert "已整改 ✓" in text
    fix = stores_store.open_fixes(store, None)
    assert fix == []
    assert "已结束" in await say(runtime, "周店长", "1")
    assert "没有权限" in await say(runtime, "小红", "/整改 1 已整改") or "权限" in last_text(runtime)
    assert "没有 999 号整改任务" in await say(runtime, "周店长", "/整改 999 已整改")  # was the usage line
    assert "用法" in await say(runtime, "周店长", "/整改 1 随便")
    trail = stores_store.audit_trail(store, 1)
    assert [(p, a) for _t, p, a, _d in trail] == [("", "opened"), (manager, "pressed")]


async def test_shelf_photo_red_then_fixed_by_photo(runtime, store, clock, shelf, tmp_path):
    manager = pid(store, "周店长")
    bad, good, dark = tmp_path / "bad.jpg", tmp_path / "good.jpg", tmp_path / "dark.jpg"
    bad.write_bytes(b"bad")
    good.write_bytes(b"good")
    dark.write_bytes(b"too_dark")
    await runtime.advance_to(at(2, 11))
    text = await say(runtime, "小美", f"图片:{dark}")
    assert "请对准饮料柜货架重拍" in text and "太暗" in text
    text = await say(runtime, "小美", f"图片:{bad}")
    assert "50%" in text and "可乐" in text and "雪碧" in text
    assert runtime.console.delivered[-1].reply.image_path.endswith(".png")
    await runtime.advance_to(at(2, 22, 40))
    card = next(d for d in sent_to(runtime, manager, "stores:fix:") if d.reply.buttons)
    assert "货效" in card.reply.title and "可乐" in card.text
    runtime.console.last_buttons["周店长"] = list(card.reply.buttons)
    assert "照片" in await say(runtime, "周店长", "1"), "a shelf fix needs a photo, not a button"
    assert stores_store.open_fix_for(store, "s1", "shelf") is not None
    await runtime.advance_to(at(3, 10))
    text = await say(runtime, "周店长", f"图片:{good}")
    assert "已确认完成" in text
    assert stores_store.open_fix_for(store, "s1", "shelf") is None
    text = await say(runtime, "周店长", "/门店")
    assert "货效" in text and "96%" in text
    assert shelf.checked == 3


async def test_conversion_red_after_72h_with_care_sms(runtime, store, clock):
    manager = pid(store, "周店长")
    await runtime.advance_to(at(2, 15))
    assert "已登记" in await say(runtime, "小美", "/体验 李女士 13800001111")
    await say(runtime, "小美", "/体验 王先生")
    assert "已记录" in await say(runtime, "小美", "/成交 王先生")
    await runtime.advance_to(at(5, 22, 40))  # 72 h passed for 李女士 on the 5th
    actions = "\n".join(d.text for d in sent_to(runtime, manager, "stores:fix:"))
    assert "转化" in actions and "李女士" in actions and "短信" in actions and "立减 100 元" in actions
    assert "王先生" not in actions.split("短信")[0]


async def test_rank_chart_and_baseline(runtime, store, clock):
    with store.transaction():
        stores_store.put_receptions(store, "s1", "2026-03-01", "*", 80, 5, "pos", 0)
        stores_store.put_receptions(store, "s2", "2026-03-01", "*", 20, 5, "pos", 0)
    text = await say(runtime, "区域王", "/门店排行 华东区")
    assert text.index("徐家汇店") < text.index("南京西路店"), "the worse store first"
    image = runtime.console.delivered[-1].reply
    assert image.image_path and Path(image.image_path).stat().st_size > 1000
    assert "🟧" in image.alt_text or "🟥" in image.alt_text
    assert "没有区域" in await say(runtime, "区域王", "/门店排行 火星区")
    text = await say(runtime, "管理员", "/基线")
    assert "门店人效" in text and "9.4" in text and "12.6" in text


async def test_a_photo_that_cannot_be_checked_is_explained_in_chinese(runtime, store, clock, tmp_path):
    """No fake at the shelf boundary: the real planogram loader finds no usable planogram folder, and a photo that
    cannot be fetched; the clerk's answer names the problem in Chinese, with no English reason inside."""
    from test_cli_chinese import english

    photo = tmp_path / "shelf.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg")
    await runtime.advance_to(at(2, 11))
    text = await say(runtime, "小美", f"图片:{photo}")
    assert "货架模板" in text and english(text) == [], text
    text = await say(runtime, "小美", f"图片:{tmp_path / 'gone.jpg'}")
    assert "照片" in text and english(text) == [], text


async def test_receptions_with_the_unit_as_its_own_word(runtime, store):
    """A clerk types "/接待 35 人" (a space before the unit, as many input methods leave): 35 receptions, not a
    store called "人"."""
    text = await say(runtime, "小美", "/接待 35 人")
    assert "已记录" in text and "35" in text and "没有找到" not in text, text
    text = await say(runtime, "小刚", "/接待 １５ 人次 南京西路店")
    assert "已记录" in text and "25.0" in text, text


async def test_which_store_answers_show_the_command_that_was_typed(runtime, store):
    """An area manager (three stores, none his own) is asked which store in the form of the command he typed —
    "/接待 35 南京西路店", not "/门店 …" — and told that experiences and deals are the staff's to record, since
    /体验 and /成交 take no store name."""
    text = await say(runtime, "区域王", "/接待 35")
    assert "/接待 35 南京西路店" in text and "/门店" not in text, text
    text = await say(runtime, "区域王", "/门店")
    assert "/门店 南京西路店" in text, text
    for line in ("/体验 王女士 13800138000", "/成交 王女士"):
        text = await say(runtime, "区域王", line)
        assert "店长或店员" in text and "/门店" not in text, (line, text)
    assert store.conn.execute("SELECT COUNT(*) FROM store_experiences").fetchone()[0] == 0


async def test_rank_title_says_whose_stores_it_ranks(runtime, store, clock):
    """"全部门店" only when it is every store: a store manager's ranking is titled with his store, an area's
    with the area."""
    text = await say(runtime, "周店长", "/门店排行")
    assert text.splitlines()[0].startswith("门店排行｜南京西路店"), text
    assert "全部门店" not in text
    text = await say(runtime, "区域王", "/门店排行")
    assert text.splitlines()[0].startswith("门店排行｜全部门店"), text
    text = await say(runtime, "区域王", "/门店排行 西北区")
    assert text.splitlines()[0].startswith("门店排行｜西北区"), text


@pytest.mark.parametrize("line", ["/整改 1已整改", "/整改 ＃1 已整改", "/整改 #1　已整改", "/整改 １ 已整改"])
async def test_fix_command_as_a_chinese_keyboard_types_it(runtime, store, clock, line):
    """The number glued to the word, a full-width ＃ or digit, an ideographic space: the task is closed, not
    answered with the usage line."""
    with store.transaction():
        for d in ("2026-03-01", "2026-03-02", "2026-02-28"):
            stores_store.put_receptions(store, "s1", d, "*", 10, 5, "pos", 0)
    await runtime.advance_to(at(2, 22, 40))
    assert stores_store.open_fixes(store, None)
    text = await say(runtime, "周店长", line)
    assert "已整改 ✓" in text and "用法" not in text, text
    assert stores_store.open_fixes(store, None) == []


async def test_experience_phone_written_any_way_is_found_by_the_deal(runtime, store):
    """A phone typed with dashes, spaces or +86 at /体验 and plainly at /成交 (or the other way round) is one
    customer: the deal counts, and "+86" does not become part of the customer's name."""
    assert "已登记" in await say(runtime, "小美", "/体验 王女士 138-0013-8000")
    assert "已记录" in await say(runtime, "小美", "/成交 13800138000")
    assert "已登记" in await say(runtime, "小美", "/体验 李先生 13900139000")
    assert "已记录" in await say(runtime, "小美", "/成交 139 0013 9000")
    text = await say(runtime, "小美", "/体验 张三 +86 137 0013 7000")
    assert "「张三」" in text, text
    assert "已记录" in await say(runtime, "小美", "/成交 +8613700137000")
    rows = [tuple(r) for r in store.conn.execute(
        "SELECT customer, phone, deal_at IS NOT NULL FROM store_experiences ORDER BY id")]
    assert rows == [("王女士", "13800138000", 1), ("李先生", "13900139000", 1), ("张三", "13700137000", 1)], rows


async def test_a_second_receptions_report_says_it_replaced_the_first(runtime, store):
    """"/接待 35" then "/接待 40" keeps 40 — the day's total, not 75 — and now says so, so a clerk who meant "40
    more" knows to send the total instead of silently losing the morning's 35."""
    await say(runtime, "小美", "/接待 35")
    text = await say(runtime, "小美", "/接待 40")
    assert "已记录" in text and "原来报的 35 人已改为 40 人" in text and "合计" in text, text
    text = await say(runtime, "小美", "/接待 40")
    assert "原来报的" not in text, "the same figure again replaces nothing"


@pytest.mark.parametrize("line,status", [("/整改 1 已完成", "fixed"), ("/整改 1 搞定了", "fixed"),
                                         ("/整改 1 需要帮助", "support"), ("/整改 1 无需整改", "not_applicable")])
async def test_fix_command_takes_the_everyday_words(runtime, store, clock, line, status):
    """A store manager answers in his own words — 已完成, 搞定了, 需要帮助, 无需整改 — not only the button texts."""
    with store.transaction():
        for d in ("2026-03-01", "2026-03-02", "2026-02-28"):
            stores_store.put_receptions(store, "s1", d, "*", 10, 5, "pos", 0)
    await runtime.advance_to(at(2, 22, 40))
    text = await say(runtime, "周店长", line)
    assert "用法" not in text, text
    assert store.conn.execute("SELECT status FROM store_fixes WHERE id = 1").fetchone()[0] == status


async def test_someone_without_a_store_is_told_so_not_that_all_is_fixed(runtime, store):
    """A sales rep typing /整改 was told "目前没有未完成的整改任务 ✓" — as if his stores were all fixed — and
    "/门店 南京西路店" listed "你可以查看：—"; both now say he is linked to no store."""
    for line in ("/整改", "/门店 南京西路店", "/门店排行"):
        text = await say(runtime, "张伟", line)
        assert "没有关联任何门店" in text and "✓" not in text and "—" not in text, (line, text)
