"""Environment speed: node-steps per second of our per-step PettingZoo API and batch core, side by
side with two peers (or-gym's InvManagement, gym-invmgmt's MultiEchelon) in the same run.

A node is a warehouse (a stocking node); a node-step is one node simulated for one day. Ours runs
on one core (BLAS threads pinned to 1) on the configuration `config()` below builds: two warehouses,
replenishment lead time 3 days, a transfer link, Poisson demand, base-stock-like actions, episodes
of 200 days with resets included; also on a six-warehouse ring (as many stocking nodes as
gym-invmgmt's network). The peers run in their own throwaway virtual environments (built by
``benchmarks/peers/setup.sh``, never project dependencies) through subprocesses, on their own
default multi-node networks (``benchmarks/peers/README.md``). The machine is shared, so the script
measures in ``--rounds`` interleaved rounds and reports the ratios of each round and their spread.

    bash benchmarks/peers/setup.sh            # once: the peers' venvs under /tmp/mas_peers
    python benchmarks/bench_env.py            # prints a table, writes benchmarks/results/env.json
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
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
HERE = Path(__file__).parent
PEERS_DIR = Path(os.environ.get("MAS_LIB_PEERS", "/tmp/mas_peers"))
#: peer name -> (venv folder under PEERS_DIR, script in benchmarks/peers)
PEERS = {"or-gym": ("orgym", "or_gym_loop.py"), "gym-invmgmt": ("invmgmt", "gym_invmgmt_loop.py")}


def config() -> EnvConfig:
    """Issue 11's network: two warehouses, lead time 3, one (two-way) transfer link, clip on."""
    ws = tuple(
        WarehouseConfig(n, capacity=600, initial_inventory=i, lead_time=3, holding_cost=1.0, shortage_cost=10.0,
                        order_fixed_cost=5.0, order_unit_cost=1.0)
        for n, i in (("A", 100), ("B", 150))
    )
    return EnvConfig(warehouses=ws, links=(LinkConfig("A", "B", unit_cost=0.5, lead_time=1),),
                     demand=PoissonDemand([80.0, 110.0]), episode_length=EPISODE, invalid_action="clip")


def config_six() -> EnvConfig:
    """Six warehouses (gym-invmgmt's number of stocking nodes) in a ring of two-way links, lead times 1-3."""
    ws = tuple(
        WarehouseConfig(f"W{i}", capacity=400, initial_inventory=80, lead_time=1 + i % 3, holding_cost=1.0,
                        shortage_cost=10.0, order_fixed_cost=5.0, order_unit_cost=1.0)
        for i in range(6)
    )
    links = tuple(LinkConfig(f"W{i}", f"W{(i + 1) % 6}", unit_cost=0.5, lead_time=i % 2) for i in range(6))
    return EnvConfig(warehouses=ws, links=links, demand=PoissonDemand([20.0 + 4 * i for i in range(6)]),
                     episode_length=EPISODE, invalid_action="clip")


def _actions(env: MultiWarehouseEnv, orders: list[int], first_transfer: int) -> dict:
    """A fixed MultiDiscrete action per warehouse: its order, then ``first_transfer`` to its first
    neighbour for warehouse 1 (0 elsewhere)."""
    acts = {}
    for i, a in enumerate(env.possible_agents):
        v = np.zeros(1 + len(env.neighbours(a)), dtype=np.int64)
        v[0] = orders[i]
        if i == 1 and v.size > 1:
            v[1] = first_transfer
        acts[a] = v
    return acts


def bench_per_step(cfg: EnvConfig, seconds: float = 3.0, orders: list[int] | None = None) -> float:
    """Warehouse-steps/s through MultiWarehouseEnv.step (MultiDiscrete array actions), resets included."""
    env = MultiWarehouseEnv(cfg)
    acts = _actions(env, orders or [85, 110], 5)
    steps, seed, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        env.reset(seed=seed)
        seed += 1
        while env.agents:
            env.step(acts)
            steps += 1
    return steps * len(cfg.warehouses) / (time.perf_counter() - t0)


def bench_batch(cfg: EnvConfig, batch: int, seconds: float = 3.0, steps_only: bool = False) -> float:
    """Warehouse-steps/s of BatchCore.step over `batch` copies, resets included (or, with
    ``steps_only``, counting only the time inside ``step``: at B = 1024 drawing 1024 demand paths
    per reset takes about as long as the 200 steps of the episode)."""
    core = BatchCore(cfg, batch_size=batch)
    q = np.tile([85, 110], (batch, 1))
    x = np.zeros((batch, 2, 2), dtype=np.int64)
    x[:, 1, 0] = 5
    steps, seed, t0, in_steps = 0, 0, time.perf_counter(), 0.0
    while time.perf_counter() - t0 < seconds:
        core.reset(seed=seed)
        seed += batch
        t1 = time.perf_counter()
        while not core.done:
            core.step(q, x)
            steps += 1
        in_steps += time.perf_counter() - t1
    return steps * batch * 2 / (in_steps if steps_only else time.perf_counter() - t0)


def bench_peer(name: str, seconds: float) -> dict | None:
    """Run a peer's loop in its own venv; None (and a note) when that venv was not built."""
    venv, script = PEERS[name]
    python = PEERS_DIR / venv / "bin" / "python"
    if not python.exists():
        return None
    out = subprocess.run([str(python), str(HERE / "peers" / script), "--seconds", str(seconds)],
                         capture_output=True, text=True, timeout=120 + 4 * seconds, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_ours(seconds: float) -> dict:
    """Our four figures (node-steps/s) with whichever ``mas_lib`` is importable."""
    cfg = config()
    return {"per_step_2wh": bench_per_step(cfg, seconds),
            "per_step_6wh": bench_per_step(config_six(), seconds, orders=[20, 24, 28, 32, 36, 40]),
            "batch_B1024": bench_batch(cfg, 1024, seconds), "batch_B64": bench_batch(cfg, 64, seconds),
            "batch_B1024_steps_only": bench_batch(cfg, 1024, seconds, steps_only=True)}


def bench_baseline(path: str, seconds: float) -> dict:
    """:func:`measure_ours` with the ``mas_lib`` of another checkout (``--baseline``), in a subprocess."""
    env = dict(os.environ, PYTHONPATH=str(Path(path).resolve()))
    out = subprocess.run([sys.executable, __file__, "--measure-only", "--seconds", str(seconds)], env=env,
                         capture_output=True, text=True, timeout=120 + 8 * seconds, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _commit(path: str) -> str | None:
    out = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or None


def _spread(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main(rounds: int = 3, seconds: float = 3.0, baseline: str | None = None) -> dict:
    cfg, six = config(), config_six()
    missing = [n for n in PEERS if not (PEERS_DIR / PEERS[n][0] / "bin" / "python").exists()]
    for n in missing:
        print(f"peer {n}: venv {PEERS_DIR / PEERS[n][0]} not found -- run `bash benchmarks/peers/setup.sh` "
              f"(or set MAS_LIB_PEERS); measuring without it")
    t_start = time.perf_counter()
    runs: list[dict] = []
    peer_info: dict = {}
    for r in range(rounds):
        # ours in two halves, just before and just after the peers (the load drifts within a round)
        six_orders = [20, 24, 28, 32, 36, 40]
        first = (bench_per_step(cfg, seconds / 2), bench_per_step(six, seconds / 2, orders=six_orders))
        row: dict = {}
        for n in PEERS:
            res = bench_peer(n, seconds)
            if res is not None:
                row[n] = res["node_steps_per_s"]
                peer_info[n] = {k: res[k] for k in ("peer", "version", "network", "nodes", "python")}
        row["per_step_6wh"] = (first[1] + bench_per_step(six, seconds / 2, orders=six_orders)) / 2
        row["per_step_2wh"] = (first[0] + bench_per_step(cfg, seconds / 2)) / 2
        row["batch_B1024"] = bench_batch(cfg, 1024, seconds)
        row["batch_B64"] = bench_batch(cfg, 64, seconds)
        row["batch_B1024_steps_only"] = bench_batch(cfg, 1024, seconds, steps_only=True)
        if baseline:
            for k, v in bench_baseline(baseline, seconds).items():
                row[f"baseline_{k}"] = v
                row[f"speedup_{k}_vs_baseline"] = row[k] / v
        peers_here = [row[n] for n in PEERS if n in row]
        if peers_here:
            fastest = max(peers_here)
            row["ratio_per_step_2wh_vs_fastest_peer"] = row["per_step_2wh"] / fastest
            row["ratio_per_step_6wh_vs_fastest_peer"] = row["per_step_6wh"] / fastest
            row["ratio_batch_B1024_vs_fastest_peer"] = row["batch_B1024"] / fastest
        runs.append(row)
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{k} {v:,.2f}" if k.startswith(("ratio", "speedup"))
                                                    else f"{k} {v:,.0f}"
                                                    for k, v in row.items()))
    keys = list(runs[0])
    summary = {k: _spread([run[k] for run in runs]) for k in keys}
    res = {
        "unit": "node-steps/s (a node = a warehouse / stocking node; ratios are per node-step)",
        "rounds": runs,
        "summary": summary,
        "peers": peer_info,
        "peers_missing": missing,
        "baseline": None if baseline is None else {"path": baseline, "commit": _commit(baseline)},
        "goal_per_step_vs_fastest_peer": 2.0,
        "goal_batch_B1024": 5_000_000,
        "floor_batch_B1024": 2_000_000,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}, numpy {np.__version__}; load average at the end "
                   f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}",
        "seconds": time.perf_counter() - t_start,
    }
    print(f"\nnode-steps/s over {rounds} rounds of {seconds:g} s (min / median / max; one core, resets included)")
    labels = {
        "per_step_2wh": "ours, per-step PettingZoo API, 2 warehouses",
        "per_step_6wh": "ours, per-step PettingZoo API, 6 warehouses",
        "or-gym": "or-gym InvManagement (3 stages)",
        "gym-invmgmt": "gym-invmgmt MultiEchelon (6 nodes)",
        "batch_B64": "ours, batch core B=64",
        "batch_B1024": "ours, batch core B=1024",
        "batch_B1024_steps_only": "ours, batch core B=1024, steps only",
        **{f"baseline_{k}": f"baseline: {k}" for k in ("per_step_2wh", "per_step_6wh", "batch_B64", "batch_B1024",
                                                      "batch_B1024_steps_only")},
    }
    for k, label in labels.items():
        if k in summary:
            s = summary[k]
            print(f"{label:<46}{s['min']:>14,.0f}{s['median']:>14,.0f}{s['max']:>14,.0f}")
    for k in keys:
        if k.startswith(("ratio", "speedup")):
            s = summary[k]
            print(f"{k:<46}{s['min']:>14.2f}{s['median']:>14.2f}{s['max']:>14.2f}")
    print(f"machine: {res['machine']}; run time {res['seconds']:.0f} s")
    out = HERE / "results" / "env.json"
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(res, indent=2) + "\n")
    tmp.replace(out)
    return res


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--baseline", help="another checkout whose mas_lib is measured in the same rounds (before/after)")
    p.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.measure_only:
        print(json.dumps(measure_ours(a.seconds)))
    else:
        main(a.rounds, a.seconds, a.baseline)
