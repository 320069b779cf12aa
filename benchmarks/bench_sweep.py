"""Benchmark: catalogue-wide forecasting through the sweep runner, serially and on 2 Dask workers.

Prints machine info, the data used, series per second on an evenly spaced subset of the 6,534
(market, product) daily series of the cleaned UCI data -- serially in this process and on a local
Dask cluster of 2 worker processes (one thread each) -- checks that both give identical tables, and
then backtests the whole catalogue on the cluster (unless the subset's rate says it would take
longer than ``--budget`` seconds; then it extrapolates and says so) and prints the catalogue
leaderboard. Writes everything to ``benchmarks/results/sweep.csv``.

Setup per series (:func:`mas_lib.scale.backtest_catalogue_series`): the simple models of
:data:`mas_lib.scale.SIMPLE_MODELS`, horizon 7 days, the last 4 weekly origins (the last forecast
week ending 2011-12-09), each model refitted at each origin; MASE per series as in
``bench_forecast.py`` (open days, median as point forecast, weekly seasonal-naive scale). Series
whose scale is 0 (no change week over week in their history, e.g. nothing sold) have no MASE.

Timing notes: each process loads and splits the cleaned data once (a few seconds); the subset rates
are measured after that warm-up, which is reported separately, as is the cluster's start. The
machine may be shared; the load average is printed.

Run: ``python benchmarks/bench_sweep.py`` (needs the real data and the ``scale`` extra;
``--subset-only`` skips the whole catalogue).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mas_lib import data, scale  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "sweep.csv"
WORKERS = 2


def machine_info() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"python {platform.python_version()}, pandas {pd.__version__}, {platform.machine()}, "
            f"{os.cpu_count()} cores, load average {load[0]:.2f}")


def warm() -> int:
    """Load and split the catalogue in this process (what each worker does on its first job)."""
    return len(scale.catalogue_keys())


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", type=int, default=400, help="series in the timing subset")
    ap.add_argument("--budget", type=float, default=420.0, help="max seconds for the whole catalogue on 2 workers")
    ap.add_argument("--subset-only", action="store_true", help="skip the whole catalogue")
    args = ap.parse_args(argv)
    if not data.online_retail_available():
        print("bench_sweep skipped: it needs the real UCI data (set MAS_LIB_ONLINE_RETAIL; see mas_lib.data)")
        return pd.DataFrame()
    try:
        import distributed
    except ImportError:
        print(f"bench_sweep skipped: it needs Dask -- {scale.INSTALL_HINT}")
        return pd.DataFrame()

    print(machine_info())
    keys, load_s = timed(scale.catalogue_keys)
    step = max(1, len(keys) // args.subset)
    subset = keys[::step][: args.subset]
    print(f"catalogue: {len(keys):,} daily series (market x product); data load + split {load_s:.1f} s in this process")
    print(f"timing subset: {len(subset)} series, every {step}th; models: {', '.join(scale.DEFAULT_MODELS)}")
    rows = [{"section": "setup", "item": "load and split the cleaned data (one process)", "series": len(keys),
             "seconds": load_s}]

    serial, s_serial = timed(scale.forecast_catalogue, subset, workers="serial", progress=True)
    rate_serial = len(subset) / s_serial
    print(f"serial:    {len(subset)} series in {s_serial:.1f} s -> {rate_serial:.1f} series/s")
    rows.append({"section": "throughput", "item": "serial (this process)", "series": len(subset),
                 "seconds": s_serial, "series_per_s": rate_serial})

    (cluster, client), s_start = timed(lambda: (lambda c: (c, distributed.Client(c)))(
        distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0",
                                 silence_logs=logging.ERROR)))
    try:
        _, s_warm = timed(client.run, warm)
        print(f"{WORKERS} workers: cluster start {s_start:.1f} s, data load on the workers {s_warm:.1f} s (in parallel)")
        rows.append({"section": "setup", "item": f"start a LocalCluster of {WORKERS}", "seconds": s_start})
        rows.append({"section": "setup", "item": f"load the data on {WORKERS} workers (parallel)", "seconds": s_warm})
        dist, s_dist = timed(scale.forecast_catalogue, subset, client=client, progress=True)
        rate_dist = len(subset) / s_dist
        pd.testing.assert_frame_equal(serial.drop(columns="seconds"), dist.drop(columns="seconds"), check_exact=True)
        print(f"{WORKERS} workers: {len(subset)} series in {s_dist:.1f} s -> {rate_dist:.1f} series/s "
              f"({rate_dist / rate_serial:.2f}x serial); tables identical: yes")
        rows.append({"section": "throughput", "item": f"LocalCluster, {WORKERS} workers x 1 thread",
                     "series": len(subset), "seconds": s_dist, "series_per_s": rate_dist})

        estimate = len(keys) / rate_dist
        if args.subset_only or estimate > args.budget:
            why = "--subset-only" if args.subset_only else f"estimate {estimate:.0f} s > budget {args.budget:.0f} s"
            print(f"\nwhole catalogue NOT run ({why}); extrapolated from the subset: {estimate:.0f} s on "
                  f"{WORKERS} workers, {len(keys) / rate_serial:.0f} s serially. Leaderboard of the SUBSET:")
            scope, board_src = f"subset of {len(subset)} series", serial
            rows.append({"section": "extrapolation", "item": f"whole catalogue on {WORKERS} workers",
                         "series": len(keys), "seconds": estimate, "series_per_s": rate_dist})
        else:
            full, s_full = timed(scale.forecast_catalogue, None, client=client, progress=True)
            print(f"\nwhole catalogue: {len(keys):,} series in {s_full:.0f} s on {WORKERS} workers -> "
                  f"{len(keys) / s_full:.1f} series/s; failed jobs: {(full['status'] != 'ok').sum()}")
            rows.append({"section": "throughput", "item": f"whole catalogue, {WORKERS} workers",
                         "series": len(keys), "seconds": s_full, "series_per_s": len(keys) / s_full})
            scope, board_src = f"all {len(keys):,} series", full
    finally:
        client.close()
        cluster.close()

    board = scale.catalogue_leaderboard(board_src)
    print(f"leaderboard ({scope}; mean/median MASE over series with a MASE, best first):")
    print(board.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    for r in board.to_dict("records"):
        rows.append({"section": f"leaderboard ({scope})", "item": r["model"], "series": r["series"],
                     "mean_mase": r["mean_mase"], "median_mase": r["median_mase"], "mean_mae": r["mean_mae"],
                     "best_share": r["best_share"]})
    out = pd.DataFrame(rows, columns=["section", "item", "series", "seconds", "series_per_s", "mean_mase",
                                      "median_mase", "mean_mae", "best_share"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(OUT, index=False, float_format="%.4f")
    print(f"\nwritten: {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")
    return out


if __name__ == "__main__":
    main()
