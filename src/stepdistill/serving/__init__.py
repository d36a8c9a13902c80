"""Prediction with trained students: the Predictor, engines, export, and an HTTP server."""

from stepdistill.serving.engines import load_label_predictor
from stepdistill.serving.predictor import Prediction, Predictor

__all__ = ["Prediction", "Predictor", "load_label_predictor"]
