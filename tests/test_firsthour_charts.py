"""Chart files (issue 13, defect 6): the path a reply names is where the file is, wherever the bot was started;
asking /修订 again about the same weeks does not add a file, and old charts are pruned instead of piling up."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from test_forecast_chat import ask, seed

from handlers import charts


@pytest.fixture
def config(config, tmp_path):
    # a relative data_dir, as in the shipped bot.toml; the process runs from another folder than tmp_path
    return dataclasses.replace(config, bot=dataclasses.replace(config.bot, data_dir="salespulse-data"))


def _image_paths(runtime, since: int) -> list[Path]:
    return [Path(d.reply.image_path) for d in runtime.console.delivered[since:] if d.reply.image_path]


async def test_revisions_chart_path_is_absolute_and_not_redrawn_per_request(runtime, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seed(runtime.store)
    await ask(runtime, "张伟", "/调整 华东电网巡检 金额 30万 预算削减")
    n = len(runtime.console.delivered)
    await ask(runtime, "王经理", "/修订")
    await ask(runtime, "王经理", "/修订")
    paths = _image_paths(runtime, n)
    assert len(paths) == 2 and all(p.is_absolute() and p.is_file() for p in paths)
    assert paths[0] == paths[1]  # the same weeks, the same picture: one file
    assert len(list(paths[0].parent.glob("revisions-*.png"))) == 1


def test_old_charts_are_pruned(tmp_path):
    for i in range(7):
        f = tmp_path / f"revisions-{i}.png"
        f.write_bytes(b"png")
        os.utime(f, (1_000 + i, 1_000 + i))
    (tmp_path / "heatmap_x.png").write_bytes(b"png")
    assert charts.prune_charts(tmp_path, "revisions-", keep=3) == 4
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["heatmap_x.png", "revisions-4.png",
                                                             "revisions-5.png", "revisions-6.png"]


def test_demo_screen_names_chart_files_that_exist_from_the_current_folder(tmp_path, monkeypatch):
    from bot.cli.demo import run_demo
    from bot.demo.company import Sizes

    monkeypatch.chdir(tmp_path)
    shown: list[str] = []
    outcome = run_demo(seed=3, days=8, db="demo-out/demo.db", sizes=Sizes(customers=30, leads=40),
                       emit=shown.append)
    lines = [ln for ln in shown if ".png" in ln]
    assert lines, "the demo's chat draws at least one chart"
    for ln in lines:
        path = ln[ln.index("demo-out"):].split()[0].rstrip("）)")
        assert Path(path).is_file(), ln
    # the saved transcript stays independent of the folder (same seed, same transcript)
    assert not any("demo-out" in ln for ln in outcome.transcript)
