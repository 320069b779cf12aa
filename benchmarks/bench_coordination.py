"""Agents that talk, measured (notebook 07).

For the two planner instances (:mod:`mas_lib.decide.instances`) and the five-warehouse network
(:func:`mas_lib.messaging.networks.regional_network`) this script reports

* **protocols** -- isolated, shared information, negotiated (contract net), central coordinator:
  exact gap to the optimum on the planner instances (each protocol orders with the instance's
  tuned (s, S) rule and plays on the optimum's action grids), and in simulation on the
  five-warehouse network: cost, fill rate, transport and messages per day (also with latency 1
  and 20% dropped messages);
* **decentralised learners** over three seeds: the coordination-graph pair (team table learned
  by Q-learning, executed by variable elimination over messages; the seeds of both instances run
  through the sweep runner ``mas_lib.scale.run_sweep``, on a local Dask cluster of ``--workers``)
  and -- seed 0 -- value decomposition (VDN) and independent learners, each evaluated exactly;
* **value of information** on the planner instances: local information only, shared
  information, full optimum, each evaluated exactly (restricted policy classes, see the table);
* the **Cachon & Fisher (2000)** comparison on the five-warehouse network: sharing information
  vs halving the replenishment lead time (each rule's safety factor tuned by simulation);
* **allocation** from a hub with scarce supply: the four rules against the exact optimum of a
  one-day instance, and in a 120-day simulation of the cross-border hub network.

Writes ``benchmarks/results/coordination.json``. Usage:
``python benchmarks/bench_coordination.py [--steps 20000 --batch 1024] [--seeds 0 1 2] [--workers 2] [--quick]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mas_lib.decide.coordination import train_decentralised  # noqa: E402
from mas_lib.decide.instances import get_instance  # noqa: E402
from mas_lib.decide.planning import SnapToGrid, evaluate_policy, gap, model_for, policy_iteration  # noqa: E402
from mas_lib.decide.policies import Combined, SsPolicy, TransferRule  # noqa: E402
from mas_lib.decide.rollout import simulate  # noqa: E402
from mas_lib.messaging import (  # noqa: E402
    PROTOCOLS,
    RULES,
    HubAllocation,
    allocation_study,
    hub_network,
    train_coordinated_pair,
)
from mas_lib.messaging.networks import regional_network, regional_replenishment  # noqa: E402
from mas_lib.scale import run_sweep  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "coordination.json"

#: (s, S) and transfer-rule parameters tuned by exact evaluation
#: (``mas_lib.decide.planning.tune_baselines``, ``benchmarks/bench_policies.py``)
TUNED = {
    "paper": {"s": (80, 100), "S": (200, 240), "cover": 0.5, "keep": 1.0},
    "cross_border": {"s": (160, 220), "S": (280, 360), "cover": 1.0, "keep": 0.5},
}
Z_GRID = (-1.5, -1.0, -0.5, 0.0, 0.5)


def ss(inst):
    p = TUNED[inst.name]
    return SsPolicy(inst.config, s=p["s"], S=p["S"], round_to=inst.round_to)


def exact_protocols(inst, model, opt) -> list[dict]:
    rows = []
    for key, cls in PROTOCOLS.items():
        proto = cls(inst.config, replenish=ss(inst), round_to=inst.round_to)
        pv = evaluate_policy(model, SnapToGrid(proto, model))
        per_day = proto.messages_sent().mean() / 2  # act is called on day 0 and day 1 (stationarity check)
        sim = simulate(inst.config, SnapToGrid(cls(inst.config, replenish=ss(inst), round_to=inst.round_to), model),
                       episodes=32, seed=0).summary()
        rows.append({"instance": inst.name, "protocol": key, "daily_cost": pv.daily_cost, "gap_pct": gap(pv, opt),
                     "fill_rate_sim": sim.fill_rate, "messages_per_day": per_day})
    return rows


def regional_protocols(episodes: int) -> list[dict]:
    rows = []
    cfg = regional_network(4)
    variants = [("latency 0", {}), ("latency 1", {"latency": 1, "on_conflict": "clip"}),
                ("20% dropped", {"drop_rate": 0.2})]
    for label, extra in variants:
        for key, cls in PROTOCOLS.items():
            if key == "isolated" and label != "latency 0":
                continue
            proto = cls(cfg, replenish=regional_replenishment(cfg, -0.5), **extra)
            s = simulate(cfg, proto, episodes=episodes, seed=0).summary()
            rows.append({"protocol": key, "links": label, "daily_cost": s.daily_cost, "ci95": s.daily_cost_ci,
                         "fill_rate": s.fill_rate, "transport_cost": s.transport_cost,
                         "messages_per_day": proto.messages_sent().mean() / cfg.episode_length,
                         "dropped_per_day": proto.messages_dropped().mean() / cfg.episode_length})
    return rows


def pair_seeds(names, steps, batch, seeds, workers) -> dict[str, list[dict]]:
    """The coordination-graph pair on every instance and seed, through the sweep runner (serially or
    on a local Dask cluster of ``workers``; the same numbers either way): rows per instance."""
    frame = run_sweep(train_coordinated_pair, {"instance": list(names)}, seeds=list(seeds), workers=workers,
                      fixed={"steps": steps, "batch": batch})
    bad = frame[frame["status"] != "ok"]
    if len(bad):
        raise RuntimeError("coordination-graph jobs failed:\n" + "\n".join(bad["traceback"]))
    out: dict[str, list[dict]] = {name: [] for name in names}
    for r in frame.itertuples():
        out[r.instance].append({"instance": r.instance, "learner": "coordination graph (messages)", "seed": r.seed,
                                "gap_pct": r.gap_pct, "transitions": r.transitions, "seconds": r.seconds})
    print(f"coordination-graph pair: {len(frame)} runs ({frame['ran_on'].iloc[0]})", flush=True)
    return out


def learners(inst, model, opt, steps, batch, pair_rows: list[dict], baselines: bool) -> list[dict]:
    rows = list(pair_rows)
    if baselines:
        for method in ("vdn", "independent"):
            t0 = time.perf_counter()
            res = train_decentralised(inst.config, method=method, steps=steps, batch=batch, gamma=inst.gamma, seed=0)
            rows.append({"instance": inst.name, "learner": f"{method} (own tables)", "seed": 0,
                         "gap_pct": gap(evaluate_policy(model, res.policy), opt), "transitions": steps * batch,
                         "seconds": time.perf_counter() - t0})
    return rows


def value_of_information(inst, model, opt, pair_gap: float | None) -> list[dict]:
    p = TUNED[inst.name]
    local = SnapToGrid(ss(inst), model)
    shared = SnapToGrid(Combined(ss(inst), TransferRule(inst.config, p["cover"], p["keep"], round_to=inst.round_to)),
                        model)
    rows = [
        {"instance": inst.name, "information": "local only", "policy": "best (s, S), no transfers (class tuned)",
         "gap_pct": gap(evaluate_policy(model, local), opt)},
        {"instance": inst.name, "information": "shared", "policy": "(s, S) + transfer rule on the neighbour's stock",
         "gap_pct": gap(evaluate_policy(model, shared), opt)},
    ]
    if pair_gap is not None:
        rows.append({"instance": inst.name, "information": "shared + coordination",
                     "policy": "coordination graph (learned, seed 0)", "gap_pct": pair_gap})
    rows.append({"instance": inst.name, "information": "full", "policy": "exact optimum", "gap_pct": 0.0})
    return rows


def cachon_fisher(episodes: int) -> list[dict]:
    rows = []
    setups = [("isolated, lead time 4 days", 4, "isolated"), ("shared information, lead time 4", 4, "negotiated"),
              ("shared information (broadcast push), lead time 4", 4, "shared"),
              ("isolated, lead time halved to 2", 2, "isolated")]
    for label, lead, key in setups:
        cfg = regional_network(lead)
        best = None
        for z in Z_GRID:
            s = simulate(cfg, PROTOCOLS[key](cfg, replenish=regional_replenishment(cfg, z)), episodes=episodes,
                         seed=0).summary()
            if best is None or s.daily_cost < best[1].daily_cost:
                best = (z, s)
        rows.append({"setup": label, "z": best[0], "daily_cost": best[1].daily_cost, "ci95": best[1].daily_cost_ci,
                     "fill_rate": best[1].fill_rate})
    base = rows[0]["daily_cost"]
    for r in rows:
        r["saving_pct"] = 100 * (base - r["daily_cost"]) / base
    return rows


def allocation(episodes: int) -> tuple[list[dict], list[dict]]:
    study = allocation_study(60, [0, 10, 0], [40, 30, 20], 1.0, [10, 20, 40], unit=10)
    cfg = hub_network(supply=200)
    sim = []
    for rule in RULES:
        s = simulate(cfg, HubAllocation(cfg, rule), episodes=episodes, seed=0).summary()
        sim.append({"rule": rule, "daily_cost": s.daily_cost, "ci95": s.daily_cost_ci, "fill_rate": s.fill_rate})
    return study.to_dict("records"), sim


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--quick", action="store_true", help="small budgets, one seed (a smoke run)")
    ap.add_argument("--no-baselines", action="store_true", help="skip the VDN / independent learners")
    ap.add_argument("--seeds", type=int, nargs="+", help="seeds of the coordination-graph pair (default 0 1 2; "
                    "0 with --quick), run through mas_lib.scale.run_sweep")
    ap.add_argument("--workers", default="2", help="'serial' or the number of local Dask workers for the seeds")
    ap.add_argument("--publish", action="store_true",
                    help="copy the results into the snapshot notebook 07 shows (mas_lib/teach/published_results)")
    args = ap.parse_args()
    steps, batch = (400, 256) if args.quick else (args.steps, args.batch)
    seeds = args.seeds or ((0,) if args.quick else (0, 1, 2))
    workers = args.workers if args.workers == "serial" else int(args.workers)
    episodes = 8 if args.quick else 32
    t_all = time.perf_counter()
    out: dict = {"steps": steps, "batch": batch}
    out["protocols_exact"], out["learners"], out["value_of_information"] = [], [], []
    names = ("paper", "cross_border")
    pairs = pair_seeds(names, steps, batch, seeds, workers)
    for name in names:
        inst = get_instance(name)
        model = model_for(inst)
        opt = policy_iteration(model)
        out["protocols_exact"] += exact_protocols(inst, model, opt)
        rows = learners(inst, model, opt, steps, batch, pairs[name], not args.no_baselines)
        out["learners"] += rows
        print(pd.DataFrame(rows).to_string(), flush=True)
        out["value_of_information"] += value_of_information(inst, model, opt, rows[0]["gap_pct"])
    out["protocols_regional"] = regional_protocols(episodes)
    out["cachon_fisher"] = cachon_fisher(episodes)
    out["allocation_exact"], out["allocation_sim"] = allocation(episodes)
    out["seconds"] = time.perf_counter() - t_all
    for key in ("protocols_exact", "protocols_regional", "value_of_information", "cachon_fisher", "allocation_exact",
                "allocation_sim"):
        print(f"\n{key}\n" + pd.DataFrame(out[key]).to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"\ntotal {out['seconds']:.0f} s")
    if not args.quick:
        RESULTS.write_text(json.dumps(out, indent=1, default=lambda v: v.item() if hasattr(v, "item") else str(v))
                           + "\n")
        if args.publish:
            from mas_lib.teach.published import publish

            publish(RESULTS.parent, [RESULTS.name], command="python benchmarks/bench_coordination.py --publish")


if __name__ == "__main__":
    main()
