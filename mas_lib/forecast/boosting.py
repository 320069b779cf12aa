"""A *global* forecasting model: gradient-boosted trees trained on the rows of many series at
once (paper 3.2.3, "regression" among the forecasting models, on the features of 3.2.2).

This is the approach that won the M5 competition (Makridakis, Spiliotis and Assimakopoulos
2022): one tree ensemble learns from every product's history, so patterns that are too faint
in one short, noisy series (how a spike decays, how the weekday profile looks, how quickly a
new product ramps up) are learned from all of them. :class:`GlobalBoostedTrees` uses
scikit-learn's ``HistGradientBoostingRegressor``: one model with squared-error loss for the
mean and one with quantile (pinball) loss per quantile level, so its intervals are learned,
not assumed. Units/day throughout.

How a training row is built (no look-ahead)
-------------------------------------------
For a series with history ``y[0..T-1]`` (NaN on closed or missing days), every *sub-origin*
``t0`` and step ``h = 1..max_horizon`` gives one row whose target is day ``d = t0 + h - 1``
and whose features use **only days before** ``t0``: means of the last 7, 28 and 56 open days,
the mean of the target's weekday over the last 8 weeks (days ``d - 7k``, ``k = 1..8``, all
before ``t0`` because ``h <= 7``), the value one week before ``d``, the median, largest day and
spread of the last 28 days, the 0.9-quantile of the last 56, the share of zero days, the days since the last and since the
first sale, the step ``h`` and the target's weekday. Levels and target are divided by the
56-day mean ``s`` (so products of every size share one model; ``log(1 + s)`` is a feature),
and the forecast is multiplied back by ``s``. A series that sold nothing in its last 56 open
days is forecast 0. At an origin ``T`` the same features are computed with ``t0 = T``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..validation import check_number, check_whole
from .base import DEFAULT_QUANTILES, Forecast, _check_quantiles, _tidy_quantiles

__all__ = ["GlobalBoostedTrees"]

#: feature names, in column order
FEATURES: tuple[str, ...] = (
    "mean7", "mean28", "wd8", "lag7", "med28", "q90_56", "max28", "sd28", "zero28",
    "since_sale", "age",
    "log_level", "h", "dow",
)


def _window_means(x: np.ndarray, obs: np.ndarray, t0: np.ndarray, w: int) -> np.ndarray:
    """Mean of the observed values among days ``[t0 - w, t0)`` for each ``t0`` (NaN if none)."""
    cs = np.concatenate([[0.0], np.cumsum(x)])
    cn = np.concatenate([[0], np.cumsum(obs)])
    lo = np.maximum(t0 - w, 0)
    n = cn[t0] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (cs[t0] - cs[lo]) / np.maximum(n, 1), np.nan)


def _series_table(v: np.ndarray, dow: np.ndarray, t0: np.ndarray, hs: np.ndarray) -> pd.DataFrame:
    """Feature rows for sub-origins ``t0`` and steps ``hs`` (same length) of one series.

    ``v`` holds units/day with NaN on closed or missing days, ``dow`` the weekday (0 = Monday)
    of every day of ``v`` and beyond (at least up to ``max(t0 + hs - 1)``). Every feature of a
    row uses ``v[:t0]`` only. Adds column ``level`` (the 56-day mean ``s``, units/day).
    """
    obs = ~np.isnan(v)
    x = np.where(obs, v, 0.0)
    level = _window_means(x, obs, t0, 56)
    d = t0 + hs - 1
    # weekday mean over the last 8 weeks: days d - 7k, k = 1..8 (all before t0 since h <= 7)
    lags = d[:, None] - 7 * np.arange(1, 9)[None, :]
    ok = lags >= 0
    vals = np.where(ok, v[np.clip(lags, 0, None)], np.nan)
    n_wd = np.sum(~np.isnan(vals), axis=1)
    wd8 = np.where(n_wd > 0, np.nansum(vals, axis=1) / np.maximum(n_wd, 1), np.nan)
    lag7 = vals[:, 0]
    s = pd.Series(v)
    max28 = s.rolling(28, min_periods=1).max().to_numpy()
    sd28 = s.rolling(28, min_periods=2).std().to_numpy()
    med28 = s.rolling(28, min_periods=1).median().to_numpy()
    q90 = s.rolling(56, min_periods=1).quantile(0.9).to_numpy()
    prev = t0 - 1  # statistics of the window ending the day before the origin
    zero = np.cumsum(obs & (x == 0))
    zero = np.concatenate([[0], zero])
    cn = np.concatenate([[0], np.cumsum(obs)])
    lo = np.maximum(t0 - 28, 0)
    n28 = cn[t0] - cn[lo]
    idx = np.arange(len(v))
    last_sale = np.maximum.accumulate(np.where(x > 0, idx, -1))
    first = int(np.argmax(x > 0)) if (x > 0).any() else len(v)
    scale = np.where(level > 0, level, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({
            "mean7": _window_means(x, obs, t0, 7) / scale,
            "mean28": _window_means(x, obs, t0, 28) / scale,
            "wd8": wd8 / scale,
            "lag7": lag7 / scale,
            "med28": med28[prev] / scale,
            "q90_56": q90[prev] / scale,
            "max28": max28[prev] / scale,
            "sd28": sd28[prev] / scale,
            "zero28": np.where(n28 > 0, (zero[t0] - zero[lo]) / np.maximum(n28, 1), np.nan),
            "since_sale": np.where(last_sale[prev] >= 0, prev - last_sale[prev], np.nan),
            "age": np.where(first < t0, np.minimum(t0 - first, 365), np.nan),
            "log_level": np.log1p(level),
            "h": hs.astype(float),
            "dow": dow[d].astype(float),
        })
    table["level"] = level
    return table


class GlobalBoostedTrees:
    """One gradient-boosted tree ensemble for many series (paper 3.2.3; notebook 04).

    A *global* model: :meth:`fit_many` learns from the histories of every series at once, and
    :meth:`predict_series` forecasts one of them; :func:`mas_lib.forecast.backtest` does this
    once per origin for every model with ``pooled = True``. See the module docstring for the
    features (none looks past the origin). ``quantiles`` are the levels it learns (pinball
    loss, one tree ensemble each); the mean has its own squared-error ensemble. ``max_iter``,
    ``learning_rate`` and ``max_leaf_nodes`` are passed to scikit-learn's
    ``HistGradientBoostingRegressor``; ``stride`` (days) keeps every ``stride``-th sub-origin
    as training rows, counted back from the origin (1 = all; 7 = the origin's weekday only);
    ``seed`` fixes the trees. Trees are grown on one thread (the data are small; more
    threads only fight for the cores). ``train_also = (series, calendars)``
    adds more series (dicts name -> daily Series) to learn from but not to forecast; each is
    cut at the last day of the histories given to :meth:`fit_many`, so nothing after the
    origin is seen. Forecasts are units/day, 0 on closed
    days; quantiles are made non-decreasing in the level.
    """

    pooled = True

    def __init__(
        self,
        max_horizon: int = 7,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        stride: int = 7,
        seed: int = 0,
        train_also: tuple[Mapping[str, pd.Series], Mapping[str, pd.Series] | None] | None = None,
    ):
        self.max_horizon = check_whole(max_horizon, "GlobalBoostedTrees.max_horizon", low=1,
                                       high=7, unit="days")
        self.quantiles = _check_quantiles(quantiles, "GlobalBoostedTrees.quantiles")
        self.max_iter = check_whole(max_iter, "GlobalBoostedTrees.max_iter", low=1)
        self.learning_rate = check_number(learning_rate, "GlobalBoostedTrees.learning_rate",
                                          low=0.0, high=1.0, low_inclusive=False)
        self.max_leaf_nodes = check_whole(max_leaf_nodes, "GlobalBoostedTrees.max_leaf_nodes",
                                          low=2)
        self.stride = check_whole(stride, "GlobalBoostedTrees.stride", low=1, unit="days")
        self.seed = check_whole(seed, "GlobalBoostedTrees.seed", low=0)
        self.train_also = train_also
        self.name = "GlobalTrees"

    # ---------------------------------------------------------------------------------------
    def _prepare(self, history: pd.Series, calendar: pd.Series | None) -> dict:
        """Check one history and keep what forecasting it needs (NaN on closed days)."""
        if not isinstance(history, pd.Series) or not isinstance(history.index, pd.DatetimeIndex):
            raise TypeError("history must be a pandas Series with a daily DatetimeIndex")
        idx = history.index
        if len(idx) < 2 or ((idx[1:] - idx[:-1]) != pd.Timedelta(days=1)).any():
            raise ValueError(f"{self.name}: history must be daily, >= 2 days, with no gaps")
        values = history.to_numpy(dtype=float)
        if np.nanmin(values, initial=0.0) < 0:
            raise ValueError(f"{self.name}: demand must be >= 0 units/day")
        cal = None if calendar is None else calendar.astype(bool)
        is_open = (np.ones(len(idx), bool) if cal is None
                   else cal.reindex(idx, fill_value=True).to_numpy(dtype=bool))
        return {"index": idx, "v": np.where(is_open, values, np.nan), "calendar": cal}

    def _training_rows(self, m: dict) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows (features) and targets (units/day over the level) of one history."""
        v, idx = m["v"], m["index"]
        T, H = len(v), self.max_horizon
        t0 = np.arange(T - self.stride, 27, -self.stride)[::-1]  # the origin's weekday first
        if t0.size == 0:
            return pd.DataFrame(columns=[*FEATURES, "level"]), np.zeros(0)
        t0 = np.repeat(t0, H)
        hs = np.tile(np.arange(1, H + 1), len(t0) // H)
        keep = t0 + hs - 1 < T
        t0, hs = t0[keep], hs[keep]
        y = v[t0 + hs - 1]
        table = _series_table(v, idx.day_of_week.to_numpy(), t0, hs)
        ok = np.isfinite(y) & (table["level"].to_numpy() > 0)
        return table[ok], y[ok] / table["level"].to_numpy()[ok]

    def fit_many(
        self,
        histories: Mapping[str, pd.Series],
        calendars: pd.Series | Mapping[str, pd.Series] | None = None,
    ) -> GlobalBoostedTrees:
        """Fit the mean and quantile ensembles on the rows of all ``histories`` (name -> daily
        units Series, closed days given by ``calendars``: one Series or a dict per name)."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        self.members_: dict[str, dict] = {}
        tables, targets = [], []
        for key, h in histories.items():
            cal = calendars.get(key) if isinstance(calendars, Mapping) else calendars
            m = self._prepare(h, cal)
            self.members_[key] = m
            X, y = self._training_rows(m)
            tables.append(X)
            targets.append(y)
        if not self.members_:
            raise ValueError(f"{self.name}: fit_many needs at least one series")
        if self.train_also is not None:
            end = max(m["index"][-1] for m in self.members_.values())
            more, more_cals = self.train_also
            for key, h in more.items():
                h = h[h.index <= end]
                if len(h) < 2:
                    continue
                cal = more_cals.get(key) if isinstance(more_cals, Mapping) else more_cals
                X, y = self._training_rows(self._prepare(h, cal))
                tables.append(X)
                targets.append(y)
        X = pd.concat(tables, ignore_index=True)[list(FEATURES)].to_numpy(dtype=float)
        y = np.concatenate(targets)
        if len(y) < 50:
            raise ValueError(f"{self.name}: needs >= 50 training rows; the histories gave {len(y)}")
        common = dict(max_iter=self.max_iter, learning_rate=self.learning_rate,
                      max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=40,
                      early_stopping=False, random_state=self.seed)
        self.models_ = {"mean": HistGradientBoostingRegressor(loss="squared_error", **common)}
        for q in self.quantiles:
            self.models_[q] = HistGradientBoostingRegressor(loss="quantile", quantile=q, **common)
        with threadpool_limits(1, user_api="openmp"):  # small data: threads only oversubscribe
            for model in self.models_.values():
                model.fit(X, y)
        self.n_rows_ = len(y)
        return self

    def predict_series(
        self, key: str, horizon: int, quantiles: Sequence[float] = DEFAULT_QUANTILES
    ) -> Forecast:
        """Forecast series ``key`` (one passed to :meth:`fit_many`) ``horizon`` days ahead
        (at most ``max_horizon``); units/day, 0 on closed days."""
        if key not in getattr(self, "members_", {}):
            raise KeyError(f"{self.name} was not fitted on a series named {key!r}")
        horizon = check_whole(horizon, "horizon", low=1, high=self.max_horizon, unit="days")
        qs = _check_quantiles(quantiles)
        missing = [q for q in qs if not any(np.isclose(q, f) for f in self.quantiles)]
        if missing:
            raise KeyError(f"{self.name} learned quantiles {list(self.quantiles)}; asked {missing}")
        m = self.members_[key]
        idx, v = m["index"], m["v"]
        T = len(v)
        future = pd.date_range(idx[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
        is_open = (np.ones(horizon, bool) if m["calendar"] is None
                   else m["calendar"].reindex(future, fill_value=True).to_numpy(dtype=bool))
        dow = idx.append(future).day_of_week.to_numpy()
        vv = np.concatenate([v, np.full(horizon, np.nan)])
        hs = np.arange(1, horizon + 1)
        table = _series_table(vv, dow, np.full(horizon, T), hs)
        level = table["level"].to_numpy()
        X = table[list(FEATURES)].to_numpy(dtype=float)
        if not np.all(level > 0):  # no sale in the last 56 open days (or none observed)
            mean, qarr = np.zeros(horizon), np.zeros((horizon, len(qs)))
        else:
            with threadpool_limits(1, user_api="openmp"):
                mean = self.models_["mean"].predict(X) * level
                cols = []
                for q in qs:
                    fitted = next(f for f in self.quantiles if np.isclose(q, f))
                    cols.append(self.models_[fitted].predict(X) * level)
            qarr = np.column_stack(cols)
        mean = np.where(is_open, mean, 0.0)
        qarr = np.where(is_open[:, None], qarr, 0.0)
        mean, qarr = _tidy_quantiles(mean, qarr)
        return Forecast(future, mean, {q: qarr[:, j] for j, q in enumerate(qs)})

    def __repr__(self) -> str:
        return self.name
