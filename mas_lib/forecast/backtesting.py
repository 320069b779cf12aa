"""Rolling-origin evaluation of forecasting models, its summary, and rolling forecasts for the
simulator (paper 3.2.3: "train the model and validate it"; paper 3.1.1(1) and 3.1.2(1): each
warehouse agent is told a demand forecast). Notebook 04 and ``benchmarks/bench_forecast.py``.

:func:`backtest` runs in four small phases, each a function of its own:

1. :func:`_plan_jobs` -- the (series, origin) jobs that have enough history and future;
2. :func:`_fit_pooled` -- pooled models, fitted once per origin on every job's history;
3. :func:`_forecast_job` -- fit one model on one job's history and forecast from its origin;
4. :func:`_job_rows` / :func:`_assemble` -- attach actuals, open flags and the MASE scale,
   and stack everything into one tidy frame.

:func:`leaderboard` then scores that frame per model (see :mod:`mas_lib.forecast.metrics` for
the conventions): open days only unless asked, the forecast **median** as the point forecast
for MAE/MASE (the median is what minimises absolute error) and the mean for RMSE and bias.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..validation import (
    ConfigError,
    check_bool,
    check_choice,
    check_number,
    check_whole,
    not_allowed,
)
from .base import DEFAULT_QUANTILES, Forecast, Forecaster, _check_quantiles
from .boosting import GlobalBoostedTrees
from .metrics import bias, interval_coverage, mae, pinball_loss, rmse, seasonal_naive_scale
from .plausibility import (
    DEFAULT_MULTIPLE,
    failure_reason,
    fall_back,
    guarded_forecast,
    implausible,
    numerical_failure,
)
from .regression import PooledCountRegression

__all__ = [
    "series_from_tidy",
    "weekly_origins",
    "backtest",
    "leaderboard",
    "rolling_forecasts",
]

ModelSpec = Forecaster | PooledCountRegression | GlobalBoostedTrees | Callable[[], Forecaster]
Calendars = pd.Series | Mapping[str, pd.Series] | None


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
    """``n_weeks`` (>= 1) forecast origins (days) one week apart, the last one 7 days before ``end``.

    Used by the rolling-origin backtest (paper 3.2.3; notebook 04, benchmark).
    """
    n_weeks = check_whole(n_weeks, "n_weeks", low=1, unit="weeks")
    end = pd.Timestamp(end)
    return [end - pd.Timedelta(days=7 * k) for k in range(n_weeks, 0, -1)]


def _instantiate(spec: ModelSpec):
    """A fresh, unfitted model: a deep copy of a model (pooled ones too), or a factory's result."""
    if isinstance(spec, Forecaster) or getattr(spec, "pooled", False):
        return copy.deepcopy(spec)
    return spec()


def _calendar_for(calendar: Calendars, name: str) -> pd.Series | None:
    return calendar.get(name) if isinstance(calendar, Mapping) else calendar


# --------------------------------------------------------------------------------------------
# backtest, phase 1: plan the (series, origin) jobs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Job:
    """One (series, origin) pair: what a model may see, and what it is scored against."""

    series: str
    history: pd.Series  # the days before the origin, units/day, daily frequency
    calendar: pd.Series | None  # open/closed calendar handed to the model (may be None)
    history_open: np.ndarray  # open flag per history day
    actual: np.ndarray  # units/day on the ``horizon`` days from the origin on
    open: np.ndarray  # open flag per forecast day


def _plan_jobs(
    series: Mapping[str, pd.Series],
    horizon: int,
    origins: Sequence[str | pd.Timestamp] | None,
    calendar: Calendars,
    min_history: int,
) -> dict[pd.Timestamp, list[_Job]]:
    """Jobs grouped by origin (in order of first appearance), keeping only the pairs with at
    least ``min_history`` days before the origin and ``horizon`` days from it on. Without
    ``origins``, each series gets its last 4 weekly origins that leave room for the horizon."""
    jobs: dict[pd.Timestamp, list[_Job]] = {}
    for sname, s in series.items():
        s = s.astype(float).asfreq("D")
        cal = _calendar_for(calendar, sname)
        is_open = (
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
            end = pos + horizon
            if pos < min_history or end > len(s):
                continue
            job = _Job(sname, s.iloc[:pos], cal, is_open[:pos], s.iloc[pos:end].to_numpy(),
                       is_open[pos:end])
            jobs.setdefault(origin, []).append(job)
    if not jobs:
        raise ValueError("backtest: no (series, origin) pair had enough history and future")
    return jobs


# --------------------------------------------------------------------------------------------
# backtest, phases 2 and 3: fit and forecast
# --------------------------------------------------------------------------------------------
class _PooledFit(NamedTuple):
    """A pooled model fitted once for one origin, or why its fit failed."""

    model: PooledCountRegression | GlobalBoostedTrees | None  # None when the fit failed
    share: float  # fit seconds per job (the fit time is shared equally)
    failure: str = ""  # "" or the numerical failure, as a forecast note words it


def _fit_pooled(
    models: Mapping[str, ModelSpec], group: list[_Job], guard: float | None = DEFAULT_MULTIPLE
) -> dict[str, _PooledFit]:
    """Fit every pooled model once on the histories of all jobs of one origin. With ``guard``
    a numerical failure of the fit (:func:`~mas_lib.forecast.plausibility.numerical_failure`)
    is recorded instead of raised, so every job of that origin falls back for that model
    alone; without it the error propagates."""
    pooled = {}
    for mname, spec in models.items():
        if getattr(spec, "pooled", False):
            model = _instantiate(spec)
            t0 = time.perf_counter()
            try:
                model.fit_many({j.series: j.history for j in group},
                               {j.series: j.calendar for j in group})
            except Exception as err:
                if guard is None or not numerical_failure(err):
                    raise
                model, failure = None, failure_reason(err)
            else:
                failure = ""
            pooled[mname] = _PooledFit(model, (time.perf_counter() - t0) / len(group), failure)
    return pooled


def _forecast_job(
    job: _Job,
    mname: str,
    spec: ModelSpec,
    pooled: Mapping[str, _PooledFit],
    horizon: int,
    qs: tuple[float, ...],
    guard: float | None = DEFAULT_MULTIPLE,
) -> tuple[Forecast, float]:
    """Forecast ``horizon`` days from the job's origin with model ``mname``, fitted on the
    history only (or looked up among the pooled fits). With ``guard`` (a multiple, see
    :func:`~mas_lib.forecast.plausibility.implausible`) an implausible forecast, or one whose
    fit failed numerically, is replaced by a 28-day moving average's and its ``note`` says why. Returns the forecast and the
    seconds it cost (a pooled model's share of its fit included)."""
    t0 = time.perf_counter()
    share = 0.0
    if mname in pooled:
        fit = pooled[mname]
        share, reason = fit.share, fit.failure
        if fit.model is not None:
            fc = fit.model.predict_series(job.series, horizon, qs)
            reason = "" if guard is None else implausible(fc, job.history, guard)
        if reason:
            fc = fall_back(mname, reason, job.history, job.calendar, horizon, qs)
    elif guard is None:
        fc = _instantiate(spec).fit(job.history, job.calendar).predict(horizon, qs)
    else:
        fc = guarded_forecast(_instantiate(spec), job.history, job.calendar, horizon, qs,
                              multiple=guard)
    return fc, time.perf_counter() - t0 + share


# --------------------------------------------------------------------------------------------
# backtest, phase 4: attach actuals and scale, assemble
# --------------------------------------------------------------------------------------------
def _job_scale(job: _Job) -> float:
    """MASE scale of a job (units/day): the weekly seasonal naive's in-sample MAE, counted
    from the product's first sale."""
    return seasonal_naive_scale(job.history.to_numpy(), 7, job.history_open, from_first_sale=True)


def _job_rows(
    job: _Job, origin: pd.Timestamp, mname: str, fc: Forecast, scale: float, seconds: float,
    qs: tuple[float, ...],
) -> pd.DataFrame:
    """The tidy rows of one (series, model, origin): one per forecast day."""
    block = {
        "series": job.series, "model": mname, "origin": origin, "date": fc.index,
        "h": np.arange(1, len(fc.index) + 1), "actual": job.actual, "open": job.open,
        "mean": fc.mean,
    }
    for q in qs:
        block[f"q{q:g}"] = fc.quantile(q)
    block["scale"] = scale
    block["fit_time"] = seconds
    block["note"] = fc.note
    return pd.DataFrame(block)


def _assemble(blocks: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack the blocks, sorted by series, model, origin and step."""
    out = pd.concat(blocks, ignore_index=True)
    return out.sort_values(["series", "model", "origin", "h"], kind="stable").reset_index(drop=True)


def backtest(
    series: Mapping[str, pd.Series] | pd.DataFrame,
    models: Mapping[str, ModelSpec] | Sequence[Forecaster],
    horizon: int = 7,
    origins: Sequence[str | pd.Timestamp] | None = None,
    calendar: Calendars = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    min_history: int = 28,
    guard: float | None = DEFAULT_MULTIPLE,
) -> pd.DataFrame:
    """Rolling-origin evaluation (paper 3.2.3: "train the model and validate it"; notebook 04).

    For each series, origin and model: fit on the days *before* the origin only, forecast
    ``horizon`` days from the origin on. ``series`` is a dict of daily Series (units/day) or a
    wide frame (one column per series). ``models`` maps names to unfitted models (copied before
    each fit) or factories. A pooled model (``pooled = True``, e.g.
    :class:`PooledCountRegression`) is fitted once per origin on the histories of all series
    that have one. ``origins`` default to the last 4 weekly origins leaving room for the
    horizon; a (series, origin) pair needs ``min_history`` days before the origin. ``calendar``
    is one open/closed Series for all series or a dict per series. Every forecast is checked
    for plausibility (:func:`~mas_lib.forecast.plausibility.implausible` with multiple
    ``guard``; ``None`` switches the check off); an implausible one, or one whose fit failed
    numerically (:func:`~mas_lib.forecast.plausibility.numerical_failure`; a pooled fit's
    failure affects that model at that origin only), is replaced by a 28-day moving
    average's, and its rows say so in ``note``. The other series and models keep their own
    forecasts.

    Returns a tidy frame, one row per (series, model, origin, day): ``series, model, origin,
    date, h, actual, open, mean, q<level>..., scale`` (MASE scale of that series and origin,
    units/day, counted from the series' first sale), ``fit_time`` (seconds for that fit,
    repeated on its rows; a pooled fit's time is shared equally among its series) and
    ``note`` (``""``, or why the forecast fell back to the moving average).
    """
    if isinstance(series, pd.DataFrame):
        series = {str(c): series[c] for c in series.columns}
    if not isinstance(models, Mapping):
        models = {m.name: m for m in models}
    horizon = check_whole(horizon, "horizon", low=1, unit="days")
    min_history = check_whole(min_history, "min_history", low=2, unit="days")
    qs = _check_quantiles(quantiles)
    if guard is not None:
        guard = check_number(guard, "guard", low=1.0)
    blocks = []
    for origin, group in _plan_jobs(series, horizon, origins, calendar, min_history).items():
        pooled = _fit_pooled(models, group, guard)
        for job in group:
            scale = _job_scale(job)
            for mname, spec in models.items():
                fc, seconds = _forecast_job(job, mname, spec, pooled, horizon, qs, guard)
                blocks.append(_job_rows(job, origin, mname, fc, scale, seconds, qs))
    return _assemble(blocks)


# --------------------------------------------------------------------------------------------
# Scoring a backtest
# --------------------------------------------------------------------------------------------
def _scored_rows(bt: pd.DataFrame, include_closed: bool) -> pd.DataFrame:
    """The rows of a backtest that are scored: observed actuals, on open days unless asked."""
    include_closed = check_bool(include_closed, "include_closed")
    d = bt[np.isfinite(bt["actual"].to_numpy(dtype=float))]
    if not include_closed:
        d = d[d["open"].astype(bool)]
    return d


def _model_scores(g: pd.DataFrame, pcol: str, q: float, lo: str, hi: str, width: int) -> dict:
    """One leaderboard row (without ``model`` and ``fit_time_s``) from one model's rows."""
    scaled = (g["actual"] - g[pcol]).abs() / g["scale"].where(g["scale"] > 0)
    per_series = scaled.groupby(g["series"]).mean()
    return {
        "mean_mase": per_series.mean(),
        "median_mase": per_series.median(),
        "mae": mae(g["actual"], g[pcol]),
        "rmse": rmse(g["actual"], g["mean"]),
        "bias": bias(g["actual"], g["mean"]),
        f"pinball_{q:g}": pinball_loss(g["actual"], g[f"q{q:g}"], q),
        f"coverage_{width}": interval_coverage(g["actual"], g[lo], g[hi]),
    }


def _check_level(q, field: str) -> float:
    """A quantile level strictly between 0 and 1."""
    return check_number(q, field, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)


def _check_interval(interval) -> tuple[float, float]:
    """Two quantile levels ``(lower, upper)`` with ``0 < lower < upper < 1``."""
    allowed = "two quantile levels (lower, upper) with 0 < lower < upper < 1"
    try:
        lo, hi = interval
    except (TypeError, ValueError):
        raise not_allowed("interval", interval, allowed) from None
    lo, hi = _check_level(lo, "interval[0]"), _check_level(hi, "interval[1]")
    if not lo < hi:
        raise not_allowed("interval", interval, allowed)
    return lo, hi


def leaderboard(
    bt: pd.DataFrame,
    q: float = 0.9,
    interval: tuple[float, float] = (0.05, 0.95),
    include_closed: bool = False,
    point: str = "median",
) -> pd.DataFrame:
    """Summarise a :func:`backtest` per model, best mean MASE first (notebook 04, benchmark).

    Paper 3.2.3 (validation). Columns: ``mean_mase`` and ``median_mase`` (over series; a
    series' MASE is its mean of ``|actual - point| / scale`` over all origins and days),
    ``mae``, ``rmse`` and ``bias`` (units/day; RMSE and bias use the mean forecast),
    ``pinball_<q>``, ``coverage_<width>`` (share of actuals inside the ``interval`` quantiles)
    ``fit_time_s`` (total seconds) and ``fallbacks`` (how many of its (series, origin)
    forecasts were implausible and replaced by the moving average; see :func:`backtest`). ``q`` and both ``interval`` levels must be quantile
    levels of the backtest. Closed days and missing actuals are left out unless
    ``include_closed``; series whose scale is 0 (a perfectly repeating week) have no MASE but
    count in the other columns.
    """
    point = check_choice(point, "point", ("median", "mean"))
    q = _check_level(q, "q")
    interval = _check_interval(interval)
    d = _scored_rows(bt, include_closed)
    pcol = "q0.5" if point == "median" else "mean"
    lo, hi = f"q{interval[0]:g}", f"q{interval[1]:g}"
    width = int(round(100 * (interval[1] - interval[0])))
    fits = bt.drop_duplicates(["series", "model", "origin"])
    fit_times = fits.groupby("model")["fit_time"].sum()
    notes = fits["note"] if "note" in fits else pd.Series("", index=fits.index)
    fallbacks = (notes.fillna("") != "").groupby(fits["model"]).sum()
    out = []
    for mname, g in d.groupby("model", sort=False):
        row = {"model": mname, **_model_scores(g, pcol, q, lo, hi, width)}
        row["fit_time_s"] = float(fit_times.get(mname, np.nan))
        row["fallbacks"] = int(fallbacks.get(mname, 0))
        out.append(row)
    return pd.DataFrame(out).sort_values("mean_mase").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Rolling forecasts for the simulator
# --------------------------------------------------------------------------------------------
def _check_stat(stat: str | float) -> str | float:
    """``"mean"``, ``"median"`` or a quantile level strictly between 0 and 1."""
    allowed = "'mean' | 'median' | a quantile level in (0, 1)"
    if isinstance(stat, str):
        if stat not in ("mean", "median"):
            raise not_allowed("stat", stat, allowed)
        return stat
    try:
        return _check_level(stat, "stat")
    except ConfigError:
        raise not_allowed("stat", stat, allowed) from None


def _path(fc: Forecast, stat: str | float) -> np.ndarray:
    """The forecast statistic ``stat`` along the days of ``fc`` (units/day)."""
    if stat == "mean":
        return fc.mean
    if stat == "median":
        return fc.median
    return fc.quantile(float(stat))


def _rolling_one(
    s: pd.Series, cal: pd.Series | None, model: ModelSpec, horizon: int, refit_every: int,
    min_history: int, stat: str | float, guard: float | None = DEFAULT_MULTIPLE,
    notes: list[str] | None = None,
) -> np.ndarray:
    """Rolling forecasts ``(len(s), horizon)`` of one series (see :func:`rolling_forecasts`);
    the notes of forecasts the guard replaced are appended to ``notes``."""
    T, H, R = len(s), horizon, refit_every
    levels = DEFAULT_QUANTILES if isinstance(stat, str) else tuple(sorted({0.5, float(stat)}))
    out = np.zeros((T, H))
    for t in range(min(min_history, T)):  # warm-up: the mean of the days seen so far
        past = s.iloc[:t].to_numpy()
        past = past[np.isfinite(past)]
        out[t, :] = past.mean() if past.size else 0.0
    for o in range(min_history, T, R):
        m = copy.deepcopy(model) if isinstance(model, Forecaster) else model()
        if guard is None:
            f = m.fit(s.iloc[:o], cal).predict(H + R - 1, levels)
        else:
            f = guarded_forecast(m, s.iloc[:o], cal, H + R - 1, levels, multiple=guard)
            if f.note and notes is not None:
                notes.append(f"{s.index[o].date()}: {f.note}")
        path = _path(f, stat)
        for t in range(o, min(o + R, T)):
            out[t, :] = path[t - o : t - o + H]
    return out


def rolling_forecasts(
    frame: pd.DataFrame,
    model: ModelSpec,
    horizon: int = 7,
    calendar: Calendars = None,
    min_history: int = 28,
    refit_every: int = 7,
    stat: str | float = "mean",
    guard: float | None = DEFAULT_MULTIPLE,
) -> np.ndarray:
    """Forecasts for :class:`mas_lib.sim.demand.RecordedDemand`: array ``(len(frame), horizon, N)``.

    Paper 3.1.1(1) and 3.1.2(1): each warehouse agent is told a demand forecast; notebook 04
    section 10.

    ``frame`` is days x warehouses (units/day). ``out[t, k, i]`` is warehouse ``i``'s forecast
    (units/day), made with data *before* day ``t`` only, of day ``t + k``. The model is refitted
    every ``refit_every`` days (each refit forecasts ``horizon + refit_every - 1`` days ahead and
    the days until the next refit read their slice of it). Before ``min_history`` days exist the
    forecast is the mean of the days seen so far (0 on day 0). ``stat`` is ``"mean"`` or
    ``"median"``, or a quantile level like ``0.9`` for a cautious forecast. A
    :class:`CountRegression` must be built with ``max_horizon >= horizon + refit_every - 1``.
    Every refit passes the plausibility guard (see :func:`backtest`; ``guard=None`` switches
    it off); replaced forecasts are announced with a ``UserWarning`` naming the day, the
    series and the reason.
    """
    if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
        raise TypeError("frame must be a DataFrame indexed by day, one column per warehouse")
    horizon = check_whole(horizon, "horizon", low=1, unit="days")
    refit_every = check_whole(refit_every, "refit_every", low=1, unit="days")
    min_history = check_whole(min_history, "min_history", low=2, unit="days")
    stat = _check_stat(stat)
    if guard is not None:
        guard = check_number(guard, "guard", low=1.0)
    if getattr(model, "pooled", False):
        raise TypeError("rolling_forecasts needs a single-series model, not a pooled one")
    out = np.zeros((len(frame), horizon, frame.shape[1]))
    notes: list[str] = []
    for i, col in enumerate(frame.columns):
        these: list[str] = []
        out[:, :, i] = _rolling_one(frame[col].astype(float), _calendar_for(calendar, col), model,
                                    horizon, refit_every, min_history, stat, guard, these)
        notes += [f"{col} {n}" for n in these]
    if notes:
        warnings.warn(f"rolling_forecasts: {len(notes)} implausible forecast(s) replaced; first: "
                      f"{notes[0]}", UserWarning, stacklevel=2)
    return out
