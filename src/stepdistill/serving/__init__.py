"""Prediction with trained students: the Predictor, and an HTTP server."""

from stepdistill.serving.predictor import Prediction, Predictor

__all__ = ["Prediction", "Predictor"]
