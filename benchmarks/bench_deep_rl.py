"""Deep RL against the exact optimum (notebook 09, README "Deep RL").

For ``paper``, ``cross_border`` and the 66,066-state ``long_lead`` instance:

1. the exact optimum -- solved by policy iteration for the two small instances; for ``long_lead``
   solved once (minutes, about 4 GiB; the build and solve times are printed and kept in the
   file) and saved as ``results/long_lead_optimum.npz``, which later runs load onto an
   evaluation-only model and re-evaluate exactly (``--resolve`` solves again);
2. the best tuned (s, S) rule, found exactly one warehouse at a time
   (:func:`mas_lib.decide.planning.tuning.tune_ss_separately`);
3. PPO and DQN with three seeds each, REINFORCE (three seeds on ``paper``), the earlier PPO setting
   with a constant entropy bonus (three seeds on ``cross_border``, the ablation) and the tabular central
   Q-learner at growing budgets (``paper``) -- the jobs run through the sweep runner
   :func:`mas_lib.scale.run_sweep` (``--workers 2`` local Dask workers by default, ``serial``
   in this process), each learner from its recipe (:data:`mas_lib.decide.deep.RECIPES`); every
   learned policy's exact gap is measured at the end and at checkpoints along the way.

Writes results/deep_rl.csv (one row per run), deep_rl_curve.csv (gap vs transitions),
deep_rl_solve.csv (the optima) and deep_rl.png (the sample-efficiency chart). Times are
wall-clock and CPU seconds on the machine it ran on.

Run:  PYTHONPATH=. python benchmarks/bench_deep_rl.py [--quick] [--workers 2|serial] [--seeds 0 1 2] [--resolve]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # small dense kernels: threads only contend

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mas_lib.decide import planning as pl  # noqa: E402
from mas_lib.decide.deep import LARGE_MEMORY_GIB  # noqa: E402
from mas_lib.decide.planning.tuning import tune_ss_separately  # noqa: E402
from mas_lib.scale import local_client, run_sweep  # noqa: E402
from mas_lib.scale.deep_jobs import (  # noqa: E402
    DEEP_INSTANCES,
    deep_instance,
    optimum_path,
    train_deep,
)
from mas_lib.scale.jobs import train_tabular  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
TABULAR_STEPS = (100, 400, 1600, 6400)  # x 1024 copies
FLOOR, GOAL = 5.0, 2.0  # % above the optimum: the floor every run must meet, the goal


def machine_info() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load:.1f}, Python {platform.python_version()}"


def optimum(name: str, resolve: bool, out: Path) -> tuple[dict, pl.MDPModel, pl.PolicyValue]:
    """Solve (small instances; long_lead when asked or when no saved table fits) or load the
    optimum; returns the row of deep_rl_solve.csv, the model and the optimum's value."""
    inst = deep_instance(name)
    path = optimum_path(out, name)
    row = {"instance": name, "states": inst.n_states, "actions": inst.n_actions}
    if name == "long_lead" and path.exists() and not resolve:
        t0 = time.perf_counter()
        model = pl.model_for(inst, with_pairs=False)
        try:
            value, meta = pl.load_policy_table(path, model)
        except ValueError as e:
            print(f"[{name}] saved optimum unusable ({e}); solving again", flush=True)
            return optimum(name, True, out)
        print(f"[{name}] optimum loaded from {path.name} and re-evaluated exactly in {time.perf_counter() - t0:.1f} s: "
              f"{value.daily_cost:.2f}/day (solved once: build {meta['build_seconds']:.0f} s, policy iteration "
              f"{meta['solve_seconds']:.0f} s, {meta['iterations']} iterations)", flush=True)
        return {**row, "optimum_daily_cost": value.daily_cost, **meta, "source": "loaded"}, model, value
    t0, c0 = time.perf_counter(), time.process_time()
    model = pl.model_for(inst, max_memory_gib=LARGE_MEMORY_GIB)
    t1, c1 = time.perf_counter(), time.process_time()
    sol = pl.policy_iteration(model)
    t2, c2 = time.perf_counter(), time.process_time()
    meta = {"build_seconds": t1 - t0, "build_cpu_seconds": c1 - c0, "solve_seconds": t2 - t1,
            "solve_cpu_seconds": c2 - c1, "iterations": sol.iterations}
    if name == "long_lead":
        pl.save_policy_table(path, model, sol.policy, **meta)
    print(f"[{name}] exact: {model.n_states:,} states, build {t1 - t0:.0f} s, policy iteration {t2 - t1:.0f} s "
          f"({sol.iterations} it.), optimum {sol.daily_cost:.2f}/day" + (f"; saved to {path.name}" if name == "long_lead" else ""),
          flush=True)
    return {**row, "optimum_daily_cost": sol.daily_cost, **meta, "source": "solved"}, model, sol


def ss_baseline(name: str, model: pl.MDPModel, opt: pl.PolicyValue) -> dict:
    """The best (s, S) rule, tuned exactly one warehouse at a time, and its exact gap."""
    params, policy, n, secs = tune_ss_separately(deep_instance(name), model)
    value = pl.evaluate_policy(model, policy)
    g = pl.gap(value, opt)
    print(f"[{name}] best (s, S) {params}: gap {g:.2f}% ({n} pairs scored, {secs:.1f} s)", flush=True)
    return {"instance": name, "learner": "(s, S) tuned", "seed": 0, "gap_pct": g, "daily_cost": value.daily_cost,
            "optimum_daily_cost": opt.daily_cost, "parameters": json.dumps(params), "seconds": secs}


def learners(args) -> pd.DataFrame:
    """Every learner run through the sweep runner (long_lead first: its jobs are the longest)."""
    from contextlib import ExitStack

    scale = 0.05 if args.quick else 1.0
    with ExitStack() as stack:
        kw = {"workers": "serial"}
        if args.workers != "serial":  # one local cluster for every sweep below
            kw = {"client": stack.enter_context(local_client(int(args.workers)))}
        order = [n for n in ("long_lead", "cross_border", "paper") if n in args.instances]
        fixed = {"scale": scale, "optimum_dir": str(args.out)}
        main = run_sweep(train_deep, {"instance": order, "learner": args.learners}, seeds=args.seeds, fixed=fixed,
                         progress=True, **kw)
        frames = [main]
        if "cross_border" in args.instances:  # the ablation: the earlier PPO setting
            frames.append(run_sweep(train_deep, {"instance": ["cross_border"], "learner": ["PPO, constant bonus"]},
                                    seeds=args.seeds, fixed=fixed, progress=True, **kw))
        if "paper" in args.instances:
            frames.append(run_sweep(train_deep, {"instance": ["paper"], "learner": ["REINFORCE"]}, seeds=args.seeds,
                                    fixed=fixed, progress=True, **kw))
            steps = [max(10, int(s * scale)) for s in TABULAR_STEPS]
            tab = run_sweep(train_tabular, {"instance": ["paper"], "steps": steps}, seeds=[0], progress=True, **kw)
            tab["learner"] = "tabular Q (central)"
            frames.append(tab)
    frame = pd.concat(frames, ignore_index=True)
    bad = frame[frame["status"] != "ok"]
    for _, r in bad.iterrows():
        print(f"FAILED {r.get('instance')} {r.get('learner')} seed {r['seed']}: {r['error']}\n{r['traceback']}")
    return frame


def curve_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Gap vs transitions: the checkpoints of every deep run and each tabular budget."""
    rows = []
    for _, r in frame[frame["status"] == "ok"].iterrows():
        if r["learner"] == "tabular Q (central)":
            rows.append({"instance": r["instance"], "learner": r["learner"], "seed": r["seed"],
                         "transitions": r["transitions"], "gap_pct": r["gap_pct"]})
        else:
            for t, g in json.loads(r["curve"]):
                rows.append({"instance": r["instance"], "learner": r["learner"], "seed": r["seed"], "transitions": t,
                             "gap_pct": g})
    return pd.DataFrame(rows)


def chart(curve: pd.DataFrame, ss: pd.DataFrame, path: Path) -> None:
    """The sample-efficiency chart (:func:`mas_lib.teach.plotting.plot_gap_curves`) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mas_lib.teach.plotting import plot_gap_curves

    axes = plot_gap_curves(curve, ss, FLOOR, GOAL)
    fig = axes[0].figure
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per instance and learner: gap per seed, min/mean/max, whether every seed is within the floor."""
    deep = runs[runs["learner"].isin(["PPO", "PPO, constant bonus", "DQN", "REINFORCE"])]
    out = deep.groupby(["instance", "learner"]).agg(
        seeds=("seed", "count"), gap_min=("gap_pct", "min"), gap_mean=("gap_pct", "mean"), gap_max=("gap_pct", "max"),
        cpu_s_max=("cpu_seconds", "max"), transitions=("transitions", "max"))
    out["all_within_5pct"] = out["gap_max"] <= FLOOR
    out["all_within_2pct"] = out["gap_max"] <= GOAL
    return out


def publish_snapshot(out: Path) -> None:
    """Copy this run's results into the package snapshot that notebook 09 reads (mas_lib.teach.published)."""
    from mas_lib.teach.published import publish

    names = ["deep_rl.csv", "deep_rl_curve.csv", "deep_rl_solve.csv", "long_lead_optimum.npz"]
    publish(out, names, command="python benchmarks/bench_deep_rl.py --publish")
    print(f"published {', '.join(names)} to mas_lib/teach/published_results")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5%% of every budget (a smoke test)")
    ap.add_argument("--instances", nargs="+", default=list(DEEP_INSTANCES), choices=list(DEEP_INSTANCES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--learners", nargs="+", default=["PPO", "DQN"], choices=["PPO", "DQN", "REINFORCE"])
    ap.add_argument("--workers", default="2", help="'serial' or the number of local Dask workers")
    ap.add_argument("--resolve", action="store_true", help="solve long_lead exactly again instead of loading its saved optimum")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--publish", action="store_true",
                    help="copy this run's tables and the long_lead optimum into the snapshot notebook 09 shows "
                         "(mas_lib/teach/published_results, with provenance)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    print(machine_info(), flush=True)
    solved = {n: optimum(n, args.resolve, args.out) for n in args.instances}
    solve = pd.DataFrame([row for row, _, _ in solved.values()])
    ss = pd.DataFrame([ss_baseline(n, model, opt) for n, (_, model, opt) in solved.items()])
    del solved  # the full long_lead model (4 GiB) when it was solved here
    frame = learners(args)
    ok = frame[frame["status"] == "ok"]
    cols = ["instance", "learner", "seed", "gap_pct", "daily_cost", "optimum_daily_cost", "fill_rate", "transport_cost",
            "transitions", "train_seconds", "cpu_seconds", "transitions_per_cpu_s", "seconds"]
    runs = pd.concat([ok[[c for c in cols if c in ok]], ss], ignore_index=True)
    curve = curve_table(frame)
    if not args.quick:
        runs.to_csv(args.out / "deep_rl.csv", index=False, float_format="%.4f")
        curve.to_csv(args.out / "deep_rl_curve.csv", index=False, float_format="%.4f")
        solve.to_csv(args.out / "deep_rl_solve.csv", index=False, float_format="%.4f")
        chart(curve, ss, args.out / "deep_rl.png")
        if args.publish:
            publish_snapshot(args.out)
    pd.set_option("display.width", 200)
    print("\nexact gaps per seed [%]:")
    deep = ok[ok["learner"] != "tabular Q (central)"]
    print(deep.pivot_table(index=["instance", "learner"], columns="seed", values="gap_pct").round(2).to_string())
    print("\n" + summary(runs).round(2).to_string())
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s ({machine_info()})")


if __name__ == "__main__":
    main()
