from __future__ import annotations

import ast
import math
import time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepdistill.evaluation.equation import (
    MAX_CHARS,
    equation_value,
    equations_equal,
    evaluate_equation,
)

TIME_LIMIT_S = 0.050


def timed(text):
    """Evaluate ``text`` and check it took under 50 ms. The best of three runs is what counts:
    this machine is shared, and a scheduler or garbage-collector pause is not the evaluator's."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = evaluate_equation(text)
        best = min(best, time.perf_counter() - start)
        if best < TIME_LIMIT_S:
            break
    assert best < TIME_LIMIT_S, f"{best * 1000:.1f} ms on {text[:60]!r}"
    return result


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("( 84.0 / 2.0 )", 42.0),
        ("(84 / 2)", 42.0),
        ("((7.0 + 9.0) - 3.0)", 13.0),
        ("-(-3) * 2", 6.0),
        ("--1", 1.0),
        ("+2", 2.0),
        (".5 + 1.", 1.5),
        ("2 * 3 + 4", 10.0),
        ("2 * (3 + 4)", 14.0),
        ("8 / 4 / 2", 1.0),
        ("10 - 4 - 3", 3.0),
        ("  7  ", 7.0),
    ],
)
def test_valid_expressions(text, value):
    result = timed(text)
    assert result.ok, result.error
    assert result.value == pytest.approx(value)


HOSTILE = [
    "9**9**9",
    "2 ** 10",
    "__import__('os')",
    "__import__('os').system('true')",
    "(" * 10_000 + "1" + ")" * 10_000,
    "(" * 65 + "1" + ")" * 65,
    "1e309",
    "1e3",
    "1/0",
    "1 / (2 - 2)",
    "0/0",
    "9" * 10_000,
    "9" * 33,
    "-" * 100_000 + "1",
    "-" * 998 + "1",
    "1+" * 300 + "1",
    "*".join(["9" * 30] * 20),
    "(11,210 / 84)",
    "(34 + 40) and (62 - 17)",
    "(2 * x)",
    "(175, 5)",
    "lambda: 0",
    "1 // 2",
    "1 % 2",
    "[1, 2]",
    "١٢ + 1",
    "",
    "   ",
    "()",
    "((1 + 2)",
    "(1 + 2))",
    "1 2",
    "1..2",
    "\x00",
    None,
    12,
    b"1+1",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t)[:40])
def test_hostile_inputs_are_invalid_and_fast(text):
    result = timed(text)
    assert result.value is None
    assert result.error


def test_overflow_is_invalid():
    big = "*".join(["99999999999999999999"] * 20)
    assert evaluate_equation(big).value is None
    assert "range" in evaluate_equation(big).error


def test_limits_are_at_the_documented_size():
    assert evaluate_equation("1" + " " * (MAX_CHARS - 1)).ok
    assert not evaluate_equation("1" + " " * MAX_CHARS).ok
    assert evaluate_equation("(" * 64 + "1" + ")" * 64).value == 1.0


def test_equations_equal_uses_values_not_text():
    assert equations_equal("(84 / 2)", "( 84.0 / 2.0 )")
    assert equations_equal("(0.1 + 0.2)", "0.3")
    assert not equations_equal("(84 / 2)", "(84 * 2)")
    assert not equations_equal("(2 * x)", "(2 * x)")  # invalid never matches, not even itself
    assert equation_value("nonsense") is None


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.one_of(st.text(max_size=3000), st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
)
def test_random_text_never_raises_and_is_fast(text):
    result = timed(text)
    assert (result.value is None) == (result.error is not None)
    if result.ok:
        assert math.isfinite(result.value)


ARITH = "0123456789.+-*/() "


def ast_oracle(text: str) -> Fraction | None:
    """Exact value by walking Python's own parse tree (no eval); None when it is not plain
    arithmetic, divides by zero, or uses a number Python would spell differently."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return Fraction(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and isinstance(
            node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)
        ):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if right == 0:
                raise ZeroDivisionError
            return left / right
        raise TypeError(type(node).__name__)

    try:
        return walk(tree)
    except (TypeError, ZeroDivisionError, RecursionError):
        return None


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=ARITH, max_size=60))
def test_agrees_with_python_arithmetic(text):
    result = timed(text)
    expected = ast_oracle(text)
    if expected is not None and abs(expected) < 1e300:
        assert result.ok, f"{text!r}: {result.error}"
        assert result.value == pytest.approx(float(expected), rel=1e-9, abs=1e-9)
    if result.ok and expected is None:
        # Only spellings Python rejects but arithmetic accepts, such as leading zeros ("01").
        assert any(part.startswith("0") and part[1:2].isdigit() for part in _numbers(text)), text


def _numbers(text: str) -> list[str]:
    out, current = [], ""
    for char in text:
        if char.isdigit() or char == ".":
            current += char
        else:
            if current:
                out.append(current)
            current = ""
    return [*out, current] if current else out


def expressions():
    leaf = st.integers(min_value=0, max_value=10**6).map(str) | st.decimals(
        min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False
    ).map(str)
    return st.recursive(
        leaf,
        lambda inner: (
            st.tuples(inner, st.sampled_from("+-*/"), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            )
            | inner.map(lambda x: f"-{x}")
        ),
        max_leaves=30,
    )


@settings(max_examples=500, deadline=None)
@given(expressions())
def test_generated_expressions_match_exact_arithmetic(text):
    result = timed(text)
    expected = ast_oracle(text)
    if expected is None:  # division by zero somewhere
        assert result.value is None
    elif len(text) <= MAX_CHARS and abs(expected) < 1e300:
        assert result.ok, result.error
        assert result.value == pytest.approx(float(expected), rel=1e-9, abs=1e-9)
