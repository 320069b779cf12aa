"""Benchmark of the digital twin (notebook 08, mas_lib.ops): simulated product-warehouse-days per
second with and without re-fitting the forecasts, and the retraining-strategy table (policies x
strategies, saving against never retraining with a 90 % bootstrap interval over products) on the
four product sets of :func:`mas_lib.ops.product_sets` -- top 1-20, ranks 21-40, ranks 41-60 and a
seeded random 20, all chosen from the sales before the twin's start -- x 4 warehouses of the real
UCI data (synthetic stand-ins, said plainly, without it). Then each policy's gap to the hindsight
limit on each set: the LP bound (``ops.twin_bounds``) and the best known clairvoyant plan
(``ops.clairvoyant_plans``, rounded LP plans simulated through the batch core; with
``--milp-seconds S`` also a time-limited MILP per product), with the CPU time of each
(``time.process_time``).

Run: ``MAS_LIB_ONLINE_RETAIL=... python benchmarks/bench_system.py [--publish]`` (several minutes on
2 cores). Writes ``benchmarks/results/system.json``, ``system_strategy_sets.csv`` (the table) and
``system_strategy_products.csv`` (one cost per product, the bootstrap's units); ``--publish`` copies
the table into the snapshot notebook 08 shows (``mas_lib/teach/published_results``).
``system_hindsight.csv``: one row per set and policy -- cost, bound, best known plan, both gaps;
``--publish`` ships it too.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd

from mas_lib import data as D
from mas_lib import ops
from mas_lib.files import atomic_write

OUT = Path(__file__).resolve().parent / "results"


def load_sets() -> dict[str, ops.TwinData]:
    """The four named product sets of the real data, else four synthetic stand-ins (said)."""
    try:
        return {name: ops.load_twin_data(product_set=name) for name in ops.PRODUCT_SETS}
    except D.DataUnavailableError:
        print("real data NOT available: SYNTHETIC demand")
        return {name: ops.synthetic_twin_data(n_products=20, seed=i) for i, name in enumerate(ops.PRODUCT_SETS)}


def hindsight_table(sets: dict[str, ops.TwinData], milp_seconds: float = 0.0) -> pd.DataFrame:
    """Per set and policy (4-weekly fits, as the strategy tables' default): the policy's cost, the LP
    bound, the best known clairvoyant plan [money], the gaps to both [%], and the CPU seconds of the
    bound and of the plans (``time.process_time``, this process). A set whose bound fails is
    reported and skipped; the others' rows stay."""
    rows = []
    for name, data in sets.items():
        try:
            plan = ops.scheduled_forecasts(data, "4-weekly")
            tic = time.process_time()
            bounds = ops.twin_bounds(data, plan)
            cpu_bound = time.process_time() - tic
            tic = time.process_time()
            plans = ops.clairvoyant_plans(data, plan, bounds, milp_seconds=milp_seconds)
            cpu_plan = time.process_time() - tic
        except Exception as err:  # noqa: BLE001 -- one set's failure must not lose the others
            print(f"FAILED hindsight of {name}: {err}")
            continue
        for policy in ops.POLICIES:
            net = ops.hindsight_gap(ops.run_twin(data, plan, policy), bounds, plans=plans).loc["network"]
            rows.append({"set": name, "policy": policy, "cost": net["policy cost"], "bound": net["bound"],
                         "best plan": net["plan cost"], "gap to bound %": net["gap %"],
                         "gap to plan %": net["gap to plan %"], "bound cpu s": cpu_bound, "plan cpu s": cpu_plan,
                         "products": len(bounds.products), "milp seconds": milp_seconds})
        print(f"\n== hindsight, {name}: bound {bounds.total:,.0f} ({cpu_bound:.1f} CPU s), best known clairvoyant "
              f"plan {plans.total:,.0f} ({cpu_plan:.1f} CPU s, {plans.total / bounds.total - 1:.0%} above the bound)")
        print(pd.DataFrame(rows[-len(ops.POLICIES):]).set_index("policy")[
            ["cost", "gap to bound %", "gap to plan %"]].round(1).to_string())
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--publish", action="store_true",
                    help="copy the strategy table into the snapshot notebook 08 shows (mas_lib/teach/published_results)")
    ap.add_argument("--milp-seconds", type=float, default=0.0,
                    help="also try a MILP per product with this time limit [s] for the clairvoyant plan")
    ap.add_argument("--skip-strategies", action="store_true", help="only the speed and the hindsight gaps")
    args = ap.parse_args()
    sets = load_sets()
    data = sets[ops.PRODUCT_SETS[0]]
    T, N = len(data.sim_days), data.units.shape[1]
    node_days = T * N
    speed = {}
    for policy in ops.POLICIES:
        plan = ops.scheduled_forecasts(data, "never")
        tic = time.perf_counter()
        ops.run_twin(data, plan, policy)
        speed[f"loop only, {policy}"] = node_days / (time.perf_counter() - tic)
    tic = time.perf_counter()
    plan = ops.scheduled_forecasts(data, "weekly")
    ops.run_twin(data, plan, "(s, S)")
    speed["weekly re-fits + loop, (s, S)"] = node_days / (time.perf_counter() - tic)
    print(f"{N} nodes x {T} days = {node_days} product-warehouse-days")
    for k, v in speed.items():
        print(f"  {k:40s} {v:12,.0f} node-days/s")
    OUT.mkdir(exist_ok=True)
    files = []
    if not args.skip_strategies:
        res = ops.strategy_tables(sets, policies=("base-stock", "(s, S)"), progress=lambda m: print("  ", m))
        table = res.to_frame()
        for name in sets:
            print(f"\n== {name}: {sets[name].products}")
            print(table[table["set"] == name].drop(columns="set").round(3).to_string(index=False))
        print("\ncheapest strategy per set and policy (saving vs never, 90 % interval over products):")
        print(res.cheapest().round(3).to_string(index=False))
        for key, err in res.failed.items():
            print("FAILED", key, err)
        table.round(4).to_csv(OUT / "system_strategy_sets.csv", index=False)
        res.per_product.round(4).to_csv(OUT / "system_strategy_products.csv", index=False)
        files.append("system_strategy_sets.csv")
    gaps = hindsight_table(sets, args.milp_seconds)
    with atomic_write(OUT / "system_hindsight.csv", "w") as f:
        gaps.round(4).to_csv(f, index=False)
    files.append("system_hindsight.csv")
    (OUT / "system.json").write_text(json.dumps({
        "source": data.source, "products": data.products, "product_sets": {k: d.products for k, d in sets.items()}, "warehouses": data.warehouses, "nodes": N,
        "days": T, "node_days_per_second": {k: round(v) for k, v in speed.items()},
        "machine": platform.processor() or platform.machine(), "python": platform.python_version(),
    }, indent=1) + "\n")
    if args.publish:
        from mas_lib.teach.published import publish

        cmd = "python benchmarks/bench_system.py --publish" + (" --skip-strategies" if args.skip_strategies else "")
        publish(OUT, files, command=cmd)
        print(f"published {files} to mas_lib/teach/published_results")


if __name__ == "__main__":
    main()
