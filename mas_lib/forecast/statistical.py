"""Classical time-series models from statsmodels: :class:`HoltWinters` (exponential smoothing)
and :class:`SARIMAXModel` (seasonal ARIMA) -- the "time series analysis" of paper 3.2.3;
notebook 04 fits both. Units/day.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from ..validation import check_choice, check_whole, not_allowed
from .base import Forecaster

__all__ = ["HoltWinters", "SARIMAXModel"]


class HoltWinters(Forecaster):
    """Exponential smoothing with additive weekly seasonality (statsmodels ``ExponentialSmoothing``).

    Paper 3.2.3 (time series analysis); notebook 04. Units/day.

    Fitted on the open-day sequence, so the season length is the number of open days in a
    week (6 for the UCI retailer, 7 without closures) -- an approximation where bank holidays
    shift the pattern. ``seasonal_periods`` (open days) overrides that guess. ``trend="add"``
    adds a damped additive trend.
    """

    def __init__(self, trend: str | None = None, seasonal_periods: int | None = None):
        self.trend = check_choice(trend, "HoltWinters.trend", (None, "add"))
        self.seasonal_periods = (
            None if seasonal_periods is None
            else check_whole(seasonal_periods, "HoltWinters.seasonal_periods", low=1, unit="open days")
        )
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


def _check_order(order, field: str, n: int) -> tuple[int, ...]:
    """``n`` whole numbers >= 0 (an ARIMA order)."""
    try:
        values = tuple(order)
    except TypeError:
        raise not_allowed(field, order, f"{n} whole numbers >= 0") from None
    if len(values) != n:
        raise not_allowed(field, order, f"{n} whole numbers >= 0")
    return tuple(check_whole(v, f"{field}[{i}]", low=0) for i, v in enumerate(values))


class SARIMAXModel(Forecaster):
    """Seasonal ARIMA (statsmodels ``SARIMAX``) on the calendar, closed days as missing.

    Paper 3.2.3 (time series analysis); notebook 04. Units/day.

    The Kalman filter skips the missing (closed or unobserved) days, so the weekly season keeps
    its calendar meaning. Intervals are the model's own Gaussian ones, clipped at 0. ``order``
    is ``(p, d, q)``, ``seasonal_order`` ``(P, D, Q, s)`` with ``s`` in days; ``trend`` is
    statsmodels' ``"n"``, ``"c"``, ``"t"`` or ``"ct"``.
    """

    name = "SARIMAX"

    def __init__(
        self,
        order: tuple[int, int, int] = (1, 0, 1),
        seasonal_order: tuple[int, int, int, int] = (1, 0, 1, 7),
        trend: str = "c",
    ):
        self.order = _check_order(order, "SARIMAXModel.order", 3)
        self.seasonal_order = _check_order(seasonal_order, "SARIMAXModel.seasonal_order", 4)
        self.trend = check_choice(trend, "SARIMAXModel.trend", ("n", "c", "t", "ct"))
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
