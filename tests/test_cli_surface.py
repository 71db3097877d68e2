"""The command line as a new admin meets it: every mistake (a missing or GBK-encoded import file, an unknown
`chat --as` name, `serve` without any bot.toml or on a busy port, `outbox` in the wrong folder or with ids that are
not dead) gets one sentence that says what to do, exit code 2 (or 1 when part of the work was refused), and never a
traceback. Each test drives `bot.cli.main` exactly as the `salespulse` script does."""

from __future__ import annotations

import io
import socket
import sqlite3

import pytest

from bot.cli import main as cli_main
from store import open_store
from store import outbox as outbox_store

ORG = """
[bot]
locale = "en"

[[org.people]]
id = "m1"
name = "王经理"
role = "manager"
team = "华东一组"

[[org.people]]
id = "r1"
name = "张伟"
team = "华东一组"
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A scratch folder with no bot.toml, as the working directory (what `cd $(mktemp -d)` gives)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# ------------------------------------------------------------------ import: files it cannot read


@pytest.mark.parametrize("kind", ["org", "archive", "procurement"])
def test_import_of_a_missing_file_is_one_sentence(folder, capsys, kind):
    code, _out, err = run(capsys, "import", kind, "nope.csv", "--db", "x.db")
    assert code == 2
    assert err.startswith("salespulse: ") and "nope.csv" in err and len(err.strip().splitlines()) == 1


def test_import_org_of_a_gbk_csv_says_save_as_utf8_and_imports_nothing(folder, capsys):
    (folder / "org.csv").write_bytes("id,name,role\nr9,王五,rep\n".encode("gbk"))
    code, _out, err = run(capsys, "import", "org", "org.csv", "--db", "x.db")
    assert code == 2
    assert err.startswith("salespulse: org.csv：不是 UTF-8 文本") and "CSV UTF-8" in err
    store = open_store(folder / "x.db")
    assert store.conn.execute("SELECT COUNT(*) FROM people").fetchone()[0] == 0
    store.close()


def test_import_org_reports_bad_rows_with_line_numbers_and_keeps_the_good_ones(folder, capsys):
    (folder / "org.csv").write_text("id,name,role,team\nr1,张伟,rep,华东\nr2,李娜,boss,华东\nr3\n", encoding="utf-8")
    code, _out, err = run(capsys, "import", "org", "org.csv", "--db", "x.db")
    assert code == 2
    assert "org.csv:3：" in err and "org.csv:4：" in err and "org.csv:2：" not in err
    store = open_store(folder / "x.db")
    assert [r[0] for r in store.conn.execute("SELECT id FROM people")] == ["r1"]
    store.close()


# ------------------------------------------------------------------ chat --as


def test_chat_as_an_unknown_name_lists_people_who_exist(folder, capsys, monkeypatch):
    (folder / "bot.toml").write_text(ORG, encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("/whoami\n"))
    code, out, err = run(capsys, "chat", "--as", "张三")
    assert code == 2
    assert 'there is no "张三" in the org of salespulse.db' in err and "王经理" in err and "张伟" in err
    assert "(2 people)" in err
    assert out == ""  # no banner, no chat as nobody

    monkeypatch.setattr("sys.stdin", io.StringIO("/whoami\n"))
    code, out, _err = run(capsys, "chat", "--as", "张伟")
    assert code == 0 and "张伟" in out


def test_chat_as_anyone_on_an_empty_database_points_to_import_and_demo(folder, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _out, err = run(capsys, "chat", "--as", "张伟")
    assert code == 2
    assert "salespulse.db" in err and "salespulse import org" in err and "salespulse demo" in err


# ------------------------------------------------------------------ serve


def test_serve_without_any_bot_toml_says_so_instead_of_naming_defaults(folder, capsys):
    code, _out, err = run(capsys, "serve")
    assert code == 2
    assert "<defaults>" not in err
    assert "bot.toml" in err and "salespulse demo" in err


def test_serve_on_a_busy_port_is_one_sentence(folder, capsys):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    (folder / "bot.toml").write_text(f'[bot]\nlocale = "en"\n[server]\nport = {port}\n[wecom]\nenabled = true\n'
                                     f'corp_id = "ww1"\nagent_id = 1\nsecret = "s"\ntoken = "t"\n'
                                     f'encoding_aes_key = "{"a" * 43}"\n', encoding="utf-8")
    try:
        code, _out, err = run(capsys, "serve")
    finally:
        holder.close()
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in err and "--port" in err


# ------------------------------------------------------------------ outbox


def test_outbox_in_a_folder_without_a_database_does_not_create_one(folder, capsys):
    code, _out, err = run(capsys, "outbox")
    assert code == 2 and "salespulse.db" in err
    assert not (folder / "salespulse.db").exists()


def _outbox_db(folder, n: int) -> str:
    path = folder / "o.db"
    store = open_store(path)
    for i in range(n):
        outbox_store.enqueue(store, f"k{i}", "console", {"person_id": "r1"}, {"kind": "text", "text": f"第{i}条"}, 1_000)
    store.close()
    return str(path)


def test_outbox_resend_names_the_ids_it_did_not_requeue(folder, capsys):
    db = _outbox_db(folder, 2)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE outbox SET status = 'dead', last_error = 'HTTP 500' WHERE id = 1")
    conn.commit()
    conn.close()
    (folder / "bot.toml").write_text('[bot]\nlocale = "en"\n', encoding="utf-8")

    code, out, err = run(capsys, "outbox", "--db", db)
    assert code == 0 and "dead 1" in out and "HTTP 500" in out and "--resend" in out  # the hint for dead ones

    code, out, err = run(capsys, "outbox", "--db", db, "--resend", "1", "2", "99")
    assert code == 1
    assert "put 1 dead replies back in the queue" in out
    assert "did not re-send #2, #99" in err

    code, out, _err = run(capsys, "outbox", "--db", db, "--resend")
    assert code == 0 and "no dead replies" in out


def test_outbox_limit_must_be_positive(folder, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["outbox", "--limit", "0"])
    assert exc.value.code == 2
    assert "必须是 1 或更大的数" in capsys.readouterr().err


# ------------------------------------------------------------------ help


@pytest.mark.parametrize("command, phrases", [
    ("replay", ["录制文件", "数据库文件", "报告行号"]),
    ("outbox", ["只看这个状态的回复", "最新的在前", "数据库文件", "dead"]),
    ("serve", ["salespulse doctor", "覆盖 [server] port"]),
])
def test_every_argument_of_the_core_commands_is_explained(capsys, command, phrases):
    with pytest.raises(SystemExit):
        cli_main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for phrase in phrases:
        assert phrase in text


def test_doctor_fails_a_config_whose_time_zone_would_crash_serve(folder, capsys):
    (folder / "bot.toml").write_text('[bot]\nlocale = "en"\ntimezone = "Asia/Shangai"\n', encoding="utf-8")
    code, out, _err = run(capsys, "doctor")
    assert code == 1
    assert "bot.toml:3: bot.timezone: unknown time zone 'Asia/Shangai'" in out
