"""Masking what a snippet says when it is shown outside the team that owns it: customer names (full names, the
names without their legal suffix or city, the short forms people type) become a placeholder, amounts of money
become another, and "王总"-style forms of address lose the surname.

Why a pattern per store and not a list per snippet: a rep's answer often names *another* customer as a case
("恒瑞精密上个月也是这么…"); every known customer name must go, not only the snippet's own. The pattern is built
once from the customers table and rebuilt when the table changes (count and max rowid).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司", "股份", "机械", "科技", "制品", "设备", "材料",
             "零部件", "连锁", "软件", "信息", "技术", "网络", "电子", "工厂", "厂")
_AMOUNT = re.compile(r"(?:[¥￥]\s*\d[\d,，.]*\s*(?:万|元|亿)?|\d[\d,，]*(?:\.\d+)?\s*(?:万元|万块|万|元|块钱|块|亿|千元|[kKwW](?![A-Za-z])))")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_ADDRESS = re.compile(f"[{_SURNAMES}](?=(?:总|经理|工|主任|老板|姐|哥|老师|主管|处长|科长|部长|厂长|店长|院长|校长|局长|"
                      "董事长|董|总监|助理)(?![a-zA-Z]))")


def name_variants(name: str) -> set[str]:
    """The forms a customer's name takes in chat: full, without legal/industry suffixes, without a two-character
    city in front. Forms shorter than three characters are left alone (too many false hits)."""
    out = {name}
    core = name
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if core.endswith(suffix) and len(core) - len(suffix) >= 3:
                core = core[: -len(suffix)]
                out.add(core)
                changed = True
    for form in list(out):
        if len(form) >= 5:
            out.add(form[2:])
    return {f for f in out if len(f) >= 3}


class Masker:
    def __init__(self, names: Iterable[str], customer_word: str, amount_word: str) -> None:
        variants = sorted({v for n in names if n for v in name_variants(n)}, key=len, reverse=True)
        self._names = re.compile("|".join(map(re.escape, variants))) if variants else None
        self.customer_word = customer_word
        self.amount_word = amount_word

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self._names is not None:
            text = self._names.sub(self.customer_word, text)
        text = _AMOUNT.sub(self.amount_word, text)
        return _ADDRESS.sub("某", text)
