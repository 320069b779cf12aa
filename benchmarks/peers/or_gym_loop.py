"""or-gym's ``InvManagement-v1`` (lost sales) per-step loop: node-steps/s as one JSON line.

Runs inside the throwaway venv made by ``setup.sh`` (never with the project's Python). The network
is or-gym's default serial chain: retailer -> distributor -> manufacturer (3 stocking stages with
lead times 3, 5, 10 days, capacities 100/90/80) fed by an unlimited raw-material stage, Poisson(20)
demand drawn each step with scipy. A node is a stocking stage (3), the raw-material source is not
counted. Episodes of 200 periods, constant orders of 20 units per stage, resets included.

    /tmp/mas_peers/orgym/bin/python benchmarks/peers/or_gym_loop.py --seconds 3
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import version

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
from _loop import run, seconds_arg  # noqa: E402
from or_gym.envs.supply_chain.inventory_management import InvManagementLostSalesEnv  # noqa: E402

EPISODE = 200
ACTION = np.array([20, 20, 20])


def make_env():
    return InvManagementLostSalesEnv(periods=EPISODE, backlog=False)


def reset(env, seed: int) -> None:
    env.seed(seed)
    env.reset()


def step(env) -> bool:
    return env.step(ACTION)[2]


if __name__ == "__main__":
    env = make_env()
    run("or-gym InvManagement-v1", version("or-gym"), "serial, 3 stocking stages + raw-material source",
        env.num_stages - 1, make_env, reset, step, seconds_arg())
