"""The four problems of traditional inventory management (paper section 2), made measurable.

Section 2 lists (1) lack of flexibility, (2) insufficient information, (3) single-agent decisions
and (4) inventory risk. Each function here builds a small experiment in the environment that
makes one problem visible and returns tidy pandas frames for notebook 01 to plot. Every function
takes a ``seed``; the same seed gives the same numbers. Stock is in units, costs in money. The
networks themselves (:func:`two_warehouses` and one configuration per problem) live in
:mod:`mas_lib.sim.scenarios`; ``two_warehouses`` is re-exported here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..decide.policies import (
    BaseStock,
    Combined,
    FixedOrderQuantity,
    ForecastBaseStock,
    TransferRule,
)
from ..decide.rollout import compare, simulate, trajectory
from ..sim.scenarios import (
    flexibility_config,
    information_config,
    risk_tradeoff_config,
    single_vs_joint_config,
    two_warehouses,
)

__all__ = [
    "TUNING_STREAM",
    "two_warehouses",
    "flexibility",
    "information",
    "single_vs_joint",
    "risk_tradeoff",
]

#: Seed words appended to ``seed`` for the demand paths a policy is *tuned* on: tuning runs on
#: ``(seed, *TUNING_STREAM)``, evaluation on ``seed``. Not ``(seed, 1)``: numpy pads seed words with
#: zeros, so copy 0 of ``(seed, 1)`` -- words ``[seed, 1, 0]`` -- would draw the very same demand
#: as copy 1 of ``seed`` -- words ``[seed, 1]`` -- and one tuning path would be an evaluation path.
TUNING_STREAM = (1, 1)


def flexibility(shift_day: int = 30, before: float = 80.0, after: float = 120.0, seed: int = 0):
    """Problem (1): a fixed order quantity tuned to the old demand, after demand jumps.

    Demand at A and B is ``before`` units/day until ``shift_day`` [day] and ``after`` from then
    on. Returns ``(config, trajectories, kpis)``: one episode per policy as a tidy frame (for
    plots) and the KPI table over 200 episodes (daily costs in money/day). Notebook 01; paper
    section 2, problem (1).
    """
    cfg = flexibility_config(shift_day, before, after)
    policies = {
        "fixed order (tuned to old demand)": FixedOrderQuantity(cfg, quantity=before),
        "forecast base-stock": ForecastBaseStock(cfg, safety=2.0 * np.sqrt(2 * after)),
    }
    traj = pd.concat([trajectory(cfg, p, seed=seed).assign(policy=n) for n, p in policies.items()], ignore_index=True)
    return cfg, traj, compare(cfg, policies, seed=seed)


def information(seed: int = 0, amplitude: float = 0.5):
    """Problem (2): deciding without the forecast.

    Demand follows a weekly pattern (mean 100 units/day, +/- ``amplitude`` as a fraction). A
    base-stock level fixed for the *average* day (tuned by search) is compared with a base-stock
    level that follows the forecast. Both are tuned on 100 demand paths of their own (seed
    ``(seed, *TUNING_STREAM)``) and compared on 200 fresh ones (seed ``seed``): no tuning path is
    an evaluation path. Returns ``(config, kpis)`` (daily costs in money/day). Notebook 01; paper
    section 2, problem (2).
    """
    cfg = information_config(amplitude)
    levels = np.arange(180, 420, 20)
    tune = (seed, *TUNING_STREAM)
    costs = [simulate(cfg, BaseStock(cfg, level=float(lv)), episodes=100, seed=tune).daily_cost for lv in levels]
    best = float(levels[int(np.argmin(costs))])
    safeties = np.arange(0, 80, 10)
    costs_f = [simulate(cfg, ForecastBaseStock(cfg, safety=float(s)), episodes=100, seed=tune).daily_cost
               for s in safeties]
    best_s = float(safeties[int(np.argmin(costs_f))])
    policies = {
        f"best fixed level ({best:.0f} units), no forecast": BaseStock(cfg, level=best),
        f"forecast base-stock (safety {best_s:.0f} units)": ForecastBaseStock(cfg, safety=best_s),
    }
    return cfg, compare(cfg, policies, seed=seed)


def single_vs_joint(seed: int = 0, lead_time: int = 5):
    """Problem (3): each warehouse alone versus both together.

    A misallocated shipment left A with 50 units and B with 1,000 (capacity 1,200 each); both see
    Poisson demand of 100 units/day, so together they hold enough for the ``lead_time`` days
    before any new order can arrive. A transfer between A and B arrives the same day (0.5
    money/unit). Alone, A can only order and wait while B sits on surplus; together, B ships its
    surplus to A. Returns ``(config, trajectories, kpis)`` (daily costs in money/day, 200
    episodes). Notebook 01; paper section 2, problem (3).
    """
    cfg = single_vs_joint_config(lead_time)
    alone = ForecastBaseStock(cfg, safety=20.0)
    policies = {
        "each warehouse alone": alone,
        "together: same orders + transfers": Combined(alone, TransferRule(cfg, cover=1.0, keep=1.0)),
    }
    traj = pd.concat([trajectory(cfg, p, seed=seed).assign(policy=n) for n, p in policies.items()], ignore_index=True)
    return cfg, traj, compare(cfg, policies, seed=seed)


def risk_tradeoff(safety: np.ndarray | None = None, seed: int = 0, episodes: int = 200) -> pd.DataFrame:
    """Problem (4): the trade-off between stock held and stock-outs.

    Sweeps the safety stock of a forecast base-stock policy (lead time 2) and returns one row per
    level [units]: mean stock on hand [units], fill rate, lost-sale, holding and total cost
    [money/day], over ``episodes`` episodes of 60 days (the first 5 not counted). Notebook 01;
    paper section 2, problem (4).
    """
    safety = np.arange(0, 121, 10) if safety is None else np.asarray(safety)
    cfg = risk_tradeoff_config()
    rows = []
    for s in safety:
        r = simulate(cfg, ForecastBaseStock(cfg, safety=float(s)), episodes=episodes, seed=seed, warmup=5)
        rows.append({"safety_stock": float(s), "mean_on_hand": r.mean_on_hand, "fill_rate": r.fill_rate,
                     "holding_cost": r.holding_cost, "shortage_cost": r.shortage_cost, "daily_cost": r.daily_cost})
    return pd.DataFrame(rows)
