"""Stage three, serving: a trained or exported folder in, predictions out (``Predictor``,
``load_label_predictor``); CTranslate2 export; the HTTP app (``create_app``, ``ServeLimits``).

Everything outside this package imports from here, never from its modules. The HTTP app needs
the ``serve`` extra, so it is imported when first asked for.
"""

from typing import Any

from stepdistill.serving.engines import load_label_predictor
from stepdistill.serving.evaluation import Evaluation, evaluate_folder
from stepdistill.serving.export import QUANTIZATIONS, export_ctranslate2
from stepdistill.serving.limits import ServeLimits
from stepdistill.serving.predictor import Prediction, Predictor

__all__ = [
    "QUANTIZATIONS",
    "Evaluation",
    "Prediction",
    "Predictor",
    "ServeLimits",
    "check_api_key",
    "create_app",
    "evaluate_folder",
    "export_ctranslate2",
    "http_address",
    "load_label_predictor",
    "serve",
]

# fastapi and uvicorn come with the serve extra: their modules are imported when first asked for
_LAZY = {
    "check_api_key": "stepdistill.serving.app",
    "create_app": "stepdistill.serving.app",
    "http_address": "stepdistill.serving.server",
    "serve": "stepdistill.serving.server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
