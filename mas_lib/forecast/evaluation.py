"""Honest comparisons on top of a backtest (paper 3.2.3: "train the model and validate it").

* :func:`select_products` -- which products to forecast, chosen from the data *before* the
  first forecast origin only (choosing by the whole period would pick products because of the
  very sales we then try to forecast);
* :func:`per_series_mase` -- one MASE per (series, model), the unit a bootstrap resamples;
* :func:`gain_interval` -- how much lower one model's mean MASE is than another's, with a
  bootstrap interval over series;
* :data:`SIMPLE_BASELINES` and :func:`best_baseline` -- the yardstick a model has to beat is
  the *best* of the simple baselines, not only the seasonal naive;
* :func:`combine` -- an equal-weight combination of models already in a backtest (works for
  global models too, which :class:`~mas_lib.forecast.Ensemble` cannot hold);
* :func:`mase_by_market` and :func:`gain_by_market` -- the same scores split by market
  (domestic vs overseas), because a gain measured on a mix of markets need not hold in each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..validation import check_choice, check_number, check_whole, not_allowed
from .backtesting import _scored_rows

__all__ = [
    "SIMPLE_BASELINES",
    "select_products",
    "per_series_mase",
    "gain_interval",
    "best_baseline",
    "combine",
    "series_market",
    "mase_by_market",
    "gain_by_market",
]

#: the simple baselines every leaderboard shows (model names as the models call themselves)
SIMPLE_BASELINES: tuple[str, ...] = (
    "Naive", "SeasonalNaive", "MovingAverage(28)", "WeekdayMean(8w)",
)


def select_products(
    daily: pd.DataFrame, before: str | pd.Timestamp, first_rank: int = 1, n: int = 20
) -> list[str]:
    """Stock codes ranked ``first_rank .. first_rank + n - 1`` by net units sold before
    ``before`` (both markets together; ties broken by stock code).

    Paper 3.2.2 (which series the agents forecast); used by ``benchmarks/bench_forecast.py``
    (the forecasting notebook ranks with :func:`mas_lib.data.top_products` on the days before its
    first origin). ``daily`` is a tidy table with ``date``, ``stock_code`` and ``units``.
    """
    first_rank = check_whole(first_rank, "first_rank", low=1)
    n = check_whole(n, "n", low=1, unit="products")
    past = daily[daily["date"] < pd.Timestamp(before)]
    units = past.groupby("stock_code", sort=True)["units"].sum()
    ranked = units.reset_index().sort_values(["units", "stock_code"], ascending=[False, True],
                                             kind="stable")
    return ranked["stock_code"].iloc[first_rank - 1 : first_rank - 1 + n].astype(str).tolist()


def per_series_mase(bt: pd.DataFrame, point: str = "median",
                    include_closed: bool = False) -> pd.DataFrame:
    """One MASE per series (rows) and model (columns): the mean of ``|actual - point| / scale``
    over all origins and scored days of that series (unitless; NaN where the scale is 0).

    Paper 3.2.3 (validation); notebook 04 and the benchmark. Same conventions as
    :func:`mas_lib.forecast.leaderboard`: its ``mean_mase`` is this table's column mean.
    """
    point = check_choice(point, "point", ("median", "mean"))
    d = _scored_rows(bt, include_closed)
    pcol = "q0.5" if point == "median" else "mean"
    scaled = (d["actual"] - d[pcol]).abs() / d["scale"].where(d["scale"] > 0)
    return scaled.groupby([d["series"], d["model"]]).mean().unstack("model")


def gain_interval(
    per_series: pd.DataFrame,
    model: str,
    baseline: str,
    n_boot: int = 2000,
    level: float = 0.9,
    seed: int = 0,
) -> dict[str, float]:
    """How much lower ``model``'s mean MASE is than ``baseline``'s, with a bootstrap interval.

    Paper 3.2.3 (validation); notebook 04 and the benchmark. ``per_series`` is
    :func:`per_series_mase`'s table. The gain is ``1 - mean(MASE model) / mean(MASE
    baseline)`` over the series both have (a fraction; 0.2 = 20 % lower). The interval
    resamples *series* with replacement ``n_boot`` times (the series are the independent
    units; origins of one series are not; both models' MASE of a series move together) and
    takes the central ``level`` share of the resampled gains: ``scipy.stats.bootstrap`` with
    ``paired=True`` and the percentile method. Returns ``gain``, ``low``, ``high`` and
    ``n_series``.
    """
    for field, name in (("model", model), ("baseline", baseline)):
        if name not in per_series.columns:
            raise not_allowed(field, name, f"one of {list(per_series.columns)}")
    n_boot = check_whole(n_boot, "n_boot", low=1)
    level = check_number(level, "level", low=0.0, high=1.0, low_inclusive=False,
                         high_inclusive=False)
    pair = per_series[[model, baseline]].dropna()
    if pair.empty:
        raise ValueError(f"gain_interval: {model} and {baseline} share no series with a MASE")
    a, b = pair[model].to_numpy(), pair[baseline].to_numpy()

    def gain(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return 1.0 - x.mean(axis=axis) / y.mean(axis=axis)

    if len(a) == 1:  # one series: every resample is that series
        low = high = float(gain(a, b))
    else:
        ci = stats.bootstrap((a, b), gain, paired=True, vectorized=True, n_resamples=n_boot,
                             confidence_level=level, method="percentile",
                             rng=np.random.default_rng(seed)).confidence_interval
        low, high = float(ci.low), float(ci.high)
    return {"gain": float(gain(a, b)), "low": low, "high": high, "n_series": int(len(a))}


def best_baseline(board: pd.DataFrame, baselines: Sequence[str] = SIMPLE_BASELINES) -> str:
    """The name of the simple baseline with the lowest ``mean_mase`` in a leaderboard.

    Paper 3.2.3 (validation); notebook 04 and the benchmark. Raises if the leaderboard holds
    none of ``baselines``.
    """
    rows = board[board["model"].isin(list(baselines))]
    if rows.empty:
        raise not_allowed("baselines", tuple(baselines),
                          f"names among the leaderboard's models {board['model'].tolist()}")
    return str(rows.sort_values("mean_mase").iloc[0]["model"])


def combine(bt: pd.DataFrame, members: Sequence[str], name: str | None = None) -> pd.DataFrame:
    """Rows of a new model ``name`` whose mean and quantiles are the equal-weight average of
    the ``members``' forecasts in backtest ``bt`` (quantiles averaged level by level, so they
    stay ordered); units/day. Append them to ``bt`` to score the combination.

    Paper 3.2.3 (model integration); the benchmark. No look-ahead beyond the members' own:
    each combined row only averages forecasts made at that row's origin. ``fit_time`` is the
    members' sum; ``note`` joins their notes.
    """
    members = list(members)
    known = set(bt["model"])
    for i, m in enumerate(members):
        if m not in known:
            raise not_allowed(f"members[{i}]", m, f"one of {sorted(known)}")
    if len(members) < 2:
        raise not_allowed("members", members, "at least two model names")
    name = name or "+".join(members)
    keys = ["series", "origin", "h"]
    parts = [bt[bt["model"] == m].sort_values(keys, kind="stable").reset_index(drop=True)
             for m in members]
    for m, part in zip(members[1:], parts[1:], strict=True):
        if not part[keys].equals(parts[0][keys]):
            raise ValueError(f"combine: {m} was not run on the same (series, origin, day) rows "
                             f"as {members[0]}")
    out = parts[0].copy()
    cols = ["mean"] + [c for c in bt.columns if c.startswith("q")]
    out[cols] = sum(p[cols].to_numpy(dtype=float) for p in parts) / len(parts)
    out["model"] = name
    out["fit_time"] = sum(p["fit_time"].to_numpy(dtype=float) for p in parts)
    if "note" in out:
        notes = pd.concat([p["note"].fillna("") for p in parts], axis=1)
        out["note"] = notes.apply(lambda r: "; ".join(n for n in r if n), axis=1)
    return out


def series_market(key: str) -> str:
    """The market of a series key ``"market/stock_code"`` (as made by
    :func:`~mas_lib.forecast.series_from_tidy`): the part before the first ``/``.

    Paper 3.1 (domestic and overseas warehouses); used by :func:`mase_by_market` and
    :func:`gain_by_market`. Raises if the key has no market part.
    """
    market, sep, rest = str(key).partition("/")
    if not sep or not market or not rest:
        raise not_allowed("series", key, 'a key "market/stock_code", as series_from_tidy makes')
    return market


def _markets(per_series: pd.DataFrame) -> pd.Series:
    """The market of every row (series) of a :func:`per_series_mase` table."""
    return pd.Series([series_market(k) for k in per_series.index], index=per_series.index,
                     name="market")


def mase_by_market(per_series: pd.DataFrame) -> pd.DataFrame:
    """Mean MASE per model (rows) and market (columns, plus ``"all"``), unitless.

    Paper 3.2.3 (validation) for each market of 3.1; notebook 04 and the benchmark.
    ``per_series`` is :func:`per_series_mase`'s table, indexed by ``"market/stock_code"``; a
    market's column is the mean over its series (NaN MASEs skipped, as in
    :func:`~mas_lib.forecast.leaderboard`), and ``"all"`` equals the leaderboard's
    ``mean_mase``.
    """
    markets = _markets(per_series)
    out = per_series.groupby(markets).mean().T
    out.columns = list(out.columns)
    out["all"] = per_series.mean()
    out.index.name = "model"
    return out


def gain_by_market(
    per_series: pd.DataFrame,
    model: str,
    baseline: str,
    n_boot: int = 2000,
    level: float = 0.9,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`gain_interval` of ``model`` over ``baseline`` within each market and over all
    series: one row per market (then ``"all"``) with ``n_series``, both mean MASEs, ``gain``
    (a fraction: 0.2 = 20 % lower) and its bootstrap interval ``low``/``high`` (series resampled
    within the market).

    Paper 3.2.3 (validation) for each market of 3.1; notebook 04 and the benchmark: a headline
    measured on domestic and overseas series together can hide a market where the model gains
    little.
    """
    for field, name in (("model", model), ("baseline", baseline)):
        if name not in per_series.columns:
            raise not_allowed(field, name, f"one of {list(per_series.columns)}")
    markets = _markets(per_series)
    rows = []
    for market in [*sorted(markets.unique()), "all"]:
        part = per_series if market == "all" else per_series[markets == market]
        pair = part[[model, baseline]].dropna()
        row = {"market": market, "n_series": int(len(pair)),
               "model_mase": float(pair[model].mean()) if len(pair) else float("nan"),
               "baseline_mase": float(pair[baseline].mean()) if len(pair) else float("nan"),
               "gain": float("nan"), "low": float("nan"), "high": float("nan")}
        if len(pair):
            g = gain_interval(part, model, baseline, n_boot=n_boot, level=level, seed=seed)
            row.update(gain=g["gain"], low=g["low"], high=g["high"])
        rows.append(row)
    return pd.DataFrame(rows).set_index("market")
