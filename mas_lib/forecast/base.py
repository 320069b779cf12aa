"""The forecasting contract: :class:`Forecast` (what every model returns) and :class:`Forecaster`
(the base class of every model), plus the quantile helpers they share (paper 3.1.1(1), 3.2.3).

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..validation import check_number, check_whole

__all__ = ["DEFAULT_QUANTILES", "Forecast", "Forecaster"]

#: quantile levels every model returns unless asked otherwise
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.5, 0.9, 0.95)


@dataclass(frozen=True)
class Forecast:
    """A probabilistic forecast for ``horizon`` consecutive days (units/day).

    Paper 3.1.1(1) (the demand forecast each warehouse is given); every model's ``forecast()``
    returns one, read through ``mean``, ``median``, :meth:`quantile` and :meth:`to_frame`.

    ``index`` holds the forecast days, ``mean`` the expected demand ``(horizon,)`` and
    ``quantiles`` maps each level (e.g. 0.9) to an array ``(horizon,)``; quantiles are
    non-decreasing in the level and >= 0. ``note`` is ``""`` unless the forecast is not the
    requested model's own: :func:`mas_lib.forecast.guarded_forecast` says there why it fell
    back to a simple model.
    """

    index: pd.DatetimeIndex
    mean: np.ndarray
    quantiles: dict[float, np.ndarray] = field(default_factory=dict)
    note: str = ""

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
        """The forecast as a table: one row per day, columns ``mean`` and ``q0.05`` ... (units/day)."""
        data = {"mean": self.mean}
        data.update({f"q{q:g}": v for q, v in sorted(self.quantiles.items())})
        return pd.DataFrame(data, index=self.index)


def _check_quantiles(quantiles: Sequence[float], field: str = "quantiles") -> tuple[float, ...]:
    """Quantile levels, each strictly between 0 and 1, as a sorted tuple without repeats.

    Shared by :meth:`Forecaster.predict` and :func:`mas_lib.forecast.backtest` (paper 3.2.3);
    raises :class:`mas_lib.validation.ConfigError` naming the bad level.
    """
    qs = tuple(
        check_number(q, f"{field}[{i}]", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        for i, q in enumerate(quantiles)
    )
    return tuple(sorted(set(qs)))


def _tidy_quantiles(point: np.ndarray, qarr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clip the mean ``(k,)`` and quantiles ``(k, levels)`` to >= 0 and make the quantiles
    non-decreasing across levels (axis 1); units/day. Every :meth:`Forecaster.predict` ends here."""
    qarr = np.maximum.accumulate(np.maximum(qarr, 0.0), axis=1)
    return np.maximum(point, 0.0), qarr


class Forecaster:
    """Base class of every forecasting model (paper 3.2.3: "time series analysis, regression").

    Every forecasting model is a subclass. Subclasses implement ``_fit()`` using
    ``self.y_`` (observed open-day values, oldest first, units/day) and, if they need the
    calendar, ``self.full_`` (all history days, NaN where closed or missing) and ``self.open_``
    (bool per history day). They then either implement ``_point(k) -> (k,)`` for the next ``k``
    open days and set ``self.resid_`` (one-step errors) -- the base class adds
    empirical-residual intervals -- or override ``_predict_days``.
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
        horizon = check_whole(horizon, "horizon", low=1, unit="days")
        qs = _check_quantiles(quantiles)
        index, is_open = self._future(horizon)
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
