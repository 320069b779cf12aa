"""Sweep jobs for deep RL: train a learner from its recipe and measure its exact gap, along the way
and at the end (paper 3.1.2(4); ``benchmarks/bench_deep_rl.py``, beyond the paper).

Each job is a top-level function of small arguments (an instance name, a learner name, a seed,
the path of a saved optimum), so :func:`mas_lib.scale.run_sweep` runs it serially or on Dask
workers with the same numbers. The exact optimum of ``paper`` and ``cross_border`` is solved in
the worker (about a second); that of ``long_lead`` (66,066 states; minutes and 4 GiB to solve)
is loaded from a table saved once by :func:`mas_lib.decide.planning.save_policy_table` onto an
evaluation-only model and re-evaluated exactly there. Each process builds these once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..decide import get_instance, simulate
from ..decide import planning as pl
from ..decide.deep import RECIPES, long_lead_instance, recipe, train_dqn, train_pg
from ..decide.instances import Instance
from ..validation import check_choice, check_number

__all__ = ["DEEP_INSTANCES", "deep_instance", "optimum_path", "exact_reference", "train_deep"]

#: The instances of the deep-RL benchmark.
DEEP_INSTANCES = ("paper", "cross_border", "long_lead")
#: Exact evaluations along a run on an instance of over 10,000 states (each takes seconds there).
LARGE_CHECKPOINTS = 3


def deep_instance(name: str) -> Instance:
    """``paper``, ``cross_border`` (:func:`mas_lib.decide.get_instance`) or ``long_lead``
    (:func:`mas_lib.decide.deep.long_lead_instance`); a clear error otherwise."""
    check_choice(name, "instance", DEEP_INSTANCES)
    return long_lead_instance() if name == "long_lead" else get_instance(name)


def optimum_path(folder: str | os.PathLike[str], name: str) -> Path:
    """Where a saved optimum of instance ``name`` lives in ``folder``: ``<name>_optimum.npz``."""
    return Path(folder) / f"{name}_optimum.npz"


def exact_reference(name: str, optimum_dir: str | None = None) -> tuple[pl.MDPModel, pl.PolicyValue]:
    """The model to evaluate policies on and the optimum's exact value, from the package's one cache
    (:func:`mas_lib.decide.planning.reference`, built once per process). If
    ``optimum_dir`` holds ``<name>_optimum.npz`` (:func:`optimum_path`), an evaluation-only model
    is built and the saved table is re-evaluated on it; otherwise the model is built in full and
    solved by policy iteration. Values in money, daily cost in money/day.

    The cache is shared by every job of the process, so what it hands out cannot corrupt it:
    every array (``cost_sa``, ``z_sa``, the grids, the demand tables, the sparse next-day
    matrices, the optimum's ``values`` and ``actions``) is read-only -- writing raises
    ``ValueError: assignment destination is read-only``; copy an array to change it -- and each
    call returns fresh model and value objects (with their own lists), so rebinding an attribute
    changes only the caller's copy."""
    from ..decide.planning.reference_cache import reference

    return reference(deep_instance(name),
                     optimum_file=None if optimum_dir is None else optimum_path(optimum_dir, name))


def train_deep(instance: str, learner: str, seed: int = 0, scale: float = 1.0,
               optimum_dir: str | None = None, checkpoints: int | None = None) -> dict:
    """Sweep job: train ``learner`` (``"PPO"``, ``"REINFORCE"`` or ``"DQN"``; its
    :data:`~mas_lib.decide.deep.RECIPES` entry, days times ``scale``) on ``instance`` with
    ``seed`` and evaluate the greedy policy exactly (the optimum: :func:`exact_reference` with
    ``optimum_dir``). ``checkpoints`` sets the number of exact evaluations along the way (default:
    one per logging interval of the recipe on the small instances, :data:`LARGE_CHECKPOINTS` on
    instances over 10,000 states, where each evaluation takes seconds). Returns ``gap_pct``, ``daily_cost`` and
    ``optimum_daily_cost`` [money/day], ``fill_rate`` and ``transport_cost`` [money/day] of the
    learned policy simulated on 100 episodes (how much it ships), ``transitions``, ``train_seconds`` and ``cpu_seconds`` of
    training [s], ``transitions_per_cpu_s`` and ``curve``: a JSON list of ``[transitions,
    gap_pct]`` pairs (the sample-efficiency chart)."""
    check_choice(learner, "learner", tuple(RECIPES))
    scale = check_number(scale, "scale", low=0, high=1, low_inclusive=False)
    model, opt = exact_reference(instance, optimum_dir)
    cfg = recipe(learner, seed=seed, scale=scale)
    if checkpoints is None and model.n_states > 10_000:
        checkpoints = LARGE_CHECKPOINTS
    if checkpoints is not None:
        cfg = cfg.replace(log_every=max(1, cfg.days // max(1, int(checkpoints))))
    curve, last = [], {}

    def checkpoint(transitions, policy):
        last["value"] = pl.evaluate_policy(model, policy)
        last["transitions"] = int(transitions)
        curve.append([int(transitions), pl.gap(last["value"], opt)])

    inst = deep_instance(instance)
    res = (train_dqn if learner == "DQN" else train_pg)(inst.config, cfg, checkpoint=checkpoint)
    # the trainers checkpoint the final networks too: reuse that exact evaluation (seconds on long_lead)
    value = last["value"] if last.get("transitions") == res.transitions else pl.evaluate_policy(model, res.policy)
    kpis = simulate(inst.config, res.policy, episodes=100, seed=seed)
    return {"gap_pct": pl.gap(value, opt), "daily_cost": value.daily_cost, "optimum_daily_cost": opt.daily_cost,
            "fill_rate": kpis.fill_rate, "transport_cost": kpis.transport_cost,
            "transitions": res.transitions, "train_seconds": res.seconds, "cpu_seconds": res.cpu_seconds,
            "transitions_per_cpu_s": res.transitions / res.cpu_seconds if res.cpu_seconds > 0 else float("nan"),
            "curve": json.dumps([[t, round(g, 4)] for t, g in curve])}
