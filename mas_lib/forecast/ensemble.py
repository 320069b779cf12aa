"""Forecast combination: :class:`Ensemble` averages several models' means and quantiles
(paper 3.2.3, model integration). No notebook or benchmark uses it (the benchmark combines
models already in a backtest with :func:`mas_lib.forecast.combine`, which also takes global
models).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..validation import not_allowed, per_item
from .base import Forecaster

__all__ = ["Ensemble"]


class Ensemble(Forecaster):
    """Average of several models: means averaged, quantiles averaged level by level (units/day).

    Paper 3.2.3 ("model development and integration"); a building block for users (no notebook
    or benchmark uses it). Averaging quantiles ("Vincentisation") keeps them monotone and usually
    calibrates better than any member alone. ``weights`` (one number >= 0 per model, not all
    0) default to equal and are normalised to sum to 1.
    """

    def __init__(self, models: Sequence[Forecaster], weights: Sequence[float] | None = None,
                 name: str | None = None):
        if not models:
            raise not_allowed("Ensemble.models", models, "at least one model")
        self.models = list(models)
        n = len(self.models)
        if weights is None:
            w = np.ones(n)
        else:
            if np.ndim(weights) != 1:
                raise not_allowed("Ensemble.weights", weights, f"{n} numbers >= 0, not all 0")
            w = per_item(weights, n, "Ensemble.weights", low=0.0)
        if w.sum() <= 0:
            raise not_allowed("Ensemble.weights", weights, f"{n} numbers >= 0, not all 0")
        self.weights = w / w.sum()
        self.name = name or "Ensemble(" + "+".join(m.name for m in self.models) + ")"

    def fit(self, history: pd.Series, calendar: pd.Series | None = None) -> Ensemble:
        """Fit a fresh copy of every member on the history (units/day) and calendar."""
        super().fit(history, calendar)
        self.fitted_ = [copy.deepcopy(m).fit(history, calendar) for m in self.models]
        return self

    def _fit(self) -> None:
        pass

    def _predict_days(self, index, is_open, qs):
        mean = np.zeros(len(index))
        qarr = np.zeros((len(index), len(qs)))
        for w, m in zip(self.weights, self.fitted_, strict=True):
            fc = m.predict(len(index), qs)
            mean += w * fc.mean
            qarr += w * np.column_stack([fc.quantile(q) for q in qs])
        return mean, qarr
