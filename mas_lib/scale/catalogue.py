"""Catalogue-wide forecasting through the sweep runner: backtest the best simple models on every
(market, product) series of the cleaned UCI data -- 6,534 daily series (beyond the paper, which
forecasts a handful of products; paper sections 3.2.2-3.2.3 describe the data and the validation).

One job is one series: a rolling-origin :func:`mas_lib.forecast.backtest` (horizon 7 days, the
last ``n_origins`` weekly origins, each model refitted at each origin on the days before it)
scored like :func:`mas_lib.forecast.leaderboard` (open days only; the median as point forecast).
The job receives only the series' name; each process loads and splits the cleaned data once (a
Dask worker on its first job, about 6 s), so on a cluster every worker must see the data file
(``MAS_LIB_ONLINE_RETAIL`` or ``path=``).

Models by name (:data:`SIMPLE_MODELS`) -- the fast models that led the top-20 benchmark
(``benchmarks/results/forecast.csv``), with the weekly seasonal naive as the reference::

    seasonal_naive     SeasonalNaive(7)
    moving_average_28  MovingAverage(28)
    croston            Croston(0.1)
    sba                SBA(0.1)
    empirical_56       EmpiricalQuantile(56)
    empirical_56_dow   EmpiricalQuantile(56, by_weekday=True)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import forecast as fc
from ..validation import check_choice, check_whole, not_allowed
from .runner import run_sweep

__all__ = [
    "SIMPLE_MODELS",
    "DEFAULT_MODELS",
    "simple_model",
    "backtest_series",
    "catalogue_keys",
    "backtest_catalogue_series",
    "forecast_catalogue",
    "catalogue_leaderboard",
]

#: the fast models a catalogue sweep can run, by name
SIMPLE_MODELS: dict[str, Callable[[], fc.Forecaster]] = {
    "seasonal_naive": lambda: fc.SeasonalNaive(7),
    "moving_average_28": lambda: fc.MovingAverage(28),
    "croston": lambda: fc.Croston(0.1),
    "sba": lambda: fc.SBA(0.1),
    "empirical_56": lambda: fc.EmpiricalQuantile(56),
    "empirical_56_dow": lambda: fc.EmpiricalQuantile(56, by_weekday=True),
}
#: every simple model (the default of the catalogue sweep)
DEFAULT_MODELS: tuple[str, ...] = tuple(SIMPLE_MODELS)


def simple_model(name: str) -> fc.Forecaster:
    """A fresh, unfitted model of :data:`SIMPLE_MODELS` by name (a clear error naming the known
    names otherwise). Beyond the paper."""
    return SIMPLE_MODELS[check_choice(name, "model", SIMPLE_MODELS)]()


def _check_models(models: Sequence[str]) -> tuple[str, ...]:
    if isinstance(models, str) or not isinstance(models, Sequence) or not models:
        raise not_allowed("models", models, f"a non-empty list of names from {list(SIMPLE_MODELS)}")
    return tuple(check_choice(m, f"models[{i}]", SIMPLE_MODELS) for i, m in enumerate(models))


def _as_units(series: pd.Series | pd.DataFrame) -> tuple[pd.Series, pd.Series | None]:
    if isinstance(series, pd.DataFrame):
        missing = {"date", "units"} - set(series.columns)
        if missing:
            raise not_allowed("series", f"a frame with columns {list(series.columns)}",
                              "a tidy frame with date, units (and open) columns, or a daily Series")
        frame = series.set_index("date").sort_index()
        units = frame["units"].astype(float)
        is_open = frame["open"].astype(bool) if "open" in frame else None
        return units, is_open
    if isinstance(series, pd.Series) and isinstance(series.index, pd.DatetimeIndex):
        return series.astype(float).sort_index(), None
    raise not_allowed("series", type(series).__name__, "a tidy frame (date, units, open) or a daily Series")


def backtest_series(
    series: pd.Series | pd.DataFrame,
    seed: int = 0,
    models: Sequence[str] = DEFAULT_MODELS,
    horizon: int = 7,
    n_origins: int = 4,
    is_open: pd.Series | None = None,
    name: str = "series",
) -> dict[str, float]:
    """Sweep job: backtest models of :data:`SIMPLE_MODELS` on one daily series.

    ``series`` is a tidy frame for one series (``date``, ``units`` [units/day], optionally ``open``)
    or a daily Series of units; ``is_open`` overrides the calendar. Runs
    :func:`mas_lib.forecast.backtest` with ``horizon`` days from each of the last ``n_origins``
    weekly origins (the last window ending on the last day) and scores it with
    :func:`mas_lib.forecast.leaderboard`. The models are deterministic: ``seed`` is accepted and
    ignored. Returns ``mase_<model>`` (NaN when the seasonal-naive scale is 0) and ``mae_<model>``
    [units/day] for each model. Paper section 3.2.3, beyond the paper.
    """
    models = _check_models(models)
    horizon = check_whole(horizon, "horizon", low=1, unit="days")
    n_origins = check_whole(n_origins, "n_origins", low=1)
    units, cal = _as_units(series)
    cal = is_open if is_open is not None else cal
    last = units.index[-1] - pd.Timedelta(days=horizon - 1)
    origins = fc.weekly_origins(last + pd.Timedelta(days=7), n_origins)
    bt = fc.backtest({name: units}, {m: SIMPLE_MODELS[m] for m in models}, horizon=horizon, origins=origins,
                     calendar=cal)
    board = fc.leaderboard(bt).set_index("model")
    out: dict[str, float] = {}
    for m in models:
        out[f"mase_{m}"] = float(board.at[m, "mean_mase"]) if m in board.index else float("nan")
    for m in models:
        out[f"mae_{m}"] = float(board.at[m, "mae"]) if m in board.index else float("nan")
    return out


# ----------------------------------------------------------------------------- the UCI catalogue
def _data_path(path: str | os.PathLike[str] | None) -> str:
    from ..data import resolve_online_retail_path

    return str(resolve_online_retail_path(path).resolve())


@functools.lru_cache(maxsize=1)
def _catalogue(path: str) -> tuple[pd.DatetimeIndex, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Every (market, product) series of the cleaned data on one calendar: the dates and
    name -> (units/day, open), built once per process."""
    from ..data import load_daily_demand

    daily = load_daily_demand(path, by=("market", "stock_code"))
    daily = daily.sort_values(["market", "stock_code", "date"], kind="stable")
    dates = pd.DatetimeIndex(daily["date"].drop_duplicates().sort_values())
    n_days = len(dates)
    n_series = len(daily) // n_days
    same_calendar = len(daily) == n_series * n_days and bool(
        (daily["date"].to_numpy().reshape(n_series, n_days) == dates.to_numpy()[None, :]).all())
    if not same_calendar:
        raise ValueError("the daily table is not one full calendar per series; cannot split the catalogue")
    names = (daily["market"].astype(str) + "/" + daily["stock_code"].astype(str)).to_numpy()[::n_days]
    units = daily["units"].to_numpy(dtype=float).reshape(n_series, n_days)
    is_open = daily["open"].to_numpy(dtype=bool).reshape(n_series, n_days)
    return dates, {str(n): (units[i], is_open[i]) for i, n in enumerate(names)}


def catalogue_keys(path: str | os.PathLike[str] | None = None) -> list[str]:
    """Names ``"market/stock_code"`` of every daily series of the cleaned UCI data (6,534 with the
    default cleaning), sorted. Loads the data once per process. Paper section 3.2.2, beyond the paper."""
    return sorted(_catalogue(_data_path(path))[1])


def backtest_catalogue_series(
    series: str,
    seed: int = 0,
    models: Sequence[str] = DEFAULT_MODELS,
    horizon: int = 7,
    n_origins: int = 4,
    path: str | None = None,
) -> dict[str, float]:
    """Sweep job: :func:`backtest_series` on the catalogue series named ``series``
    (``"market/stock_code"``, see :func:`catalogue_keys`), read from the cleaned UCI data (loaded
    once per process, from ``path`` or ``MAS_LIB_ONLINE_RETAIL``). Also returns the series'
    ``units`` (total units sold) and ``open_days``. Beyond the paper."""
    dates, cat = _catalogue(_data_path(path))
    if series not in cat:
        raise not_allowed("series", series, "a 'market/stock_code' name from catalogue_keys()")
    units, is_open = cat[series]
    out = backtest_series(pd.Series(units, index=dates), seed=seed, models=models, horizon=horizon,
                          n_origins=n_origins, is_open=pd.Series(is_open, index=dates), name=series)
    return {"units": float(units.sum()), "open_days": int(is_open.sum()), **out}


def forecast_catalogue(
    series: Sequence[str] | None = None,
    models: Sequence[str] = DEFAULT_MODELS,
    horizon: int = 7,
    n_origins: int = 4,
    path: str | os.PathLike[str] | None = None,
    **run: Any,
) -> pd.DataFrame:
    """Backtest ``models`` on every catalogue series (or the named ``series``) through
    :func:`mas_lib.scale.run_sweep`; ``run`` goes to it (``workers=2``, ``scheduler=``, ``client=``,
    ``progress=``). Returns its table -- one row per series, with ``market`` and ``stock_code``
    split out -- ready for :func:`catalogue_leaderboard`. Beyond the paper."""
    models = _check_models(models)
    keys = catalogue_keys(path) if series is None else list(series)
    if not keys:
        raise not_allowed("series", series, "None (every series) or a non-empty list of names")
    fixed = {"models": models, "horizon": horizon, "n_origins": n_origins,
             "path": None if path is None else _data_path(path)}
    df = run_sweep(backtest_catalogue_series, {"series": keys}, seeds=[0], fixed=fixed, **run)
    parts = df["series"].str.split("/", n=1, expand=True)
    df.insert(1, "market", parts[0])
    df.insert(2, "stock_code", parts[1])
    return df


def catalogue_leaderboard(results: pd.DataFrame) -> pd.DataFrame:
    """Summarise :func:`forecast_catalogue` per model, best mean MASE first: ``mean_mase`` and
    ``median_mase`` over the series that have a MASE (seasonal-naive scale > 0), ``series``
    (how many), ``mean_mae`` [units/day] over all successful series, and ``best_share`` (share of
    scored series on which the model has the lowest MASE, ties shared). Failed jobs are left
    out (count them with ``results.status``). Beyond the paper."""
    ok = results[results["status"] == "ok"]
    models = [c.removeprefix("mase_") for c in results.columns if c.startswith("mase_")]
    mase = ok[[f"mase_{m}" for m in models]].to_numpy(dtype=float)
    scored = np.isfinite(mase).all(axis=1)
    best = np.zeros(len(models))
    if scored.any():
        low = mase[scored] == mase[scored].min(axis=1, keepdims=True)
        best = (low / low.sum(axis=1, keepdims=True)).mean(axis=0)
    rows = []
    for j, m in enumerate(models):
        col = ok[f"mase_{m}"].to_numpy(dtype=float)
        fin = col[np.isfinite(col)]
        rows.append({"model": m, "mean_mase": fin.mean() if fin.size else np.nan,
                     "median_mase": np.median(fin) if fin.size else np.nan, "series": int(fin.size),
                     "mean_mae": float(ok[f"mae_{m}"].mean()), "best_share": float(best[j])})
    columns = ["model", "mean_mase", "median_mase", "series", "mean_mae", "best_share"]
    return pd.DataFrame(rows, columns=columns).sort_values("mean_mase", kind="stable").reset_index(drop=True)
