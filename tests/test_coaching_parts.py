"""Coaching's parts on their own: extraction from a timed transcript, outcomes, Beta-Binomial shrinkage
("3 lucky vs 30 steady"), masking across teams, the library API other capabilities use, transcript import."""

from __future__ import annotations

import json

import pytest
from conftest import T0

from handlers.coaching import library
from handlers.coaching.masking import Masker, name_variants
from handlers.coaching.outcomes import DAY_MS, OutcomeModel, lead_outcome
from handlers.coaching.snippets import Turn, extract, silence_action
from handlers.coaching.transcripts import read_calls
from prompts import Prompts
from store import coaching as coach_store
from store import customers as customer_store
from store import leads as lead_store
from store import org as org_store


def labels(text: str, role: str) -> tuple[str, ...]:
    rules = {"customer": {"贵": "price_objection", "别家": "competitor", "交货": "delivery_concern"},
             "rep": {"客户": "social_proof", "%": "value_argument", "退": "guarantee"}}[role]
    return tuple(dict.fromkeys(v for k, v in rules.items() if k in text))


def timed(rows) -> list[Turn]:
    return [Turn(f"t{i}", role, text, labels(text, role), T0 + int(start * 1000), "r1" if role == "rep" else "",
                 start, end) for i, (role, text, start, end) in enumerate(rows)]


CALL = [
    ("rep", "王总您好，上次的方案您看了吗？", 0.0, 3.0),
    ("customer", "看了，说实话比别家贵不少。", 3.5, 6.0),
    ("rep", "您觉得贵主要是哪部分呢？", 13.0, 15.0),  # 7 s of silence, then the rep asks
    ("customer", "主要是实施费。", 15.5, 17.0),
    ("rep", "明白。苏州一家同规模的客户，实施后三个月人工成本降了18%，实施费半年就回来了。", 18.0, 25.0),
    ("customer", "好的，那你把那个案例发我看看，下周约个时间。", 26.0, 29.0),
]


def test_extract_timed_transcript():
    found = extract(timed(CALL), classify_rep=lambda s: labels(s, "rep"), sentiment=None)
    assert len(found) == 1, "主要是实施费 carries no objection: one exchange"
    (first,) = found
    assert set(first.objections) == {"competitor", "price_objection"}
    assert first.latency_s == 7.0, "rep start − customer end, in seconds"
    assert first.silence_action == "ask", "7 s of customer silence, then the rep asked"
    assert first.key == "t1" and first.rep_id == "r1" and first.response_text == "您觉得贵主要是哪部分呢？"
    assert first.context[0][0] == "rep" and first.context[0][2] == -3.5
    # the customer turned (agreed, asked for the case and a meeting) after the rep's case sentence
    assert first.turning_sentence.startswith("苏州一家同规模的客户") and "18%" in first.turning_sentence


def test_silence_actions():
    def t(role, text):
        return Turn("x", role, text, (), 0)
    assert silence_action(t("customer", "嗯……我再想想")) == "pause"
    assert silence_action(t("rep", "我理解，换我也会犹豫")) == "empathise"
    assert silence_action(t("rep", "您主要担心哪一块？")) == "ask"
    assert silence_action(t("rep", "对了，我们下个月有新版本上线")) == "redirect"


def test_pause_recorded_when_customer_breaks_silence():
    rows = [("customer", "这个价格太贵了", 0.0, 2.0), ("customer", "我们预算只有一半", 9.0, 11.0),
            ("rep", "我们有分期方案，不满意可以退。", 12.0, 15.0)]
    (ex,) = extract(timed(rows), classify_rep=lambda s: labels(s, "rep"))
    assert ex.silence_action == "pause" and "预算只有一半" in ex.objection_text


def test_late_answer_is_not_a_snippet():
    rows = [("customer", "太贵了", 0.0, 1.0), ("rep", "我们有案例客户", 90_000.0, 91.0e3)]
    assert extract(timed(rows), classify_rep=lambda s: (), answer_window_s=3600) == []


def test_no_turn_when_customer_keeps_objecting():
    rows = [("customer", "太贵了", 0.0, 1.0), ("rep", "我们很多客户都在用", 2.0, 3.0), ("customer", "还是贵", 4.0, 5.0)]
    (ex,) = extract(timed(rows), classify_rep=lambda s: labels(s, "rep"), sentiment=lambda s: 0.9)[:1]
    assert ex.turning_sentence == ""


def test_three_lucky_wins_do_not_outrank_thirty_steady():
    cells = [("delivery_concern", "social_proof", 3 + 30 + 40, 3 + 21 + 20)]
    families = [("lucky", "delivery_concern", "social_proof", 3, 3),
                ("steady", "delivery_concern", "social_proof", 30, 21),
                ("average", "delivery_concern", "social_proof", 40, 20)]
    m = OutcomeModel.build(cells, families)
    lucky, steady = m.snippet("lucky", "delivery_concern", "social_proof"), m.snippet("steady", "delivery_concern",
                                                                                     "social_proof")
    assert lucky.low < steady.low, "ranked by the lower bound: evidence beats luck"
    assert lucky.mean < 1.0 and lucky.n == 3 and lucky.n_success == 3
    assert steady.low < 0.7 < steady.high
    # a cell with little evidence is pulled toward its objection's rate; with much, it follows the data
    small = OutcomeModel.build([("price_objection", "concession", 2, 2), ("price_objection", "value_argument", 50, 10)],
                               []).cell("price_objection", "concession")
    assert 0.3 < small.mean < 0.8


def test_estimate_interval_matches_spec_example():
    m = OutcomeModel.build([("delivery_concern", "social_proof", 23, 15)], [], prior_strength=1e-6)
    e = m.cell("delivery_concern", "social_proof")
    assert round(e.mean * 100) == 65 and e.n == 23 and e.n_success == 15
    assert 0.44 < e.low < 0.52 and 0.77 < e.high < 0.82


@pytest.mark.parametrize(("status", "stage", "closed", "days_later", "expected"), [
    ("open", "方案报价", None, 1, "advanced"),
    ("open", "初步接触", None, 1, None),  # moved back: not a success, wait
    ("open", "需求确认", None, 15, "stalled"),
    ("won", "赢单", 3, 4, "won"),
    ("lost", "输单", 2, 3, "lost"),
    ("won", "赢单", 20, 21, "stalled"),  # won, but after the window
])
def test_lead_outcome(status, stage, closed, days_later, expected):
    got = lead_outcome(occurred_at=T0, stage_at="需求确认", status=status, stage=stage,
                       closed_at=None if closed is None else T0 + closed * DAY_MS, now_ms=T0 + days_later * DAY_MS,
                       days=14, stages=("初步接触", "需求确认", "方案报价", "商务谈判"))
    assert (got[0] if got else None) == expected


def test_masking_names_amounts_and_address():
    assert {"苏州恒瑞精密机械", "恒瑞精密机械", "苏州恒瑞精密"} <= name_variants("苏州恒瑞精密机械有限公司")
    mask = Masker(["苏州恒瑞精密机械有限公司", "华鑫"], "某客户", "**")
    out = mask("恒瑞精密机械去年签了38万，王总说单价¥1,200也能接受，3天到货")
    assert "恒瑞" not in out and "38万" not in out and "1,200" not in out and "王总" not in out
    assert "某客户" in out and "3天到货" in out and "某总" in out
    assert mask("华鑫") == "华鑫", "names shorter than three characters are left alone"


@pytest.fixture
def lib(store):
    with store.transaction():
        org_store.upsert_team(store, "east", "华东一组", "m1")
        org_store.upsert_team(store, "south", "华南组", "m2")
        for pid, team in (("r1", "east"), ("r3", "south")):
            org_store.upsert_person(store, pid, pid, "rep", team)
        customer_store.upsert(store, "c1", "苏州恒瑞精密机械有限公司", industry="制造业", size="中型", owner_id="r1")
        lead_store.upsert(store, "L1", "c1", "r1", "恒瑞-GW项目", T0, stage="需求确认", product="GW-300")
        customer_store.upsert(store, "c2", "广州优品超市连锁有限公司", industry="零售连锁", size="大型", owner_id="r3")
        lead_store.upsert(store, "L2", "c2", "r3", "优品-POS项目", T0, stage="需求确认", product="POS")
    with store.transaction():
        a = library.add_debrief_snippet(store, lead_id="L1", person_id="r1", objection_labels=["delivery_concern"],
                                        worry_text="苏州恒瑞精密机械担心三周交不了货，38万的单子",
                                        evidence_text="讲了华南一家客户分批交付的案例，王总认可",
                                        strategy_labels=["social_proof"], occurred_at=T0)
        b = library.add_debrief_snippet(store, lead_id="L2", person_id="r3", objection_labels=["delivery_concern"],
                                        worry_text="门店上线前能不能到货", evidence_text="承诺延期按天赔付",
                                        strategy_labels=["guarantee"], occurred_at=T0 + DAY_MS)
        assert library.add_debrief_snippet(store, lead_id="L2", person_id="r3", objection_labels=["nonsense"],
                                           worry_text="x", evidence_text="y", strategy_labels=[],
                                           occurred_at=T0) is None
        store.conn.execute("UPDATE leads SET stage = '方案报价'")
        assert library.resolve_outcomes(store, T0 + 2 * DAY_MS) == 2
        library.refresh_rank(store)
    return a, b


def test_best_snippets_masked_outside_owning_team(store, lib):
    a, _b = lib
    east = library.best_snippets(store, "delivery_concern", team="east", industry="制造业", now_ms=T0 + 3 * DAY_MS)
    assert east[0].id == a, "same industry ranks first"
    assert "恒瑞" in east[0].objection_text and not east[0].masked
    south = library.best_snippets(store, "delivery_concern", team="south", industry="制造业")
    own_team = {s.id: s for s in south}
    assert own_team[a].masked and "恒瑞" not in own_team[a].objection_text and "38万" not in own_team[a].objection_text
    assert "王总" not in own_team[a].response_text
    nobody = library.best_snippets(store, "delivery_concern")
    assert all(s.masked for s in nobody)
    snippet = east[0]
    assert snippet.estimate.n == 1 and snippet.estimate.n_success == 1 and 0 < snippet.estimate.low < snippet.estimate.mean
    assert snippet.industry == "制造业" and snippet.product_line == "GW-300" and snippet.person_id == "r1"


def test_objection_examples_are_anonymised(store, lib):
    examples = library.objection_examples(store, "delivery_concern")
    assert len(examples) == 2 and all("恒瑞" not in e and "38万" not in e for e in examples)
    assert library.objection_examples(store, "delivery_concern", team="south") == ["门店上线前能不能到货"]
    assert library.objection_examples(store, "after_sales") == []


def test_read_calls_reports_bad_lines(tmp_path):
    path = tmp_path / "calls.jsonl"
    good = {"id": "c1", "lead": "L1", "rep": "r1", "started_at": "2026-03-02 10:00",
            "turns": [{"role": "customer", "text": "太贵了", "start": 0, "end": 2}]}
    path.write_text("\n".join([json.dumps(good, ensure_ascii=False), "{oops", json.dumps({"id": "x"}),
                               json.dumps({**good, "turns": [{"role": "boss", "text": "?", "start": 0}]})]),
                    encoding="utf-8")
    calls, errors = read_calls(path, "Asia/Shanghai")
    assert [c.id for c in calls] == ["c1"]
    assert [e.split("：")[0] for e in errors] == ["第 2 行", "第 3 行", "第 4 行"]
    assert "缺少 lead, rep, started_at, turns" in errors[1] and "需要 role" in errors[2]
    _calls, english = read_calls(path, "Asia/Shanghai", Prompts("en").t)
    assert english[1] == "line 3: missing lead, rep, started_at, turns"


def test_import_transcripts_cli(tmp_path, store, lib, capsys):
    from bot.cli import main
    path = tmp_path / "calls.jsonl"
    rows = [{"role": r, "text": t, "start": s, "end": e} for r, t, s, e in CALL]
    path.write_text(json.dumps({"id": "call-9", "lead": "L1", "rep": "r1", "started_at": "2026-03-02 10:00",
                                "turns": rows}, ensure_ascii=False) + "\n", encoding="utf-8")
    db = store.path if hasattr(store, "path") else None
    assert db is not None
    store.conn.commit()
    code = main(["import", "transcripts", str(path), "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 0 and "金句" in out
    assert any(r.source == "call" for r in coach_store.search(store, objection=None, keyword="别家", rep_ids=None,
                                                               limit=5))


def test_answers_without_strategy_are_counted_not_recommended(store, lib):
    with store.transaction():
        plain = library.add_debrief_snippet(store, lead_id="L1", person_id="r1", objection_labels=["after_sales"],
                                            worry_text="坏了谁来修", evidence_text="收到", strategy_labels=[],
                                            occurred_at=T0 + 5 * DAY_MS)
        store.conn.execute("UPDATE leads SET stage = '商务谈判' WHERE id = 'L1'")
        library.resolve_outcomes(store, T0 + 6 * DAY_MS)
        library.refresh_rank(store)
    assert library.best_snippets(store, "after_sales") == []
    assert ("after_sales", "") in library.cell_estimates(store, None)
    assert coach_store.get(store, plain).outcome == "advanced"
