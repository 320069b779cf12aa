"""Every policy measured by its exact gap to the dynamic-programming optimum (notebook 06).

For each instance of :mod:`mas_lib.decide.instances` this script prints

* the exact optimum (policy iteration; value iteration as a check): cost, state and action
  counts, solve times;
* every baseline of :mod:`mas_lib.decide.policies` tuned by exact evaluation
  (:func:`mas_lib.decide.planning.tune_baselines`) and its gap to the optimum in percent;
* each tabular Q-learning form of :mod:`mas_lib.decide.tabular` (and the naive paper-style learner):
  gap, training transitions and wall time;
* the value of transfers: the optimum with and without the A <-> B link;
* the training throughput of the vectorised learner vs the per-step loop.

The criterion everywhere is the expected discounted cost from the instance's start state,
shown per day as ``(1 - gamma) v(s0)`` [money/day]; ``gap_pct = 100 (v - v*) / v*``.
Writes ``benchmarks/results/policies.csv``.

Usage: ``python benchmarks/bench_policies.py [--steps 20000 --batch 1024] [--quick]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small dense kernels: threads only contend

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mas_lib import decide  # noqa: E402
from mas_lib.decide import planning as pl  # noqa: E402
from mas_lib.decide.instances import INSTANCES, cross_border_instance, paper_instance  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "policies.csv"
NO_TRANSFERS = {"paper": paper_instance, "cross_border": cross_border_instance}


def machine_info() -> str:
    return (
        f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} cores, {platform.platform()}"
    )


def q_learning_rows(inst, model, opt, steps: int, batch: int, seed: int) -> list[dict]:
    rows = []
    setups = [(f"Q-learning ({form})", decide.best_preset(gamma=inst.gamma, steps=steps, batch=batch, seed=seed,
                                                          form=form))
              for form in ("independent", "shared", "central")]
    setups.append(("Q-learning (naive paper-style)", decide.paper_preset(gamma=inst.gamma, steps=steps, batch=batch,
                                                                         seed=seed)))
    for label, qcfg in setups:
        result = decide.train(inst.config, qcfg, seed=seed)
        pv = pl.evaluate_policy(model, result.policy)
        rows.append({
            "policy": label, "kind": "q-learning", "parameters": f"steps={qcfg.steps}, batch={qcfg.batch}",
            "daily_cost": pv.daily_cost, "average_cost": pv.average_cost, "gap_pct": pl.gap(pv, opt),
            "train_transitions": result.steps, "seconds": result.seconds,
        })
        print(f"  {label:34s} gap {rows[-1]['gap_pct']:7.2f}%  ({result.steps:,} transitions, {result.seconds:.1f} s)")
    return rows


def throughput(inst) -> None:
    loop = decide.train_loop(inst.config, decide.best_preset(gamma=inst.gamma, steps=2000, batch=1, form="central"),
                             seed=0)
    vec = decide.train(inst.config, decide.best_preset(gamma=inst.gamma, steps=400, batch=1024, form="central"), seed=0)
    ratio = vec.throughput / loop.throughput
    print(f"training throughput (central form): per-step loop {loop.throughput:,.0f} transitions/s, "
          f"vectorised (B=1024) {vec.throughput:,.0f} transitions/s -> {ratio:.0f}x (floor 50x: "
          f"{'met' if ratio >= 50 else 'NOT met'})")


SEEDS_RESULTS = RESULTS.with_name("policies_seeds.csv")


def seed_robustness(seeds: list[int], workers: int | str | None, steps: int, batch: int) -> pd.DataFrame:
    """The central learner (best preset) on both instances for several seeds, run through the sweep
    runner (``mas_lib.scale.run_sweep``): serially, or on a local Dask cluster with ``workers``."""
    from mas_lib.scale import run_sweep
    from mas_lib.scale.jobs import train_tabular

    t0 = time.perf_counter()
    frame = run_sweep(train_tabular, {"instance": list(INSTANCES)}, seeds=seeds, workers=workers,
                      fixed={"steps": steps, "batch": batch, "form": "central"})
    bad = frame[frame["status"] != "ok"]
    if len(bad):
        print(bad[["instance", "seed", "error"]].to_string(index=False))
    print(f"\ncentral learner over seeds {seeds} ({frame['ran_on'].iloc[0]}, {time.perf_counter() - t0:.0f} s):")
    print(frame.pivot(index="seed", columns="instance", values="gap_pct").to_string(float_format=lambda v: f"{v:.2f}%"))
    frame.drop(columns=["traceback"]).to_csv(SEEDS_RESULTS, index=False, float_format="%.4f")
    return frame


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20000, help="Q-learning days per copy")
    ap.add_argument("--batch", type=int, default=1024, help="Q-learning copies stepped together")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="coarse baseline grids, short Q-learning (smoke test)")
    ap.add_argument("--no-learning", action="store_true", help="skip Q-learning")
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2],
                    help="extra seeds of the central learner, run through mas_lib.scale.run_sweep")
    ap.add_argument("--workers", default="2", help="'serial' or the number of local Dask workers for --seeds")
    ap.add_argument("--seeds-only", action="store_true", help="only the multi-seed run of the central learner")
    args = ap.parse_args(argv)
    workers = args.workers if args.workers == "serial" else int(args.workers)
    if args.seeds_only:
        return seed_robustness(args.seeds, workers, args.steps, args.batch)
    if args.quick:
        args.steps, args.batch = 500, 256
    t_start = time.perf_counter()
    print(machine_info())
    learn = not args.no_learning
    rows = []
    for key, inst in INSTANCES.items():
        print(f"\n== {key}: {inst.description}")
        model = pl.model_for(inst)
        opt = pl.policy_iteration(model)
        vi = pl.value_iteration(model, tol=1e-6)
        assert np.allclose(vi.values, opt.values, atol=1e-4), "value iteration and policy iteration disagree"
        print(f"  {model.n_states} states x {model.n_actions} actions; build {model.build_seconds:.2f} s, "
              f"policy iteration {opt.seconds:.2f} s ({opt.iterations} it.), value iteration {vi.seconds:.2f} s "
              f"({vi.iterations} it.)")
        base = {"instance": key, "states": model.n_states, "actions": model.n_actions}
        rows.append({**base, "policy": "optimum (policy iteration)", "kind": "optimum", "parameters": "",
                     "daily_cost": opt.daily_cost, "average_cost": opt.average_cost, "gap_pct": 0.0,
                     "train_transitions": 0, "seconds": model.build_seconds + opt.seconds})
        noxf = NO_TRANSFERS[key](transfers=False)
        m2 = pl.model_for(noxf)
        opt2 = pl.policy_iteration(m2)
        rows.append({**base, "states": m2.n_states, "actions": m2.n_actions, "policy": "optimum without transfers",
                     "kind": "optimum", "parameters": "no A<->B link", "daily_cost": opt2.daily_cost,
                     "average_cost": opt2.average_cost, "gap_pct": pl.gap(opt2.start_value, opt),
                     "train_transitions": 0, "seconds": m2.build_seconds + opt2.seconds})
        print(f"  value of transfers: optimum {opt.daily_cost:.1f} vs {opt2.daily_cost:.1f} money/day without "
              f"({100 * (opt2.start_value - opt.start_value) / opt2.start_value:.2f}% saved)")
        tuned = pl.tune_baselines(inst, model, opt, coarse=args.quick)
        for r in tuned.table.to_dict("records"):
            rows.append({**base, **r, "kind": "baseline", "train_transitions": 0})
            print(f"  {r['policy']:34s} gap {r['gap_pct']:7.2f}%  ({r['parameters']})")
        if learn:
            for r in q_learning_rows(inst, model, opt, args.steps, args.batch, args.seed):
                rows.append({**base, **r})
    if learn:
        throughput(INSTANCES["cross_border"])
        if args.seeds:
            seed_robustness(args.seeds, workers, args.steps, args.batch)
    frame = pd.DataFrame(rows)[["instance", "policy", "kind", "parameters", "daily_cost", "average_cost", "gap_pct",
                                "states", "actions", "train_transitions", "seconds"]]
    pd.set_option("display.width", 220)
    pd.set_option("display.max_colwidth", 48)
    print("\n" + frame.drop(columns=["states", "actions"]).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(RESULTS, index=False, float_format="%.4f")
    print(f"\nwrote {RESULTS}; total run time {time.perf_counter() - t_start:.1f} s")
    return frame


if __name__ == "__main__":
    main(sys.argv[1:])
