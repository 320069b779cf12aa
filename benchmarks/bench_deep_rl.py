"""Deep RL against the exact optimum (issue 10; notebook 09, README "Deep RL").

For ``paper``, ``cross_border`` and the 66,066-state ``long_lead`` instance: solve the exact
optimum once (policy iteration; the large one's build and solve times are reported), train PPO
(per-warehouse actors, centralised critic) and DQN with three seeds each, and measure every
learned policy's exact gap with the planner -- at the end of training and at checkpoints along
the way, so the sample-efficiency chart (gap vs transitions) also carries tabular Q-learning
(``best_preset`` at growing budgets).

Run:  PYTHONPATH=. python benchmarks/bench_deep_rl.py [--quick] [--instances paper ...] [--seeds 0 1 2]
(one process per instance can run side by side; each writes deep_rl_{runs,curve,solve}_<instance>.csv,
then ``--merge-only`` combines them). Writes benchmarks/results/deep_rl.csv (one row per run),
deep_rl_curve.csv (gap vs transitions), deep_rl_solve.csv (exact solves) and deep_rl.png (the chart). Times are wall-clock and CPU
seconds on the machine it ran on (2 shared cores for the committed numbers).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # small dense kernels: threads only contend

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mas_lib.decide.deep import (  # noqa: E402
    LARGE_MEMORY_GIB,
    DQNConfig,
    PGConfig,
    long_lead_instance,
    train_dqn,
    train_pg,
)
from mas_lib.decide.instances import get_instance  # noqa: E402
from mas_lib.decide.planning import evaluate_policy, gap, model_for, policy_iteration  # noqa: E402
from mas_lib.decide.tabular import best_preset, train  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"

#: Full budgets (transitions = days x copies). Quick budgets are ~1/20 of these.
PPO = PGConfig(days=4000, copies=128, horizon=50, entropy=0.005, minibatch=1024, log_every=500)
DQN = DQNConfig(days=2000, copies=32, updates_per_day=2, log_every=250)
LARGE_CHECKPOINTS = 4  # exact evaluations along training on long_lead (each costs seconds there)
TABULAR_STEPS = (100, 400, 1600, 6400)  # x 1024 copies


def _solve(inst, memory):
    t0, c0 = time.perf_counter(), time.process_time()
    model = model_for(inst, max_memory_gib=memory)
    t1, c1 = time.perf_counter(), time.process_time()
    sol = policy_iteration(model)
    t2, c2 = time.perf_counter(), time.process_time()
    opt = evaluate_policy(model, sol.policy_object())
    row = {"instance": inst.name, "states": model.n_states, "actions": model.n_actions,
           "optimum_daily_cost": opt.daily_cost, "build_seconds": t1 - t0, "build_cpu_seconds": c1 - c0,
           "solve_seconds": t2 - t1, "solve_cpu_seconds": c2 - c1, "iterations": sol.iterations}
    print(f"[{inst.name}] exact: {model.n_states} states, build {t1 - t0:.0f} s (cpu {c1 - c0:.0f}), "
          f"policy iteration {t2 - t1:.0f} s (cpu {c2 - c1:.0f}), optimum {opt.daily_cost:.2f}/day", flush=True)
    return model, opt, row


def _run(learner, inst, model, opt, seed, quick, curve, ppo_days=None):
    def checkpoint(transitions, policy):
        curve.append({"instance": inst.name, "learner": learner, "seed": seed, "transitions": transitions,
                      "gap_pct": gap(evaluate_policy(model, policy), opt)})

    sparse = {"log_every": (PPO if learner == "PPO" else DQN).days // LARGE_CHECKPOINTS} if model.n_states > 10_000 else {}
    if learner == "PPO":
        base = PPO if ppo_days is None else PPO.replace(days=ppo_days, log_every=max(1, ppo_days // 8))
        cfg = base.replace(seed=seed, **({"days": 400, "log_every": 100} if quick else sparse))
        res = train_pg(inst.config, cfg, checkpoint=checkpoint)
        learner = f"PPO ({res.transitions / 1e6:.2g} M)" if ppo_days is not None else learner
        for row in curve:
            if row["learner"] == "PPO" and row["seed"] == seed and row["instance"] == inst.name:
                row["learner"] = learner
    else:
        cfg = DQN.replace(seed=seed, **({"days": 200, "log_every": 50} if quick else sparse))
        res = train_dqn(inst.config, cfg, checkpoint=checkpoint)
    v = evaluate_policy(model, res.policy)
    row = {"instance": inst.name, "learner": learner, "seed": seed, "gap_pct": gap(v, opt),
           "daily_cost": v.daily_cost, "optimum_daily_cost": opt.daily_cost, "transitions": res.transitions,
           "seconds": res.seconds, "cpu_seconds": res.cpu_seconds, "transitions_per_s": res.throughput,
           "transitions_per_cpu_s": res.transitions / res.cpu_seconds}
    print(f"[{inst.name}] {learner} seed {seed}: gap {row['gap_pct']:.2f}%  {res.transitions} transitions "
          f"in {res.seconds:.0f} s (cpu {res.cpu_seconds:.0f} s)", flush=True)
    return row


def _tabular(inst, model, opt, quick, curve, rows):
    for steps in TABULAR_STEPS[:2] if quick else TABULAR_STEPS:
        res = train(inst.config, best_preset(gamma=inst.gamma, steps=steps, batch=1024, seed=0))
        g = gap(evaluate_policy(model, res.policy), opt)
        curve.append({"instance": inst.name, "learner": "tabular Q (central)", "seed": 0,
                      "transitions": res.steps, "gap_pct": g})
        rows.append({"instance": inst.name, "learner": "tabular Q (central)", "seed": 0, "gap_pct": g,
                     "optimum_daily_cost": opt.daily_cost, "transitions": res.steps, "seconds": res.seconds,
                     "transitions_per_s": res.throughput})
        print(f"[{inst.name}] tabular Q {res.steps} transitions: gap {g:.2f}%", flush=True)


def chart(curve: pd.DataFrame, path: Path) -> None:
    """Gap vs transitions, one panel per instance, one line per learner and seed (log x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(dict.fromkeys(curve["instance"]), key=lambda n: list(INSTANCES).index(n) if n in INSTANCES else 99)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.8), squeeze=False)
    colours = {"PPO": "tab:blue", "DQN": "tab:orange", "tabular Q (central)": "tab:green"}
    for ax, name in zip(axes[0], names, strict=True):
        sub = curve[curve["instance"] == name]
        for (learner, seed), g in sub.groupby(["learner", "seed"]):
            ax.plot(g["transitions"], g["gap_pct"].clip(upper=100), marker="o", ms=3, color=colours.get(learner, "tab:purple"),
                    label=learner if seed == sub[sub["learner"] == learner]["seed"].min() else None)
        ax.axhline(5, ls="--", c="grey", lw=1)
        ax.axhline(2, ls=":", c="grey", lw=1)
        ax.set(xscale="log", yscale="log", title=name, xlabel="transitions", ylabel="gap to optimum [%] (capped 100)")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


INSTANCES = {"paper": lambda: (get_instance("paper"), 4.0),
             "cross_border": lambda: (get_instance("cross_border"), 4.0),
             "long_lead": lambda: (long_lead_instance(), LARGE_MEMORY_GIB)}


def merge(out: Path) -> pd.DataFrame:
    """Combine the per-instance result files into deep_rl.csv / deep_rl_curve.csv /
    deep_rl_solve.csv and draw deep_rl.png; returns the runs table."""
    parts = {kind: [pd.read_csv(f) for f in sorted(out.glob(f"deep_rl_{kind}_*.csv"))] for kind in ("runs", "curve", "solve")}
    frames = {kind: pd.concat(v, ignore_index=True) for kind, v in parts.items() if v}
    for kind, name in (("runs", "deep_rl.csv"), ("curve", "deep_rl_curve.csv"), ("solve", "deep_rl_solve.csv")):
        if kind in frames:
            frames[kind].to_csv(out / name, index=False, float_format="%.4f")
    if "curve" in frames:
        chart(frames["curve"], out / "deep_rl.png")
    return frames.get("runs", pd.DataFrame())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small budgets (a smoke test)")
    ap.add_argument("--instances", nargs="+", default=list(INSTANCES), choices=list(INSTANCES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--learners", nargs="+", default=["PPO", "DQN"], choices=["PPO", "DQN"])
    ap.add_argument("--merge-only", action="store_true", help="only combine per-instance files and draw the chart")
    ap.add_argument("--ppo-days", type=int, default=None, help="a longer PPO budget [days per copy]")
    ap.add_argument("--tag", default="", help="suffix of the per-instance files (several runs side by side)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in [] if args.merge_only else args.instances:
        inst, memory = INSTANCES[name]()
        rows, curve = [], []
        model, opt, srow = _solve(inst, memory)
        if not args.tag:
            pd.DataFrame([srow]).to_csv(args.out / f"deep_rl_solve_{name}.csv", index=False, float_format="%.4f")
        for learner in args.learners:
            for seed in args.seeds:
                rows.append(_run(learner, inst, model, opt, seed, args.quick, curve, args.ppo_days))
                pd.DataFrame(rows).to_csv(args.out / f"deep_rl_runs_{name}{args.tag}.csv", index=False, float_format="%.4f")
                pd.DataFrame(curve).to_csv(args.out / f"deep_rl_curve_{name}{args.tag}.csv", index=False, float_format="%.4f")
        if name == "paper" and not args.tag:
            _tabular(inst, model, opt, args.quick, curve, rows)
        pd.DataFrame(rows).to_csv(args.out / f"deep_rl_runs_{name}{args.tag}.csv", index=False, float_format="%.4f")
        pd.DataFrame(curve).to_csv(args.out / f"deep_rl_curve_{name}{args.tag}.csv", index=False, float_format="%.4f")
        del model
    table = merge(args.out)
    if len(table):
        print(table.groupby(["instance", "learner"])[["gap_pct", "seconds", "cpu_seconds"]].agg(["min", "mean", "max"]))


if __name__ == "__main__":
    main()
