"""Plausibility checks on forecasts, with an announced fallback (paper 3.2.3: a model is
validated before its output is used; paper 3.1.1(1): the forecast sets stock levels, so one
absurd number -- SARIMAX once forecast about 7 x 10^9 units for a product that never sold more
than a few hundred a day -- would order absurd stock).

:func:`implausible` says what is wrong with a forecast, or returns ``""``;
:func:`guarded_forecast` fits a model, checks its forecast and, if it is implausible, replaces
it by a simple model's forecast and records why in :attr:`Forecast.note`. Nothing is clipped
silently. :func:`mas_lib.forecast.backtest` applies the guard to every model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..validation import check_number
from .base import DEFAULT_QUANTILES, Forecast, Forecaster

__all__ = ["implausible", "guarded_forecast", "DEFAULT_MULTIPLE"]

#: a forecast (mean or any quantile) above this many times the largest day seen is implausible
DEFAULT_MULTIPLE: float = 10.0


def _check_multiple(multiple: float) -> float:
    return check_number(multiple, "multiple", low=1.0)


def implausible(fc: Forecast, history: pd.Series | np.ndarray, multiple: float = DEFAULT_MULTIPLE) -> str:
    """What makes ``fc`` implausible given the ``history`` it was fitted on, or ``""``.

    Paper 3.2.3 (validation); used by :func:`mas_lib.forecast.backtest` on every forecast (no
    notebook calls it directly). A forecast is plausible when its mean and every
    quantile are finite and >= 0 and none exceeds ``multiple`` (>= 1) times the largest
    observed day of the history (units/day; at least 1 unit/day, so a series that never sold
    may still be forecast a little).
    """
    multiple = _check_multiple(multiple)
    values = np.column_stack([fc.mean, *fc.quantiles.values()]) if fc.quantiles else fc.mean
    if not np.all(np.isfinite(values)):
        return "non-finite forecast"
    if np.any(values < 0):
        return f"negative forecast ({float(np.min(values)):.3g} units/day)"
    h = np.asarray(history, dtype=float)
    largest = float(np.nanmax(h)) if np.isfinite(h).any() else 0.0
    cap = multiple * max(largest, 1.0)
    top = float(np.max(values))
    if top > cap:
        return (f"forecast {top:.3g} units/day > {multiple:g} x the largest day seen "
                f"({largest:.3g})")
    return ""


def guarded_forecast(
    model: Forecaster,
    history: pd.Series,
    calendar: pd.Series | None,
    horizon: int,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    fallback: Forecaster | None = None,
    multiple: float = DEFAULT_MULTIPLE,
) -> Forecast:
    """Fit ``model`` on ``history`` and forecast ``horizon`` days; if the forecast is
    :func:`implausible` (or the fit fails with a numerical error), use ``fallback``
    (default: a fresh 28-day :class:`~mas_lib.forecast.simple.MovingAverage`) instead and say
    so in the returned forecast's ``note``. Units/day. Paper 3.2.3; used by
    :func:`mas_lib.forecast.backtest` (no notebook calls it directly).
    """
    from .simple import MovingAverage

    multiple = _check_multiple(multiple)
    try:
        fc = model.fit(history, calendar).predict(horizon, quantiles)
        reason = implausible(fc, history, multiple)
    except (np.linalg.LinAlgError, FloatingPointError, OverflowError) as err:
        reason = f"fit failed ({type(err).__name__}: {err})"
    if not reason:
        return fc
    backup = fallback if fallback is not None else MovingAverage(28)
    fc = backup.fit(history, calendar).predict(horizon, quantiles)
    return dataclasses.replace(fc, note=f"{model.name}: {reason}; fell back to {backup.name}")
