"""Policies: one small interface, classical baselines, simulation and parameter search.

Every policy has a **batch form** -- :meth:`Policy.act` maps a :class:`mas_lib.sim.core.SystemState`
of B copies to ``(replenish (B,N), transfer (B,N,N))`` in units -- and a **per-agent form** --
:meth:`Policy.env_actions` returns the action dict that :class:`mas_lib.sim.env.MultiWarehouseEnv`
takes. The exact planner (:mod:`mas_lib.decide.planning`) evaluates any policy by calling ``act`` once
on all of its states; learners (:mod:`mas_lib.decide.tabular`) implement the same interface.

Baselines (paper section 2 criticises the first; the others are the textbook answers):

* :class:`FixedOrderQuantity` -- order the same quantity every ``every`` days, whatever happens.
* :class:`SsPolicy` -- if the inventory position is at or below ``s``, order up to ``S``.
* :class:`BaseStock` -- order up to a level every day; :class:`ForecastBaseStock` sets the level
  from the forecast over the lead time plus a safety stock.
* :class:`TransferRule` -- rebalance: ship from a warehouse with surplus to a neighbour that is
  projected to run out.
* :class:`Combined` -- a replenishment policy plus a transfer rule.

Notebooks 01, 02, 05, 06 and ``benchmarks/bench_policies.py`` use them.
"""

from __future__ import annotations

import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..sim.config import EnvConfig
from ..sim.core import BatchCore, SystemState

__all__ = [
    "Policy",
    "DoNothing",
    "FixedOrderQuantity",
    "SsPolicy",
    "BaseStock",
    "ForecastBaseStock",
    "TransferRule",
    "Combined",
    "inventory_position",
    "simulate",
    "trajectory",
    "grid_search",
    "SimulationSummary",
]


def _per_warehouse(value, n: int, field: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{field} must be finite numbers (one per warehouse or one for all); got {value!r}")
    return arr


def inventory_position(state: SystemState) -> np.ndarray:
    """On hand + on order (pipeline) + inbound transfers - backlog, ``(B, N)`` [units]."""
    return state.on_hand + state.pipeline.sum(axis=2) + state.transit.sum(axis=2) - state.backlog


class Policy(ABC):
    """A decision rule for all warehouses at once.

    Args:
        config: the environment it acts in (policies read lead times, links and limits from it).
        round_to: quantities are rounded to a multiple of this many units (e.g. the stock unit of
            a discretised instance in notebook 06); 1 = whole units.
    """

    name = "policy"

    def __init__(self, config: EnvConfig, round_to: int = 1):
        if int(round_to) != round_to or round_to < 1:
            raise ValueError(f"round_to must be a whole number of units >= 1; got {round_to!r}")
        self.config = config
        self.round_to = int(round_to)
        self.N = len(config.warehouses)
        self.lead = np.array([w.lead_time for w in config.warehouses])
        self.capacity = np.array([w.capacity for w in config.warehouses])
        self.max_order = np.array([w.max_order for w in config.warehouses])
        self.holding = np.array([w.holding_cost for w in config.warehouses], dtype=float)
        links = config.link_arrays()
        self.arc, self.arc_cost = links["arc"], links["unit_cost"]

    @abstractmethod
    def act(self, state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        """Batch form: ``(replenish (B,N), transfer (B,N,N))`` whole units for every copy."""

    def _order(self, q: np.ndarray) -> np.ndarray:
        """Round to ``round_to`` and keep within [0, max_order] (documented, not an error)."""
        u = self.round_to
        q = np.rint(np.maximum(q, 0) / u) * u
        cap = (self.max_order // u) * u
        return np.minimum(q, cap).astype(np.int64)

    def env_actions(self, env) -> dict[str, dict]:
        """Per-agent form: the action dict for a :class:`MultiWarehouseEnv` in its current state."""
        q, x = self.act(env.core.state())
        names = env.possible_agents
        out = {}
        for i, a in enumerate(names):
            out[a] = {"replenish": int(q[0, i]), "transfer": {names[j]: int(x[0, i, j]) for j in env.core.neighbours[i]}}
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"

    def describe(self) -> str:
        """A one-line description of the settings (used in tables)."""
        return ""


class DoNothing(Policy):
    """Never order, never ship: the reference for "what the initial stock alone achieves"."""

    name = "do nothing"

    def act(self, state):
        B = state.batch_size
        return np.zeros((B, self.N), dtype=np.int64), np.zeros((B, self.N, self.N), dtype=np.int64)


class FixedOrderQuantity(Policy):
    """The "traditional" static rule of paper section 2(1): order ``quantity`` units every
    ``every`` days (day 0, every, 2*every, ...), ignoring stock, forecast and neighbours."""

    name = "fixed order quantity"

    def __init__(self, config: EnvConfig, quantity, every: int = 1, round_to: int = 1):
        super().__init__(config, round_to)
        self.quantity = _per_warehouse(quantity, self.N, "FixedOrderQuantity.quantity")
        if int(every) != every or every < 1:
            raise ValueError(f"FixedOrderQuantity.every must be a whole number of days >= 1; got {every!r}")
        self.every = int(every)

    def act(self, state):
        B = state.batch_size
        q = np.tile(self._order(self.quantity), (B, 1)) if state.t % self.every == 0 else np.zeros((B, self.N))
        return q.astype(np.int64), np.zeros((B, self.N, self.N), dtype=np.int64)

    def describe(self):
        return f"Q={self.quantity.tolist()}, every={self.every}"


class SsPolicy(Policy):
    """(s, S): when the inventory position is at or below ``s``, order up to ``S`` [units]."""

    name = "(s, S)"

    def __init__(self, config: EnvConfig, s, S, round_to: int = 1):
        super().__init__(config, round_to)
        self.s = _per_warehouse(s, self.N, "SsPolicy.s")
        self.S = _per_warehouse(S, self.N, "SsPolicy.S")
        if np.any(self.S < self.s):
            raise ValueError(f"SsPolicy needs S >= s for every warehouse; got s={self.s.tolist()}, S={self.S.tolist()}")

    def act(self, state):
        pos = inventory_position(state)
        q = np.where(pos <= self.s, self.S - pos, 0)
        return self._order(q), np.zeros((state.batch_size, self.N, self.N), dtype=np.int64)

    def describe(self):
        return f"s={self.s.tolist()}, S={self.S.tolist()}"


class BaseStock(Policy):
    """Order-up-to: every day order ``level - inventory position`` (if positive) [units]."""

    name = "base-stock"

    def __init__(self, config: EnvConfig, level, round_to: int = 1):
        super().__init__(config, round_to)
        self.level = _per_warehouse(level, self.N, "BaseStock.level")

    def target(self, state: SystemState) -> np.ndarray:
        return np.broadcast_to(self.level, state.on_hand.shape)

    def act(self, state):
        q = self.target(state) - inventory_position(state)
        return self._order(q), np.zeros((state.batch_size, self.N, self.N), dtype=np.int64)

    def describe(self):
        return f"level={self.level.tolist()}"


class ForecastBaseStock(BaseStock):
    """Base-stock whose level follows the forecast: ``mean forecast * (lead time + 1) + safety``.

    ``safety`` [units] is the buffer against forecast error over the lead time; notebook 04
    shows how a forecaster's errors translate into it.
    """

    name = "forecast base-stock"

    def __init__(self, config: EnvConfig, safety=0.0, round_to: int = 1):
        super().__init__(config, level=0.0, round_to=round_to)
        self.safety = _per_warehouse(safety, self.N, "ForecastBaseStock.safety")

    def target(self, state):
        daily = state.forecast.mean(axis=1)  # (B, N)
        return daily * (self.lead + 1) + self.safety

    def describe(self):
        return f"safety={self.safety.tolist()}"


class TransferRule(Policy):
    """Rebalancing (paper section 3.1.1(3)): ship stock to a neighbour projected to run out.

    A warehouse's *need* is ``cover * forecast_today - (on hand + inbound)`` and its *surplus*
    ``on hand - keep * forecast_today``; each needy warehouse receives up to its need from
    neighbours with surplus (largest surplus first), never below ``min_shipment`` units.
    """

    name = "transfer rule"

    def __init__(self, config: EnvConfig, cover: float = 1.0, keep: float = 1.0, min_shipment: int = 1, round_to: int = 1):
        super().__init__(config, round_to)
        if cover < 0 or keep < 0:
            raise ValueError(f"TransferRule.cover and keep must be >= 0 days; got cover={cover}, keep={keep}")
        self.cover, self.keep, self.min_shipment = float(cover), float(keep), int(min_shipment)

    def transfers(self, state: SystemState, replenish: np.ndarray | None = None) -> np.ndarray:
        """Transfers ``(B,N,N)`` given today's replenishment (same-day receipts can be shipped)."""
        B, N, u = state.batch_size, self.N, self.round_to
        same_day = np.zeros((B, N)) if replenish is None else np.where(self.lead == 0, replenish, 0)
        on_hand = np.minimum(state.on_hand + same_day, self.capacity)
        f0 = state.forecast[:, 0, :]
        need = np.maximum(self.cover * f0 - on_hand - state.transit.sum(axis=2), 0)
        surplus = np.maximum(on_hand - self.keep * f0, 0)
        x = np.zeros((B, N, N), dtype=np.int64)
        for j in range(N):
            donors = np.flatnonzero(self.arc[:, j])
            if donors.size == 0:
                continue
            order = donors[np.argsort(-surplus[:, donors], axis=1)]
            remaining = need[:, j].copy()
            for k in range(donors.size):
                i = order[:, k]
                send = np.minimum(remaining, surplus[np.arange(B), i])
                send = np.floor(send / u) * u
                send = np.where(send >= self.min_shipment, send, 0).astype(np.int64)
                x[np.arange(B), i, j] += send
                surplus[np.arange(B), i] -= send
                remaining -= send
        return x

    def act(self, state):
        return np.zeros((state.batch_size, self.N), dtype=np.int64), self.transfers(state)

    def describe(self):
        return f"cover={self.cover}, keep={self.keep}"


class Combined(Policy):
    """A replenishment policy plus a :class:`TransferRule` (transfers see today's orders)."""

    def __init__(self, replenish: Policy, transfer: TransferRule):
        super().__init__(replenish.config, replenish.round_to)
        self.replenish, self.transfer = replenish, transfer
        self.name = f"{replenish.name} + transfers"

    def act(self, state):
        q, _ = self.replenish.act(state)
        return q, self.transfer.transfers(state, q)

    def describe(self):
        return f"{self.replenish.describe()}; {self.transfer.describe()}"


# ----------------------------------------------------------------- simulation
@dataclass
class SimulationSummary:
    """Key performance indicators of a policy over B simulated episodes.

    ``daily_cost`` is the mean total cost per day [money/day] with ``daily_cost_ci`` the
    half-width of its 95% confidence interval across episodes; ``fill_rate`` is units served /
    units demanded over all days and warehouses; the ``*_cost`` entries are per day [money/day].
    """

    policy: str
    daily_cost: float
    daily_cost_ci: float
    fill_rate: float
    holding_cost: float
    shortage_cost: float
    ordering_cost: float
    transport_cost: float
    mean_on_hand: float
    episodes: int
    days: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def simulate(
    config: EnvConfig,
    policy: Policy,
    episodes: int = 256,
    seed: int = 0,
    warmup: int = 0,
) -> SimulationSummary:
    """Run ``policy`` on ``episodes`` copies of ``config`` at once (batch core) and summarise.

    ``warmup`` days at the start are simulated but not counted (to measure steady state).
    Same ``seed`` -> same numbers. Used by notebooks 01, 02, 06 and the benchmarks.
    """
    core = BatchCore(config, batch_size=episodes)
    core.reset(seed=seed)
    cost = np.zeros(episodes)
    parts = {k: 0.0 for k in ("holding_cost", "shortage_cost", "ordering_cost", "transport_cost")}
    served = demand = on_hand = 0.0
    days = 0
    while not core.done:
        q, x = policy.act(core.state())
        r = core.step(q, x)
        if core.t <= warmup:
            continue
        days += 1
        cost += r.total_cost.sum(axis=1)
        for k in parts:
            parts[k] += float(getattr(r, k).sum())
        served += float(r.served.sum())
        demand += float(r.demand.sum())
        on_hand += float(r.on_hand.sum())
    if days == 0:
        raise ValueError(f"warmup={warmup} leaves no day to measure in an episode of {config.episode_length} days")
    per_day = cost / days
    ci = 1.96 * per_day.std(ddof=1) / np.sqrt(episodes) if episodes > 1 else float("nan")
    norm = episodes * days
    return SimulationSummary(
        policy=f"{policy.name} ({policy.describe()})" if policy.describe() else policy.name,
        daily_cost=float(per_day.mean()),
        daily_cost_ci=float(ci),
        fill_rate=served / demand if demand > 0 else 1.0,
        holding_cost=parts["holding_cost"] / norm,
        shortage_cost=parts["shortage_cost"] / norm,
        ordering_cost=parts["ordering_cost"] / norm,
        transport_cost=parts["transport_cost"] / norm,
        mean_on_hand=on_hand / norm,
        episodes=episodes,
        days=days,
    )


def trajectory(config: EnvConfig, policy: Policy, seed: int = 0) -> pd.DataFrame:
    """One episode as a tidy frame: a row per day and warehouse with stock, demand, sales, lost
    sales, orders, transfers and every cost (units and money). For plots in notebooks 01, 02."""
    core = BatchCore(config, batch_size=1)
    core.reset(seed=seed)
    rows = []
    names = config.names
    while not core.done:
        start = core.on_hand[0].copy()
        q, x = policy.act(core.state())
        r = core.step(q, x)
        for i, n in enumerate(names):
            rows.append({
                "day": core.t - 1, "warehouse": n, "start_stock": int(start[i]),
                "replenish": int(r.ordered[0, i]), "transfer_out": int(r.shipped_out[0, i]),
                "transfer_in": int(r.received_transfers[0, i]), "demand": int(r.demand[0, i]),
                "sales": int(r.sales[0, i]), "lost": int(r.lost[0, i]), "end_stock": int(r.on_hand[0, i]),
                "holding_cost": float(r.holding_cost[0, i]), "shortage_cost": float(r.shortage_cost[0, i]),
                "ordering_cost": float(r.ordering_cost[0, i]), "transport_cost": float(r.transport_cost[0, i]),
                "total_cost": float(r.total_cost[0, i]), "fill_rate": float(r.fill_rate[0, i]),
            })
    return pd.DataFrame(rows)


def grid_search(
    make_policy: Callable[..., Policy],
    grid: Mapping[str, Sequence],
    evaluate: Callable[[Policy], float],
) -> pd.DataFrame:
    """Try every combination of ``grid`` (name -> values) and score it with ``evaluate``
    (lower is better, e.g. the simulated or exact daily cost). Returns a frame sorted best first
    with a ``score`` and ``seconds`` column; ``frame.attrs["best"]`` is the best policy.
    Used to tune every baseline for an instance (notebook 06, ``bench_policies.py``)."""
    keys = list(grid)
    if not keys:
        raise ValueError("grid_search needs at least one parameter to vary")
    rows, best, best_score = [], None, np.inf
    for combo in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, combo, strict=True))
        t0 = time.perf_counter()
        pol = make_policy(**params)
        score = float(evaluate(pol))
        rows.append({**params, "score": score, "seconds": time.perf_counter() - t0})
        if score < best_score:
            best, best_score = pol, score
    frame = pd.DataFrame(rows).sort_values("score", kind="stable").reset_index(drop=True)
    frame.attrs["best"] = best
    return frame
