"""Simple baselines and intermittent-demand models (paper 3.1.1(1), 3.2.3; notebook 04).

:class:`Naive`, :class:`SeasonalNaive`, :class:`MovingAverage`, :class:`WeekdayMean` (the
simple baselines every leaderboard shows), :class:`Croston`
and :class:`SBA` (sparse demand), :class:`EmpiricalQuantile` (the recent demand distribution).
All forecast units/day and follow the :class:`~mas_lib.forecast.base.Forecaster` contract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..validation import check_bool, check_number, check_whole
from .base import Forecaster

__all__ = [
    "Naive", "SeasonalNaive", "MovingAverage", "WeekdayMean", "Croston", "SBA", "EmpiricalQuantile",
]


class Naive(Forecaster):
    """Tomorrow = the last observed open day (a random walk; intervals widen with sqrt(h)).

    The simplest benchmark (paper 3.2.3, validation); notebook 04 compares it. Units/day.
    """

    name = "Naive"
    _sqrt_h = True

    def _fit(self) -> None:
        self.resid_ = np.diff(self.y_)

    def _point(self, k: int) -> np.ndarray:
        return np.full(k, self.y_[-1])


class SeasonalNaive(Forecaster):
    """Day ``d`` = the same weekday one week earlier (``period`` calendar days); units/day.

    The reference every model must beat and MASE's yardstick (paper 3.2.3); notebook 04.
    Works on the calendar, so a day whose reference day was closed is forecast as 0 -- exactly
    the rule MASE's scale uses. Missing reference values fall back one more period.
    """

    name = "SeasonalNaive"

    def __init__(self, period: int = 7):
        self.period = check_whole(period, "SeasonalNaive.period", low=1, unit="days")
        self.name = "SeasonalNaive" if period == 7 else f"SeasonalNaive({period})"

    def _fit(self) -> None:
        cal = np.where(self.open_, self.full_, 0.0)  # closed days sold 0; NaN = missing
        self.cal_ = cal
        p = self.period
        err = cal[p:] - cal[:-p]
        self.resid_ = err[self.open_[p:]]

    def _reference_values(self, n_days: int) -> np.ndarray:
        """For each of the next ``n_days``: the value one period back (further if missing)."""
        p, cal = self.period, self.cal_
        n = len(cal)
        point = np.empty(n_days)
        for h in range(n_days):
            j = n - p + (h % p)
            v = np.nan
            while j >= 0 and np.isnan(v):
                v = cal[j] if j < n else np.nan
                j -= p
            point[h] = 0.0 if np.isnan(v) else v
        return point

    def _predict_days(self, index, is_open, qs):
        point = self._reference_values(len(index))
        resid = self.resid_[np.isfinite(self.resid_)]
        rq = np.quantile(resid, qs) if resid.size else np.zeros(len(qs))
        steps = np.sqrt(1 + np.arange(len(index)) // self.period)
        qarr = point[:, None] + steps[:, None] * rq[None, :]
        point = np.where(is_open, point, 0.0)
        qarr[~is_open] = 0.0
        return point, qarr


class MovingAverage(Forecaster):
    """Mean of the observed open days in the last ``window`` calendar days, repeated ahead.

    A level baseline (paper 3.2.3); notebook 04 compares it. Units/day.
    """

    def __init__(self, window: int = 28):
        self.window = check_whole(window, "MovingAverage.window", low=1, unit="days")
        self.name = f"MovingAverage({window})"

    def _fit(self) -> None:
        recent = self.full_[-self.window :]
        recent = recent[~np.isnan(recent)]
        self.level_ = float(recent.mean()) if recent.size else float(self.y_[-self.window :].mean())
        n = max(1, min(len(self.y_) - 1, int(round(self.window * self.open_.mean()))))
        ma = pd.Series(self.y_).rolling(n, min_periods=1).mean().to_numpy()
        self.resid_ = self.y_[1:] - ma[:-1]

    def _point(self, k: int) -> np.ndarray:
        return np.full(k, self.level_)


class WeekdayMean(Forecaster):
    """Mean of the same weekday over the last ``weeks`` weeks, repeated week after week.

    A strong simple baseline (paper 3.2.3, validation); notebook 04 compares it. Units/day.

    Day ``d`` ahead is forecast by the mean of the observed open days among the ``weeks``
    most recent history days with ``d``'s weekday (days ``d - 7k`` that lie in the history).
    A weekday with no observed open day in that window gets the mean of all observed open
    days of the window. Intervals: the point plus quantiles of the in-sample one-step errors
    of the same rule.
    """

    def __init__(self, weeks: int = 8):
        self.weeks = check_whole(weeks, "WeekdayMean.weeks", low=1, unit="weeks")
        self.name = f"WeekdayMean({weeks}w)"

    @staticmethod
    def _rule(full: np.ndarray, weeks: int) -> np.ndarray:
        """For each day t (and one week beyond), the mean of observed ``full[t - 7k]``,
        ``k = 1..weeks`` (NaN if none): the rule's forecast of day t from days before it."""
        n = len(full)
        total = np.zeros(n + 7)
        count = np.zeros(n + 7)
        for k in range(1, weeks + 1):
            src = np.full(n + 7, np.nan)
            src[7 * k : n + 7] = full[: max(0, n + 7 - 7 * k)]
            ok = ~np.isnan(src)
            total[ok] += src[ok]
            count += ok
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def _fit(self) -> None:
        rule = self._rule(self.full_, self.weeks)
        fallback = self.full_[-7 * self.weeks :]
        fallback = fallback[~np.isnan(fallback)]
        self.level_ = float(fallback.mean()) if fallback.size else float(self.y_[-1])
        self.next_ = np.where(np.isnan(rule[-7:]), self.level_, rule[-7:])  # the next 7 days
        err = self.full_ - rule[: len(self.full_)]
        self.resid_ = err[np.isfinite(err)]

    def _predict_days(self, index, is_open, qs):
        point = np.resize(self.next_, len(index))  # the next week's rule, repeated weekly
        resid = self.resid_ if self.resid_.size else np.zeros(1)
        qarr = point[:, None] + np.quantile(resid, qs)[None, :]
        point = np.where(is_open, point, 0.0)
        qarr[~is_open] = 0.0
        return point, qarr


class Croston(Forecaster):
    """Croston's method for intermittent demand (Croston 1972); units/day.

    Paper 3.2.3 (forecasting models); notebook 04 (sparse-demand section).

    Exponentially smooths the non-zero demand sizes ``z`` and the intervals ``p`` (in open days)
    between them with the same ``alpha``; the forecast per open day is ``z / p``. The first
    size and interval initialise the smoothers. A series with no demand forecasts 0.
    """

    name = "Croston"
    _debias = 1.0

    def __init__(self, alpha: float = 0.1):
        self.alpha = check_number(alpha, f"{type(self).__name__}.alpha", low=0.0, high=1.0,
                                  low_inclusive=False)

    def _fit(self) -> None:
        a = self.alpha
        y = self.y_
        z = p = None
        q = 1
        fitted = np.full(len(y), np.nan)
        for t, v in enumerate(y):
            if z is not None:
                fitted[t] = self._debias * z / p
            if v > 0:
                if z is None:
                    z, p = v, float(q)
                else:
                    z = z + a * (v - z)
                    p = p + a * (q - p)
                q = 1
            else:
                q += 1
        self.level_ = 0.0 if z is None else self._debias * z / p
        self.size_, self.interval_ = z, p
        self.resid_ = (y - fitted)[1:]

    def _point(self, k: int) -> np.ndarray:
        return np.full(k, self.level_)


class SBA(Croston):
    """Syntetos-Boylan approximation: Croston times ``1 - alpha/2`` to remove its bias (2005).

    Paper 3.2.3; notebook 04 (sparse-demand section). Units/day.
    """

    name = "SBA"

    def __init__(self, alpha: float = 0.1):
        super().__init__(alpha)
        self._debias = 1.0 - self.alpha / 2


class EmpiricalQuantile(Forecaster):
    """The recent demand distribution itself: quantiles of the last ``window`` days' open demand.

    Paper 3.2.3 (forecasting models); notebook 04 (the best model of its backtest). Units/day.

    A non-parametric, level-only model: every future open day gets the empirical distribution
    of the observed open days in the last ``window`` calendar days (mean = their mean, median =
    their median). Cheap, robust to spikes, and its intervals are honest when demand is stable.
    With ``by_weekday=True`` the distribution is rescaled by each weekday's share of demand over
    the longer ``weekday_window`` (calendar days).
    """

    def __init__(self, window: int = 56, by_weekday: bool = False, weekday_window: int = 182):
        self.window = check_whole(window, "EmpiricalQuantile.window", low=7, unit="days")
        self.by_weekday = check_bool(by_weekday, "EmpiricalQuantile.by_weekday")
        self.weekday_window = check_whole(
            weekday_window, "EmpiricalQuantile.weekday_window", low=7, unit="days"
        )
        self.name = f"Empirical({window}d{', dow' if by_weekday else ''})"

    def _fit(self) -> None:
        recent = self.full_[-self.window :]
        recent = recent[~np.isnan(recent)]
        self.sample_ = recent if recent.size else self.y_[-self.window :]
        self.factor_ = self._weekday_factors() if self.by_weekday else np.ones(7)

    def _weekday_factors(self) -> np.ndarray:
        """Each weekday's mean over the overall mean, on the last ``weekday_window`` days
        (1 where a weekday has fewer than 4 observed days)."""
        factor = np.ones(7)
        full = self.full_[-self.weekday_window :]
        dow = self.index_[-self.weekday_window :].day_of_week.to_numpy()
        overall = np.nanmean(full)
        if np.isfinite(overall) and overall > 0:
            for d in range(7):
                vals = full[dow == d]
                vals = vals[~np.isnan(vals)]
                if vals.size >= 4:
                    factor[d] = vals.mean() / overall
        return factor

    def _predict_days(self, index, is_open, qs):
        mean = np.zeros(len(index))
        qarr = np.zeros((len(index), len(qs)))
        base_q = np.quantile(self.sample_, qs)
        f = self.factor_[index.day_of_week.to_numpy()]
        mean[is_open] = (self.sample_.mean() * f)[is_open]
        qarr[is_open] = (f[:, None] * base_q[None, :])[is_open]
        return mean, qarr
