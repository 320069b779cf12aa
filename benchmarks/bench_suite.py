"""The learners on the instance suite, scored exactly (mas_lib.decide.suite; notebook 09's learners).

1. the suite table (:func:`mas_lib.decide.suite.suite_reference`): per instance its exact optimum,
   its exact optimum without transfers (the value of transfers) and the best tuned (s, S) rule;
2. DQN, PPO and the central tabular Q-learner, each with its one recipe (the same settings on
   every instance), trained on every instance and scored by their exact gap to the optimum and
   the share of the value of transfers they capture (``(noTransferOpt - learner) /
   (noTransferOpt - opt)``), with their CPU seconds;
3. median and worst gap per learner over the *held-out* instances (the development ones are the
   instances the DQN recipe was set on), and the share captured where transfers are worth > 1 %.

``--ablation`` runs the DQN recipe with each fix removed in turn
(:data:`mas_lib.decide.deep.recipes.DQN_ABLATION`) on the development instances instead.
Jobs run through :func:`mas_lib.scale.run_sweep` (a failed job is reported, the others kept).
Writes results/suite.csv (or suite_quick.csv, suite_ablation.csv) and prints the tables and the
total wall-clock and CPU time.

Run:  PYTHONPATH=. python benchmarks/bench_suite.py [--quick] [--ablation] [--seeds 0 1] [--workers serial|2]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # small dense kernels: threads only contend

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mas_lib.decide import suite  # noqa: E402
from mas_lib.decide.suite_runs import TABULAR, train_on_suite  # noqa: E402
from mas_lib.files import atomic_write  # noqa: E402
from mas_lib.scale import run_sweep  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
LEARNERS = ["DQN", "PPO", TABULAR]
#: --quick: two held-out instances, one seed, a quarter of each budget
QUICK_INSTANCES = list(suite.HELD_OUT[:2])
QUICK_SCALE = 0.25


def machine_info() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load:.1f}, Python {platform.python_version()}"


def summary(runs: pd.DataFrame, reference: pd.DataFrame, split: tuple[str, ...]) -> pd.DataFrame:
    """Median and worst gap per learner over the instances of ``split`` (seeds pooled), and the
    median share of the value of transfers captured where transfers are worth > 1 %."""
    ok = runs[(runs["status"] == "ok") & runs["instance"].isin(split)]
    worth = set(reference.loc[reference["transfer_value_pct"] > 1.0, "instance"])
    rows = []
    for learner, g in ok.groupby("learner", sort=False):
        w = g[g["instance"].isin(worth)]
        rows.append({"learner": learner, "runs": len(g), "median_gap_pct": g["gap_pct"].median(),
                     "worst_gap_pct": g["gap_pct"].max(),
                     "median_transfer_share": w["transfer_share"].median() if len(w) else float("nan"),
                     "beats_no_transfer_opt": f"{int((w['transfer_share'] > 0).sum())}/{len(w)}",
                     "median_cpu_s": g["cpu_seconds"].median()})
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two held-out instances, one seed, a quarter budget")
    ap.add_argument("--ablation", action="store_true", help="the DQN fixes removed in turn, development instances")
    ap.add_argument("--seeds", nargs="+", type=int, default=None)
    ap.add_argument("--learners", nargs="+", default=None)
    ap.add_argument("--instances", nargs="+", default=None)
    ap.add_argument("--workers", default="serial", help="'serial' or a number of local Dask workers")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    t0, c0 = time.perf_counter(), time.process_time()
    print(f"machine: {machine_info()}", flush=True)
    if args.ablation:
        instances, learners = list(suite.DEVELOPMENT), list(suite_ablation())
        seeds, scale, tag = args.seeds or [0, 1], QUICK_SCALE if args.quick else 1.0, "suite_ablation"
    elif args.quick:
        instances, learners, seeds, scale, tag = QUICK_INSTANCES, LEARNERS, args.seeds or [0], QUICK_SCALE, "suite_quick"
    else:
        instances = [*suite.SUITE, *suite.PUBLISHED]
        learners, seeds, scale, tag = LEARNERS, args.seeds or [0, 1], 1.0, "suite"
    instances, learners = args.instances or instances, args.learners or learners
    reference = suite.suite_reference(instances)
    print(reference.drop(columns=["ss_daily_cost"]).round(3).to_string(index=False), flush=True)
    workers = args.workers if args.workers == "serial" else int(args.workers)
    runs = run_sweep(train_on_suite, {"instance": instances, "learner": learners}, seeds=seeds,
                     fixed={"scale": scale}, workers=workers, progress=False)
    for _, r in runs[runs["status"] != "ok"].iterrows():
        print(f"FAILED {r['instance']} {r['learner']} seed {r['seed']}: {r['error']}")
    cols = ["instance", "learner", "seed", "gap_pct", "transfer_share", "transitions", "cpu_seconds", "status"]
    table = runs[[c for c in cols if c in runs]]
    print(table.round(3).to_string(index=False))
    for label, split in (("held-out", suite.HELD_OUT), ("development", suite.DEVELOPMENT),
                         ("published", suite.PUBLISHED)):
        s = summary(runs, reference, tuple(split))
        if len(s):
            print(f"\n{label} instances:\n{s.round(3).to_string(index=False)}")
    args.out.mkdir(parents=True, exist_ok=True)
    frame = runs.drop(columns=[c for c in ("traceback",) if c in runs]).merge(
        reference[["instance", "split", "transfer_value_pct", "ss_gap_pct"]], on="instance", how="left")
    with atomic_write(args.out / f"{tag}.csv", "w") as f:
        frame.to_csv(f, index=False)
    print(f"\nwrote {args.out / (tag + '.csv')}; total {time.perf_counter() - t0:.0f} s wall, "
          f"{time.process_time() - c0:.0f} s CPU in this process ({machine_info()})")


def suite_ablation() -> list[str]:
    """The ablation's learners: the DQN recipe and each fix removed in turn."""
    from mas_lib.decide.deep.recipes import DQN_ABLATION

    return list(DQN_ABLATION)


if __name__ == "__main__":
    main()
