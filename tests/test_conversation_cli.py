"""`salespulse classify` (batch JSONL and --text, --explain) and `salespulse rules check` over classifier packs:
good lines are labelled, bad lines are named by line number and skipped, a pack example that no longer holds is
an error naming its file and line, a broken pack names its line. Driven through bot.cli.main like the script."""

from __future__ import annotations

import json

import pytest

from bot.cli import main as cli_main


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_batch_labels_good_lines_and_names_bad_ones(folder, capsys):
    (folder / "in.jsonl").write_text("\n".join([
        json.dumps({"id": "a", "role": "customer", "text": "别家便宜两成啊 你们贵在哪"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "b", "role": "boss", "text": "太贵了"}, ensure_ascii=False),
        "",
        json.dumps({"id": 7, "role": "rep", "text": "报价单发您邮箱了 附件:报价.pdf"}, ensure_ascii=False),
        json.dumps({"id": "c", "role": "customer"}),
        json.dumps(["x"]),
    ]) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "classify", "in.jsonl")
    assert code == 1
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines == [{"id": "a", "labels": ["price_objection", "competitor"], "evidence": {}},
                     {"id": 7, "labels": ["material_delivery"], "evidence": {}}]
    assert "第 2 行" in err and "JSON" in err
    assert "第 3 行" in err and "role" in err
    assert "第 6 行" in err and "第 7 行" in err
    assert "已分类 2 行，跳过 4 行" in err


def test_batch_to_a_file_with_explain(folder, capsys):
    (folder / "in.jsonl").write_text(
        json.dumps({"id": "a", "role": "customer", "text": "老板说今年钱紧 再比较一下"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    code, out, _err = run(capsys, "classify", "in.jsonl", "-o", "out.jsonl", "--explain")
    assert code == 0 and out == ""
    (row,) = [json.loads(x) for x in (folder / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert row["labels"] == ["price_objection", "hesitation"]
    assert any("钱紧" in w for w in row["evidence"]["price_objection"])
    assert any("比较" in w for w in row["evidence"]["hesitation"])


def test_one_line_with_explain_shows_labels_and_what_negation_cancelled(folder, capsys):
    code, out, _err = run(capsys, "classify", "--text", "交期倒是没问题 就是怕质量不稳定", "--as", "customer",
                          "--explain")
    assert code == 0
    assert "quality_trust（信任）" in out and "因为：" in out
    assert "✘ delivery_concern" in out  # 交期 was seen and cancelled by its negation
    code, out, _err = run(capsys, "classify", "--text", "嗯", "--as", "rep")
    assert "没有标签" in out


def test_missing_input_and_missing_file(folder, capsys):
    code, _out, err = run(capsys, "classify")
    assert code == 2 and "IN.jsonl" in err
    code, _out, err = run(capsys, "classify", "nope.jsonl")
    assert code == 1 and "nope.jsonl" in err


PACK = """[pack]
name = "mine"

[names]
competitors = ["快达云"]

[[example]]
role = "customer"
text = "快达云那边报得低"
labels = ["competitor"]

[[example]]
role = "customer"
text = "我们再想想"
labels = ["after_sales"]
"""


def test_rules_check_runs_pack_examples_and_names_the_failing_line(folder, capsys):
    (folder / "conversation.d").mkdir()
    (folder / "conversation.d" / "mine.toml").write_text(PACK, encoding="utf-8")
    (folder / "bot.toml").write_text("", encoding="utf-8")
    code, out, err = run(capsys, "rules", "check")
    assert code == 1
    assert "mine.toml:12:" in out and "after_sales" in out and "我们再想想" in out
    assert "mine.toml:7:" not in out  # the competitor example holds
    assert "1 个分类示例或词库错误" in err


def test_rules_check_reports_a_broken_pack_line_and_a_good_pack_passes(folder, capsys):
    bad = folder / "bad.toml"
    bad.write_text('[pack]\nname = "x"\n\n[[cue]]\nlabel = "competitor"\nregex = ["(a+)+"]\n', encoding="utf-8")
    code, out, _err = run(capsys, "rules", "check", str(bad))
    assert code == 1 and "bad.toml:4:" in out
    good = folder / "good.toml"
    good.write_text(PACK.replace('labels = ["after_sales"]', 'labels = ["hesitation"]'), encoding="utf-8")
    code, out, _err = run(capsys, "rules", "check", str(good))
    assert code == 0 and "分类词库正常" in out


def test_admin_names_make_a_competitor(folder):
    from handlers.conversation.classifier import Classifier
    from handlers.conversation.lexicon import pack_paths
    (folder / "p.toml").write_text(PACK, encoding="utf-8")
    clf = Classifier.from_paths(pack_paths(extra=[str(folder / "p.toml")]))
    got = clf.classify("快达云那边也还行", "customer", explain=True)
    assert "competitor" in got.labels and "快达云" in got.evidence["competitor"]
    assert Classifier.default().classify("快达云那边也还行", "customer").labels == ()
