"""Metrics and the safe equation evaluator."""

from stepdistill.evaluation.equation import (
    EquationResult,
    equation_value,
    equations_equal,
    evaluate_equation,
)
from stepdistill.evaluation.metrics import METRICS, Metric, get_metric, normalize_text

__all__ = [
    "METRICS",
    "EquationResult",
    "Metric",
    "equation_value",
    "equations_equal",
    "evaluate_equation",
    "get_metric",
    "normalize_text",
]
