"""A safe evaluator for the arithmetic expressions SVAMP uses as labels, such as ``( 84.0 / 2.0 )``.

Model output and data files are never passed to ``eval``. This module tokenises and parses the
text itself and accepts only decimal numbers, ``+ - * /``, parentheses and unary signs, within
size limits, so that hostile input (``9**9**9``, ``__import__('os')``, 10,000 nested parentheses)
is rejected in microseconds instead of executed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_CHARS = 1000
MAX_TOKENS = 400
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 32

_TOKEN = re.compile(r"\s*(?:(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(?P<op>[-+*/()]))")


@dataclass(frozen=True)
class EquationResult:
    """The value of an expression, or why it has none."""

    value: float | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


class _Invalid(Exception):
    pass


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    end = len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None:
            raise _Invalid(f"unexpected character {text[position:].lstrip()[:1]!r}")
        token = match.group("num") or match.group("op")
        if match.group("num") and len(token) > MAX_NUMBER_CHARS:
            raise _Invalid(f"number longer than {MAX_NUMBER_CHARS} characters")
        tokens.append(token)
        if len(tokens) > MAX_TOKENS:
            raise _Invalid(f"more than {MAX_TOKENS} tokens")
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over: expr := term (+|- term)*; term := factor (*|/ factor)*;
    factor := (+|-)* (number | '(' expr ')'). Recursion only happens on '(' and is capped."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _Invalid("unexpected end of expression")
        self.index += 1
        return token

    def parse(self) -> float:
        value = self.expr()
        if self.peek() is not None:
            raise _Invalid(f"unexpected {self.peek()!r} after a complete expression")
        return value

    def expr(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = _checked(value + self.term() if self.take() == "+" else value - self.term())
        return value

    def term(self) -> float:
        value = self.factor()
        while self.peek() in ("*", "/"):
            if self.take() == "*":
                value = _checked(value * self.factor())
            else:
                divisor = self.factor()
                if divisor == 0:
                    raise _Invalid("division by zero")
                value = _checked(value / divisor)
        return value

    def factor(self) -> float:
        sign = 1.0
        while self.peek() in ("+", "-"):  # a loop, not recursion: "----1" cannot blow the stack
            if self.take() == "-":
                sign = -sign
        token = self.take()
        if token == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Invalid(f"parentheses nested deeper than {MAX_DEPTH}")
            value = self.expr()
            if self.take() != ")":
                raise _Invalid("unbalanced parentheses")
            self.depth -= 1
        elif token[0] in "0123456789.":
            value = _checked(float(token))
        else:
            raise _Invalid(f"unexpected {token!r}")
        return sign * value


def _checked(value: float) -> float:
    if not math.isfinite(value):
        raise _Invalid("value out of range")
    return value


def evaluate_equation(text: object) -> EquationResult:
    """Compute the value of an arithmetic expression without ``eval``.

    Never raises: anything that is not a well-formed expression within the size limits
    (``MAX_CHARS``, ``MAX_TOKENS``, ``MAX_DEPTH``, ``MAX_NUMBER_CHARS``), or whose value is
    not a finite number, gives a result with ``value=None`` and an ``error``.
    """
    if not isinstance(text, str):
        return EquationResult(None, f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        return EquationResult(None, f"longer than {MAX_CHARS} characters")
    if not text.strip():
        return EquationResult(None, "empty expression")
    try:
        return EquationResult(_Parser(_tokenize(text)).parse())
    except _Invalid as invalid:
        return EquationResult(None, str(invalid))


def equation_value(text: object) -> float | None:
    """The value of ``text`` as an arithmetic expression, or None when it is invalid."""
    return evaluate_equation(text).value


def equations_equal(prediction: object, reference: object) -> bool:
    """True when both expressions are valid and their values agree (relative tolerance 1e-9)."""
    left, right = equation_value(prediction), equation_value(reference)
    if left is None or right is None:
        return False
    return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
