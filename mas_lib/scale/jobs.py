"""Ready-made sweep jobs for decisions: evaluate a baseline policy exactly or by simulation, train
a tabular learner and score it exactly (beyond the paper: sweeps of seeds x instances x settings).

Every job is a top-level function taking small keyword arguments (instance names, policy names,
per-warehouse tuples) and ``seed``, and returning a dict of numbers, so :func:`mas_lib.scale.run_sweep`
can run it anywhere. The exact model and the optimum of a named instance are built once per
process and reused by later jobs in that process (a Dask worker builds them on its first job).

Baselines by name (:data:`BASELINES`), all quantities in units, per warehouse (a tuple) or one
number for all, rounded to the instance's ``round_to``::

    "do nothing"                   --
    "fixed order quantity"         quantity, every=1
    "(s, S)"                       s, S
    "base-stock"                   level
    "forecast base-stock"          safety
    "base-stock + transfer rule"   level, cover=1.0, keep=1.0
    "(s, S) + transfer rule"       s, S, cover=1.0, keep=1.0
"""

from __future__ import annotations

from typing import Any

from ..decide import (
    BaseStock,
    Combined,
    DoNothing,
    FixedOrderQuantity,
    ForecastBaseStock,
    Instance,
    Policy,
    SsPolicy,
    TransferRule,
    best_preset,
    get_instance,
    simulate,
    train,
)
from ..validation import check_choice, check_whole

__all__ = [
    "BASELINES",
    "make_baseline",
    "exact_baseline",
    "simulate_baseline",
    "train_tabular",
    "demo_job",
]

BASELINES = (
    "do nothing",
    "fixed order quantity",
    "(s, S)",
    "base-stock",
    "forecast base-stock",
    "base-stock + transfer rule",
    "(s, S) + transfer rule",
)


def _instance(instance: str | Instance) -> Instance:
    return instance if isinstance(instance, Instance) else get_instance(instance)


def make_baseline(instance: str | Instance, policy: str, **params: Any) -> Policy:
    """The named baseline (one of :data:`BASELINES`) on ``instance`` (a name such as ``"paper"``
    or an :class:`~mas_lib.decide.Instance`) with its parameters in units, rounded to the
    instance's ``round_to``. Unknown names raise naming the known ones. Beyond the paper."""
    inst = _instance(instance)
    check_choice(policy, "policy", BASELINES)
    cfg, u = inst.config, inst.round_to

    def rule(cover: float = 1.0, keep: float = 1.0) -> TransferRule:
        return TransferRule(cfg, cover=cover, keep=keep, round_to=u)

    if policy == "do nothing":
        return DoNothing(cfg, round_to=u, **params)
    if policy == "fixed order quantity":
        return FixedOrderQuantity(cfg, round_to=u, **params)
    if policy == "(s, S)":
        return SsPolicy(cfg, round_to=u, **params)
    if policy == "base-stock":
        return BaseStock(cfg, round_to=u, **params)
    if policy == "forecast base-stock":
        return ForecastBaseStock(cfg, round_to=u, **params)
    transfer = {k: params.pop(k) for k in ("cover", "keep") if k in params}
    if policy == "base-stock + transfer rule":
        return Combined(BaseStock(cfg, round_to=u, **params), rule(**transfer))
    return Combined(SsPolicy(cfg, round_to=u, **params), rule(**transfer))


def _exact(instance: str | Instance):
    """The exact model and optimum, from the one shared cache (:func:`mas_lib.decide.planning.reference`)."""
    from ..decide.planning.reference_cache import reference

    return reference(instance)


def _score(instance: str | Instance, policy: Policy) -> dict[str, float]:
    from ..decide import planning

    model, optimum = _exact(instance)
    value = planning.evaluate_policy(model, planning.SnapToGrid(policy, model))
    return {"daily_cost": value.daily_cost, "average_cost": value.average_cost,
            "gap_pct": planning.gap(value, optimum)}


def exact_baseline(instance: str | Instance, policy: str, seed: int = 0, **params: Any) -> dict[str, float]:
    """Sweep job: the exact value of a baseline (see :data:`BASELINES`) on an instance.

    The policy is snapped to the optimum's action grid and evaluated exactly by
    :func:`mas_lib.decide.planning.evaluate_policy` (no randomness: ``seed`` is accepted and
    ignored). Returns ``daily_cost`` and ``average_cost`` [money/day] and ``gap_pct`` (percent above
    the optimal discounted cost from the start state). Paper sections 4.4-4.5, beyond the paper.
    """
    return _score(instance, make_baseline(instance, policy, **params))


def simulate_baseline(
    instance: str | Instance, policy: str, seed: int = 0, episodes: int = 64, warmup: int = 0, **params: Any
) -> dict[str, float]:
    """Sweep job: simulate a baseline (see :data:`BASELINES`) on ``episodes`` copies of the
    instance with :func:`mas_lib.decide.simulate` (same seed, same numbers).

    Returns the simulation's KPIs: ``daily_cost`` and its 95% half-width ``daily_cost_ci``
    [money/day], ``fill_rate`` (share of demand served), the cost parts [money/day] and
    ``mean_on_hand`` [units]. Paper section 4.5, beyond the paper.
    """
    inst = _instance(instance)
    episodes = check_whole(episodes, "episodes", low=1)
    summary = simulate(inst.config, make_baseline(inst, policy, **params), episodes=episodes, seed=seed,
                       warmup=warmup)
    keep = ("daily_cost", "daily_cost_ci", "fill_rate", "holding_cost", "shortage_cost", "ordering_cost",
            "transport_cost", "mean_on_hand")
    return {k: getattr(summary, k) for k in keep}


def train_tabular(
    instance: str | Instance,
    seed: int = 0,
    steps: int = 20000,
    batch: int = 1024,
    form: str = "central",
    **changes: Any,
) -> dict[str, float]:
    """Sweep job: train a tabular Q-learner (:func:`mas_lib.decide.best_preset` with ``form``,
    ``steps`` days on ``batch`` copies and any other setting in ``changes``) with
    :func:`mas_lib.decide.train`, then evaluate its greedy policy exactly.

    Returns ``daily_cost`` and ``average_cost`` [money/day], ``gap_pct`` (percent above the optimal
    discounted cost from the start state) and ``transitions`` (days x copies simulated). Use
    small ``steps``/``batch`` for quick tries; the defaults are the benchmark's 20 million
    transitions. Paper sections 4.4-4.5, beyond the paper.
    """
    inst = _instance(instance)
    qcfg = best_preset(gamma=inst.gamma, steps=steps, batch=batch, seed=seed, form=form, **changes)
    result = train(inst.config, qcfg, seed=seed)
    return {**_score(instance, result.policy), "transitions": result.steps}


def demo_job(x: float, seed: int = 0, fail_above: float | None = None) -> dict[str, float]:
    """A tiny sweep job for trying the runner (and its tests): draws 1,000 normal numbers with mean
    ``x`` from ``default_rng(seed)`` and returns their ``mean`` and ``std``; raises ``ValueError``
    when ``x > fail_above`` (to show how a failed job is reported). Beyond the paper."""
    import numpy as np

    if fail_above is not None and x > fail_above:
        raise ValueError(f"x = {x!r} is above fail_above = {fail_above!r} (a deliberate failure)")
    draws = np.random.default_rng(seed).normal(x, 1.0, size=1000)
    return {"mean": float(draws.mean()), "std": float(draws.std(ddof=1))}
