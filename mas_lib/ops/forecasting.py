"""Forecasts as the twin's agents would have had them each morning: re-fitted on a schedule,
strictly on past data (paper 3.2.3 and 3.2.6: train, forecast, retrain as the market moves).

:func:`scheduled_forecasts` walks the days from the first simulated day to the last. On the
morning of day ``t`` a node is (re-)fitted when its *retraining strategy* says so -- on the first
day always; then ``"never"``, every ``"weekly"`` or ``"4-weekly"`` (7 or 28 days), or
``"drift"``: when a drift detector (:mod:`mas_lib.ops.drift`) fed with the node's one-step errors
up to yesterday raises an alarm. A fit sees the days **before** ``t`` only (tested: changing the
demand of day ``t`` or later never changes a forecast made on or before ``t``) and forecasts
far enough ahead to serve every day until the next fit. On every fit the node's **safety stock**
is re-tuned from the same past: the spread of its recent one-step errors (or, right after the
start, of its history) over the lead time, for the chosen cycle service level -- policy
parameters re-tuned on the same schedule as the model.

The trading calendar (Saturdays, bank holidays, the Christmas break) is known in advance, as a
shop knows its opening days; forecasts are 0 on closed days.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .. import forecast as fc
from ..validation import check_choice, check_number, check_whole, not_allowed
from .demand import DataFingerprint, TwinData
from .drift import make_detector

__all__ = ["STRATEGIES", "ForecastPlan", "scheduled_forecasts", "default_model"]

#: retraining strategies and their fixed period [days] (None: no fixed schedule)
STRATEGIES: dict[str, int | None] = {"never": None, "weekly": 7, "4-weekly": 28, "drift": None}


def default_model() -> fc.Forecaster:
    """The twin's default forecaster: the recent demand distribution with weekday factors
    (``fc.EmpiricalQuantile(56, by_weekday=True)``, the best model of the forecasting notebook's backtest)."""
    return fc.EmpiricalQuantile(window=56, by_weekday=True)


@dataclass
class ForecastPlan:
    """What :func:`scheduled_forecasts` hands to the twin.

    ``mean``: ``(T, H, N)`` forecast made on the morning of simulated day ``t`` for day ``t + k``
    [units/day]; ``safety``: ``(T, N)`` safety stock in force on day ``t`` [units];
    ``refit``: ``(T, N)`` bool, node re-fitted that morning; ``alarms``: ``(T, N)`` bool, drift
    alarms raised that morning; ``strategy``, ``seconds`` (wall time of the fits);
    ``made_for``: the :class:`~mas_lib.ops.demand.DataFingerprint` of the data it was made
    from (:func:`mas_lib.ops.run_twin` refuses it on other data).
    """

    mean: np.ndarray
    safety: np.ndarray
    refit: np.ndarray
    alarms: np.ndarray
    strategy: str
    seconds: float
    settings: dict = field(default_factory=dict)
    made_for: DataFingerprint | None = None

    @property
    def one_step(self) -> np.ndarray:
        """``(T, N)`` the forecast of each day made that morning [units/day]."""
        return self.mean[:, 0, :]

    @property
    def n_refits(self) -> int:
        """Number of (node, day) fits, the first day's included."""
        return int(self.refit.sum())


def _fit_path(model, history: pd.Series, calendar: pd.Series, days: int) -> np.ndarray:
    """Fit a fresh copy of ``model`` on ``history`` and forecast ``days`` days ahead (mean)."""
    m = copy.deepcopy(model) if isinstance(model, fc.Forecaster) else model()
    if np.nansum(history.to_numpy()) <= 0:  # never sold: forecast nothing (models need variety)
        return np.zeros(days)
    return m.fit(history, calendar).predict(days, (0.5,)).mean


def scheduled_forecasts(
    data: TwinData,
    strategy: str = "weekly",
    model: fc.Forecaster | Callable[[], fc.Forecaster] | None = None,
    horizon: int | None = None,
    service_level: float = 0.95,
    error_window: int = 56,
    detector: str = "page-hinkley",
    detector_settings: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ForecastPlan:
    """Forecasts and safety stocks for every simulated day of ``data`` under a retraining ``strategy``.

    Args:
        data: the twin's demand (:class:`~mas_lib.ops.demand.TwinData`).
        strategy: ``"never"`` (fit on the first day only), ``"weekly"``, ``"4-weekly"`` or
            ``"drift"`` (refit a node when ``detector`` alarms on its errors).
        model: a :class:`mas_lib.forecast.Forecaster` (copied per fit) or a factory; default
            :func:`default_model`.
        horizon: days of forecast per morning; default ``max lead time + 1``.
        service_level: cycle service level the safety stock aims at, in (0, 1).
        error_window: days of past one-step errors the safety stock is tuned on.
        progress: optional ``callback(done_days, total_days)``.

    Returns:
        A :class:`ForecastPlan`. Paper 3.2.3 / 3.2.6; notebook 08 and ``benchmarks/bench_system.py``.
    """
    strategy = check_choice(strategy, "strategy", tuple(STRATEGIES))
    model = default_model() if model is None else model
    if not (isinstance(model, fc.Forecaster) or callable(model)):
        raise not_allowed("model", model, "a mas_lib.forecast Forecaster or a factory returning one", TypeError)
    leads = np.repeat([w.lead_time for w in data.network.warehouses], len(data.products))
    H = int(leads.max()) + 1 if horizon is None else check_whole(horizon, "horizon", low=1, unit="days")
    service_level = check_number(service_level, "service_level", low=0, high=1, low_inclusive=False,
                                 high_inclusive=False)
    error_window = check_whole(error_window, "error_window", low=7, unit="days")
    units, is_open = data.units, data.open
    y = units.to_numpy(dtype=float)
    open_np = is_open.to_numpy(dtype=bool)
    first = int(np.searchsorted(units.index, data.start))
    n_all, N = y.shape
    T = n_all - first
    if T < 1:
        raise not_allowed("data.start", str(data.start.date()), "a day with simulated days after it")
    z = stats.norm.ppf(service_level)
    cover = np.sqrt(leads + 1.0)
    period = STRATEGIES[strategy]
    det = make_detector(detector, N, **(detector_settings or {})) if strategy == "drift" else None
    mean = np.zeros((T, H, N))
    safety = np.zeros((T, N))
    refit = np.zeros((T, N), dtype=bool)
    alarms = np.zeros((T, N), dtype=bool)
    one_step = np.full((T, N), np.nan)  # forecast of day t made on the morning of t
    paths: list[np.ndarray] = [np.zeros(0)] * N
    origin = np.zeros(N, dtype=int)
    sd = np.zeros(N)
    tic = time.perf_counter()
    for t in range(T):
        day = first + t
        if t == 0:
            due = np.ones(N, dtype=bool)
        elif period is not None:
            due = np.full(N, t % period == 0)
        elif det is not None:
            err = y[day - 1] - one_step[t - 1]
            alarms[t] = det.update(err, open_np[day - 1])
            due = alarms[t]
        else:
            due = np.zeros(N, dtype=bool)
        for i in np.flatnonzero(due):
            hist = units.iloc[:day, i]  # strictly before the morning of day t
            paths[i] = _fit_path(model, hist, is_open, T - t + H)
            origin[i] = t
            lo = max(0, t - error_window)
            e = (y[first + lo : day, i] - one_step[lo:t, i])[open_np[first + lo : day]]
            e = e[np.isfinite(e)]
            if e.size >= 10:
                sd[i] = e.std(ddof=1)
            else:  # too few errors yet: the spread of the open days of the history
                h = hist.to_numpy()[open_np[:day]][-error_window:]
                sd[i] = h.std(ddof=1) if h.size >= 2 else 0.0
        if det is not None and due.any():
            det.reset(due)
        refit[t] = due
        offs = t - origin
        for i in range(N):
            mean[t, :, i] = paths[i][offs[i] : offs[i] + H]
        one_step[t] = mean[t, 0]
        safety[t] = z * sd * cover
        if progress is not None:
            progress(t + 1, T)
    return ForecastPlan(mean, safety, refit, alarms, strategy, time.perf_counter() - tic,
                        {"model": repr(model), "horizon": H, "service_level": service_level,
                         "error_window": error_window, "detector": detector if det is not None else None},
                        data.fingerprint)
