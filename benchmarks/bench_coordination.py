"""Agents that talk, measured (notebook 07).

For the two planner instances (:mod:`mas_lib.decide.instances`) and the five-warehouse network
(:func:`mas_lib.messaging.networks.regional_network`) this script reports

* **protocols** -- isolated, shared information, negotiated (contract net), central coordinator:
  exact gap to the optimum on the planner instances (each protocol orders with the instance's
  tuned (s, S) rule and plays on the optimum's action grids), and in simulation on the
  five-warehouse network: cost, fill rate, transport and messages per day (also with latency 1
  and 20% dropped messages);
* **learners**, each evaluated exactly: the central learner over three seeds (one joint table
  learned by Q-learning, executed through messages by variable elimination,
  :class:`mas_lib.messaging.CentralByMessages`; the seeds of both instances run through the
  sweep runner ``mas_lib.scale.run_sweep``, on a local Dask cluster of ``--workers``) and --
  seed 0 -- the decentralised learners (VDN and independent: a table per warehouse) **with**
  stock-report messages (:class:`mas_lib.messaging.MessagingAgents`, one number per report,
  latency 0, rounded to ``--message-levels``) and **without** (own stock only), with the CPU
  seconds of each training run;
* **value of information** on the planner instances: isolated agents, agents with messages and
  the central learner (the same learner family at each level, the value of communication as a
  difference of exact costs), the rules (local (s, S), (s, S) + transfer rule on the neighbour's
  stock) and the full optimum, each evaluated exactly;
* the **Cachon & Fisher (2000)** comparison on the five-warehouse network: sharing information
  vs halving the replenishment lead time (each rule's safety factor tuned by simulation);
* **allocation** from a hub with scarce supply: the four rules against the exact optimum of a
  one-day instance, and in a 120-day simulation of the cross-border hub network.

Writes ``benchmarks/results/coordination.json``. Usage:
``python benchmarks/bench_coordination.py [--steps 20000 --batch 1024] [--seeds 0 1 2] [--workers 2]
[--message-levels N] [--quick]``
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
    MessagingAgents,
    allocation_study,
    hub_network,
    train_central_by_messages,
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


CENTRAL = "central learner (executed through messages)"


def pair_seeds(names, steps, batch, seeds, workers) -> dict[str, list[dict]]:
    """The central learner executed through messages on every instance and seed, through the sweep
    runner (serially or on a local Dask cluster of ``workers``; the same numbers either way): rows
    per instance."""
    frame = run_sweep(train_central_by_messages, {"instance": list(names)}, seeds=list(seeds), workers=workers,
                      fixed={"steps": steps, "batch": batch})
    bad = frame[frame["status"] != "ok"]
    if len(bad):
        raise RuntimeError("central-learner jobs failed:\n" + "\n".join(bad["traceback"]))
    out: dict[str, list[dict]] = {name: [] for name in names}
    for r in frame.itertuples():
        out[r.instance].append({"instance": r.instance, "learner": CENTRAL, "seed": r.seed, "gap_pct": r.gap_pct,
                                "daily_cost": r.daily_cost, "transitions": r.transitions, "seconds": r.seconds})
    print(f"central learner: {len(frame)} runs ({frame['ran_on'].iloc[0]})", flush=True)
    return out


def learners(inst, model, opt, steps, batch, pair_rows: list[dict], baselines: bool,
             levels: int | None) -> list[dict]:
    """The central learner's rows and -- with ``baselines`` -- VDN and independent learners (seed 0),
    each with and without stock-report messages, evaluated exactly as :class:`MessagingAgents`
    (``cpu_seconds``: process CPU time of the training run)."""
    rows = list(pair_rows)
    if baselines:
        for method in ("vdn", "independent"):
            for messages in (True, False):
                t0, c0 = time.perf_counter(), time.process_time()
                res = train_decentralised(inst.config, method=method, steps=steps, batch=batch, gamma=inst.gamma,
                                          seed=0, messages=messages, message_levels=levels if messages else None)
                cpu, wall = time.process_time() - c0, time.perf_counter() - t0
                team = MessagingAgents(res.policy)
                value = evaluate_policy(model, team)
                rows.append({"instance": inst.name, "learner": f"{method}, {'messages' if messages else 'no messages'}",
                             "seed": 0, "gap_pct": gap(value, opt), "daily_cost": value.daily_cost,
                             "numbers_per_day": team.numbers_per_decision, "transitions": steps * batch,
                             "seconds": wall, "cpu_seconds": cpu})
    return rows


def value_of_information(inst, model, opt, rows: list[dict]) -> list[dict]:
    """Exact gaps per level of information: the rules, then isolated / messages / central learners
    (VDN and independent, each without and with messages, seed 0; the central learner's seed 0),
    the optimum; ``value_of_communication`` [money/day] on each messages row: the same learner's
    daily cost without messages minus with."""
    p = TUNED[inst.name]
    local = SnapToGrid(ss(inst), model)
    shared = SnapToGrid(Combined(ss(inst), TransferRule(inst.config, p["cover"], p["keep"], round_to=inst.round_to)),
                        model)
    out = [
        {"instance": inst.name, "information": "local only (rule)", "policy": "best (s, S), no transfers (class tuned)",
         "gap_pct": gap(evaluate_policy(model, local), opt)},
        {"instance": inst.name, "information": "shared (rule)", "policy": "(s, S) + transfer rule on the neighbour's stock",
         "gap_pct": gap(evaluate_policy(model, shared), opt)},
    ]
    for method in ("vdn", "independent"):  # the same learner without and with messages
        got = {r["learner"]: r for r in rows if r["learner"].startswith(method + ",")}
        alone, talk = got.get(f"{method}, no messages"), got.get(f"{method}, messages")
        for r, label in ((alone, "isolated"), (talk, "messages")):
            if r is not None:
                out.append({"instance": inst.name, "information": label, "policy": f"{r['learner']} (learned, seed 0)",
                            "gap_pct": r["gap_pct"], "daily_cost": r["daily_cost"]})
        if alone is not None and talk is not None:
            out[-1]["value_of_communication"] = alone["daily_cost"] - talk["daily_cost"]
    central = [r for r in rows if r["learner"] == CENTRAL and r["seed"] == 0]
    if central:
        out.append({"instance": inst.name, "information": "central", "policy": f"{CENTRAL} (seed 0)",
                    "gap_pct": central[0]["gap_pct"], "daily_cost": central[0]["daily_cost"]})
    out.append({"instance": inst.name, "information": "full", "policy": "exact optimum", "gap_pct": 0.0,
                "daily_cost": opt.daily_cost})
    return out


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
    ap.add_argument("--message-levels", type=int, default=None,
                    help="levels a stock report is rounded to (default: full resolution)")
    ap.add_argument("--seeds", type=int, nargs="+", help="seeds of the central learner (default 0 1 2; "
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
    out: dict = {"steps": steps, "batch": batch, "message_levels": args.message_levels}
    out["protocols_exact"], out["learners"], out["value_of_information"] = [], [], []
    names = ("paper", "cross_border")
    pairs = pair_seeds(names, steps, batch, seeds, workers)
    for name in names:
        inst = get_instance(name)
        model = model_for(inst)
        opt = policy_iteration(model)
        out["protocols_exact"] += exact_protocols(inst, model, opt)
        rows = learners(inst, model, opt, steps, batch, pairs[name], not args.no_baselines, args.message_levels)
        out["learners"] += rows
        print(pd.DataFrame(rows).to_string(), flush=True)
        out["value_of_information"] += value_of_information(inst, model, opt, rows)
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
