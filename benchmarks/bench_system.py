"""Benchmark of the digital twin (notebook 08, mas_lib.ops): simulated product-warehouse-days per
second with and without re-fitting the forecasts, and the retraining-strategy table (policies x
strategies, saving against never retraining with a 90 % bootstrap interval over products) on the
four product sets of :func:`mas_lib.ops.product_sets` -- top 1-20, ranks 21-40, ranks 41-60 and a
seeded random 20, all chosen from the sales before the twin's start -- x 4 warehouses of the real
UCI data (synthetic stand-ins, said plainly, without it).

Run: ``MAS_LIB_ONLINE_RETAIL=... python benchmarks/bench_system.py [--publish]`` (several minutes on
2 cores). Writes ``benchmarks/results/system.json``, ``system_strategy_sets.csv`` (the table) and
``system_strategy_products.csv`` (one cost per product, the bootstrap's units); ``--publish`` copies
the table into the snapshot notebook 08 shows (``mas_lib/teach/published_results``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from mas_lib import data as D
from mas_lib import ops

OUT = Path(__file__).resolve().parent / "results"


def load_sets() -> dict[str, ops.TwinData]:
    """The four named product sets of the real data, else four synthetic stand-ins (said)."""
    try:
        return {name: ops.load_twin_data(product_set=name) for name in ops.PRODUCT_SETS}
    except D.DataUnavailableError:
        print("real data NOT available: SYNTHETIC demand")
        return {name: ops.synthetic_twin_data(n_products=20, seed=i) for i, name in enumerate(ops.PRODUCT_SETS)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--publish", action="store_true",
                    help="copy the strategy table into the snapshot notebook 08 shows (mas_lib/teach/published_results)")
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
    res = ops.strategy_tables(sets, policies=("base-stock", "(s, S)"), progress=lambda m: print("  ", m))
    table = res.to_frame()
    for name in sets:
        print(f"\n== {name}: {sets[name].products}")
        print(table[table["set"] == name].drop(columns="set").round(3).to_string(index=False))
    print("\ncheapest strategy per set and policy (saving vs never, 90 % interval over products):")
    print(res.cheapest().round(3).to_string(index=False))
    for key, err in res.failed.items():
        print("FAILED", key, err)
    OUT.mkdir(exist_ok=True)
    table.round(4).to_csv(OUT / "system_strategy_sets.csv", index=False)
    res.per_product.round(4).to_csv(OUT / "system_strategy_products.csv", index=False)
    (OUT / "system.json").write_text(json.dumps({
        "source": data.source, "products": data.products, "product_sets": {k: d.products for k, d in sets.items()}, "warehouses": data.warehouses, "nodes": N,
        "days": T, "node_days_per_second": {k: round(v) for k, v in speed.items()},
        "machine": platform.processor() or platform.machine(), "python": platform.python_version(),
    }, indent=1) + "\n")
    if args.publish:
        from mas_lib.teach.published import publish

        publish(OUT, ["system_strategy_sets.csv"], command="python benchmarks/bench_system.py --publish")
        print("published system_strategy_sets.csv to mas_lib/teach/published_results")


if __name__ == "__main__":
    main()
