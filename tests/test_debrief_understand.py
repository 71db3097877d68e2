"""Understanding debriefs on messy spoken text: fillers, stutters, no punctuation, recogniser homophones, numbered
and multi-line text; the next step's action, date and person; and `salespulse debrief parse`."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.cli import main as cli_main
from handlers.debrief.understand import clean, next_step, parse, split
from handlers.forecast.notes import parse_when

WED = date(2026, 3, 4)  # a Wednesday

SPLITS = [
    # (transcript, worry contains, evidence contains, next step contains)
    ("嗯客户主要是担心价格太贵那个我给他看了三一重工的案例他答应下周三带采购来公司看演示",
     "价格太贵", "三一重工的案例", "下周三带采购"),
    ("嗯那个就是客户客户最单心的是交付周期 然后我拿了我们给美的做的那个项目的数据 下一部他说月底前安排李总见一面",
     "交付周期", "美的做的项目的数据", "月底前安排李总"),
    ("1. 价格比友商贵两成\n2. 给他讲了三年总成本对比\n3. 节后对接人张明发需求清单",
     "友商贵两成", "三年总成本", "张明发需求清单"),
    ("他们老板说今年钱紧，我说可以分期付款，他答应周五前给预算范围", "钱紧", "分期付款", "预算范围"),
    ("今天去了华东电网，客户担心售后响应慢，我用了24小时到场的承诺，下一步他们会安排技术交流",
     "售后响应慢", "24小时到场", "技术交流"),
    ("第一客户顾虑数据安全第二我介绍了等保三级的认证第三他们下礼拜五来参观机房", "数据安全", "等保三级", "参观机房"),
    ("啊就是就是他他们嫌贵呃我就说了我们的维护费比别家低一半那个后续他们会内部过一下",
     "嫌贵", "维护费比别家低一半", "内部过一下"),
]


@pytest.mark.parametrize("text,worry,evidence,nxt", SPLITS)
def test_messy_transcripts_split_into_three_answers(text, worry, evidence, nxt):
    parts, _leftover = split(text)
    assert worry in parts["worry"], parts
    assert evidence in parts["evidence"], parts
    assert nxt in parts["next_step"], parts


def test_fillers_and_stutters_go():
    assert clean("嗯嗯那个他他就是担心担心价格") == "他担心价格"
    assert clean("呃我们我们给他看了案例") == "我们给他看了案例"


def test_a_note_without_structure_answers_the_next_open_question():
    assert split("交付周期太长", ("evidence", "next_step"))[0] == {"evidence": "交付周期太长"}
    assert split("下一步他答应周五给答复", ("evidence", "next_step"))[0] == {"next_step": "下一步他答应周五给答复"}


NEXT = [
    # (next-step answer, action, date, person, named, meeting)
    ("他答应下周三带采购来公司看演示", "带采购来公司看演示", date(2026, 3, 11), "采购", False, True),
    ("下一部他说月底前安排李总见一面", "安排李总见一面", date(2026, 3, 31), "李总", True, True),
    ("节后对接人张明发需求清单", "对接人张明发需求清单", date(2026, 4, 7), "张明", True, False),
    ("下一步就是他们周五之前把预算范围发给我", "把预算范围发给我", date(2026, 3, 6), "", False, False),
    ("他们CFO十五号过来看现场", "CFO十五号过来看现场".replace("十五号", ""), date(2026, 3, 15), "CFO", False, True),
    ("说好了再联系", "再联系", None, "", False, False),
]


@pytest.mark.parametrize("text,action,when,person,named,meeting", NEXT)
def test_next_step_action_date_person(text, action, when, person, named, meeting):
    n = next_step(text, WED)
    assert (n.action, n.date, n.person, n.named, n.meeting) == (action, when, person, named, meeting)


@pytest.mark.parametrize("words,expected", [
    ("下周三", date(2026, 3, 11)), ("月底前", date(2026, 3, 31)), ("节后", date(2026, 4, 7)),  # 清明 4-4..4-6
    ("周五", date(2026, 3, 6)), ("礼拜一", date(2026, 3, 9)), ("十五号", date(2026, 3, 15)), ("3号", date(2026, 4, 3)),
    ("三月二十号", date(2026, 3, 20)), ("大后天", date(2026, 3, 7)), ("月中", date(2026, 3, 15)),
    ("上周三", None),
])
def test_spoken_dates(words, expected):
    assert parse_when(words, WED)[0] == expected


def test_not_understood_lists_what_is_missing():
    u = parse("他就是犹豫要跟老板商量", WED, None)
    assert "evidence" in u.not_understood and "next_step" in u.not_understood
    u = parse("今天去了华东电网，客户担心售后响应慢，我用了24小时到场的承诺，下一步他们会安排技术交流", WED, None)
    assert "next_step.date" in u.not_understood and "今天去了华东电网" in u.leftover


def test_cli_parse_json(capsys):
    rc = cli_main(["debrief", "parse", "--text", "嗯客户担心价格太贵我给他看了三一重工的案例他答应下周三带李总来公司看演示",
                   "--at", "2026-03-04 10:00", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"worry", "evidence", "next_step", "not_understood"}
    assert set(out["worry"]) == {"text", "labels"} and set(out["next_step"]) == {"action", "date", "person"}
    assert out["next_step"] == {"action": "带李总来公司看演示", "date": "2026-03-11", "person": "李总"}


def test_cli_parse_bad_input(capsys):
    assert cli_main(["debrief", "parse", "--text", "客户担心价格", "--at", "明天"]) == 2
    assert "YYYY-MM-DD HH:MM" in capsys.readouterr().err
    assert cli_main(["debrief", "parse", "--text", "  "]) == 2


LABELLED = [
    # messy transcript → (worry labels include, evidence labels include): the labels come from the classifier
    ("嗯那个客户最单心的是交付周期 然后我给他看了三一重工的案例 下一部他说月底前安排李总见一面", "delivery_concern",
     "social_proof"),
    ("他们老板说今年钱紧，我说可以分期付款，他答应周五前给预算范围", "price_objection", "concession"),
    ("就是价格比友商贵两成那个我给他讲了三年总成本对比他答应下周一回复", "competitor", "value_argument"),
]


@pytest.mark.parametrize("text,objection,strategy", LABELLED)
def test_labels_come_from_the_conversation_classifier(text, objection, strategy):
    from handlers.conversation.classifier import Classifier

    u = parse(text, WED, Classifier.default())
    assert objection in u.worry.labels, u.to_json()
    assert strategy in u.evidence.labels, u.to_json()
    assert "worry.labels" not in u.not_understood and "evidence.labels" not in u.not_understood


@pytest.mark.parametrize("text", [
    "客户 担心 价格 太 高 我 用 了 华鑫 的 案例 下 一 步 他 答应 下周三 来 参观",  # a recogniser's word tokens
    "客户 担心 价格 太高 ， 我 用了 华鑫 的 案例 ， 他 答应 下周三 来 参观",
    "客户担心价格太高 我用了华鑫的案例 他答应下周三来参观",  # spaces a rep types between answers
])
def test_a_transcript_with_a_space_between_every_word_splits_like_the_same_words_without(text):
    """Some recogniser set-ups (and some reps typing) put a space between Chinese words: the worry swallowed the
    evidence and "价格 太 高" was not a price worry. Spaces inside Chinese are not boundaries of their own."""
    from handlers.conversation.classifier import Classifier

    u = parse(text, WED, Classifier.default())
    assert "价格太高" in u.worry.text and "price_objection" in u.worry.labels, u.worry
    assert "华鑫的案例" in u.evidence.text and "social_proof" in u.evidence.labels, u.evidence
    assert "参观" in u.next_step.action and u.next_step.date == date(2026, 3, 11), u.next_step
