"""gym-invmgmt's ``MultiEchelon-v0`` (``CoreEnv(scenario="network")``) per-step loop: node-steps/s as JSON.

Runs inside the throwaway venv made by ``setup.sh`` (never with the project's Python). The network
is the package's default divergent multi-echelon network: one retailer, two distributors, three
manufacturers (6 stocking nodes, ``network.main_nodes``), two raw-material sources and a market,
11 reorder links with lead times 0-12, stationary Poisson(20) demand, backlog on. A node is a
stocking node (6); markets and raw-material sources are not counted. Episodes of 200 periods,
constant orders of 20 units on every reorder link, resets included.

    /tmp/mas_peers/invmgmt/bin/python benchmarks/peers/gym_invmgmt_loop.py --seconds 3
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import version

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
from _loop import run, seconds_arg  # noqa: E402
from gym_invmgmt import CoreEnv  # noqa: E402

EPISODE = 200


def make_env():
    env = CoreEnv(scenario="network", num_periods=EPISODE,
                  demand_config={"type": "stationary", "base_mu": 20, "use_goodwill": False})
    env.bench_action = np.full(len(env.network.reorder_links), 20.0)
    return env


def reset(env, seed: int) -> None:
    env.reset(seed=seed)


def step(env) -> bool:
    _, _, terminated, truncated, _ = env.step(env.bench_action)
    return terminated or truncated


if __name__ == "__main__":
    env = make_env()
    run("gym-invmgmt MultiEchelon-v0", version("gym-invmgmt"),
        "divergent multi-echelon: 1 retailer, 2 distributors, 3 manufacturers + 2 raw-material sources",
        len(env.network.main_nodes), make_env, reset, step, seconds_arg())
