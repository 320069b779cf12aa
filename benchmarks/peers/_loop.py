"""The timing loop shared by the peer scripts (stdlib only: it runs inside each peer's own venv)."""

from __future__ import annotations

import json
import platform
import sys
import time


def run(peer: str, version: str, network: str, nodes: int, make_env, reset, step, seconds: float) -> dict:
    """Step ``make_env()`` for ``seconds`` wall-clock seconds, resets included (``step`` returns True
    when the episode ended); print and return node-steps/s as one JSON line."""
    env = make_env()
    steps, seed, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        reset(env, seed)
        seed += 1
        done = False
        while not done:
            done = step(env)
            steps += 1
    elapsed = time.perf_counter() - t0
    res = {
        "peer": peer,
        "version": version,
        "network": network,
        "nodes": nodes,
        "env_steps": steps,
        "seconds": elapsed,
        "env_steps_per_s": steps / elapsed,
        "node_steps_per_s": steps * nodes / elapsed,
        "python": platform.python_version(),
    }
    print(json.dumps(res))
    return res


def seconds_arg(default: float = 3.0) -> float:
    """``--seconds S`` from the command line (default 3)."""
    args = sys.argv[1:]
    return float(args[args.index("--seconds") + 1]) if "--seconds" in args else default
