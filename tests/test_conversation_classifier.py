"""Table tests of the objection × strategy classifier by meaning: negation scope, indirect phrasing, colloquial
chat, multi-label turns, the dev set's sarcasm and hard negatives, e-commerce customer-service phrasing; the
concrete-case check; explain output."""

from __future__ import annotations

import pytest

from handlers.conversation.cases import is_concrete_case
from handlers.conversation.classifier import Classifier, Labelled, classify


@pytest.fixture(scope="module")
def lexicon_only():
    return Classifier.default(with_model=False)


CUSTOMER = [
    # negation scope
    ("价格不是问题 主要看稳定性", {"quality_trust"}, {"price_objection"}),
    ("交期倒是没问题 我们不急", set(), {"delivery_concern", "hesitation"}),
    ("价格还行 就是没用过你们家的 怕出问题", {"quality_trust"}, {"price_objection"}),
    ("价格ok的 主要是想快点装", {"delivery_concern"}, {"price_objection"}),
    ("不用比了 就你们家", set(), {"competitor", "hesitation"}),
    ("质量没问题 就是太贵了", {"price_objection"}, {"quality_trust"}),
    ("这个不贵", set(), {"price_objection"}),
    # indirect
    ("老板说今年钱紧", {"price_objection"}, set()),
    ("我们IT对数据上云有顾虑", {"quality_trust"}, set()),
    ("老板心理价位是3万", {"price_objection"}, set()),
    ("隔壁老王他们用的易收 说挺稳的", {"competitor", "quality_trust"}, set()),
    ("这事我得跟老板商量商量", {"hesitation"}, set()),
    # colloquial, typos, emoji, no punctuation
    ("那我在考虑考虑吧", {"hesitation"}, set()),
    ("亲 能便宜点不😂", {"price_objection"}, set()),
    ("多钱", {"price_inquiry"}, set()),
    ("你们帐期一般多少", {"price_objection"}, set()),
    ("亲 我那个灯箱啥时候能做好啊😭 下周六开业", {"delivery_concern"}, set()),
    # multi-label
    ("别家便宜两成啊 你们贵在哪", {"price_objection", "competitor"}, set()),
    ("有点超预算了 我们再比较一下 其他家也在报", {"price_objection", "hesitation", "competitor"}, set()),
    ("这次发顺丰 上次你们发德邦 摔坏了俩", {"delivery_concern", "after_sales"}, set()),
    # sarcasm
    ("你们这价格真是良心啊😅", {"price_objection"}, set()),
    ("才问就涨价 套路吧😂", {"price_objection"}, set()),
    ("远程搞了半小时才好 你们这服务真是“周到”啊", {"after_sales"}, set()),
    # keywords in a harmless sense
    ("报价单收到了 谢谢哈", set(), {"price_inquiry"}),
    ("上次那个竞品展会挺热闹", set(), {"competitor"}),
    ("售后电话多少 我存一下", set(), {"after_sales"}),
    ("秤到了 发货单我签了 谢谢师傅", set(), {"delivery_concern"}),
    ("现在的系统是自己开发的 用了十年了", set(), {"competitor"}),
    ("王姐 早呀", set(), None),
    ("👌", set(), None),
    # e-commerce customer service
    ("三天能到吗", {"delivery_concern"}, set()),
    ("人家比你便宜", {"price_objection", "competitor"}, set()),
    ("送点毛巾吧", {"price_objection"}, set()),
    ("是正品吗 会不会掉色", {"quality_trust"}, set()),
    ("收到的杯子碎了一个 怎么处理", {"after_sales"}, set()),
    ("我想退货 尺码不对", {"after_sales"}, set()),
    ("有优惠券吗", {"price_objection"}, set()),
    ("今天能发货吗 急用", {"delivery_concern"}, set()),
    ("我再看看吧 先加购物车", {"hesitation"}, set()),
    ("这个多少钱 包邮吗", {"price_inquiry"}, set()),
]

REP = [
    ("稍等亲这款卖的不错的", {"social_proof"}, set()),
    ("真没法再低了", set(), {"concession"}),
    ("价格上我再跟老板争取下", set(), {"concession"}),
    ("好的 有需要随时联系", set(), None),
    ("他们那个不一定靠谱哈", set(), {"value_argument"}),
    ("截图给您看 [图片]", set(), {"material_delivery"}),
    ("我们产品质量绝对没问题的 您放心", set(), {"value_argument", "guarantee"}),
    ("申请了领导特批 给您按98 再送一箱密封垫", {"concession"}, set()),
    ("可以先免费试用30天 不满意全额退", {"guarantee"}, set()),
    ("这个价只能保到月底哦 下个月就涨了", {"urgency"}, set()),
    ("报价单发您邮箱了 附件:报价V2.pdf", {"material_delivery"}, set()),
    ("按5年算换件成本其实我们更低 寿命是他们的3倍", {"value_argument"}, set()),
    ("拍下送运费险 7天无理由退换", {"guarantee"}, set()),
    ("亲 今天下单包邮 还送一包纸巾哦", {"concession"}, set()),
    ("库存不多了亲 活动今天最后一天", {"urgency"}, set()),
    ("给您发个链接 https://shop.example.cn/item/1", {"material_delivery"}, set()),
]


@pytest.mark.parametrize(("text", "must", "must_not"), CUSTOMER)
def test_customer_turns(lexicon_only, text, must, must_not):
    got = set(lexicon_only.classify(text, "customer").labels)
    assert must <= got, (text, got)
    if must_not is None:
        assert got == must, (text, got)
    else:
        assert not (must_not & got), (text, got)


@pytest.mark.parametrize(("text", "must", "must_not"), REP)
def test_rep_turns(lexicon_only, text, must, must_not):
    got = set(lexicon_only.classify(text, "rep").labels)
    assert must <= got, (text, got)
    if must_not is None:
        assert got == must, (text, got)
    else:
        assert not (must_not & got), (text, got)


def test_roles_keep_their_own_labels(lexicon_only):
    assert lexicon_only.classify("别家便宜两成", "rep").labels == ()  # competitor is for customers only
    assert lexicon_only.classify("别家便宜两成", "manager") == Labelled()
    assert lexicon_only.classify("", "customer") == Labelled()
    assert classify("别家便宜两成啊", "customer").labels == ("price_objection", "competitor")


def test_explain_names_the_words_and_what_negation_cancelled(lexicon_only):
    got = lexicon_only.classify("价格不是问题 就是怕质量不稳定", "customer", explain=True)
    assert got.labels == ("quality_trust",)
    assert any("质量" in w or "怕" in w for w in got.evidence["quality_trust"])
    quick = lexicon_only.classify("别家便宜两成", "customer")
    assert quick.evidence == {}
    full = lexicon_only.classify("别家便宜两成", "customer", explain=True)
    assert "别家" in full.evidence["competitor"]


CASES = [
    ("给您分享个案例，合肥的邻里鲜便利40多家店去年全换成了CV系列，新店货架5天就能装好", True),
    ("苏州一家做精密零件的企业，60人的销售团队，上线8个月商机转化率提升18%", True),
    ("嘉兴宏力化工去年换了我们80台，用到现在14个月一次返修都没有，他们设备科周工可以跟您通个电话", True),
    ("理解 我们现在给全国3000多家奶茶店供杯子 这种情况真的很少见", False),
    ("五金行业我们有200多家客户在用，先发您个行业方案", False),
    ("我们成立9年，服务客户2600多家，千人以上的有310家", False),
    ("很多老板都在用 放心", False),
    ("好的 这个月签约的话可以免费送两次会员营销培训", False),
    ("这台机器质保从1年延长到2年，再免费给您加装一个备用传感器", False),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_concrete_case(text, expected):
    assert is_concrete_case(text) is expected


def test_shipped_pack_regexes_are_safe_and_its_examples_hold(lexicon_only):
    """The shipped pack skips the regex guard at load (it costs start-up time); this is where it is checked."""
    from handlers.conversation.checks import example_failures
    from handlers.conversation.lexicon import DEFAULT_PACK, Lexicon, PackErrors, parse_pack
    from prompts import Prompts
    from rules.guard import compile_safe
    for cue in lexicon_only.lexicon.cues + lexicon_only.lexicon.negations:
        for pattern in cue.patterns:
            compile_safe(pattern.replace("{competitor}", "x").replace("{product}", "x"))
    assert example_failures(lexicon_only, Prompts().t) == []
    errors: list = []
    parse_pack(DEFAULT_PACK.read_text(encoding="utf-8"), "copy.toml", Lexicon(), errors)
    assert errors == [] and PackErrors
