"""TEMP stand-in: a concrete case names or describes a customer and what happened to them."""

import re

_CASE = re.compile(r"(客户|公司|集团|工厂|门店|家|厂).{0,20}(用了|上线|节省|提升|降低|减少|做到|之后|后来)")


def is_concrete_case(text: str) -> bool:
    return bool(_CASE.search(text))
