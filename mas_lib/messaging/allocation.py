"""Allocation from a hub with limited supply (paper 3.1.1(2); notebook 07, ``bench_coordination.py``).

A hub -- the UK warehouse feeding overseas ones, in the cross-border case -- has fewer units than
its warehouses would like. Four rules split the supply ``S`` [units] among ``K`` warehouses with
inventory positions ``y_i`` [units], expected demand ``mu_i`` over the period [units] and lost-sale
penalties ``p_i`` [money/unit] (holding ``h_i`` [money/unit-period]):

* ``"proportional"`` -- to the forecast: ``S * mu_i / sum mu`` (blind to who already has stock);
* ``"fair_share"``   -- equal days of cover: each unit goes to the warehouse with the fewest days
  of cover ``(y_i + a_i) / mu_i`` (water filling);
* ``"penalty"``      -- by shortage penalty: the warehouse with the highest ``p_i`` is filled to
  its need first, then the next;
* ``"optimal"``      -- marginal analysis (newsvendor): each chunk of units goes where it lowers
  the expected one-period cost ``h E(y-D)^+ + p E(D-y)^+`` most, stopping when no chunk helps.
  For this separable convex cost the greedy allocation is exactly optimal, which
  :func:`exact_allocation` (enumerating every split) confirms.

Demand over the period is Poisson. :func:`hub_network` (built in :mod:`mas_lib.sim.scenarios`
and re-exported here) is a 5-warehouse simulation of the cross-border case and
:class:`HubAllocation` plays a rule in it (the hub sends one
:class:`~mas_lib.messaging.AllocationPlan` per warehouse and day).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from ..decide.policies import Policy
from ..sim.config import EnvConfig
from ..sim.scenarios import hub_network
from ..validation import check_choice, check_number, check_whole, not_allowed, per_item
from .bus import MessageBus
from .messages import AllocationPlan

__all__ = ["RULES", "allocate", "expected_cost", "exact_allocation", "allocation_study", "hub_network",
           "HubAllocation"]

RULES = ("proportional", "fair_share", "penalty", "optimal")


def expected_cost(position, mean, holding, penalty) -> np.ndarray:
    """Expected one-period cost ``h E(y-D)^+ + p E(D-y)^+`` per warehouse [money], ``D ~ Poisson(mean)``,
    for positions ``y`` [units] (arrays broadcast). Notebook 07."""
    y = np.asarray(position, dtype=float)
    mu = np.broadcast_to(np.asarray(mean, dtype=float), y.shape)
    # E(D - y)^+ = mu P(D >= y) - y P(D >= y + 1) for Poisson
    short = mu * stats.poisson.sf(y - 1, mu) - y * stats.poisson.sf(y, mu)
    over = y - mu + short
    return np.asarray(holding) * over + np.asarray(penalty) * short


def _positions(position) -> np.ndarray:
    """Inventory positions ``(K,)`` [units]: one finite number per warehouse (negative allowed: a
    backlog), the error naming the warehouse's index and value otherwise."""
    try:
        ok = np.ndim(position) == 1 and np.size(position) > 0
    except ValueError:  # a ragged list
        ok = False
    if not ok:
        raise not_allowed("allocate.position", position, "one number per warehouse [units]", ValueError)
    return np.array([check_number(v, f"allocate.position[{k}]", unit="units", error=ValueError)
                     for k, v in enumerate(position)])


def _check(supply, position, mean, holding, penalty, unit):
    supply = check_whole(supply, "allocate.supply", unit="units", error=ValueError)
    unit = check_whole(unit, "allocate.unit", low=1, unit="units", error=ValueError)
    y = _positions(position)
    K = y.size
    mu = per_item(mean, K, "allocate.mean", error=ValueError)
    if np.any(mu <= 0):
        raise ValueError(f"allocate.mean = {mu.tolist()} is not allowed; allowed: numbers > 0 [units]")
    h = per_item(holding, K, "allocate.holding", error=ValueError)
    p = per_item(penalty, K, "allocate.penalty", error=ValueError)
    return supply, y, mu, h, p, unit


def allocate(rule: str, supply: int, position, mean, holding=1.0, penalty=10.0, unit: int = 1,
             cover: float = 1.0) -> np.ndarray:
    """Split ``supply`` units among the warehouses by ``rule`` (one of :data:`RULES`) in chunks of
    ``unit`` units; returns the allocation ``(K,)`` [units], never more than ``supply`` in total.
    ``cover`` [periods] sets the *need* ``cover * mean - position`` that fair share and penalty
    fill. Notebook 07; paper 3.1.1(2)."""
    check_choice(rule, "allocate.rule", RULES)
    supply, y, mu, h, p, u = _check(supply, position, mean, holding, penalty, unit)
    K = y.size
    a = np.zeros(K)
    chunks = supply // u
    if rule == "proportional":
        share = np.floor(supply * mu / mu.sum() / u) * u
        left = supply - share.sum()
        frac = supply * mu / mu.sum() - share
        for k in np.argsort(-frac, kind="stable")[: int(left // u)]:
            share[k] += u
        return share.astype(np.int64)
    if rule == "optimal":
        return _marginal(supply, y, mu, h, p, u)
    need = np.maximum(cover * mu - y, 0)
    for _ in range(chunks):
        if rule == "fair_share":
            open_ = need - a > 0
            if not open_.any():
                break
            k = int(np.argmin(np.where(open_, (y + a) / mu, np.inf)))
        else:
            open_ = need - a > 0
            if not open_.any():
                break
            k = int(np.lexsort((-(need - a), -p * open_))[0])
        a[k] += u
    return a.astype(np.int64)


def _marginal(supply, y, mu, h, p, u) -> np.ndarray:
    """Greedy marginal analysis, all chunks at once: the cost change of each warehouse's ``k``-th
    extra chunk increases with ``k`` (convex cost), so the greedy picks are the ``supply / u``
    smallest negative changes, a prefix per warehouse."""
    n = supply // u
    if n == 0:
        return np.zeros(y.size, dtype=np.int64)
    levels = y[:, None] + u * np.arange(n + 1)[None, :]
    cost = expected_cost(levels, mu[:, None], h[:, None], p[:, None])
    gain = np.diff(cost, axis=1).ravel()
    order = np.argsort(gain, kind="stable")[:n]
    order = order[gain[order] < 0]
    return (np.bincount(order // n, minlength=y.size) * u).astype(np.int64)


def exact_allocation(supply: int, position, mean, holding=1.0, penalty=10.0, unit: int = 1) -> tuple[np.ndarray, float]:
    """The exactly optimal split (every allocation in chunks of ``unit`` with total <= supply is
    enumerated): ``(allocation (K,) [units], expected cost [money])``. For small instances (the
    number of splits grows like ``(S/unit)^K / K!``). Notebook 07."""
    supply, y, mu, h, p, u = _check(supply, position, mean, holding, penalty, unit)
    K, n = y.size, supply // u
    if (n + 1) ** K > 2_000_000:
        raise ValueError(f"exact_allocation: {(n + 1) ** K} splits is not allowed; allowed: at most 2,000,000 "
                         "(use a larger unit or fewer warehouses)")
    grid = np.array([c for c in itertools.product(range(n + 1), repeat=K) if sum(c) <= n]) * u
    cost = expected_cost(y + grid, mu, h, p).sum(axis=1)
    k = int(np.argmin(cost))
    return grid[k].astype(np.int64), float(cost[k])


def allocation_study(supply: int, position, mean, holding=1.0, penalty=10.0, unit: int = 1) -> pd.DataFrame:
    """Every rule against the exact optimum on one instance: allocation, expected cost [money] and gap
    [% of the optimal expected cost]. Notebook 07."""
    best, opt = exact_allocation(supply, position, mean, holding, penalty, unit)
    rows = []
    for rule in RULES:
        a = allocate(rule, supply, position, mean, holding, penalty, unit)
        c = float(expected_cost(np.asarray(position, float) + a, mean, holding, penalty).sum())
        rows.append({"rule": rule, "allocation": a.tolist(), "expected_cost": c, "gap_pct": 100 * (c - opt) / opt})
    rows.append({"rule": "exact optimum", "allocation": best.tolist(), "expected_cost": opt, "gap_pct": 0.0})
    return pd.DataFrame(rows)


class HubAllocation(Policy):
    """The hub orders its full daily supply and ships its stock to the overseas warehouses by an
    allocation ``rule`` (:data:`RULES`), each warehouse's period being the link's lead time plus one
    day; one :class:`AllocationPlan` per warehouse and day goes through a logged bus (copy 0).
    Needs a network built like :func:`hub_network` (hub = warehouse 0). Notebook 07."""

    name = "hub allocation"

    def __init__(self, config: EnvConfig, rule: str = "optimal", cover: float = 1.0, unit: int = 5):
        super().__init__(config)
        self.unit = check_whole(unit, "HubAllocation.unit", low=1, unit="units", error=ValueError)
        self.rule = check_choice(rule, "HubAllocation.rule", RULES)
        self.cover = check_number(cover, "HubAllocation.cover", low=0, unit="periods", error=ValueError)
        self.name = f"hub allocation ({rule})"
        net = self.net
        self.targets = [j for j in net.neighbours[0]]
        self.period = np.array([net.arc_lead_time[0, j] + 1 for j in self.targets], dtype=float)
        self.bus = MessageBus(list(net.names))

    def act(self, state):
        net, B = self.net, state.batch_size
        if int(state.t) == 0:
            self.bus.reset()
        q = np.zeros((B, self.N), dtype=np.int64)
        q[:, 0] = net.max_order[0]
        x = np.zeros((B, self.N, self.N), dtype=np.int64)
        idx = np.array(self.targets)
        mean = state.forecast[:, 0, idx] * self.period
        pos = state.on_hand[:, idx] + state.transit[:, idx, :].sum(axis=2)
        supply = net.available(state.on_hand, q)[:, 0]
        for b in range(B):
            a = allocate(self.rule, int(supply[b]), pos[b], np.maximum(mean[b], 1e-9), net.holding_cost[idx],
                         net.shortage_cost[idx], self.unit, self.cover)
            x[b, 0, idx] = a
            if b == 0:
                for j, units in zip(idx, a, strict=True):
                    self.bus.send(AllocationPlan("UK" if net.names[0] == "UK" else net.names[0], net.names[j],
                                                 int(state.t), order=0, transfers=((net.names[j], int(units)),)))
        return q, x

    def describe(self) -> str:
        return f"rule={self.rule}"
