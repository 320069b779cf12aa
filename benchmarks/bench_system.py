"""Benchmark of the digital twin (notebook 08, mas_lib.ops): simulated product-warehouse-days per
second with and without re-fitting the forecasts, and the retraining-strategy table on the top 20
products x 4 warehouses of the real UCI data (synthetic stand-in, said plainly, without it).

Run: ``MAS_LIB_ONLINE_RETAIL=... python benchmarks/bench_system.py`` (a few minutes on 2 cores).
Writes ``benchmarks/results/system.json`` and ``benchmarks/results/system_retraining.csv``.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import pandas as pd

from mas_lib import data as D
from mas_lib import ops

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    try:
        data = ops.load_twin_data(n_products=20)
    except D.DataUnavailableError:
        print("real data NOT available: SYNTHETIC demand")
        data = ops.synthetic_twin_data(n_products=20)
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
    rows = []
    for policy in ("base-stock", "(s, S)"):
        table, _ = ops.compare_strategies(data, policy=policy, progress=lambda s, p=policy: print("  ", p, s))
        rows.append(table.assign(policy=policy))
    table = pd.concat(rows, ignore_index=True)
    print(table.round(3).to_string(index=False))
    OUT.mkdir(exist_ok=True)
    table.round(4).to_csv(OUT / "system_retraining.csv", index=False)
    (OUT / "system.json").write_text(json.dumps({
        "source": data.source, "products": data.products, "warehouses": data.warehouses, "nodes": N,
        "days": T, "node_days_per_second": {k: round(v) for k, v in speed.items()},
        "machine": platform.processor() or platform.machine(), "python": platform.python_version(),
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
