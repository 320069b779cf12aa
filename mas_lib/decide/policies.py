"""Policies: one small interface and the classical baselines (paper section 2, 3.1.1).

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

Policies read the network's arrays from ``config.network``. Running them is the job of
:mod:`mas_lib.decide.rollout` (one loop for every policy and learner); tuning them is
:mod:`mas_lib.decide.search`. Notebooks 02, 05, 06 and ``benchmarks/bench_policies.py`` use them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..sim.config import EnvConfig
from ..sim.state import InvalidActionError, SystemState
from ..validation import check_number, check_whole, not_allowed, per_item

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
]


def _per_wh(value, n: int, field: str) -> np.ndarray:
    return per_item(value, n, field, error=ValueError)


def inventory_position(state: SystemState) -> np.ndarray:
    """On hand + on order (pipeline) + inbound transfers - backlog, ``(B, N)`` [units]."""
    return state.on_hand + state.pipeline.sum(axis=2) + state.transit.sum(axis=2) - state.backlog


class Policy(ABC):
    """A decision rule for all warehouses at once.

    Args:
        config: the environment it acts in (policies read lead times, links and limits from it).
        round_to: quantities are rounded to a multiple of this many units (e.g. the stock unit of
            a discretised instance); 1 = whole units.
    """

    name = "policy"

    def __init__(self, config: EnvConfig, round_to: int = 1):
        self.round_to = check_whole(round_to, f"{type(self).__name__}.round_to", low=1, unit="units", error=ValueError)
        self.config = config
        self.net = config.network
        self.N = self.net.N

    @abstractmethod
    def act(self, state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        """Batch form: ``(replenish (B,N), transfer (B,N,N))`` whole units for every copy."""

    def _order(self, q: np.ndarray) -> np.ndarray:
        """Round to ``round_to`` and keep within [0, max_order] (documented, not an error: a target
        of inf orders ``max_order``). A target that is not a number (NaN, e.g. from a NaN forecast)
        raises :class:`InvalidActionError` naming the policy, the warehouse and the copy, instead of
        becoming -2**63 units (which the ``"clip"`` trim turned into 0)."""
        nan = np.isnan(q)
        if nan.any():
            at = tuple(np.argwhere(nan)[0])
            copy = f" (copy {at[0]})" if len(at) == 2 else ""
            raise not_allowed(f"{type(self).__name__}: replenish of warehouse {self.net.names[at[-1]]!r}{copy}",
                              float(q[at]), "a number [units] (check what the order is computed from)",
                              InvalidActionError)
        u = self.round_to
        q = np.rint(np.maximum(q, 0) / u) * u
        cap = (self.net.max_order // u) * u
        return np.minimum(q, cap).astype(np.int64)

    def env_actions(self, env) -> dict[str, dict]:
        """Per-agent form: the action dict for a :class:`MultiWarehouseEnv` in its current state."""
        q, x = self.act(env.core.state())
        names = env.possible_agents
        out = {}
        for i, a in enumerate(names):
            out[a] = {"replenish": int(q[0, i]), "transfer": {names[j]: int(x[0, i, j]) for j in self.net.neighbours[i]}}
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
        self.quantity = _per_wh(quantity, self.N, "FixedOrderQuantity.quantity")
        self.every = check_whole(every, "FixedOrderQuantity.every", low=1, unit="days", error=ValueError)

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
        self.s = _per_wh(s, self.N, "SsPolicy.s")
        self.S = _per_wh(S, self.N, "SsPolicy.S")
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
        self.level = _per_wh(level, self.N, "BaseStock.level")

    def target(self, state: SystemState) -> np.ndarray:
        return np.broadcast_to(self.level, state.on_hand.shape)

    def act(self, state):
        q = self.target(state) - inventory_position(state)
        return self._order(q), np.zeros((state.batch_size, self.N, self.N), dtype=np.int64)

    def describe(self):
        return f"level={self.level.tolist()}"


class ForecastBaseStock(BaseStock):
    """Base-stock whose level follows the forecast: ``mean forecast * (lead time + 1) + safety``.

    ``safety`` [units] is the buffer against forecast error over the lead time;
    :func:`mas_lib.forecast.safety_stock` turns a forecaster's errors into it.
    """

    name = "forecast base-stock"

    def __init__(self, config: EnvConfig, safety=0.0, round_to: int = 1):
        super().__init__(config, level=0.0, round_to=round_to)
        self.safety = _per_wh(safety, self.N, "ForecastBaseStock.safety")

    def target(self, state):
        daily = state.forecast.mean(axis=1)  # (B, N)
        return daily * (self.net.lead_time + 1) + self.safety

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
        self.cover = check_number(cover, "TransferRule.cover", low=0, unit="days", error=ValueError)
        self.keep = check_number(keep, "TransferRule.keep", low=0, unit="days", error=ValueError)
        self.min_shipment = check_whole(min_shipment, "TransferRule.min_shipment", unit="units", error=ValueError)

    def transfers(self, state: SystemState, replenish: np.ndarray | None = None) -> np.ndarray:
        """Transfers ``(B,N,N)`` given today's replenishment (same-day receipts can be shipped)."""
        B, N, u = state.batch_size, self.N, self.round_to
        nan = np.isnan(state.forecast[:, 0, :])
        if nan.any():  # (else every comparison with it is False: no transfer, silently)
            b, i = np.argwhere(nan)[0]
            raise not_allowed(f"TransferRule: forecast of warehouse {self.net.names[i]!r} (copy {b})", float("nan"),
                              "a number [units/day]", InvalidActionError)
        on_hand = self.net.available(state.on_hand, np.zeros((B, N)) if replenish is None else replenish)
        f0 = state.forecast[:, 0, :]
        need = np.maximum(self.cover * f0 - on_hand - state.transit.sum(axis=2), 0)
        surplus = np.maximum(on_hand - self.keep * f0, 0)
        x = np.zeros((B, N, N), dtype=np.int64)
        for j in range(N):
            donors = np.flatnonzero(self.net.arc[:, j])
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
