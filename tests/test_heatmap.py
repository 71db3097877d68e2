"""/heatmap and /timeline: the PNG with Chinese labels in the bundled font, the Unicode-block text version for a
known pattern, cold zones, suggestions for ambiguous names, and who may see which lead."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from conftest import T0
from visibility_helpers import DAY, HOUR, add_lead, record, visibility_config

from bot.replies import ReplyKind
from handlers import charts

SALES, REPLY, CROSS = "销售动作", "客户响应", "跨部门协作"


@pytest.fixture
def config(config, tmp_path):
    return visibility_config(config, str(tmp_path / "data"))


@pytest.fixture
def pattern(runtime, store, clock):
    """Lead P (张伟) from Monday 03-02 to Wednesday 03-11 with a known pattern of touches."""
    add_lead(store, "P", "r1", T0, customer="华东机械", title="数控机床采购")
    record(store, "P", T0 + 1 * HOUR, person="r1", text="已发送报价单v2.3", tags=(("已发送报价单v2.3", SALES, 1.0),))
    record(store, "P", T0 + DAY, person="r1", text="附件:XX型号参数.pdf", tags=(("资料交付", SALES, 2.0),))
    record(store, "P", T0 + DAY + HOUR, role="customer", text="收到，我看看", tags=(("客户回复", REPLY, 1.0),))
    record(store, "P", T0 + 2 * DAY, person="t1", role="colleague", text="技术交流会",
           tags=(("技术部参与会议", CROSS, 4.0),))
    record(store, "P", T0 + 8 * DAY, person="r1", text="上门拜访", tags=(("拜访", SALES, 3.0), ("3日内二次联系", SALES, 4.0)))
    clock.set(T0 + 9 * DAY + 2 * HOUR)  # Wednesday 03-11 11:00
    return runtime


EXPECTED = [
    "过程热力图｜华东机械·数控机床采购（03-02 → 03-11）",
    "           3/2    3/9",
    "销售动作   ░▒      █ ",
    "客户响应    ░        ",
    "跨部门协作   ▓       ",
    "冷区          ~~~~~",
]


async def image_reply(runtime, user: str, line: str):
    before = len(runtime.console.delivered)
    runtime.console.type_line(user, line)
    await runtime.settle()
    (delivered,) = runtime.console.delivered[before:]
    assert delivered.key.startswith("deferred:"), "drawn by the deferred job, off the dispatcher"
    return delivered.reply


async def test_heatmap_text_version_for_a_known_pattern(pattern, config):
    reply = await image_reply(pattern, "张伟", "/热力图 华东机械")
    assert reply.kind == ReplyKind.IMAGE
    assert reply.title == EXPECTED[0]
    lines = reply.alt_text.splitlines()
    assert lines[:5] == EXPECTED[1:]
    assert "░=>0" in lines[5] and "█=≥7" in lines[5] and "≥3 天" in lines[5]
    path = Path(reply.image_path)
    assert path.is_file() and path.parent == Path(config.bot.data_dir) / "charts"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_has_chinese_labels_in_the_bundled_font(tmp_path):
    import matplotlib.image
    import mplfonts

    data = charts.HeatmapData(
        title="过程热力图｜华东机械·数控机床采购", days=tuple(f"2026-03-{d:02d}" for d in range(1, 21)),
        row_labels=("销售动作", "客户响应", "跨部门协作"),
        values=((1, 2, 0, 0, 0, 0, 7) + (1,) * 13, (0, 1) + (0,) * 18, (0, 0, 4) + (0,) * 17),
        cold=((2, 5),), levels=(1.0, 2.0, 4.0, 7.0),
        texts={"cold_caption": "红色虚线框 = 冷区：连续 ≥3 天没有任何动作", "legend_title": "每日加权动作数",
               "x_label": "日期"},
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = charts.render_png(data, tmp_path / "charts" / "h.png")
    assert not [w for w in caught if "Glyph" in str(w.message)], "every Chinese glyph was found"
    bundled = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    assert info.font_files == {str(bundled)}
    assert charts.cjk_font_path() == str(bundled)
    pixels = matplotlib.image.imread(info.path)
    assert pixels.shape[0] == info.height_px and pixels.shape[1] == info.width_px and info.width_px > 500
    assert pixels[..., :3].std() > 0.05, "not a blank image"
    # the cold zone outline is drawn in its own colour
    red = (abs(pixels[..., 0] - 0xD6 / 255) < 0.02) & (abs(pixels[..., 1] - 0x27 / 255) < 0.02)
    assert red.sum() > 50


@pytest.mark.parametrize(("totals", "min_days", "zones"), [
    ([1, 0, 0, 0, 1], 3, [(1, 3)]),
    ([1, 0, 0, 0, 1], 4, []),
    ([0, 0, 0, 1, 0, 0], 2, [(0, 2), (4, 5)]),
    ([1, 0.5, 2], 1, []),
    ([0, 0, 0], 3, [(0, 2)]),
])
def test_cold_zones(totals, min_days, zones):
    assert charts.cold_zones(totals, min_days) == zones


def test_text_version_round_trips_and_can_carry_its_title():
    data = charts.HeatmapData("标题", ("2026-03-01", "2026-03-02"), ("销售动作", "客户响应", "跨部门协作"),
                              ((0, 1), (2, 0), (0, 0)), (), (1.0, 2.0, 4.0, 7.0))
    again = charts.HeatmapData.from_dict(data.to_dict())
    assert again == data
    assert charts.text_heatmap(again).splitlines()[0] == "标题"
    assert charts.text_heatmap(again, with_title=False).splitlines()[1:4] == ["销售动作    ░", "客户响应   ▒ ", "跨部门协作   "]


def test_shade_levels():
    levels = (1.0, 2.0, 4.0, 7.0)
    assert [charts.shade_level(v, levels) for v in (0, 0.3, 1, 1.9, 2, 4, 6.9, 7, 50)] == [0, 1, 1, 1, 2, 3, 3, 4, 4]


async def test_heatmap_permissions_and_suggestions(runtime, store, clock):
    add_lead(store, "A1", "r1", T0, customer="甲公司", title="一期")
    add_lead(store, "A2", "r1", T0, customer="甲公司", title="二期")
    add_lead(store, "B1", "r2", T0, customer="乙公司", title="扩产")
    add_lead(store, "C1", "r3", T0, customer="丙公司", title="新厂")
    clock.set(T0 + 3 * DAY)

    async def answer(user: str, line: str):
        before = len(runtime.console.delivered)
        runtime.console.type_line(user, line)
        await runtime.settle()
        return runtime.console.delivered[before:][-1].reply

    ambiguous = await answer("张伟", "/heatmap 甲公司")
    assert ambiguous.kind == ReplyKind.TEXT and "A1" in ambiguous.text and "A2" in ambiguous.text
    assert (await answer("张伟", "/heatmap A2")).kind == ReplyKind.IMAGE
    assert "找不到" in (await answer("张伟", "/heatmap 丙公司")).text, "other team's lead looks unknown"
    assert "找不到" in (await answer("张伟", "/heatmap 乙公司")).text, "a teammate's lead is not the rep's"
    assert (await answer("王经理", "/heatmap 乙公司")).kind == ReplyKind.IMAGE
    assert "找不到" in (await answer("王经理", "/heatmap 丙公司")).text
    assert (await answer("陈总监", "/热力图 丙公司")).kind == ReplyKind.IMAGE
    assert (await answer("管理员", "/heatmap 新厂")).kind == ReplyKind.IMAGE
    assert "找不到" in (await answer("张伟", "/heatmap 不存在的客户")).text
    assert "用法" in (await answer("张伟", "/heatmap")).text
    assert "没有权限" in (await answer("wmSTRANGER", "/heatmap 甲公司")).text


async def test_timeline_lists_tagged_events(pattern):
    pattern.console.type_line("王经理", "/时间线 数控机床采购")
    await pattern.settle()
    text = pattern.console.delivered[-1].text
    lines = text.splitlines()
    assert lines[0].startswith("时间线｜华东机械·数控机床采购") and "共 5 条" in lines[0]
    assert lines[1].startswith("03-02 10:00  张伟  [已发送报价单v2.3]")
    assert any(ln.startswith("03-03 10:00  华东机械  [客户回复]  收到，我看看") for ln in lines)
    assert any("孙工  [技术部参与会议]" in ln for ln in lines)
    assert "拜访、3日内二次联系" in lines[-1] or "3日内二次联系、拜访" in lines[-1]
    pattern.console.type_line("刘洋", "/timeline 华东机械")
    await pattern.settle()
    assert "找不到" in pattern.console.delivered[-1].text


async def test_alert_button_opens_the_heatmap(pattern, clock):
    pattern.console.type_line("张伟", "/timeline P")
    await pattern.settle()
    # a silence alert card carries the buttons; pressing one as the rep answers with the heatmap
    from handlers import silence

    assert silence.JOB == "silence_sweep"
    before = len(pattern.console.delivered)
    from bot.events import Actor, CardAction

    ev = CardAction(event_id="console:press:1", platform="console", occurred_at=clock.now_ms(),
                    actor=Actor(platform_id="张伟"), action="heatmap", value={"lead": "P"})
    pattern.console.ctx.accept("console", "press:1", {}, ev)
    ev2 = CardAction(event_id="console:press:2", platform="console", occurred_at=clock.now_ms(),
                     actor=Actor(platform_id="刘洋"), action="timeline", value={"lead": "P"})
    pattern.console.ctx.accept("console", "press:2", {}, ev2)
    await pattern.settle()
    got = pattern.console.delivered[before:]
    kinds = {d.target.person_id: d.reply for d in got}
    assert kinds["r1"].kind == ReplyKind.IMAGE
    assert "没有权限" in kinds["r3"].text


def test_bad_levels_stop_the_start(store, clock, config):
    import dataclasses

    from visibility_helpers import make_runtime

    from bot.errors import ConfigError

    bad = dataclasses.replace(config, heatmap=dataclasses.replace(config.heatmap, levels=(4.0, 2.0)))
    with pytest.raises(ConfigError, match="heatmap.levels"):
        make_runtime(store, clock, bad)


async def test_typo_gets_did_you_mean_within_scope(runtime, store, clock):
    add_lead(store, "M1", "r1", T0, customer="华东机械", title="数控机床采购")
    add_lead(store, "M2", "r3", T0, customer="华东机电", title="产线改造")
    runtime.console.type_line("张伟", "/热力图 华东机床")
    await runtime.settle()
    text = runtime.console.delivered[-1].text
    assert "你是不是要找" in text and "M1" in text and "M2" not in text, "suggestions stay inside the rep's scope"
