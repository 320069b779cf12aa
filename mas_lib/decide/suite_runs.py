"""One learner run on one instance of the suite, scored exactly (``benchmarks/bench_suite.py``).

:func:`train_on_suite` trains a learner with its one recipe -- ``"DQN"`` and ``"PPO"`` from
:data:`mas_lib.decide.deep.RECIPES` (or a :data:`~mas_lib.decide.deep.recipes.DQN_ABLATION`
variant), ``"tabular Q (central)"`` from :func:`mas_lib.decide.best_preset` -- on an instance of
:mod:`mas_lib.decide.suite` and measures the greedy policy's exact gap to the optimum and the
share of the value of transfers it captures. A top-level function of plain arguments, so the
sweep runner can run it as a job (a failed job does not lose the others). Paper sections 3.1.2(4)
and 4.5.
"""

from __future__ import annotations

import time

from ..validation import check_choice, check_number
from . import planning as pl
from .deep.dqn import train_dqn
from .deep.pg import train_pg
from .deep.recipes import DQN_ABLATION, RECIPES, recipe_for
from .suite import suite_instance, transfer_value, without_transfers
from .tabular import best_preset, train

__all__ = ["LEARNERS", "TABULAR", "train_on_suite"]

#: The tabular learner's name in the suite table.
TABULAR = "tabular Q (central)"
#: Every learner :func:`train_on_suite` knows.
LEARNERS = (*DQN_ABLATION, *(k for k in RECIPES if k not in DQN_ABLATION), TABULAR)


def train_on_suite(instance: str, learner: str, seed: int = 0, scale: float = 1.0) -> dict:
    """Train ``learner`` (one of :data:`LEARNERS`) with ``seed`` on the suite instance ``instance``
    (:func:`~mas_lib.decide.suite.suite_instance`), its budget times ``scale`` (in (0, 1]).

    Returns ``gap_pct`` (exact, % above the optimal discounted cost from the start state),
    ``daily_cost``, ``optimum_daily_cost`` and ``no_transfer_daily_cost`` [money/day],
    ``transfer_share`` (share of the value of transfers captured, see
    :func:`~mas_lib.decide.suite.transfer_value`), ``transitions`` and ``cpu_seconds`` (training
    and exact scoring, this process)."""
    check_choice(learner, "train_on_suite.learner", LEARNERS)
    scale = check_number(scale, "train_on_suite.scale", low=0, high=1, low_inclusive=False)
    inst = suite_instance(instance)
    model, opt = pl.reference(inst)
    _, nt_opt = pl.reference(without_transfers(inst))
    c0 = time.process_time()
    if learner == TABULAR:
        qcfg = best_preset(gamma=inst.gamma, seed=seed)
        qcfg = qcfg.replace(steps=max(10, int(round(qcfg.steps * scale))))
        result = train(inst.config, qcfg, seed=seed)
        policy, transitions = pl.SnapToGrid(result.policy, model), result.steps
    else:
        cfg = recipe_for(learner, inst.config, seed=seed, scale=scale).replace(gamma=inst.gamma)
        res = (train_pg if isinstance(cfg, type(RECIPES["PPO"])) else train_dqn)(inst.config, cfg)
        policy, transitions = res.policy, res.transitions
    value = pl.evaluate_policy(model, policy)
    return {
        "gap_pct": pl.gap(value, opt), "daily_cost": value.daily_cost, "optimum_daily_cost": opt.daily_cost,
        "no_transfer_daily_cost": nt_opt.daily_cost,
        "transfer_share": transfer_value(value.daily_cost, opt.daily_cost, nt_opt.daily_cost),
        "transitions": int(transitions), "cpu_seconds": time.process_time() - c0,
    }
