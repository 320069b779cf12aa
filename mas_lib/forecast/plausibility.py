"""Plausibility checks on forecasts, with an announced fallback (paper 3.2.3: a model is
validated before its output is used; paper 3.1.1(1): the forecast sets stock levels, so one
absurd number -- SARIMAX once forecast about 7 x 10^9 units for a product that never sold more
than a few hundred a day -- would order absurd stock).

:func:`implausible` says what is wrong with a forecast, or returns ``""``;
:func:`guarded_forecast` fits a model, checks its forecast and, if it is implausible, replaces
it by a simple model's forecast and records why in :attr:`Forecast.note`; so does a fit that
fails *numerically* (:func:`numerical_failure`: a singular matrix, an overflow, statsmodels
giving up on NaN or infinite IRLS weights after a burst of extreme days). Programming errors
(a wrong argument, a bad setting) are not caught. Nothing is clipped silently.
:func:`mas_lib.forecast.backtest` applies the guard to every model.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..validation import ConfigError, check_number
from .base import DEFAULT_QUANTILES, Forecast, Forecaster

__all__ = [
    "implausible", "guarded_forecast", "fall_back", "failure_reason", "numerical_failure",
    "DEFAULT_MULTIPLE",
]

#: a forecast (mean or any quantile) above this many times the largest day seen is implausible
DEFAULT_MULTIPLE: float = 10.0


#: error types that mean "the numbers broke the fit", whatever the message
_NUMERICAL_ERRORS: tuple[type[BaseException], ...] = (
    np.linalg.LinAlgError, FloatingPointError, OverflowError,
)
#: statsmodels raises a plain ValueError when its iterative (IRLS) fits meet NaN or infinite
#: values: ``"NaN, inf or invalid value detected in weights, estimation infeasible."``
#: (``statsmodels.regression._tools._MinimalWLS``) and ``"The first guess on the deviance
#: function returned a nan. ..."`` (``GLM._fit_irls``); only these messages count as numerical
_STATSMODELS_INFEASIBLE = re.compile(
    r"NaN, inf or invalid value detected in \w+, estimation infeasible"
    r"|The first guess on the deviance function returned a nan"
)


def numerical_failure(err: BaseException) -> bool:
    """Whether ``err``, raised by a model's fit or forecast, is a numerical failure a fallback
    may stand in for (True), or a programming or input error that must surface (False).

    Paper 3.2.3 (a model is validated before its output is used); used by
    :func:`guarded_forecast` and :func:`mas_lib.forecast.backtest` (no notebook calls it).
    Numerical: :class:`numpy.linalg.LinAlgError`, :class:`FloatingPointError`,
    :class:`OverflowError`, and statsmodels' two ``ValueError`` messages for a fit that met
    NaN or infinite values ("NaN, inf or invalid value detected in ..., estimation
    infeasible"; "The first guess on the deviance function returned a nan"). Any other ``ValueError`` (a
    :class:`~mas_lib.validation.ConfigError` included), a ``TypeError`` and the rest are not.
    """
    if isinstance(err, _NUMERICAL_ERRORS):
        return True
    return (type(err) is ValueError and not isinstance(err, ConfigError)
            and bool(_STATSMODELS_INFEASIBLE.search(str(err))))


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
    :func:`implausible` or the fit fails numerically (:func:`numerical_failure`), use
    ``fallback`` (default: a fresh 28-day :class:`~mas_lib.forecast.simple.MovingAverage`)
    instead and say so in the returned forecast's ``note``. Any other error propagates.
    Units/day. Paper 3.2.3; used by :func:`mas_lib.forecast.backtest` (no notebook calls it
    directly).
    """
    multiple = _check_multiple(multiple)
    try:
        fc = model.fit(history, calendar).predict(horizon, quantiles)
    except Exception as err:
        if not numerical_failure(err):
            raise
        reason = failure_reason(err)
    else:
        reason = implausible(fc, history, multiple)
        if not reason:
            return fc
    return fall_back(model.name, reason, history, calendar, horizon, quantiles, fallback)


def failure_reason(err: BaseException) -> str:
    """How a numerical failure is written in a forecast's ``note``: ``"fit failed (Type: message)"``."""
    return f"fit failed ({type(err).__name__}: {err})"


def fall_back(
    name: str,
    reason: str,
    history: pd.Series,
    calendar: pd.Series | None,
    horizon: int,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    fallback: Forecaster | None = None,
) -> Forecast:
    """The forecast that replaces model ``name``'s rejected one: ``fallback`` (default a fresh
    28-day :class:`~mas_lib.forecast.simple.MovingAverage`) fitted on ``history``, its ``note``
    saying ``"<name>: <reason>; fell back to <fallback>"``. Units/day.

    Paper 3.2.3; used by :func:`guarded_forecast` and by :func:`mas_lib.forecast.backtest` for
    pooled models (no notebook calls it directly).
    """
    from .simple import MovingAverage

    backup = fallback if fallback is not None else MovingAverage(28)
    fc = backup.fit(history, calendar).predict(horizon, quantiles)
    return dataclasses.replace(fc, note=f"{name}: {reason}; fell back to {backup.name}")
