"""Environment speed: warehouse-steps per second of the per-step PettingZoo API and the batch core.

Both are measured in the same run, on one core (BLAS threads pinned to 1), on the configuration
the issue names: two warehouses, replenishment lead time 3 days, a transfer link, Poisson
demand, base-stock-like actions. Resets are included (episodes of 200 days).

    python benchmarks/bench_env.py            # prints a table, writes benchmarks/results/env.json
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from mas_lib import (  # noqa: E402
    BatchCore,
    EnvConfig,
    LinkConfig,
    MultiWarehouseEnv,
    PoissonDemand,
    WarehouseConfig,
)

EPISODE = 200


def config() -> EnvConfig:
    ws = tuple(
        WarehouseConfig(n, capacity=600, initial_inventory=i, lead_time=3, holding_cost=1.0, shortage_cost=10.0,
                        order_fixed_cost=5.0, order_unit_cost=1.0)
        for n, i in (("A", 100), ("B", 150))
    )
    return EnvConfig(warehouses=ws, links=(LinkConfig("A", "B", unit_cost=0.5, lead_time=1),),
                     demand=PoissonDemand([80.0, 110.0]), episode_length=EPISODE, invalid_action="clip")


def bench_per_step(cfg: EnvConfig, seconds: float = 3.0) -> float:
    """Warehouse-steps/s through MultiWarehouseEnv.step (dict actions), resets included."""
    env = MultiWarehouseEnv(cfg)
    acts = {"A": np.array([85, 0]), "B": np.array([110, 5])}
    steps, seed, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        env.reset(seed=seed)
        seed += 1
        while env.agents:
            env.step(acts)
            steps += 1
    return steps * cfg.warehouses.__len__() / (time.perf_counter() - t0)


def bench_batch(cfg: EnvConfig, batch: int, seconds: float = 3.0) -> float:
    """Warehouse-steps/s of BatchCore.step over `batch` copies, resets included."""
    core = BatchCore(cfg, batch_size=batch)
    q = np.tile([85, 110], (batch, 1))
    x = np.zeros((batch, 2, 2), dtype=np.int64)
    x[:, 1, 0] = 5
    steps, seed, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        core.reset(seed=seed)
        seed += batch
        while not core.done:
            core.step(q, x)
            steps += 1
    return steps * batch * 2 / (time.perf_counter() - t0)


def main() -> dict:
    cfg = config()
    t_start = time.perf_counter()
    per_step = bench_per_step(cfg)
    batch_1024 = bench_batch(cfg, 1024)
    batch_64 = bench_batch(cfg, 64)
    res = {
        "per_step_api": per_step,
        "batch_core_B64": batch_64,
        "batch_core_B1024": batch_1024,
        "speedup_B1024_vs_per_step": batch_1024 / per_step,
        "floor_batch_B1024": 2_000_000,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}, numpy {np.__version__}",
        "seconds": time.perf_counter() - t_start,
    }
    print("Environment throughput (2 warehouses, lead time 3, transfer link; one core; resets included)")
    print(f"{'implementation':<34}{'warehouse-steps/s':>20}")
    print(f"{'per-step PettingZoo API (B=1)':<34}{per_step:>20,.0f}")
    print(f"{'batch core, B=64':<34}{batch_64:>20,.0f}")
    print(f"{'batch core, B=1024':<34}{batch_1024:>20,.0f}")
    print(f"speed-up of the batch core (B=1024) over the per-step API: {res['speedup_B1024_vs_per_step']:.0f}x")
    ok = batch_1024 >= res["floor_batch_B1024"]
    print(f"floor: batch core >= 2,000,000 warehouse-steps/s -> {'met' if ok else 'NOT met'}")
    print(f"machine: {res['machine']}; run time {res['seconds']:.1f} s")
    out = Path(__file__).parent / "results" / "env.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    main()
