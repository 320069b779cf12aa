"""Daily demand forecasting, backtesting and safety stock (paper 3.1.1(1), 3.2.2, 3.2.3).

Everything here serves notebook 04 and ``benchmarks/bench_forecast.py``, and feeds the
environment through :func:`rolling_forecasts` -> :class:`mas_lib.sim.demand.RecordedDemand`.

The model contract
------------------
Every model is a :class:`Forecaster`::

    model.fit(history, calendar=None)      # history: pd.Series, daily DatetimeIndex, units/day
    fc = model.predict(horizon, quantiles) # -> Forecast(index, mean, quantiles)

*Closed days.* A shop that is closed sells nothing, so demand on a closed day is 0 by
construction. ``calendar`` is a boolean Series (True = open) indexed by day; it must cover the
history and may cover the days to forecast (days it does not list count as open). Models are
fitted on the **open days only** (closed days are dropped, not treated as "sold nothing"), and
``predict`` returns 0 -- mean and every quantile -- on closed days. Missing values (NaN) in the
history are skipped the same way. Without a calendar every day is open. (The seasonal naive
and SARIMAX models keep the calendar's spacing instead: "one week ago" stays 7 days back.)

*Intervals.* Every forecast carries quantiles (units/day) because base-stock and safety-stock
policies need them. Unless a model has its own predictive distribution (SARIMAX: Gaussian;
the count regression: Poisson / negative binomial; the empirical model: the recent demand
distribution itself), they are the point forecast plus empirical quantiles of the model's
in-sample one-step errors, clipped at 0 (scaled by sqrt(h) for the random-walk naive model).
Quantiles are made non-decreasing in the level.

Metrics and conventions
-----------------------
Errors are ``actual - forecast`` in units/day (what safety stock has to cover); ``bias`` is
the mean of ``forecast - actual`` (> 0 = over-forecasting). MASE divides the MAE by the in-sample MAE of the
*weekly seasonal naive* forecast (``y[t] - y[t-7]`` over open days of the history before the
origin), so every model of one series and origin shares the same scale. The leaderboard scores
open days only (on closed days every calendar-aware model is trivially right) and uses the
forecast **median** as the point forecast for MAE/MASE (the median is what minimises absolute
error) and the mean for RMSE and bias; :func:`leaderboard` can switch the point to the mean.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from ..data.synthetic import holiday_calendar

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DEFAULT_QUANTILES",
    "Forecast",
    "Forecaster",
    "Naive",
    "SeasonalNaive",
    "MovingAverage",
    "Croston",
    "SBA",
    "EmpiricalQuantile",
    "HoltWinters",
    "SARIMAXModel",
    "CountRegression",
    "PooledCountRegression",
    "Ensemble",
    "make_features",
    "mae",
    "rmse",
    "bias",
    "mase",
    "seasonal_naive_scale",
    "pinball_loss",
    "interval_coverage",
    "backtest",
    "weekly_origins",
    "leaderboard",
    "safety_stock",
    "safety_stock_table",
    "rolling_forecasts",
    "series_from_tidy",
    "plot_forecast",
]

#: quantile levels every model returns unless asked otherwise
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.5, 0.9, 0.95)


# --------------------------------------------------------------------------------------------
# Forecast container
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Forecast:
    """A probabilistic forecast for ``horizon`` consecutive days (units/day; paper 3.1.1(1)).

    ``index`` holds the forecast days, ``mean`` the expected demand ``(horizon,)`` and
    ``quantiles`` maps each level (e.g. 0.9) to an array ``(horizon,)``; quantiles are
    non-decreasing in the level and >= 0.
    """

    index: pd.DatetimeIndex
    mean: np.ndarray
    quantiles: dict[float, np.ndarray] = field(default_factory=dict)

    def quantile(self, q: float) -> np.ndarray:
        """The ``q``-quantile forecast (units/day); ``q`` must be one of the stored levels."""
        for level, values in self.quantiles.items():
            if np.isclose(level, q):
                return values
        raise KeyError(f"quantile {q} was not requested; available: {sorted(self.quantiles)}")

    @property
    def median(self) -> np.ndarray:
        """The 0.5 quantile if stored, else the mean (units/day)."""
        try:
            return self.quantile(0.5)
        except KeyError:
            return self.mean

    def to_frame(self) -> pd.DataFrame:
        """The forecast as a table: one row per day, columns ``mean`` and ``q0.05`` ..."""
        data = {"mean": self.mean}
        data.update({f"q{q:g}": v for q, v in sorted(self.quantiles.items())})
        return pd.DataFrame(data, index=self.index)


def _check_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    qs = tuple(float(q) for q in quantiles)
    if any(not 0 < q < 1 for q in qs):
        raise ValueError(f"quantile levels must lie strictly between 0 and 1; got {qs}")
    return tuple(sorted(set(qs)))


def _tidy_quantiles(point: np.ndarray, qarr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clip to >= 0 and make quantiles non-decreasing across levels (axis 1)."""
    qarr = np.maximum.accumulate(np.maximum(qarr, 0.0), axis=1)
    return np.maximum(point, 0.0), qarr


# --------------------------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------------------------
class Forecaster:
    """Base class of every forecasting model (notebook 04, paper 3.2.3).

    Subclasses implement ``_fit()`` using ``self.y_`` (observed open-day values, oldest first,
    units/day) and, if they need the calendar, ``self.full_`` (all history days, NaN where closed
    or missing) and ``self.open_`` (bool per history day). They then either implement
    ``_point(k) -> (k,)`` for the next ``k`` open days and set ``self.resid_`` (one-step errors)
    -- the base class adds empirical-residual intervals -- or override ``_predict_open``.
    """

    name: str = "model"
    #: scale residual quantiles by sqrt(h) (random-walk models)
    _sqrt_h: bool = False

    def fit(self, history: pd.Series, calendar: pd.Series | None = None) -> Forecaster:
        """Fit on a daily demand series (units/day) and an optional open/closed calendar."""
        self._prepare(history, calendar)
        self._fit()
        return self

    def _prepare(self, history: pd.Series, calendar: pd.Series | None) -> None:
        """Check the history and store it (everything ``fit`` does except fitting)."""
        if not isinstance(history, pd.Series) or not isinstance(history.index, pd.DatetimeIndex):
            raise TypeError("history must be a pandas Series with a daily DatetimeIndex")
        if len(history) < 2:
            raise ValueError(f"{self.name}: history needs >= 2 days; got {len(history)}")
        idx = history.index
        if ((idx[1:] - idx[:-1]) != pd.Timedelta(days=1)).any():
            raise ValueError(f"{self.name}: history must be daily with no gaps in the dates")
        values = history.to_numpy(dtype=float)
        if np.nanmin(values, initial=0.0) < 0:
            raise ValueError(f"{self.name}: demand must be >= 0 units/day")
        self.index_ = idx
        self.calendar_ = None if calendar is None else calendar.astype(bool)
        self.open_ = self._open_mask(idx)
        self.full_ = np.where(self.open_, values, np.nan)
        self.y_ = self.full_[~np.isnan(self.full_)]
        if len(self.y_) < 2:
            raise ValueError(f"{self.name}: needs >= 2 observed open days; got {len(self.y_)}")
        self.resid_ = np.zeros(1)

    def _open_mask(self, index: pd.DatetimeIndex) -> np.ndarray:
        if self.calendar_ is None:
            return np.ones(len(index), dtype=bool)
        return self.calendar_.reindex(index, fill_value=True).to_numpy(dtype=bool)

    def _fit(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _point(self, k: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_open(self, k: int, qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(k,)`` and quantiles ``(k, len(qs))`` for the next ``k`` open days."""
        point = self._point(k)
        resid = self.resid_[np.isfinite(self.resid_)]
        if resid.size == 0:
            resid = np.zeros(1)
        rq = np.quantile(resid, qs)
        steps = np.sqrt(np.arange(1, k + 1)) if self._sqrt_h else np.ones(k)
        return point, point[:, None] + steps[:, None] * rq[None, :]

    def _future(self, horizon: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
        index = pd.date_range(self.index_[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
        return index, self._open_mask(index)

    def predict(
        self, horizon: int, quantiles: Sequence[float] = DEFAULT_QUANTILES
    ) -> Forecast:
        """Forecast the next ``horizon`` days after the history (units/day, 0 on closed days)."""
        if not hasattr(self, "y_"):
            raise RuntimeError(f"{self.name}: call fit() before predict()")
        if int(horizon) != horizon or horizon < 1:
            raise ValueError(f"horizon must be a whole number of days >= 1; got {horizon!r}")
        qs = _check_quantiles(quantiles)
        index, is_open = self._future(int(horizon))
        mean, qarr = self._predict_days(index, is_open, qs)
        mean, qarr = _tidy_quantiles(mean, qarr)
        return Forecast(index, mean, {q: qarr[:, j] for j, q in enumerate(qs)})

    def _predict_days(
        self, index: pd.DatetimeIndex, is_open: np.ndarray, qs: tuple[float, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        mean = np.zeros(len(index))
        qarr = np.zeros((len(index), len(qs)))
        k = int(is_open.sum())
        if k:
            m, q = self._predict_open(k, qs)
            mean[is_open], qarr[is_open] = m, q
        return mean, qarr

    def __repr__(self) -> str:
        return self.name


class Naive(Forecaster):
    """Tomorrow = the last observed open day (a random walk; intervals widen with sqrt(h))."""

    name = "Naive"
    _sqrt_h = True

    def _fit(self) -> None:
        self.resid_ = np.diff(self.y_)

    def _point(self, k: int) -> np.ndarray:
        return np.full(k, self.y_[-1])


class SeasonalNaive(Forecaster):
    """Day ``d`` = the same weekday one week earlier (``period`` calendar days).

    Works on the calendar, so a day whose reference day was closed is forecast as 0 -- exactly
    the rule MASE's scale uses. Missing reference values fall back one more period.
    """

    name = "SeasonalNaive"

    def __init__(self, period: int = 7):
        if int(period) != period or period < 1:
            raise ValueError(f"SeasonalNaive.period must be a whole number of days >= 1; got {period!r}")
        self.period = int(period)
        self.name = "SeasonalNaive" if period == 7 else f"SeasonalNaive({period})"

    def _fit(self) -> None:
        cal = np.where(self.open_, self.full_, 0.0)  # closed days sold 0; NaN = missing
        self.cal_ = cal
        p = self.period
        err = cal[p:] - cal[:-p]
        self.resid_ = err[self.open_[p:]]

    def _predict_days(self, index, is_open, qs):
        p, cal = self.period, self.cal_
        n = len(cal)
        point = np.empty(len(index))
        for h in range(len(index)):
            j = n - p + (h % p)
            v = np.nan
            while j >= 0 and np.isnan(v):
                v = cal[j] if j < n else np.nan
                j -= p
            point[h] = 0.0 if np.isnan(v) else v
        resid = self.resid_[np.isfinite(self.resid_)]
        rq = np.quantile(resid, qs) if resid.size else np.zeros(len(qs))
        steps = np.sqrt(1 + np.arange(len(index)) // p)
        qarr = point[:, None] + steps[:, None] * rq[None, :]
        point = np.where(is_open, point, 0.0)
        qarr[~is_open] = 0.0
        return point, qarr


class MovingAverage(Forecaster):
    """Mean of the observed open days in the last ``window`` calendar days, repeated ahead."""

    def __init__(self, window: int = 28):
        if int(window) != window or window < 1:
            raise ValueError(f"MovingAverage.window must be a whole number of days >= 1; got {window!r}")
        self.window = int(window)
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


class Croston(Forecaster):
    """Croston's method for intermittent demand (Croston 1972).

    Exponentially smooths the non-zero demand sizes ``z`` and the intervals ``p`` (in open days)
    between them with the same ``alpha``; the forecast per open day is ``z / p``. The first
    size and interval initialise the smoothers. A series with no demand forecasts 0.
    """

    name = "Croston"
    _debias = 1.0

    def __init__(self, alpha: float = 0.1):
        if not 0 < alpha <= 1:
            raise ValueError(f"{type(self).__name__}.alpha must be in (0, 1]; got {alpha!r}")
        self.alpha = float(alpha)

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
    """Syntetos-Boylan approximation: Croston times ``1 - alpha/2`` to remove its bias (2005)."""

    name = "SBA"

    def __init__(self, alpha: float = 0.1):
        super().__init__(alpha)
        self._debias = 1.0 - self.alpha / 2


class EmpiricalQuantile(Forecaster):
    """The recent demand distribution itself: quantiles of the last ``window`` days' open demand.

    A non-parametric, level-only model: every future open day gets the empirical distribution
    of the observed open days in the last ``window`` calendar days (mean = their mean, median =
    their median). Cheap, robust to spikes, and its intervals are honest when demand is stable.
    With ``by_weekday=True`` the distribution is rescaled by each weekday's share of demand over
    the longer ``weekday_window``.
    """

    def __init__(self, window: int = 56, by_weekday: bool = False, weekday_window: int = 182):
        if int(window) != window or window < 7:
            raise ValueError(f"EmpiricalQuantile.window must be a whole number of days >= 7; got {window!r}")
        self.window = int(window)
        self.by_weekday = bool(by_weekday)
        self.weekday_window = int(weekday_window)
        self.name = f"Empirical({window}d{', dow' if by_weekday else ''})"

    def _fit(self) -> None:
        recent = self.full_[-self.window :]
        recent = recent[~np.isnan(recent)]
        self.sample_ = recent if recent.size else self.y_[-self.window :]
        self.factor_ = np.ones(7)
        if self.by_weekday:
            full = self.full_[-self.weekday_window :]
            dow = self.index_[-self.weekday_window :].day_of_week.to_numpy()
            overall = np.nanmean(full)
            if np.isfinite(overall) and overall > 0:
                for d in range(7):
                    vals = full[dow == d]
                    vals = vals[~np.isnan(vals)]
                    if vals.size >= 4:
                        self.factor_[d] = vals.mean() / overall

    def _predict_days(self, index, is_open, qs):
        mean = np.zeros(len(index))
        qarr = np.zeros((len(index), len(qs)))
        base_q = np.quantile(self.sample_, qs)
        f = self.factor_[index.day_of_week.to_numpy()]
        mean[is_open] = (self.sample_.mean() * f)[is_open]
        qarr[is_open] = (f[:, None] * base_q[None, :])[is_open]
        return mean, qarr


class HoltWinters(Forecaster):
    """Exponential smoothing with additive weekly seasonality (statsmodels ``ExponentialSmoothing``).

    Fitted on the open-day sequence, so the season length is the number of open days in a
    week (6 for the UCI retailer, 7 without closures) -- an approximation where bank holidays
    shift the pattern. ``trend="add"`` adds a damped additive trend.
    """

    def __init__(self, trend: str | None = None, seasonal_periods: int | None = None):
        if trend not in (None, "add"):
            raise ValueError(f"HoltWinters.trend must be None or 'add'; got {trend!r}")
        self.trend = trend
        self.seasonal_periods = seasonal_periods
        self.name = "HoltWinters" + ("(trend)" if trend else "")

    def _fit(self) -> None:
        from statsmodels.tools.sm_exceptions import ConvergenceWarning
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        m = self.seasonal_periods or max(1, int(round(7 * self.open_.mean())))
        seasonal = "add" if m > 1 and len(self.y_) >= 2 * m + 2 else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message=".*optimization.*", category=UserWarning)
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            model = ExponentialSmoothing(
                self.y_,
                trend=self.trend,
                damped_trend=self.trend is not None,
                seasonal=seasonal,
                seasonal_periods=m if seasonal else None,
                initialization_method="estimated",
            )
            self.result_ = model.fit(use_brute=False)
        self.resid_ = self.y_ - self.result_.fittedvalues

    def _point(self, k: int) -> np.ndarray:
        return np.asarray(self.result_.forecast(k), dtype=float)


class SARIMAXModel(Forecaster):
    """Seasonal ARIMA (statsmodels ``SARIMAX``) on the calendar, closed days as missing.

    The Kalman filter skips the missing (closed or unobserved) days, so the weekly season keeps
    its calendar meaning. Intervals are the model's own Gaussian ones, clipped at 0.
    """

    name = "SARIMAX"

    def __init__(
        self,
        order: tuple[int, int, int] = (1, 0, 1),
        seasonal_order: tuple[int, int, int, int] = (1, 0, 1, 7),
        trend: str = "c",
    ):
        self.order = tuple(order)
        self.seasonal_order = tuple(seasonal_order)
        self.trend = trend
        if (self.order, self.seasonal_order) != ((1, 0, 1), (1, 0, 1, 7)):
            o, so = self.order, self.seasonal_order
            self.name = f"SARIMAX({o[0]},{o[1]},{o[2]})({so[0]},{so[1]},{so[2]},{so[3]})"

    def _fit(self) -> None:
        from statsmodels.tools.sm_exceptions import ConvergenceWarning
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", category=UserWarning)
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            model = SARIMAX(
                self.full_,
                order=self.order,
                seasonal_order=self.seasonal_order,
                trend=self.trend,
                enforce_stationarity=False,
                enforce_invertibility=False,
            )
            self.result_ = model.fit(disp=False, maxiter=50)

    def _predict_days(self, index, is_open, qs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            fc = self.result_.get_forecast(len(index))
            mean = np.asarray(fc.predicted_mean, dtype=float)
            se = np.sqrt(np.maximum(np.asarray(fc.var_pred_mean, dtype=float), 0.0))
        qarr = mean[:, None] + se[:, None] * stats.norm.ppf(qs)[None, :]
        mean = np.where(is_open, mean, 0.0)
        qarr[~is_open] = 0.0
        return mean, qarr


# --------------------------------------------------------------------------------------------
# Features and count regression
# --------------------------------------------------------------------------------------------
def make_features(
    series_frame: pd.DataFrame | pd.Series,
    min_lag: int = 1,
    windows: Sequence[int] = (7, 28),
) -> pd.DataFrame:
    """Model features for each day of a daily series (paper 3.2.2; notebook 04).

    ``series_frame`` is a Series of units/day or a DataFrame indexed by day with a ``units``
    column and optionally ``open`` (bool) and ``price`` (GBP/unit). Returns, per day:
    ``dow_0..dow_6`` (one-hot weekday), ``trend`` (years since the first day), ``open``,
    ``holiday_*`` flags (see :func:`mas_lib.data.synthetic.holiday_calendar`), ``lag_{min_lag}``,
    ``lag_7`` (if ``min_lag <= 7``), ``rmean_{w}`` (mean of the open, observed days among the
    ``w`` days ending ``min_lag`` days before, units/day) and ``price`` if given.

    No look-ahead: the row of day ``t`` uses demand up to day ``t - min_lag`` only, so it is
    safe for forecasts up to ``min_lag`` days ahead. Calendar columns are known in advance.
    """
    if isinstance(series_frame, pd.Series):
        frame = series_frame.to_frame("units")
    else:
        frame = series_frame
    if "units" not in frame.columns or not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError("make_features needs a daily DatetimeIndex and a 'units' column")
    if int(min_lag) != min_lag or min_lag < 1:
        raise ValueError(f"min_lag must be a whole number of days >= 1; got {min_lag!r}")
    idx = frame.index
    is_open = frame["open"].astype(bool) if "open" in frame.columns else pd.Series(True, index=idx)
    units = frame["units"].astype(float)
    observed = units.where(is_open)  # closed days carry no information about demand
    out = pd.DataFrame(index=idx)
    dow = idx.day_of_week.to_numpy()
    for d in range(7):
        out[f"dow_{d}"] = (dow == d).astype(float)
    out["trend"] = (idx - idx[0]).days.to_numpy() / 365.25
    out["open"] = is_open.to_numpy(dtype=float)
    hol = holiday_calendar(idx).to_numpy()
    for name in ("black_friday", "singles_day", "christmas"):
        out[f"holiday_{name}"] = (hol == name).astype(float)
    lagged = observed.shift(min_lag)
    out[f"lag_{min_lag}"] = units.shift(min_lag)
    if min_lag < 7:
        out["lag_7"] = units.shift(7)
    for w in windows:
        out[f"rmean_{w}"] = lagged.rolling(int(w), min_periods=1).mean()
    if "price" in frame.columns:
        out["price"] = frame["price"].astype(float)
    return out


class CountRegression(Forecaster):
    """Poisson or negative-binomial regression (statsmodels GLM, log link) on the features.

    ``log E[y_t] = b . x_t`` with ``x_t`` = weekday dummies, trend, holiday flags,
    ``log(1 + rolling means)`` lagged by ``max_horizon`` days (direct multi-step: the same model
    serves every step up to ``max_horizon``) and price if given. Fitted on open days. The
    predictive distribution is Poisson, or negative binomial with ``alpha`` estimated from the
    Pearson residuals (``family="negbin"``); its quantiles come from the distribution's ppf.
    The mean is capped at twice the largest open day seen (a guard against extrapolation).
    Pass a DataFrame with ``units`` and ``price`` columns as ``exog``-carrying history via
    :meth:`fit_frame` to use prices.
    """

    def __init__(
        self, family: str = "negbin", max_horizon: int = 7, windows: Sequence[int] = (7, 28, 91)
    ):
        if family not in ("poisson", "negbin"):
            raise ValueError(f"CountRegression.family must be 'poisson' or 'negbin'; got {family!r}")
        self.family = family
        self.max_horizon = int(max_horizon)
        self.windows = tuple(windows)
        self.name = f"CountGLM({family})"
        self.price_ = None

    def fit_frame(self, frame: pd.DataFrame, calendar: pd.Series | None = None) -> CountRegression:
        """Fit on a DataFrame with ``units`` and ``price`` columns (price = known future input)."""
        self.price_ = frame["price"].astype(float)
        return self.fit(frame["units"], calendar)

    def _design(self, index: pd.DatetimeIndex, units: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame({"units": units, "open": self._open_mask(index)}, index=index)
        if self.price_ is not None:
            frame["price"] = self.price_.reindex(index).ffill().to_numpy()
        feats = make_features(frame, min_lag=self.max_horizon, windows=self.windows)
        cols = [f"dow_{d}" for d in range(1, 7)] + ["trend", "holiday_black_friday",
                                                    "holiday_singles_day", "holiday_christmas"]
        X = feats[cols].copy()
        for w in self.windows:
            X[f"log_rmean_{w}"] = np.log1p(feats[f"rmean_{w}"].fillna(0.0))
        if "price" in feats:
            X["price"] = feats["price"]
        X.insert(0, "const", 1.0)
        return X

    def _rows(self) -> tuple[pd.DataFrame, np.ndarray]:
        """Training rows: design matrix and units/day on observed open days with lagged data."""
        X = self._design(self.index_, self.full_)
        ok = ~np.isnan(self.full_)
        ok[: min(len(ok) - 2, 7)] = False  # the first days have no lagged information
        return X[ok], self.full_[ok]

    def _fit(self) -> None:
        Xo, y = self._rows()
        self._set_fit(*_fit_glm(Xo, y, self.family))

    def _set_fit(self, columns: list[str], params: np.ndarray, alpha: float) -> None:
        self.columns_, self.params_, self.alpha_ = columns, params, alpha

    def _predict_days(self, index, is_open, qs):
        all_idx = self.index_.append(index)
        units = np.concatenate([self.full_, np.full(len(index), np.nan)])
        X = self._design(all_idx, units).iloc[len(self.index_) :]
        if len(index) > self.max_horizon:
            raise ValueError(
                f"{self.name} was built for up to {self.max_horizon} days ahead; asked {len(index)}"
            )
        eta = np.clip(X[self.columns_].to_numpy() @ self.params_, -20, 20)
        # guard against runaway extrapolation (trend, rare flags): at most 2x the largest day seen
        mu = np.minimum(np.exp(eta), 2.0 * float(np.max(self.y_)) + 1.0)
        if self.alpha_ > 0:
            n = 1.0 / self.alpha_
            qarr = stats.nbinom.ppf(np.asarray(qs)[None, :], n, (n / (n + mu))[:, None])
        else:
            qarr = stats.poisson.ppf(np.asarray(qs)[None, :], mu[:, None])
        mean = np.where(is_open, mu, 0.0)
        qarr = np.where(is_open[:, None], qarr, 0.0)
        return mean, qarr


def _fit_glm(Xo: pd.DataFrame, y: np.ndarray, family: str) -> tuple[list[str], np.ndarray, float]:
    """Poisson GLM fit (log link) + negative-binomial alpha from the Pearson residuals."""
    import statsmodels.api as sm

    keep = Xo.columns[(Xo.std(axis=0) > 0) | (Xo.columns == "const")]
    columns = list(keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.GLM(y, Xo[columns].to_numpy(), family=sm.families.Poisson()).fit()
    mu = np.clip(res.fittedvalues, 1e-9, None)
    alpha = 0.0
    if family == "negbin":
        alpha = float(max(1e-6, np.sum((y - mu) ** 2 - y) / np.sum(mu**2)))
    return columns, np.asarray(res.params), alpha


class PooledCountRegression:
    """A *global* count regression: one GLM fitted on the rows of many series at once.

    Same features and predictive distribution as :class:`CountRegression`, but the
    coefficients (weekday profile, holiday lifts, how much the recent level matters) are
    shared by all series, which is far less noisy than fitting each short series alone. The
    level of each series enters through ``log(1 + rolling means)``, so series of different
    sizes can share one model. Use :meth:`fit_many`, then :meth:`predict_series`;
    :func:`backtest` does this once per origin for every model with ``pooled = True``.
    """

    pooled = True

    def __init__(
        self, family: str = "negbin", max_horizon: int = 7, windows: Sequence[int] = (7, 28, 91)
    ):
        self.template = CountRegression(family, max_horizon, windows)
        self.family = family
        self.name = f"PooledGLM({family})"

    def fit_many(
        self,
        histories: Mapping[str, pd.Series],
        calendars: pd.Series | Mapping[str, pd.Series] | None = None,
    ) -> PooledCountRegression:
        """Fit one GLM on all ``histories`` (name -> daily units Series, same rules as ``fit``)."""
        self.members_: dict[str, CountRegression] = {}
        Xs, ys = [], []
        for key, h in histories.items():
            cal = calendars.get(key) if isinstance(calendars, Mapping) else calendars
            m = copy.deepcopy(self.template)
            m._prepare(h, cal)
            X, y = m._rows()
            Xs.append(X)
            ys.append(y)
            self.members_[key] = m
        if not Xs:
            raise ValueError(f"{self.name}: fit_many needs at least one series")
        fit = _fit_glm(pd.concat(Xs, ignore_index=True), np.concatenate(ys), self.family)
        for m in self.members_.values():
            m._set_fit(*fit)
        self.columns_, self.params_, self.alpha_ = fit
        return self

    def predict_series(
        self, key: str, horizon: int, quantiles: Sequence[float] = DEFAULT_QUANTILES
    ) -> Forecast:
        """Forecast series ``key`` (one of those passed to :meth:`fit_many`)."""
        if key not in getattr(self, "members_", {}):
            raise KeyError(f"{self.name} was not fitted on a series named {key!r}")
        return self.members_[key].predict(horizon, quantiles)

    def __repr__(self) -> str:
        return self.name


class Ensemble(Forecaster):
    """Average of several models: means averaged, quantiles averaged level by level.

    Averaging quantiles ("Vincentisation") keeps them monotone and usually calibrates better
    than any member alone. ``weights`` default to equal.
    """

    def __init__(self, models: Sequence[Forecaster], weights: Sequence[float] | None = None,
                 name: str | None = None):
        if not models:
            raise ValueError("Ensemble needs at least one model")
        self.models = list(models)
        w = np.ones(len(models)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(models),) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"Ensemble.weights must be {len(models)} numbers >= 0, not all 0")
        self.weights = w / w.sum()
        self.name = name or "Ensemble(" + "+".join(m.name for m in self.models) + ")"

    def fit(self, history: pd.Series, calendar: pd.Series | None = None) -> Ensemble:
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


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------
def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    a, f = np.broadcast_arrays(a, f)
    ok = np.isfinite(a) & np.isfinite(f)
    return a[ok], f[ok]


def mae(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute error (units/day), ignoring NaN pairs (paper 3.2.3 validation; nb 04)."""
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs(a - f))) if a.size else float("nan")


def rmse(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Root mean squared error (units/day), ignoring NaN pairs (paper 3.2.3; notebook 04)."""
    a, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((a - f) ** 2))) if a.size else float("nan")


def bias(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean of ``forecast - actual`` (units/day): > 0 over-forecasts, < 0 under-forecasts.

    Paper 3.2.3 (validation); notebook 04.
    """
    a, f = _pair(actual, forecast)
    return float(np.mean(f - a)) if a.size else float("nan")


def seasonal_naive_scale(
    history: ArrayLike, period: int = 7, is_open: ArrayLike | None = None
) -> float:
    """MASE's denominator: in-sample MAE of the seasonal naive forecast ``y[t-period]``.

    Paper 3.2.3 (validation); notebook 04.

    Averaged over days ``t`` of the history that are open (``is_open``, default all) and where
    both values are observed; closed days count as 0 sold. Units/day.
    """
    y = np.asarray(history, dtype=float)
    op = np.ones(len(y), bool) if is_open is None else np.asarray(is_open, dtype=bool)
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
    """Mean pinball (quantile) loss at level ``q`` (units/day; paper 3.2.3, notebook 04).

    ``L = q (y - f)`` when ``y >= f`` and ``(1 - q)(f - y)`` otherwise: under-forecasting a high
    quantile costs ``q`` per unit, over-forecasting it only ``1 - q``.
    """
    a, f = _pair(actual, quantile_forecast)
    if not a.size:
        return float("nan")
    d = a - f
    return float(np.mean(np.maximum(q * d, (q - 1) * d)))


def interval_coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actual values inside ``[lower, upper]`` (0..1), ignoring NaN actuals.

    Paper 3.2.3 (validation of prediction intervals); notebook 04.
    """
    a = np.asarray(actual, dtype=float)
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    ok = np.isfinite(a)
    return float(np.mean((a[ok] >= lo[ok]) & (a[ok] <= hi[ok]))) if ok.any() else float("nan")


# --------------------------------------------------------------------------------------------
# Backtest
# --------------------------------------------------------------------------------------------
def series_from_tidy(
    daily: pd.DataFrame, keys: Sequence[str] = ("market", "stock_code")
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Split a tidy daily table (``date, units, open`` + key columns) into per-series data.

    Paper 3.2.2 (data preparation); notebook 04 and the benchmark.

    Returns ``(series, calendars)``: dicts keyed by ``"market/stock_code"`` of units/day Series
    and boolean open/closed Series, both on the daily index.
    """
    series, calendars = {}, {}
    for key, g in daily.groupby(list(keys), sort=True):
        name = "/".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        g = g.set_index("date").sort_index()
        series[name] = g["units"].astype(float)
        calendars[name] = g["open"].astype(bool) if "open" in g else pd.Series(True, index=g.index)
    return series, calendars


def weekly_origins(end: str | pd.Timestamp, n_weeks: int) -> list[pd.Timestamp]:
    """``n_weeks`` forecast origins one week apart, the last one 7 days before ``end``.

    Used by the rolling-origin backtest (paper 3.2.3; notebook 04, benchmark).
    """
    end = pd.Timestamp(end)
    return [end - pd.Timedelta(days=7 * k) for k in range(int(n_weeks), 0, -1)]


ModelSpec = Forecaster | PooledCountRegression | Callable[[], Forecaster]


def _instantiate(spec: ModelSpec):
    if isinstance(spec, (Forecaster, PooledCountRegression)):
        return copy.deepcopy(spec)
    return spec()


def backtest(
    series: Mapping[str, pd.Series] | pd.DataFrame,
    models: Mapping[str, ModelSpec] | Sequence[Forecaster],
    horizon: int = 7,
    origins: Sequence[str | pd.Timestamp] | None = None,
    calendar: pd.Series | Mapping[str, pd.Series] | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    min_history: int = 28,
) -> pd.DataFrame:
    """Rolling-origin evaluation (paper 3.2.3: "train the model and validate it"; notebook 04).

    For each series, origin and model: fit on the days *before* the origin only, forecast
    ``horizon`` days from the origin on. ``series`` is a dict of daily Series or a wide frame
    (one column per series). ``models`` maps names to unfitted models (copied before each
    fit) or factories. A pooled model (``pooled = True``, e.g. :class:`PooledCountRegression`)
    is fitted once per origin on the histories of all series that have one. ``origins``
    default to the last 4 weekly origins leaving room for the horizon. ``calendar`` is one
    open/closed Series for all series or a dict per series.

    Returns a tidy frame, one row per (series, model, origin, day): ``series, model, origin,
    date, h, actual, open, mean, q<level>..., scale`` (MASE scale of that series and origin,
    units/day) and ``fit_time`` (seconds for that fit, repeated on its rows; a pooled fit's
    time is shared equally among its series).
    """
    if isinstance(series, pd.DataFrame):
        series = {str(c): series[c] for c in series.columns}
    if not isinstance(models, Mapping):
        models = {m.name: m for m in models}
    qs = _check_quantiles(quantiles)

    # 1. the (series, origin) tasks that have enough history and future
    tasks: dict[pd.Timestamp, list[tuple]] = {}
    for sname, s in series.items():
        s = s.astype(float).asfreq("D")
        cal = calendar.get(sname) if isinstance(calendar, Mapping) else calendar
        is_open_all = (
            np.ones(len(s), bool) if cal is None
            else cal.reindex(s.index, fill_value=True).to_numpy(dtype=bool)
        )
        if origins is None:
            last = s.index[-1] - pd.Timedelta(days=horizon - 1)
            these = weekly_origins(last + pd.Timedelta(days=7), 4)
        else:
            these = [pd.Timestamp(o) for o in origins]
        for origin in these:
            pos = s.index.searchsorted(origin)
            if pos < min_history or pos + horizon > len(s):
                continue
            tasks.setdefault(origin, []).append((sname, s, cal, is_open_all, pos))
    if not tasks:
        raise ValueError("backtest: no (series, origin) pair had enough history and future")

    rows = []
    for origin, group in tasks.items():
        # 2. pooled models: one fit per origin on every series' history
        pooled = {}
        for mname, spec in models.items():
            if getattr(spec, "pooled", False):
                model = _instantiate(spec)
                t0 = time.perf_counter()
                model.fit_many({g[0]: g[1].iloc[: g[4]] for g in group},
                               {g[0]: g[2] for g in group})
                pooled[mname] = (model, (time.perf_counter() - t0) / len(group))
        # 3. per series: fit (or look up) and forecast
        for sname, s, cal, is_open_all, pos in group:
            hist = s.iloc[:pos]
            scale = seasonal_naive_scale(hist.to_numpy(), 7, is_open_all[:pos])
            actual = s.iloc[pos : pos + horizon].to_numpy()
            op = is_open_all[pos : pos + horizon]
            for mname, spec in models.items():
                t0 = time.perf_counter()
                if mname in pooled:
                    model, share = pooled[mname]
                    fc = model.predict_series(sname, horizon, qs)
                else:
                    fc = _instantiate(spec).fit(hist, cal).predict(horizon, qs)
                    share = 0.0
                elapsed = time.perf_counter() - t0 + share
                block = {
                    "series": sname, "model": mname, "origin": origin, "date": fc.index,
                    "h": np.arange(1, horizon + 1), "actual": actual, "open": op,
                    "mean": fc.mean,
                }
                for q in qs:
                    block[f"q{q:g}"] = fc.quantile(q)
                block["scale"] = scale
                block["fit_time"] = elapsed
                rows.append(pd.DataFrame(block))
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["series", "model", "origin", "h"], kind="stable").reset_index(drop=True)


def leaderboard(
    bt: pd.DataFrame,
    q: float = 0.9,
    interval: tuple[float, float] = (0.05, 0.95),
    include_closed: bool = False,
    point: str = "median",
) -> pd.DataFrame:
    """Summarise a :func:`backtest` per model, best mean MASE first (notebook 04, benchmark).

    Columns: ``mean_mase`` and ``median_mase`` (over series; a series' MASE is its mean of
    ``|actual - point| / scale`` over all origins and days), ``mae``, ``rmse`` and ``bias``
    (units/day; RMSE and bias use the mean forecast), ``pinball_<q>``, ``coverage_<width>``
    (share of actuals inside the ``interval`` quantiles) and ``fit_time_s`` (total seconds).
    Closed days and missing actuals are left out unless ``include_closed``; series whose
    scale is 0 (a perfectly repeating week) have no MASE but count in the other columns.
    """
    if point not in ("median", "mean"):
        raise ValueError(f"point must be 'median' or 'mean'; got {point!r}")
    d = bt[np.isfinite(bt["actual"].to_numpy(dtype=float))]
    if not include_closed:
        d = d[d["open"].astype(bool)]
    pcol = "q0.5" if point == "median" else "mean"
    lo, hi = f"q{interval[0]:g}", f"q{interval[1]:g}"
    width = int(round(100 * (interval[1] - interval[0])))
    out = []
    fit_times = bt.drop_duplicates(["series", "model", "origin"]).groupby("model")["fit_time"].sum()
    for mname, g in d.groupby("model", sort=False):
        scaled = (g["actual"] - g[pcol]).abs() / g["scale"].where(g["scale"] > 0)
        per_series = scaled.groupby(g["series"]).mean()
        out.append({
            "model": mname,
            "mean_mase": per_series.mean(),
            "median_mase": per_series.median(),
            "mae": mae(g["actual"], g[pcol]),
            "rmse": rmse(g["actual"], g["mean"]),
            "bias": bias(g["actual"], g["mean"]),
            f"pinball_{q:g}": pinball_loss(g["actual"], g[f"q{q:g}"], q),
            f"coverage_{width}": interval_coverage(g["actual"], g[lo], g[hi]),
            "fit_time_s": float(fit_times.get(mname, np.nan)),
        })
    return pd.DataFrame(out).sort_values("mean_mase").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Inventory consequences and the environment hook
# --------------------------------------------------------------------------------------------
def safety_stock(
    errors: ArrayLike, service_level: float = 0.95, lead_time_days: float = 1.0, method: str = "normal"
) -> float:
    """Safety stock (units) that covers forecast errors over the lead time (paper 3.1.1(1)).

    ``errors`` are daily ``actual - forecast`` (units/day). ``"normal"``: ``z_a * sigma * sqrt(L)``
    with ``z_a`` the standard normal quantile of the cycle service level ``a``; ``"empirical"``:
    ``sqrt(L)`` times the ``a``-quantile of the errors (no normality assumed; the sqrt(L) step
    still assumes independent days). Never negative.
    """
    if not 0 < service_level < 1:
        raise ValueError(f"service_level must be in (0, 1); got {service_level!r}")
    if lead_time_days <= 0:
        raise ValueError(f"lead_time_days must be > 0; got {lead_time_days!r}")
    e = np.asarray(errors, dtype=float)
    e = e[np.isfinite(e)]
    if e.size < 2:
        raise ValueError("safety_stock needs at least 2 finite errors")
    if method == "normal":
        ss = stats.norm.ppf(service_level) * e.std(ddof=1) * np.sqrt(lead_time_days)
    elif method == "empirical":
        ss = np.quantile(e, service_level) * np.sqrt(lead_time_days)
    else:
        raise ValueError(f"method must be 'normal' or 'empirical'; got {method!r}")
    return float(max(ss, 0.0))


def safety_stock_table(
    bt: pd.DataFrame, service_level: float = 0.95, lead_time_days: float = 1.0,
    include_closed: bool = False,
) -> pd.DataFrame:
    """Per model: error spread (units/day) and the safety stock (units) its errors require.

    Paper 3.1.1(1) (forecasts exist to set stock levels); notebook 04.

    Safety stock is computed per series from the backtest errors of the mean forecast
    (:func:`safety_stock`, both methods) and summed over series: the extra units the whole
    assortment must hold to reach ``service_level``.
    """
    d = bt[np.isfinite(bt["actual"].to_numpy(dtype=float))]
    if not include_closed:
        d = d[d["open"].astype(bool)]
    out = []
    for mname, g in d.groupby("model", sort=False):
        err = g["actual"] - g["mean"]
        ss_n = ss_e = 0.0
        for _, e in err.groupby(g["series"]):
            if e.size >= 2:
                ss_n += safety_stock(e, service_level, lead_time_days, "normal")
                ss_e += safety_stock(e, service_level, lead_time_days, "empirical")
        out.append({"model": mname, "error_sd": float(err.std(ddof=1)),
                    "safety_stock_normal": ss_n, "safety_stock_empirical": ss_e})
    return pd.DataFrame(out).sort_values("safety_stock_normal").reset_index(drop=True)


def rolling_forecasts(
    frame: pd.DataFrame,
    model: ModelSpec,
    horizon: int = 7,
    calendar: pd.Series | Mapping[str, pd.Series] | None = None,
    min_history: int = 28,
    refit_every: int = 7,
    stat: str = "mean",
) -> np.ndarray:
    """Forecasts for :class:`mas_lib.sim.demand.RecordedDemand`: array ``(len(frame), horizon, N)``.

    Paper 3.1.1(1): each warehouse agent is told a demand forecast; notebook 04 section 10.

    ``frame`` is days x warehouses (units/day). ``out[t, k, i]`` is warehouse ``i``'s forecast,
    made with data *before* day ``t`` only, of day ``t + k``. The model is refitted every
    ``refit_every`` days (each refit forecasts ``horizon + refit_every - 1`` days ahead and the
    days until the next refit read their slice of it). Before ``min_history`` days exist the
    forecast is the mean of the days seen so far (0 on day 0). ``stat`` is ``"mean"`` or
    ``"median"``, or a quantile level like ``0.9`` for a cautious forecast. A
    :class:`CountRegression` must be built with ``max_horizon >= horizon + refit_every - 1``.
    """
    if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
        raise TypeError("frame must be a DataFrame indexed by day, one column per warehouse")
    if int(refit_every) != refit_every or refit_every < 1:
        raise ValueError(f"refit_every must be a whole number of days >= 1; got {refit_every!r}")
    if getattr(model, "pooled", False):
        raise TypeError("rolling_forecasts needs a single-series model, not a pooled one")
    T, N = frame.shape
    H, R = int(horizon), int(refit_every)
    levels = DEFAULT_QUANTILES if isinstance(stat, str) else tuple(sorted({0.5, float(stat)}))
    out = np.zeros((T, H, N))
    for i, col in enumerate(frame.columns):
        s = frame[col].astype(float)
        cal = calendar.get(col) if isinstance(calendar, Mapping) else calendar
        for t in range(min(min_history, T)):
            past = s.iloc[:t].to_numpy()
            past = past[np.isfinite(past)]
            out[t, :, i] = past.mean() if past.size else 0.0
        for o in range(min_history, T, R):
            m = copy.deepcopy(model) if isinstance(model, Forecaster) else model()
            fc = m.fit(s.iloc[:o], cal).predict(H + R - 1, levels)
            if stat == "mean":
                path = fc.mean
            elif stat == "median":
                path = fc.median
            else:
                path = fc.quantile(float(stat))
            for t in range(o, min(o + R, T)):
                out[t, :, i] = path[t - o : t - o + H]
    return out


def plot_forecast(
    history: pd.Series,
    forecast: Forecast,
    actual: pd.Series | None = None,
    ax: Axes | None = None,
    show_days: int = 42,
    interval: tuple[float, float] = (0.05, 0.95),
    title: str | None = None,
) -> Axes:
    """Plot the last ``show_days`` of history, a forecast's mean and interval, and the actuals.

    Notebook 04 (paper 3.1.1(1)).

    Units/day on the y axis; the shaded band spans the ``interval`` quantiles. Returns the
    matplotlib Axes (notebook 04).
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.2))
    h = history.iloc[-show_days:]
    ax.plot(h.index, h.to_numpy(), color="0.35", lw=1, marker=".", label="history")
    lo, hi = forecast.quantile(interval[0]), forecast.quantile(interval[1])
    width = int(round(100 * (interval[1] - interval[0])))
    ax.fill_between(forecast.index, lo, hi, color="C0", alpha=0.25, step="mid",
                    label=f"{width} % interval")
    ax.plot(forecast.index, forecast.mean, color="C0", marker="o", ms=3, label="forecast mean")
    if actual is not None:
        a = actual.reindex(forecast.index)
        ax.plot(a.index, a.to_numpy(), "x", color="C3", ms=7, label="actual")
    locator = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("date")
    ax.set_ylabel("units / day")
    ax.set_title(title or "forecast with interval")
    ax.legend(loc="upper left", fontsize=8)
    return ax
