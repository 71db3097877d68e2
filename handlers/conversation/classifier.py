"""TEMP stand-in: keyword classifier with the contract's signature."""

from __future__ import annotations

from dataclasses import dataclass, field

_WORDS = {
    "price_inquiry": ("什么价", "多少钱", "价位", "报价多少", "单价"),
    "price_objection": ("贵", "预算", "便宜", "钱紧", "价格太高"),
    "competitor": ("别家", "人家", "友商", "竞品", "其他家"),
    "delivery_concern": ("交期", "交货", "多久能到", "能到吗", "交付", "到货", "工期", "上线时间"),
    "quality_trust": ("靠谱", "放心", "质量", "稳定吗", "顾虑", "担心", "信不过"),
    "hesitation": ("再比较", "考虑考虑", "商量", "再看看", "想想"),
    "after_sales": ("售后", "坏了", "维修", "保修", "退货"),
    "value_argument": ("%", "节省", "提升", "数据", "ROI", "回本"),
    "social_proof": ("客户", "案例", "用了我们", "他们"),
    "guarantee": ("不满意", "退款", "免费试用", "保证", "赔", "兜底"),
    "concession": ("优惠", "折", "送", "申请", "让利"),
    "urgency": ("月底", "截止", "名额", "限时", "这周"),
    "material_delivery": ("附件", "http", "资料", ".pdf", "发您"),
}
_NEG = ("不是问题", "没问题", "不担心")


@dataclass(frozen=True)
class Labelled:
    labels: tuple[str, ...]
    evidence: dict = field(default_factory=dict)


class Classifier:
    def classify(self, text: str, role: str, *, explain: bool = False) -> Labelled:
        from handlers.conversation.labels import OBJECTIONS, STRATEGIES
        keys = OBJECTIONS if role == "customer" else STRATEGIES
        if any(n in text for n in _NEG):
            return Labelled(())
        found = tuple(k for k in keys if any(w in text for w in _WORDS[k]))
        return Labelled(found, {k: [w for w in _WORDS[k] if w in text] for k in found} if explain else {})


_DEFAULT = Classifier()


def classify(text: str, role: str) -> Labelled:
    return _DEFAULT.classify(text, role)
