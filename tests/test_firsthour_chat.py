"""The first minutes in `salespulse chat`, as a new admin meets them (issue 13, defects 1, 2 and 5).

- A line typed in a new session is never taken for a redelivery of an earlier session's line, even though every
  session's virtual clock starts at the same instant (`--at` or the demo's date).
- The screen shows what this person receives; what goes to others is one summary line (who, how many), and log
  lines go to a file, never between the chat lines.
- A mistyped `--db` is refused with one sentence instead of leaving an empty database behind.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from visibility_helpers import add_lead, record

from bot.cli import main as cli_main
from bot.clock import VirtualClock, to_ms
from bot.config import load_config
from bot.org import load_org_section
from store import open_store

ORG = """
[[org.teams]]
name = "华东一组"
manager = "m1"

[[org.teams]]
name = "华南组"
manager = "m2"

[[org.people]]
id = "m1"
name = "王经理"
role = "manager"
team = "华东一组"

[[org.people]]
id = "r1"
name = "张伟"
team = "华东一组"

[[org.people]]
id = "m2"
name = "陈总监"
role = "manager"
team = "华南组"

[[org.people]]
id = "r3"
name = "刘洋"
team = "华南组"
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text(ORG, encoding="utf-8")
    open_store(tmp_path / "team.db").close()
    yield tmp_path
    logging.getLogger().handlers.clear()  # cmd_chat points the root logger at a file in tmp_path


def chat(capsys, monkeypatch, *argv: str, lines: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    code = cli_main(["chat", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_every_session_answers_its_first_line(folder, capsys, monkeypatch):
    # every session's clock stands at the same instant when its first line is typed (what a fast typist or a
    # pipe gets with --at): the clock is injected so that this is certain, not one run in two
    monkeypatch.setattr("bot.cli.core._chat_clock", lambda *a: VirtualClock(1_779_674_400_000))
    at = ("--at", "2026-05-25 10:00")
    for _ in range(3):
        code, out, _ = chat(capsys, monkeypatch, "--db", "team.db", "--as", "王经理", *at, lines="/我是谁\n")
        assert code == 0
        assert "你是 王经理（主管）" in out.split("\n", 1)[1], out  # the reply, not only the banner


def _seed_silent_leads(db: str) -> None:
    """One lead per team whose customer last spoke a week before the chat's --at time."""
    store = open_store(db)
    load_org_section(store, load_config("bot.toml").org)
    week_ago = to_ms(datetime(2026, 5, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    for lid, customer, owner in (("L1", "东方机床", "r1"), ("L2", "南方泵业", "r3")):
        add_lead(store, lid, owner, week_ago, customer=customer)
        record(store, lid, week_ago, role="customer", text="报价收到了", tags=(("客户回复", "客户响应", 1.0),))
    store.close()


def test_a_rep_sees_only_their_own_messages_and_no_log_lines(folder, capsys, monkeypatch):
    _seed_silent_leads("team.db")
    # a first session a week earlier starts the scheduler's jobs; the second one catches their missed runs up
    chat(capsys, monkeypatch, "--db", "team.db", "--as", "张伟", "--at", "2026-05-18 10:05", lines="/我是谁\n")
    code, out, err = chat(capsys, monkeypatch, "--db", "team.db", "--as", "张伟", "--at", "2026-05-25 10:00",
                          lines="/我是谁\n")
    assert code == 0
    assert "东方机床" in out  # their own lead's silence alert reaches them
    assert "南方泵业" not in out  # another team's customer: never on a rep's screen
    assert "其他" in out and "刘洋" in out  # … only counted, with its recipient
    assert "WARNING" not in out + err and "salespulse." not in out + err
    assert (folder / "salespulse-chat.log").is_file()


def test_a_mistyped_db_is_refused_and_not_created(folder, capsys, monkeypatch):
    code, out, err = chat(capsys, monkeypatch, "--db", "taem.db", "--as", "王经理", lines="/我是谁\n")
    assert code == 2
    assert "taem.db" in err and len(err.strip().splitlines()) == 1
    assert not (folder / "taem.db").exists()


def test_export_without_db_points_at_the_demo_database(folder, capsys, monkeypatch):
    (folder / "demo-out").mkdir()
    open_store(folder / "demo-out" / "salespulse-demo.db").close()
    code = cli_main(["export", "backup.zip"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "demo-out/salespulse-demo.db" in err
    assert not (folder / "salespulse.db").exists() and not (folder / "backup.zip").exists()


def test_chatting_on_the_demo_database_next_to_a_real_bot_toml_keeps_the_demo_org(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    from bot.cli.demo import run_demo
    from bot.demo.company import Sizes

    demo = run_demo(seed=3, days=3, db=str(tmp_path / "demo-out" / "demo.db"), sizes=Sizes(customers=12, leads=16))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text(  # the project's sample bot.toml, with 王经理 / 张伟 / 华东一组
        (Path(__file__).resolve().parents[1] / "bot.toml").read_text(encoding="utf-8"), encoding="utf-8")
    rep = next(p for p in demo.company.people if p.role == "rep")
    code, out, _ = chat(capsys, monkeypatch, "--db", demo.db_path, "--as", rep.name, lines="/我是谁\n")
    assert code == 0 and f"你是 {rep.name}" in out
    store = open_store(demo.db_path)
    names = {r[0] for r in store.conn.execute("SELECT name FROM people")}
    teams = {r[0] for r in store.conn.execute("SELECT name FROM teams")}
    store.close()
    assert not names & {"王经理", "张伟", "李娜"}, names
    assert "华东一组" not in teams
    logging.getLogger().handlers.clear()
