"""Numeric answers read from text (GSM8K-style): "42", "$1,200", "3.5 hours", "-7"."""

from __future__ import annotations

import math
import re

MAX_CHARS = 1000
# one optional sign and dollar sign, digits with thousands commas, an optional decimal part:
# no nested quantifiers, so matching is linear in the text's length
_NUMBER = re.compile(r"[-+]?\$?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")


def number_value(text: object) -> float | None:
    """The first number in ``text`` (thousands commas and a dollar sign allowed), or None."""
    if not isinstance(text, str):
        return None
    found = _NUMBER.search(text[:MAX_CHARS])
    if found is None:
        return None
    digits = found.group(0).replace("$", "").replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def canonical_number(value: float) -> str:
    """``42`` for 42.0, ``3.5`` for 3.5: integers without a decimal part."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def numbers_equal(prediction: object, reference: object) -> bool:
    """True when both texts hold a number and the numbers agree (relative tolerance 1e-6)."""
    left, right = number_value(prediction), number_value(reference)
    if left is None or right is None:
        return False
    return math.isclose(left, right, rel_tol=1e-6, abs_tol=1e-9)
