"""Benchmark: daily demand forecasts against STRONG simple baselines, on two product sets
(notebook 04, README).

Prints the machine, the data, one leaderboard per product set, the headline (the best model
against the best simple baseline, with a bootstrap interval over series) and whether the
project's floors are met; writes ``benchmarks/results/forecast.csv`` (published set),
``forecast_heldout.csv`` (held-out set) and ``forecast_headline.csv``.

Setup (both sets): UCI Online Retail via ``mas_lib.data``, one daily series per (market,
product) with domestic = UK and overseas = the rest; horizon 7 days; 12 weekly origins, the
first 2011-09-08 and the last forecast week ending 2011-11-30. Every model is refitted at every
origin on the data before it (global models once per origin on all series of the set). Products
are chosen by their net units **before the first origin** (never by the sales being forecast):

* published set: ranks 1-20 (the set of earlier README tables, now chosen before the origin);
* held-out set: ranks 21-40, by the same rule -- products no model was tuned on.

Scores: open days only; the point forecast behind MAE/MASE is each model's median; MASE's scale
is the in-sample weekly seasonal-naive MAE counted from each product's first sale. Every
forecast passes the plausibility guard (``fallbacks`` counts replaced forecasts). Each
leaderboard also has the mean MASE within each market (``mase_domestic``, ``mase_overseas``),
and the headline is repeated within each market (``domestic_gain``, ...): the pooled headline
mixes UK and overseas series, and the gain is not the same in both.

Floors: on both sets the best model's mean MASE is >= 10 % below the best simple baseline's
(Naive, SeasonalNaive, MovingAverage(28), WeekdayMean(8w)); its 90 % interval (5-95 %
quantiles) covers 85-95 % of actuals; the whole script runs in < 3 minutes of wall time.

Run: ``python benchmarks/bench_forecast.py`` (``make bench``). Without the real data it falls
back to the synthetic generator and says so.
"""

from __future__ import annotations

import os

# one BLAS/OpenMP thread per process: two worker processes x multi-threaded BLAS thrash 2 cores
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mas_lib import forecast as fc  # noqa: E402
from mas_lib.data.synthetic import SyntheticDemandConfig, generate_demand  # noqa: E402

N_PRODUCTS = 20
HORIZON = 7
N_ORIGINS = 12
END = pd.Timestamp("2011-12-01")
ORIGINS = fc.weekly_origins(END, N_ORIGINS)
SETS = {"published": 1, "held-out": 21}  # set name -> first rank (by units before ORIGINS[0])
COMBO = ("GlobalTrees", "Empirical(56d, dow)")
FLOOR_GAIN, FLOOR_COV, FLOOR_WALL = 0.10, (0.85, 0.95), 180.0
RESULTS = Path(__file__).resolve().parent / "results"
OUT = {"published": RESULTS / "forecast.csv", "held-out": RESULTS / "forecast_heldout.csv"}


def models() -> dict:
    """The models compared. SARIMAX runs in a small (1,0,0)(1,0,0,7) form: the default
    (1,0,1)(1,0,1,7) costs ~0.3 s per fit, too slow for 480 fits per set."""
    return {
        "Naive": fc.Naive(),
        "SeasonalNaive": fc.SeasonalNaive(7),
        "MovingAverage(28)": fc.MovingAverage(28),
        "WeekdayMean(8w)": fc.WeekdayMean(8),
        "Croston": fc.Croston(0.1),
        "SBA": fc.SBA(0.1),
        "HoltWinters": fc.HoltWinters(),
        "SARIMAX(1,0,0)(1,0,0,7)": fc.SARIMAXModel((1, 0, 0), (1, 0, 0, 7)),
        "CountGLM(negbin)": fc.CountRegression("negbin", max_horizon=HORIZON),
        "PooledGLM(negbin)": fc.PooledCountRegression("negbin", max_horizon=HORIZON),
        "Empirical(56d)": fc.EmpiricalQuantile(56),
        "Empirical(56d, dow)": fc.EmpiricalQuantile(56, by_weekday=True),
        "GlobalTrees": fc.GlobalBoostedTrees(max_horizon=HORIZON),
    }


def load_sets() -> tuple[dict[str, tuple[dict, dict]], str]:
    """Per set: (series, calendars) of its products x both markets; and a note on the source."""
    from mas_lib import data

    if data.online_retail_available():
        daily = data.load_daily_demand()
        source = "UCI Online Retail (real data)"
    else:
        cfg = SyntheticDemandConfig(intermittent_fraction=0.2)
        daily = generate_demand(cfg, "2010-12-01", 374, n_products=2 * N_PRODUCTS, seed=2024)
        source = "SYNTHETIC fallback (mas_lib.data.synthetic; UCI Online Retail data not available)"
    sets, dropped = {}, 0
    for name, first in SETS.items():
        codes = fc.select_products(daily, ORIGINS[0], first, N_PRODUCTS)
        series, calendars = fc.series_from_tidy(daily[daily["stock_code"].isin(codes)])
        empty = [k for k, s in series.items()
                 if np.nansum(s[s.index < ORIGINS[0]].to_numpy()) <= 0]
        dropped += len(empty)
        sets[name] = ({k: v for k, v in series.items() if k not in empty},
                      {k: v for k, v in calendars.items() if k not in empty})
    return sets, (f"{source}; {dropped} (market, product) series without a sale before the "
                  "first origin dropped")


def _run_chunk(args) -> pd.DataFrame:
    name, series, calendars, origins = args
    return fc.backtest(series, models(), HORIZON, origins, calendars).assign(set=name)


def score(bt: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Leaderboard (with the combination) and the headline of one set."""
    bt = pd.concat([bt, fc.combine(bt, COMBO, "+".join(COMBO))], ignore_index=True)
    board = fc.leaderboard(bt, q=0.9, interval=(0.05, 0.95))
    per = fc.per_series_mase(bt)
    base = fc.best_baseline(board)
    best = board.iloc[0]
    snaive = float(board.set_index("model").loc["SeasonalNaive", "mean_mase"])
    base_mase = float(board.set_index("model").loc[base, "mean_mase"])
    gain = fc.gain_interval(per, str(best["model"]), base, n_boot=4000, seed=0)
    trees = fc.gain_interval(per, "GlobalTrees", base, n_boot=4000, seed=0)
    # the same scores within each market: the headline mixes domestic and overseas series
    by_market = fc.mase_by_market(per).drop(columns="all").add_prefix("mase_")
    board = board.merge(by_market, left_on="model", right_index=True, how="left")
    split = fc.gain_by_market(per, str(best["model"]), base, n_boot=4000, seed=0)
    head = {
        "best_model": best["model"], "best_mase": float(best["mean_mase"]),
        "best_baseline": base, "baseline_mase": base_mase, "snaive_mase": snaive,
        "gain": gain["gain"], "gain_low": gain["low"], "gain_high": gain["high"],
        "coverage_90": float(best["coverage_90"]),
        "trees_gain": trees["gain"], "trees_low": trees["low"], "trees_high": trees["high"],
        "trees_coverage_90": float(board.set_index("model").loc["GlobalTrees", "coverage_90"]),
        "baseline_vs_snaive": 1 - base_mase / snaive, "best_vs_snaive": 1 - best["mean_mase"] / snaive,
        "n_series": gain["n_series"], "fallbacks": int(board["fallbacks"].sum()),
    }
    for market, row in split.drop(index="all").iterrows():
        head.update({f"{market}_n_series": int(row["n_series"]),
                     f"{market}_best_mase": row["model_mase"],
                     f"{market}_baseline_mase": row["baseline_mase"],
                     f"{market}_gain": row["gain"], f"{market}_gain_low": row["low"],
                     f"{market}_gain_high": row["high"]})
    return board, head


def report(name: str, board: pd.DataFrame, head: dict) -> bool:
    """Print one set's leaderboard and headline; True if its floors are met."""
    print(f"\n--- {name} set: {head['n_series']} series ---")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(board.round(3).to_string(index=False))
    ok_gain = head["gain"] >= FLOOR_GAIN
    ok_cov = FLOOR_COV[0] <= head["coverage_90"] <= FLOOR_COV[1]
    print(f"best simple baseline: {head['best_baseline']} (mean MASE {head['baseline_mase']:.3f}; "
          f"{100 * head['baseline_vs_snaive']:.1f} % below seasonal naive {head['snaive_mase']:.3f})")
    print(f"best model: {head['best_model']}: mean MASE {head['best_mase']:.3f} -> "
          f"{100 * head['gain']:.1f} % below the best simple baseline (90 % bootstrap interval "
          f"over series {100 * head['gain_low']:.1f} to {100 * head['gain_high']:.1f} %; floor "
          f">= 10 %) {'MET' if ok_gain else 'NOT MET'}; goal 20 % "
          f"{'met' if head['gain'] >= 0.2 else 'not met'}")
    print(f"its 90 % interval covers {100 * head['coverage_90']:.1f} % (floor 85-95 %) "
          f"{'MET' if ok_cov else 'NOT MET'}")
    print(f"global model alone: {100 * head['trees_gain']:.1f} % below the best simple baseline "
          f"({100 * head['trees_low']:.1f} to {100 * head['trees_high']:.1f} %), coverage "
          f"{100 * head['trees_coverage_90']:.1f} %")
    for market in sorted(k.removesuffix("_n_series") for k in head
                         if k.endswith("_n_series") and k != "n_series"):
        print(f"{market} series only ({head[f'{market}_n_series']}): best model "
              f"{head[f'{market}_best_mase']:.3f} vs {head['best_baseline']} "
              f"{head[f'{market}_baseline_mase']:.3f} -> {100 * head[f'{market}_gain']:.1f} % below "
              f"({100 * head[f'{market}_gain_low']:.1f} to {100 * head[f'{market}_gain_high']:.1f} %)")
    print(f"of the best model's {100 * head['best_vs_snaive']:.1f} % gain over seasonal naive, "
          f"{100 * head['baseline_vs_snaive']:.1f} points come from simply averaging recent days; "
          f"implausible forecasts replaced: {head['fallbacks']}")
    return ok_gain and ok_cov


def main() -> int:
    t_start = time.perf_counter()
    print("== bench_forecast: daily demand forecasting vs strong simple baselines ==")
    import sklearn
    import statsmodels

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"pandas {pd.__version__}, statsmodels {statsmodels.__version__}, "
          f"scikit-learn {sklearn.__version__}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.1f} (other work on the machine slows the wall clock; "
          "the CPU time below does not depend on it)")
    sets, note = load_sets()
    print(f"data: {note}")
    print(f"horizon {HORIZON} days; {N_ORIGINS} weekly origins from {ORIGINS[0].date()} to "
          f"{ORIGINS[-1].date()}; products ranked by net units before {ORIGINS[0].date()}: "
          + "; ".join(f"{k}: ranks {r}-{r + N_PRODUCTS - 1}" for k, r in SETS.items()))
    # split the origins (not the series) between workers, so global models see every series
    n_workers = max(1, min(2, os.cpu_count() or 1))
    chunks = [(name, s, c, ORIGINS[i::n_workers]) for name, (s, c) in sets.items()
              for i in range(n_workers)]
    t0 = time.perf_counter()
    if n_workers > 1:
        with ProcessPoolExecutor(n_workers) as pool:
            bt = pd.concat(list(pool.map(_run_chunk, chunks)), ignore_index=True)
    else:
        bt = pd.concat([_run_chunk(c) for c in chunks], ignore_index=True)
    t_bt = time.perf_counter() - t0
    print("(scored on open days; point forecast = median; fit_time_s: seconds summed over all "
          "fits; fallbacks: forecasts replaced by the guard)")
    ok, heads = True, []
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in SETS:
        board, head = score(bt[bt["set"] == name].drop(columns="set"))
        ok &= report(name, board, head)
        out = board.copy()
        out.insert(1, "n_series", head["n_series"])
        out["data"] = "uci" if note.startswith("UCI") else "synthetic"
        out.round(4).to_csv(OUT[name], index=False)
        heads.append({"set": name, **head})
    total = time.perf_counter() - t_start
    cpu = sum(
        resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    ok_time = total < FLOOR_WALL
    print(f"\nbacktests: {t_bt:.1f} s wall on {n_workers} worker process(es); whole script "
          f"{total:.1f} s wall, {cpu:.1f} s CPU (floor: < {FLOOR_WALL:.0f} s wall) "
          f"{'MET' if ok_time else 'NOT MET'}")
    pd.DataFrame(heads).round(4).assign(wall_s=round(total, 1), cpu_s=round(cpu, 1)).to_csv(
        RESULTS / "forecast_headline.csv", index=False)
    print(f"results written to {', '.join(str(p.relative_to(RESULTS.parents[1])) for p in OUT.values())}"
          ", benchmarks/results/forecast_headline.csv")
    print("ALL FLOORS MET" if ok and ok_time else "SOME FLOOR NOT MET (see above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
