"""Demand processes for :class:`mas_lib.sim.env.MultiWarehouseEnv` (paper sections 3.1.1(1), 4.1).

A demand process answers one question for a whole episode at a time: *what will customers ask
for at each warehouse on each day, and what forecast will the agents see beforehand?*

Every process implements :meth:`DemandProcess.sample_episode`, which returns

* ``demand``   -- integer array ``(n_days, N)``: units requested at warehouse ``i`` on day ``t``;
* ``forecast`` -- float array ``(n_days, H, N)``: ``forecast[t, k, i]`` is what warehouse ``i``
  is told at the start of day ``t`` about the demand of day ``t + k`` (``k = 0`` is today).

Sampling a whole episode up front with one :class:`numpy.random.Generator` per environment copy
is what lets the batch core (B copies at once) and the per-step PettingZoo API produce identical
trajectories for the same seed. :meth:`DemandProcess.sample_batch` draws the episodes of all B
copies at once (each from its own generator, the same numbers as one :meth:`~DemandProcess.sample_episode`
per copy).

Notebook 04 feeds a fitted forecaster into :class:`RecordedDemand`; notebook 06 uses
:class:`DiscreteIIDDemand` for the exact optimum.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..validation import check_whole, not_allowed, per_item

__all__ = [
    "DemandProcess",
    "ForecastPlusNoise",
    "PoissonDemand",
    "DiscreteIIDDemand",
    "RecordedDemand",
]


def _as_2d_mean(values, n_warehouses: int | None, field: str) -> np.ndarray:
    """Turn a per-warehouse vector or a (days, N) table into a float (days, N) array."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{field} must be a vector with one entry per warehouse or a (days, warehouses) "
            f"table; got an array of shape {np.shape(values)}"
        )
    if n_warehouses is not None and arr.shape[1] != n_warehouses:
        raise ValueError(f"{field} has {arr.shape[1]} columns but there are {n_warehouses} warehouses")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        bad = arr[~np.isfinite(arr) | (arr < 0)][0]
        raise not_allowed(field, values, f"finite numbers >= 0 [units/day]; found {bad}", ValueError)
    return arr


def _cyclic_rows(table: np.ndarray, start: int, n: int) -> np.ndarray:
    """Rows ``start, start+1, ..., start+n-1`` of ``table``, wrapping around (a repeating pattern)."""
    idx = (start + np.arange(n)) % table.shape[0]
    return table[idx]


def _forecast_windows(mean: np.ndarray, n_days: int, horizon: int) -> np.ndarray:
    """``out[t, k] = mean[t + k]`` for a (n_days + horizon, N) table: the look-ahead the agent sees."""
    idx = np.arange(n_days)[:, None] + np.arange(horizon)[None, :]
    return mean[idx]


class DemandProcess(ABC):
    """Interface of every demand process (see the module docstring for the array contract)."""

    #: number of warehouses this process serves
    n_warehouses: int

    @abstractmethod
    def sample_episode(
        self, rng: np.random.Generator, n_days: int, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw one episode: ``(demand (n_days, N) int64, forecast (n_days, horizon, N) float64)``."""

    def sample_batch(
        self, rngs: Sequence[np.random.Generator], n_days: int, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """One episode per generator: ``(demand (B, n_days, N) int64, forecast (B, n_days, horizon, N)
        float64)`` with ``B = len(rngs)``; copy ``b`` is exactly ``sample_episode(rngs[b], ...)``.

        :meth:`mas_lib.sim.core.BatchCore.reset` draws every copy's episode with it. This default
        calls :meth:`sample_episode` per copy; a process whose forecast does not depend on the draws
        overrides it to build the forecast once for all copies (the draws stay per copy, from each
        copy's own generator, so every number is the same)."""
        B, N = len(rngs), self.n_warehouses
        demand = np.empty((B, n_days, N), dtype=np.int64)
        forecast = np.empty((B, n_days, horizon, N))
        for b, rng in enumerate(rngs):
            demand[b], forecast[b] = self.sample_episode(rng, n_days, horizon)
        return demand, forecast

    def expected(self, n_days: int) -> np.ndarray:
        """Expected demand (n_days, N) in units/day (used by baselines and plots)."""
        raise NotImplementedError(f"{type(self).__name__} does not define an expected demand")

    def _check(self, n_days: int, horizon: int) -> None:
        check_whole(n_days, "n_days", low=1, unit="days", error=ValueError)
        check_whole(horizon, "forecast horizon", low=1, unit="days", error=ValueError)


class PoissonDemand(DemandProcess):
    """Poisson demand around a known forecast: ``D[t, i] ~ Poisson(mean[t, i])``.

    ``mean`` is a vector (one rate per warehouse, units/day) or a (days, N) table that repeats
    cyclically (e.g. a weekly pattern). Agents are shown the rate itself as the forecast.
    """

    def __init__(self, mean: Sequence[float] | np.ndarray):
        self.mean = _as_2d_mean(mean, None, "PoissonDemand.mean")
        self.n_warehouses = self.mean.shape[1]

    def expected(self, n_days: int) -> np.ndarray:
        return _cyclic_rows(self.mean, 0, n_days)

    def sample_episode(self, rng, n_days, horizon):
        self._check(n_days, horizon)
        lam = _cyclic_rows(self.mean, 0, n_days + horizon)
        demand = rng.poisson(lam[:n_days]).astype(np.int64)
        return demand, _forecast_windows(lam, n_days, horizon)

    def sample_batch(self, rngs, n_days, horizon):
        # the forecast (the rates) is the same for every copy: built once; each copy draws from its own generator
        self._check(n_days, horizon)
        lam = _cyclic_rows(self.mean, 0, n_days + horizon)
        days = lam[:n_days]
        demand = np.empty((len(rngs), n_days, self.n_warehouses), dtype=np.int64)
        for b, rng in enumerate(rngs):
            demand[b] = rng.poisson(days)
        forecast = np.empty((len(rngs), n_days, horizon, self.n_warehouses))
        forecast[...] = _forecast_windows(lam, n_days, horizon)
        return demand, forecast


class ForecastPlusNoise(DemandProcess):
    """The paper's reading of demand: a published forecast plus a random error.

    ``D[t, i] = max(0, round(forecast[t, i] + noise_sd[i] * Z))`` with ``Z`` standard normal
    (section 4.1 gives forecasts A: 80, 90 and B: 120, 100 for the next two days).
    ``forecast`` repeats cyclically beyond its last row.
    """

    def __init__(self, forecast: Sequence[float] | np.ndarray, noise_sd: float | Sequence[float] = 0.0):
        self.forecast = _as_2d_mean(forecast, None, "ForecastPlusNoise.forecast")
        self.n_warehouses = self.forecast.shape[1]
        self.noise_sd = per_item(noise_sd, self.n_warehouses, "ForecastPlusNoise.noise_sd", low=0, unit="units",
                                 error=ValueError)

    def expected(self, n_days: int) -> np.ndarray:
        return _cyclic_rows(self.forecast, 0, n_days)

    def sample_episode(self, rng, n_days, horizon):
        self._check(n_days, horizon)
        f = _cyclic_rows(self.forecast, 0, n_days + horizon)
        noise = rng.standard_normal((n_days, self.n_warehouses)) * self.noise_sd
        demand = np.maximum(0, np.rint(f[:n_days] + noise)).astype(np.int64)
        return demand, _forecast_windows(f, n_days, horizon)

    def sample_batch(self, rngs, n_days, horizon):
        # each copy's normals from its own generator; the same element-wise arithmetic for all copies at once
        self._check(n_days, horizon)
        f = _cyclic_rows(self.forecast, 0, n_days + horizon)
        z = np.empty((len(rngs), n_days, self.n_warehouses))
        for b, rng in enumerate(rngs):
            z[b] = rng.standard_normal((n_days, self.n_warehouses))
        demand = np.maximum(0, np.rint(f[:n_days] + z * self.noise_sd)).astype(np.int64)
        forecast = np.empty((len(rngs), n_days, horizon, self.n_warehouses))
        forecast[...] = _forecast_windows(f, n_days, horizon)
        return demand, forecast


class DiscreteIIDDemand(DemandProcess):
    """Independent, identically distributed demand with a finite support per warehouse.

    ``support[i]`` lists the possible daily demands (units) of warehouse ``i`` and ``pmf[i]``
    their probabilities. This is the process the exact dynamic-programming optimum
    (:mod:`mas_lib.decide.planning`, notebook 06) can enumerate. The forecast shown is the mean.
    """

    def __init__(self, support: Sequence[Sequence[int]], pmf: Sequence[Sequence[float]]):
        if len(support) != len(pmf) or len(support) < 1:
            raise ValueError(
                f"DiscreteIIDDemand needs one support and one pmf per warehouse; got "
                f"{len(support)} supports and {len(pmf)} pmfs"
            )
        self.support: list[np.ndarray] = []
        self.pmf: list[np.ndarray] = []
        for i, (s, p) in enumerate(zip(support, pmf, strict=True)):
            s = np.asarray(s)
            p = np.asarray(p, dtype=float)
            if s.ndim != 1 or s.shape != p.shape or s.size == 0:
                raise ValueError(f"support[{i}] and pmf[{i}] must be 1-D of equal length; got {s.shape} and {p.shape}")
            if not np.all(s == np.round(s)) or np.any(s < 0):
                raise ValueError(f"support[{i}] must hold whole numbers of units >= 0; got {s.tolist()}")
            if np.any(p < 0) or not np.isclose(p.sum(), 1.0):
                raise ValueError(f"pmf[{i}] must be >= 0 and sum to 1; it sums to {p.sum():.6g}")
            self.support.append(s.astype(np.int64))
            self.pmf.append(p / p.sum())
        self.n_warehouses = len(self.support)
        self.mean = np.array([float(s @ p) for s, p in zip(self.support, self.pmf, strict=True)])

    @classmethod
    def poisson(cls, mean: Sequence[float], unit: int = 1, max_units: int | None = None) -> DiscreteIIDDemand:
        """A Poisson(mean) demand rounded to multiples of ``unit`` and truncated (tail mass moved
        to the largest value) -- the discretisation notebook 06 uses for the exact optimum."""
        from scipy.stats import poisson

        supports, pmfs = [], []
        for m in np.asarray(mean, dtype=float):
            hi = max_units if max_units is not None else int(poisson.ppf(1 - 1e-6, m)) + unit
            k = np.arange(0, hi + 1)
            p = poisson.pmf(k, m)
            p[-1] += 1.0 - p.sum()
            levels = np.rint(k / unit).astype(int)
            sup = np.unique(levels)
            pm = np.bincount(levels, weights=p)[sup]
            supports.append(sup * unit)
            pmfs.append(pm / pm.sum())
        return cls(supports, pmfs)

    def expected(self, n_days: int) -> np.ndarray:
        return np.broadcast_to(self.mean, (n_days, self.n_warehouses)).copy()

    def sample_episode(self, rng, n_days, horizon):
        self._check(n_days, horizon)
        demand = np.empty((n_days, self.n_warehouses), dtype=np.int64)
        for i in range(self.n_warehouses):
            demand[:, i] = rng.choice(self.support[i], size=n_days, p=self.pmf[i])
        forecast = np.broadcast_to(self.mean, (n_days, horizon, self.n_warehouses)).copy()
        return demand, forecast


class RecordedDemand(DemandProcess):
    """Demand replayed from a recorded series (e.g. the UCI Online Retail daily table, notebook 04).

    Parameters
    ----------
    frame:
        DataFrame indexed by day, one column per warehouse, values in units/day (>= 0).
    forecasts:
        Optional array ``(len(frame), H_max, N)``: the forecast available at the start of each
        row's day for that day and the next ``H_max - 1`` days (built with
        :mod:`mas_lib.forecast`). ``None`` gives *perfect foresight* (the recorded future),
        which is an upper bound on what any forecaster can offer.
    random_start:
        If True each episode starts on a random row (drawn with the episode's generator) so that
        ``n_days + horizon`` rows fit; otherwise on row ``start``.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        forecasts: np.ndarray | None = None,
        start: int = 0,
        random_start: bool = False,
    ):
        if not isinstance(frame, pd.DataFrame) or frame.shape[0] < 2 or frame.shape[1] < 1:
            raise ValueError("RecordedDemand.frame must be a DataFrame with >= 2 rows and one column per warehouse")
        values = frame.to_numpy(dtype=float)
        if np.isnan(values).any():
            raise ValueError(
                "RecordedDemand.frame has missing values in columns "
                f"{list(frame.columns[np.isnan(values).any(axis=0)])}: fill them (e.g. 0 on closed days) first"
            )
        if (values < 0).any():
            raise ValueError(f"RecordedDemand.frame must be >= 0 units/day; found {values.min()}")
        self.frame = frame
        self.values = np.rint(values).astype(np.int64)
        self.n_warehouses = values.shape[1]
        if forecasts is not None:
            forecasts = np.asarray(forecasts, dtype=float)
            if forecasts.ndim != 3 or forecasts.shape[0] != len(frame) or forecasts.shape[2] != self.n_warehouses:
                raise ValueError(
                    f"RecordedDemand.forecasts must have shape (len(frame)={len(frame)}, H, "
                    f"{self.n_warehouses}); got {forecasts.shape}"
                )
        self.forecasts = forecasts
        if not 0 <= start < len(frame):
            raise ValueError(f"RecordedDemand.start must be in [0, {len(frame) - 1}]; got {start}")
        self.start = int(start)
        self.random_start = bool(random_start)

    def _start_row(self, rng: np.random.Generator, n_days: int, horizon: int) -> int:
        need = n_days + (horizon if self.forecasts is None else 0)
        last = len(self.values) - need
        if last < 0:
            raise ValueError(
                f"RecordedDemand has {len(self.values)} days; an episode of {n_days} days with a "
                f"{horizon}-day look-ahead needs {need}"
            )
        if self.random_start:
            return int(rng.integers(0, last + 1))
        if self.start > last:
            raise ValueError(f"RecordedDemand.start={self.start} leaves fewer than {need} days")
        return self.start

    def expected(self, n_days: int) -> np.ndarray:
        return self.values[self.start : self.start + n_days].astype(float)

    def sample_episode(self, rng, n_days, horizon):
        self._check(n_days, horizon)
        s = self._start_row(rng, n_days, horizon)
        demand = self.values[s : s + n_days].copy()
        if self.forecasts is None:
            forecast = _forecast_windows(self.values[s : s + n_days + horizon].astype(float), n_days, horizon)
        else:
            if self.forecasts.shape[1] < horizon:
                raise ValueError(
                    f"RecordedDemand.forecasts look {self.forecasts.shape[1]} days ahead but the "
                    f"environment asks for {horizon}"
                )
            forecast = self.forecasts[s : s + n_days, :horizon, :].copy()
        return demand, forecast
