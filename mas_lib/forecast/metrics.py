"""Forecast accuracy metrics (paper 3.2.3: "train the model and validate it"; notebook 04).

Conventions
-----------
Errors are ``actual - forecast`` in units/day (what safety stock has to cover); ``bias`` is
the mean of ``forecast - actual`` (> 0 = over-forecasting). MASE divides the MAE by the
in-sample MAE of the *weekly seasonal naive* forecast (``y[t] - y[t-7]`` over open days of the
history before the origin, counted from the product's first sale: the zero days before a
launch would otherwise shrink the scale and let late launches dominate a mean over series),
so every model of one series and origin shares the same scale.
Every metric ignores pairs where the actual or the forecast is missing (NaN).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..validation import check_bool, check_probability, check_whole

__all__ = [
    "mae",
    "rmse",
    "bias",
    "mase",
    "seasonal_naive_scale",
    "pinball_loss",
    "interval_coverage",
]


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    a, f = np.broadcast_arrays(a, f)
    ok = np.isfinite(a) & np.isfinite(f)
    return a[ok], f[ok]


def mae(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute error (units/day), ignoring NaN pairs (paper 3.2.3 validation; notebook 04)."""
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs(a - f))) if a.size else float("nan")


def rmse(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Root mean squared error (units/day), ignoring NaN pairs (paper 3.2.3 validation).

    Used by :func:`mas_lib.forecast.leaderboard` (its ``rmse`` column); no notebook calls it
    directly.
    """
    a, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((a - f) ** 2))) if a.size else float("nan")


def bias(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean of ``forecast - actual`` (units/day): > 0 over-forecasts, < 0 under-forecasts.

    Paper 3.2.3 (validation); notebook 04.
    """
    a, f = _pair(actual, forecast)
    return float(np.mean(f - a)) if a.size else float("nan")


def seasonal_naive_scale(
    history: ArrayLike, period: int = 7, is_open: ArrayLike | None = None,
    from_first_sale: bool = False,
) -> float:
    """MASE's denominator: in-sample MAE of the seasonal naive forecast ``y[t-period]``.

    Paper 3.2.3 (validation); notebook 04.

    Averaged over days ``t`` of the history that are open (``is_open``, default all) and where
    both values are observed; closed days count as 0 sold. With ``from_first_sale`` the
    history starts at its first day with a sale (the backtest's choice: days before a launch
    say nothing about how hard the product is to forecast). ``period`` in days; result in
    units/day (NaN if no day qualifies).
    """
    period = check_whole(period, "period", low=1, unit="days")
    from_first_sale = check_bool(from_first_sale, "from_first_sale")
    y = np.asarray(history, dtype=float)
    op = np.ones(len(y), bool) if is_open is None else np.asarray(is_open, dtype=bool)
    if from_first_sale:
        sold = np.flatnonzero(np.nan_to_num(y) > 0)
        start = int(sold[0]) if sold.size else len(y)
        y, op = y[start:], op[start:]
    y = np.where(op, y, 0.0)
    d = np.abs(y[period:] - y[:-period])
    d = d[op[period:] & np.isfinite(d)]
    return float(d.mean()) if d.size else float("nan")


def mase(actual: ArrayLike, forecast: ArrayLike, scale: float) -> float:
    """Mean absolute scaled error: MAE / ``scale`` (see :func:`seasonal_naive_scale`); unitless.

    Paper 3.2.3 (validation); notebook 04. NaN when ``scale`` is 0.
    """
    return mae(actual, forecast) / scale if scale > 0 else float("nan")


def pinball_loss(actual: ArrayLike, quantile_forecast: ArrayLike, q: float) -> float:
    """Mean pinball (quantile) loss at level ``q`` in [0, 1] (units/day; paper 3.2.3).

    ``L = q (y - f)`` when ``y >= f`` and ``(1 - q)(f - y)`` otherwise: under-forecasting a high
    quantile costs ``q`` per unit, over-forecasting it only ``1 - q``. Used by
    :func:`mas_lib.forecast.leaderboard` (its ``pinball_<q>`` column); no notebook calls it
    directly.
    """
    q = check_probability(q, "q")
    a, f = _pair(actual, quantile_forecast)
    if not a.size:
        return float("nan")
    d = a - f
    return float(np.mean(np.maximum(q * d, (q - 1) * d)))


def interval_coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actual values inside ``[lower, upper]`` (a fraction 0..1, unitless; actuals and
    bounds in units/day), ignoring NaN actuals.

    Paper 3.2.3 (validation of prediction intervals); notebook 04.
    """
    a = np.asarray(actual, dtype=float)
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    ok = np.isfinite(a)
    return float(np.mean((a[ok] >= lo[ok]) & (a[ok] <= hi[ok]))) if ok.any() else float("nan")
