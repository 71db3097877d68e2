"""One way to write a phone number, for every place that compares them (customer keys, call records, staff phones).

Why one module: association and missed-call handling used to normalise differently, so a customer bound by
'+86 21 5555 6666' was found by the tagger but not by the missed-call escalation.
"""

from __future__ import annotations

import re

_NOT_DIGIT = re.compile(r"\D")


def normalise_phone(raw: str) -> str:
    """'+86 138-0000-0001' → '13800000001'; landlines keep their area code with its trunk 0, also when written
    internationally ('+86 21 5555 6666' is dialled at home as '021 5555 6666')."""
    text = (raw or "").strip()
    digits = _NOT_DIGIT.sub("", text)
    international = text.lstrip("(（").startswith("+86") or digits.startswith("0086")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and (len(digits) == 13 or international):
        digits = digits[2:]
    if international and digits and not digits.startswith(("0", "1")):
        digits = "0" + digits
    return digits
