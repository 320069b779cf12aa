r"""The exact optimum by dynamic programming, and exact evaluation of any policy (notebook 06).

The paper (sections 3.1.2, 4.4-4.5) trains warehouse agents with tabular Q-learning but never
says how good the learned policy is. For a discretised instance (:mod:`mas_lib.decide.instances`) this
module builds the *exact* Markov decision process behind :class:`mas_lib.sim.core.BatchCore`, solves
it by value iteration and policy iteration, and evaluates any :class:`mas_lib.decide.policies.Policy`
exactly by solving a linear system -- so every policy gets a gap to the optimum that carries no
simulation noise.

**Model** (the same order of events as :mod:`mas_lib.sim.core`): the decision-time state is the
on-hand stock of every warehouse plus, for a replenishment lead time ``L >= 2``, the ``L - 1``
live pipeline slots (an order with ``L = 1`` has already arrived by the next decision). An
action is one replenishment level from ``order_grid`` per warehouse and one transfer level from
``transfer_grid`` per link direction, indexed exactly as :meth:`BatchCore.decode_discrete` does
(joint index: warehouse 0 most significant). Same-day receipts, transfers, overflow above
capacity, lost sales and every cost term (holding on closing stock, lost-sale penalty, ordering
fixed + per unit, transport per unit + fixed) follow ``BatchCore.step`` line by line.
Supported: lost sales, any replenishment lead time, transfer lead times 0 or 1, a
:class:`~mas_lib.sim.demand.DiscreteIIDDemand`. Not supported (a clear
:class:`UnsupportedConfigError`): backorders, transfer lead times >= 2, goods in transit or
open requests at the start.

**Criterion.** ``cost`` everywhere means the expected *discounted* total cost from the
instance's start state, :math:`v^\pi(s_0) = E[\sum_t \gamma^t c_t]`, reported per day as
:math:`(1-\gamma)\, v^\pi(s_0)` [money/day]. The **gap** of a policy is
:math:`100\,(v^\pi(s_0) - v^*(s_0)) / v^*(s_0)` percent, never negative for a policy on the model's action grids
(:math:`v^*` is optimal in every state). The long-run average cost per day is reported alongside.

**Size.** With ``O_i = capacity_i / unit + 1`` stock levels, ``K`` order levels and ``T``
transfer levels, there are :math:`S = \prod_i O_i K^{\max(L_i-1,0)}` states and
:math:`A = \prod_i K\,T^{m_i}` joint actions (``m_i`` = neighbours of ``i``); the model stores
three ``S x A`` arrays (17 bytes per pair) and each Bellman sweep touches every pair. Measured on
2 shared cores: the two instances (546 states x 1,936 actions = 1.06 M pairs) build in about
1 s, policy iteration takes 0.1-0.3 s and value iteration 1-3 s; with 10-unit order and transfer
grids (546 x 21,609 = 11.8 M pairs) the build takes ~9 s, policy iteration ~1 s and value
iteration ~22 s. Each extra day of replenishment lead time multiplies ``S`` by ``K``, each extra
warehouse multiplies both counts -- exact DP is for small, carefully discretised instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...sim.config import EnvConfig
from ...sim.demand import DiscreteIIDDemand
from ...sim.network import Network
from ...sim.state import SystemState
from ..policies import (
    BaseStock,
    Combined,
    FixedOrderQuantity,
    ForecastBaseStock,
    Policy,
    SsPolicy,
    TransferRule,
)
from ..search import grid_search

if TYPE_CHECKING:
    from ..instances import Instance

__all__ = [
    "UnsupportedConfigError",
    "NotRepresentableError",
    "MDPModel",
    "Solution",
    "PolicyValue",
    "TabularPolicy",
    "build_model",
    "model_for",
    "value_iteration",
    "policy_iteration",
    "evaluate_policy",
    "evaluate_actions",
    "expected_episode_cost",
    "gap",
    "SnapToGrid",
    "coordinate_search",
    "scorer",
    "tune_baselines",
    "TuningResult",
    "policy_table",
]

AVERAGE_GAMMA = 1.0 - 1e-5  # discount used for the Abel limit of the long-run average cost


class UnsupportedConfigError(ValueError):
    """The configuration has a feature the exact model does not cover (the message says which)."""


class NotRepresentableError(ValueError):
    """A policy's action cannot be played in the exact model (the message names state and quantity)."""


# --------------------------------------------------------------------------- model
@dataclass
class MDPModel:
    """The exact finite MDP of a discretised :class:`EnvConfig` (built by :func:`build_model`).

    Attributes (units in brackets): ``config`` (with action grids set), ``unit`` [units],
    ``gamma`` [per day], ``n_states``, ``n_actions``, ``state_shape`` (on-hand level then live
    pipeline slots, warehouse by warehouse), ``order_grid``/``transfer_grid`` [units],
    ``start_state`` (index of the config's starting stock), ``cost_sa (S, A)`` expected one-day
    cost [money] (``inf`` for infeasible actions), ``z_sa (S, A)`` post-decision index.
    """

    config: EnvConfig
    unit: int
    gamma: float
    net: Network
    order_grid: np.ndarray
    transfer_grid: np.ndarray
    levels: np.ndarray
    slots: np.ndarray
    state_shape: tuple[int, ...]
    action_sizes: tuple[int, ...]
    n_states: int
    n_actions: int
    start_state: int
    demand_support: list[np.ndarray]
    demand_pmf: list[np.ndarray]
    arrival_levels: np.ndarray
    cost_sa: np.ndarray = field(repr=False)
    z_sa: np.ndarray = field(repr=False)
    next_matrices: list[sp.csr_matrix] = field(repr=False)
    build_seconds: float = 0.0

    # ---- decoding helpers
    def decode_states(self, states: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(on_hand (M,N) [units], pipeline (M,N,Lmax) [units])`` of state indices (all if None)."""
        s = np.arange(self.n_states) if states is None else np.asarray(states)
        idx = np.unravel_index(s, self.state_shape)
        N, Lmax = self.net.N, self.net.Lmax
        on_hand = np.zeros((s.size, N), dtype=np.int64)
        pipe = np.zeros((s.size, N, Lmax), dtype=np.int64)
        k = 0
        for i in range(N):
            on_hand[:, i] = idx[k] * self.unit
            k += 1
            for j in range(self.slots[i]):
                pipe[:, i, j] = self.order_grid[idx[k]]
                k += 1
        return on_hand, pipe

    def decode_actions(self, actions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(replenish (M,N), transfer (M,N,N))`` [units] of joint action indices (all if None)."""
        a = np.arange(self.n_actions) if actions is None else np.asarray(actions)
        return self.net.decode_discrete(self.agent_actions(a))

    def agent_actions(self, actions: np.ndarray) -> np.ndarray:
        """Per-warehouse ``Discrete`` indices ``(M, N)`` of joint actions (the env's layout)."""
        return np.stack(np.unravel_index(np.asarray(actions), self.action_sizes), axis=1)

    def states_as_system_state(self, states: np.ndarray | None = None) -> SystemState:
        """Every state (or the given ones) as one :class:`SystemState` batch, one row per state."""
        on_hand, pipe = self.decode_states(states)
        M, N = on_hand.shape
        H = self.config.forecast_horizon
        mean = self.config.demand.mean
        return SystemState(
            on_hand=on_hand, backlog=np.zeros((M, N), dtype=np.int64), pipeline=pipe,
            transit=np.zeros((M, N, self.net.Tmax), dtype=np.int64),
            requests=np.zeros((M, N, N), dtype=np.int64),
            forecast=np.broadcast_to(mean, (M, H, N)).astype(float).copy(), t=0,
        )

    def state_index(self, state: SystemState) -> np.ndarray:
        """Index ``(B,)`` of each row of a simulator state; raises if a row is not in the model."""
        on_hand = np.asarray(state.on_hand)
        B, N = on_hand.shape
        if np.any(state.backlog != 0) or np.any(state.transit != 0):
            raise NotRepresentableError("the exact model has no backlog and no transfers in transit")
        coords = []
        for i in range(N):
            lv = on_hand[:, i] // self.unit
            if np.any(on_hand[:, i] % self.unit) or np.any(lv >= self.levels[i]) or np.any(lv < 0):
                b = int(np.flatnonzero((on_hand[:, i] % self.unit != 0) | (lv >= self.levels[i]))[0])
                raise NotRepresentableError(
                    f"warehouse {self.config.names[i]!r}: on-hand stock {on_hand[b, i]} is not a level "
                    f"of the model (multiples of {self.unit} up to {(self.levels[i] - 1) * self.unit})"
                )
            coords.append(lv)
            for j in range(self.slots[i]):
                g = _grid_index(self.order_grid, state.pipeline[:, i, j])
                if np.any(g < 0):
                    raise NotRepresentableError(
                        f"warehouse {self.config.names[i]!r}: pipeline slot {j} holds a quantity outside "
                        f"the order grid {self.order_grid.tolist()}"
                    )
                coords.append(g)
        return np.ravel_multi_index(tuple(coords), self.state_shape)

    def continuation(self, values: np.ndarray) -> np.ndarray:
        """Expected next-state value for every post-decision state (a flat array indexed by ``z``).

        One sparse product per warehouse (no dense BLAS: it stays fast on a busy machine)."""
        N = self.net.N
        shape = []
        for i in range(N):
            shape += [int(self.levels[i]), int(len(self.order_grid) ** self.slots[i])]
        T = np.asarray(values, dtype=float).reshape(shape)
        for i in range(N):
            T = np.moveaxis(T, 2 * i, 0)
            rest = T.shape[1:]
            T = (self.next_matrices[i] @ T.reshape(T.shape[0], -1)).reshape((-1, *rest))
            T = np.moveaxis(T, 0, 2 * i)
        return T.ravel()


def _grid_index(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each value in a sorted grid, -1 where it is not on the grid."""
    v = np.asarray(values)
    pos = np.clip(np.searchsorted(grid, v), 0, len(grid) - 1)
    return np.where(grid[pos] == v, pos, -1)


def _check_supported(config: EnvConfig, unit: int) -> None:
    if int(unit) != unit or unit < 1:
        raise UnsupportedConfigError(f"unit must be a whole number of units >= 1; got {unit!r}")
    if config.backorders:
        raise UnsupportedConfigError(
            "the exact model supports lost sales only (EnvConfig.backorders=False); backorders would "
            "need an unbounded backlog in the state"
        )
    if not isinstance(config.demand, DiscreteIIDDemand):
        raise UnsupportedConfigError(
            f"the exact model needs DiscreteIIDDemand (a finite i.i.d. distribution); got "
            f"{type(config.demand).__name__}"
        )
    for link in config.links:
        if link.lead_time > 1:
            raise UnsupportedConfigError(
                f"transfer lead time {link.lead_time} on {link.source}<->{link.target}: the exact model "
                "supports transfer lead times 0 and 1 only"
            )
    if config.in_transit or config.requests:
        raise UnsupportedConfigError("the exact model needs no goods in transit and no open requests at the start")
    for w in config.warehouses:
        for what, v in (("capacity", w.capacity), ("initial_inventory", w.initial_inventory)):
            if v % unit:
                raise UnsupportedConfigError(f"warehouse {w.name!r}: {what}={v} is not a multiple of unit={unit}")
    for i, s in enumerate(config.demand.support):
        if np.any(s % unit):
            raise UnsupportedConfigError(
                f"demand support of warehouse {config.names[i]!r} has values that are not multiples of "
                f"unit={unit}: {s[s % unit != 0].tolist()[:5]}"
            )


def _dynamics(model: MDPModel, on_hand, pipe, q, x):
    """One day of ``BatchCore.step`` up to demand, for M (state, action) rows at once [units].

    Returns ``feasible (M,)``, ``det_cost (M,)`` [money] (ordering + transport), ``y (M,N)`` stock
    facing demand, ``r (M,N)`` units arriving tomorrow morning, ``pipe_next (M,N,Lmax)``.
    """
    net = model.net
    lead = net.lead_time
    cap = net.capacity
    feasible = np.all((q >= 0) & (q <= net.max_order), axis=1)
    feasible &= np.all((x >= 0) & ((x == 0) | net.arc), axis=(1, 2))
    ordering = (net.order_fixed_cost * (q > 0) + net.order_unit_cost * q).sum(axis=1)
    o1 = np.minimum(on_hand + np.where(lead == 0, q, 0), cap)
    out = x.sum(axis=2)
    feasible &= np.all(out <= o1, axis=1)
    transport = ((x * net.arc_unit_cost).sum(axis=(1, 2)) + (net.arc_fixed_cost * (x > 0)).sum(axis=(1, 2)))
    zero = net.arc & (net.arc_lead_time == 0)
    one = net.arc & (net.arc_lead_time == 1)
    y = np.minimum(o1 - out + (x * zero).sum(axis=1), cap)
    r = (x * one).sum(axis=1) + np.where(lead == 1, q, 0) + np.where(lead >= 2, pipe[:, :, 0], 0)
    pipe_next = np.zeros_like(pipe)
    for i in range(net.N):
        L = int(lead[i])
        if L >= 2:
            pipe_next[:, i, : L - 2] = pipe[:, i, 1 : L - 1]
            pipe_next[:, i, L - 2] = q[:, i]
    return feasible, ordering + transport, y, r, pipe_next


def _stage_cost(model: MDPModel, y: np.ndarray) -> np.ndarray:
    """Expected holding + lost-sale cost [money] of facing demand with stock ``y (M,N)`` [units]
    (``y`` is at most the capacity, so a table per stock level is looked up)."""
    total = np.zeros(y.shape[0])
    for i in range(model.net.N):
        total += _stage_table(model, i)[y[:, i] // model.unit]
    return total


def _stage_table(model: MDPModel, i: int) -> np.ndarray:
    """Expected holding + lost-sale cost [money] of warehouse ``i`` for every stock level."""
    net = model.net
    d, p = model.demand_support[i], model.demand_pmf[i]
    y = np.arange(model.levels[i])[:, None] * model.unit
    left = np.maximum(y - d[None, :], 0)
    lost = np.maximum(d[None, :] - y, 0)
    return (net.holding_cost[i] * left + net.shortage_cost[i] * lost) @ p


def _post_index(model: MDPModel, y, r, pipe_next) -> np.ndarray:
    """Flat post-decision index of ``(y, r, pipe_next)`` rows (see :meth:`MDPModel.continuation`)."""
    coords, shape = [], []
    for i in range(model.net.N):
        coords += [y[:, i] // model.unit, r[:, i] // model.unit]
        shape += [model.levels[i], model.arrival_levels[i]]
        for j in range(model.slots[i]):
            coords.append(np.maximum(_grid_index(model.order_grid, pipe_next[:, i, j]), 0))
            shape.append(len(model.order_grid))
    coords = [np.clip(c, 0, n - 1) for c, n in zip(coords, shape, strict=True)]
    return np.ravel_multi_index(tuple(coords), tuple(shape))


def build_model(
    config: EnvConfig,
    unit: int,
    gamma: float,
    order_grid: tuple[int, ...] | None = None,
    transfer_grid: tuple[int, ...] | None = None,
    max_pairs: int = 2_000_000,
) -> MDPModel:
    """Build the exact MDP of ``config`` with stock in multiples of ``unit`` units (notebook 06).

    Args:
        config: the environment (lost sales, :class:`DiscreteIIDDemand`, transfer lead <= 1).
        unit: stock/demand step [units]; capacities, stock, demand and grids must be multiples.
        gamma: discount factor per day, in (0, 1).
        order_grid, transfer_grid: action levels [units]; default: the config's, else every
            multiple of ``unit`` up to ``max_order`` (orders) and the largest capacity (transfers).
        max_pairs: state-action pairs processed per chunk (memory bound).

    Returns:
        an :class:`MDPModel` with ``n_states``, ``n_actions`` and the expected one-day cost and
        post-decision index of every state-action pair. Raises :class:`UnsupportedConfigError`.
    """
    t0 = time.perf_counter()
    if not 0.0 < gamma < 1.0:
        raise UnsupportedConfigError(f"gamma must be in (0, 1); got {gamma!r}")
    _check_supported(config, unit)
    og = order_grid if order_grid is not None else config.order_grid
    tg = transfer_grid if transfer_grid is not None else config.transfer_grid
    if og is None:
        og = tuple(range(0, max(w.max_order for w in config.warehouses) + 1, unit))
    if tg is None:
        tg = tuple(range(0, max(w.capacity for w in config.warehouses) + 1, unit))
    config = config.replace(order_grid=tuple(og), transfer_grid=tuple(tg))
    ogrid = np.asarray(config.order_grid, dtype=np.int64)
    tgrid = np.asarray(config.transfer_grid, dtype=np.int64)
    for name, g in (("order_grid", ogrid), ("transfer_grid", tgrid)):
        if np.any(g % unit):
            raise UnsupportedConfigError(f"{name} {g.tolist()} has values that are not multiples of unit={unit}")
    net = config.network
    N = net.N
    levels = net.capacity // unit + 1
    slots = np.maximum(net.lead_time - 1, 0)
    state_shape: list[int] = []
    for i in range(N):
        state_shape += [int(levels[i])] + [len(ogrid)] * int(slots[i])
    action_sizes = tuple(int(n) for n in net.discrete_sizes)
    in_one = (net.arc & (net.arc_lead_time == 1)).sum(axis=0)
    arrival = (np.where(net.lead_time >= 1, ogrid.max(), 0) + in_one * tgrid.max()) // unit + 1
    supports, pmfs = [], []
    for s, p in zip(config.demand.support, config.demand.pmf, strict=True):
        keep = p > 0
        supports.append(s[keep].astype(np.int64))
        pmfs.append(p[keep] / p[keep].sum())
    next_matrices = []
    for i in range(N):
        yv = np.arange(levels[i])[:, None, None] * unit
        rv = np.arange(arrival[i])[None, :, None] * unit
        nxt = np.minimum(np.maximum(yv - supports[i][None, None, :], 0) + rv, net.capacity[i]) // unit
        M = np.zeros((levels[i] * arrival[i], levels[i]))
        rows = np.repeat(np.arange(levels[i] * arrival[i]), supports[i].size)
        np.add.at(M, (rows, nxt.reshape(-1)), np.tile(pmfs[i], levels[i] * arrival[i]))
        next_matrices.append(sp.csr_matrix(M))
    start = []
    for i, w in enumerate(config.warehouses):
        if w.lead_time >= 1 and len(w.initial_pipeline) == w.lead_time and w.initial_pipeline[-1] != 0:
            raise UnsupportedConfigError(
                f"warehouse {w.name!r}: initial_pipeline[{w.lead_time - 1}] is not part of the minimal state "
                "(at a decision, only the first lead_time - 1 slots can be non-zero)"
            )
        start.append(w.initial_inventory // unit)
        pipe = list(w.initial_pipeline) + [0] * int(slots[i])
        for j in range(int(slots[i])):
            g = int(_grid_index(ogrid, np.array([pipe[j]]))[0])
            if g < 0:
                raise UnsupportedConfigError(f"warehouse {w.name!r}: initial_pipeline {w.initial_pipeline} is off the order grid")
            start.append(g)
    S = int(np.prod(state_shape))
    A = int(np.prod(action_sizes))
    model = MDPModel(
        config=config, unit=int(unit), gamma=float(gamma), net=net, order_grid=ogrid, transfer_grid=tgrid,
        levels=levels, slots=slots, state_shape=tuple(state_shape), action_sizes=action_sizes,
        n_states=S, n_actions=A, start_state=int(np.ravel_multi_index(tuple(start), state_shape)),
        demand_support=supports, demand_pmf=pmfs, arrival_levels=arrival,
        cost_sa=np.empty((S, A)), z_sa=np.empty((S, A), dtype=np.int64),
        next_matrices=next_matrices,
    )
    q_all, x_all = model.decode_actions()
    on_hand_all, pipe_all = model.decode_states()
    chunk = max(1, max_pairs // A)
    for s0 in range(0, S, chunk):
        s1 = min(S, s0 + chunk)
        m = s1 - s0
        oh = np.repeat(on_hand_all[s0:s1], A, axis=0)
        pp = np.repeat(pipe_all[s0:s1], A, axis=0)
        qq = np.tile(q_all, (m, 1))
        xx = np.tile(x_all, (m, 1, 1))
        feas, det, y, r, pn = _dynamics(model, oh, pp, qq, xx)
        cost = det + _stage_cost(model, y)
        model.cost_sa[s0:s1] = np.where(feas, cost, np.inf).reshape(m, A)
        model.z_sa[s0:s1] = _post_index(model, y, r, pn).reshape(m, A)
    model.build_seconds = time.perf_counter() - t0
    return model


def model_for(instance: Instance, **kwargs) -> MDPModel:
    """:func:`build_model` for an :class:`mas_lib.decide.instances.Instance` (its config, unit and gamma)."""
    return build_model(instance.config, instance.unit, instance.gamma, **kwargs)


# --------------------------------------------------------------------------- solutions
@dataclass
class PolicyValue:
    """Exact value of a policy on a model.

    ``values (S,)``: expected discounted cost from every state [money]; ``start_value`` from the
    start state [money]; ``daily_cost = (1 - gamma) * start_value`` [money/day] (the criterion of
    the whole library); ``average_cost``: long-run average cost per day from the start state
    [money/day]; ``actions (S,)``: the joint action index per state (-1 if off the grid).
    """

    name: str
    values: np.ndarray
    start_value: float
    daily_cost: float
    average_cost: float
    actions: np.ndarray
    seconds: float = 0.0


@dataclass
class Solution(PolicyValue):
    """An optimal policy (subclass of :class:`PolicyValue`) plus how it was found.

    ``policy`` = ``actions`` (joint action index per state), ``iterations``, ``seconds``,
    ``method`` (``"value iteration"`` / ``"policy iteration"``).
    """

    iterations: int = 0
    method: str = ""
    model: MDPModel | None = field(default=None, repr=False)

    @property
    def policy(self) -> np.ndarray:
        """The optimal joint action index of every state."""
        return self.actions

    def policy_object(self) -> TabularPolicy:
        """A :class:`mas_lib.decide.policies.Policy` that plays this solution in the simulator."""
        return TabularPolicy(self.model, self.actions, name=f"optimal ({self.method})")


class TabularPolicy(Policy):
    """Plays a table ``actions[state]`` of joint action indices of an :class:`MDPModel`.

    Works on any :class:`SystemState` whose rows are states of the model (the simulator's states
    of the same instance always are). Used by notebook 06 to replay the optimum.
    """

    def __init__(self, model: MDPModel, actions: np.ndarray, name: str = "tabular"):
        super().__init__(model.config, round_to=model.unit)
        self.model = model
        self.table = np.asarray(actions, dtype=np.int64)
        self.name = name
        self._q, self._x = model.decode_actions(self.table)

    def act(self, state):
        s = self.model.state_index(state)
        return self._q[s].copy(), self._x[s].copy()


def _transition_matrix(model: MDPModel, y, r, pipe_next) -> sp.csr_matrix:
    """Sparse ``(M, S)`` matrix of next-state probabilities for M rows of ``(y, r, pipe_next)``."""
    N, M = model.net.N, y.shape[0]
    cap = model.net.capacity
    prob = np.ones((M, 1))
    coords: list[np.ndarray] = []
    shape = []
    for i in range(N):
        d, p = model.demand_support[i], model.demand_pmf[i]
        nxt = np.minimum(np.maximum(y[:, i, None] - d[None, :], 0) + r[:, i, None], cap[i]) // model.unit
        prob = (prob[:, :, None] * p[None, None, :]).reshape(M, -1)
        coords = [np.repeat(c, d.size, axis=1) for c in coords] + [np.tile(nxt, (1, prob.shape[1] // d.size))]
        shape.append(model.levels[i])
        for j in range(model.slots[i]):
            g = _grid_index(model.order_grid, pipe_next[:, i, j])
            coords.append(np.repeat(g[:, None], prob.shape[1], axis=1))
            shape.append(len(model.order_grid))
        coords = [np.broadcast_to(c, prob.shape) for c in coords]
    cols = np.ravel_multi_index(tuple(c.ravel() for c in coords), tuple(shape))
    rows = np.repeat(np.arange(M), prob.shape[1])
    return sp.csr_matrix((prob.ravel(), (rows, cols)), shape=(M, model.n_states))


def _solve(model: MDPModel, P: sp.csr_matrix, cost: np.ndarray, gamma: float) -> np.ndarray:
    """Solve ``(I - gamma P) v = cost`` by sparse LU (SuperLU; exact up to rounding)."""
    A = sp.identity(model.n_states, format="csc") - gamma * P.tocsc()
    return spla.spsolve(A, cost)


def _value_from_rows(model: MDPModel, name: str, P, cost, actions, t0: float) -> PolicyValue:
    v = _solve(model, P, cost, model.gamma)
    avg = _solve(model, P, cost, AVERAGE_GAMMA)[model.start_state] * (1 - AVERAGE_GAMMA)
    s0 = model.start_state
    return PolicyValue(
        name=name, values=v, start_value=float(v[s0]), daily_cost=float((1 - model.gamma) * v[s0]),
        average_cost=float(avg), actions=np.asarray(actions), seconds=time.perf_counter() - t0,
    )


def _rows_for_actions(model: MDPModel, actions: np.ndarray):
    on_hand, pipe = model.decode_states()
    q, x = model.decode_actions(actions)
    feas, det, y, r, pn = _dynamics(model, on_hand, pipe, q, x)
    return feas, det + _stage_cost(model, y), y, r, pn


def evaluate_actions(model: MDPModel, actions: np.ndarray, name: str = "tabular") -> PolicyValue:
    """Exact value of a table of joint action indices ``(S,)`` (see :class:`PolicyValue`)."""
    t0 = time.perf_counter()
    actions = np.asarray(actions, dtype=np.int64)
    feas, cost, y, r, pn = _rows_for_actions(model, actions)
    if not feas.all():
        s = int(np.flatnonzero(~feas)[0])
        raise NotRepresentableError(f"action {actions[s]} is infeasible in state {model.decode_states([s])[0][0].tolist()}")
    return _value_from_rows(model, name, _transition_matrix(model, y, r, pn), cost, actions, t0)


def _greedy(model: MDPModel, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    W = model.continuation(values)
    Q = model.cost_sa + model.gamma * W[model.z_sa]
    a = Q.argmin(axis=1)
    return a, Q[np.arange(model.n_states), a]


def value_iteration(model: MDPModel, tol: float = 1e-6, max_iter: int = 100_000) -> Solution:
    """Value iteration ``v <- min_a [c(s,a) + gamma E v(s')]`` until the sup-norm change times
    ``gamma / (1 - gamma)`` is below ``tol`` [money], so the values are within ``tol`` of optimal.
    The returned policy is greedy with respect to the last values and is evaluated exactly."""
    t0 = time.perf_counter()
    v = np.zeros(model.n_states)
    g = model.gamma
    it = 0
    while it < max_iter:
        it += 1
        _, new = _greedy(model, v)
        delta = np.max(np.abs(new - v))
        v = new
        if delta * g / (1 - g) < tol:
            break
    actions, _ = _greedy(model, v)
    pv = evaluate_actions(model, actions, name="optimal (value iteration)")
    return Solution(**{**pv.__dict__, "seconds": time.perf_counter() - t0}, iterations=it,
                    method="value iteration", model=model)


def policy_iteration(model: MDPModel, max_iter: int = 1000) -> Solution:
    """Howard's policy iteration: evaluate the policy exactly (a sparse linear solve), improve it
    greedily (keeping the current action unless another is better by more than 1e-9 relative),
    stop when it no longer changes -- an exactly optimal policy in a few iterations."""
    t0 = time.perf_counter()
    actions, _ = _greedy(model, np.zeros(model.n_states))
    it = 0
    while it < max_iter:
        it += 1
        feas, cost, y, r, pn = _rows_for_actions(model, actions)
        v = _solve(model, _transition_matrix(model, y, r, pn), cost, model.gamma)
        best, qbest = _greedy(model, v)
        qcur = (model.cost_sa + model.gamma * model.continuation(v)[model.z_sa])[np.arange(model.n_states), actions]
        better = qbest < qcur - 1e-9 * np.maximum(1.0, np.abs(qcur))
        if not better.any():
            break
        actions = np.where(better, best, actions)
    pv = evaluate_actions(model, actions, name="optimal (policy iteration)")
    return Solution(**{**pv.__dict__, "seconds": time.perf_counter() - t0}, iterations=it,
                    method="policy iteration", model=model)


# --------------------------------------------------------------------------- any policy
def _policy_rows(model: MDPModel, policy: Policy, on_grid: bool = True):
    """Actions of ``policy`` in every state, checked/clipped like ``BatchCore._validate``."""
    state = model.states_as_system_state()
    q, x = policy.act(state)
    q = np.asarray(q)
    x = np.asarray(x)
    S, N = model.n_states, model.net.N
    if q.shape != (S, N) or x.shape != (S, N, N):
        raise NotRepresentableError(f"policy {policy.name!r} returned shapes {q.shape}, {x.shape}; expected {(S, N)}, {(S, N, N)}")
    later = model.states_as_system_state()
    later.t = 1
    q1, x1 = policy.act(later)
    if not (np.array_equal(q, q1) and np.array_equal(x, x1)):
        raise NotRepresentableError(
            f"policy {policy.name!r} acts differently on day 0 and day 1 from the same state: exact "
            "evaluation needs a stationary policy (e.g. FixedOrderQuantity with every=1)"
        )
    names = model.config.names
    on_hand, pipe = model.decode_states()

    def where(mask):
        s = int(np.flatnonzero(mask)[0])
        return s, f"state {s} (on hand {dict(zip(names, on_hand[s].tolist(), strict=True))})"

    for label, arr in (("replenish", q), ("transfer", x)):
        if np.any(arr != np.round(arr)) or np.any(np.round(arr).astype(np.int64) % model.unit):
            bad = (arr != np.round(arr)) | (np.round(arr).astype(np.int64) % model.unit != 0)
            s, txt = where(bad.reshape(S, -1).any(axis=1))
            raise NotRepresentableError(
                f"policy {policy.name!r} in {txt}: {label} {arr[s].tolist()} is not a multiple of the "
                f"model's unit ({model.unit}); build the policy with round_to a multiple of {model.unit}"
            )
    q = np.round(q).astype(np.int64)
    x = np.round(x).astype(np.int64)
    net = model.net
    if model.config.invalid_action == "clip":
        q, x = net.clip_actions(q, x, on_hand)
        if np.any(x % model.unit):
            s, txt = where((x % model.unit != 0).reshape(S, -1).any(axis=1))
            raise NotRepresentableError(f"policy {policy.name!r} in {txt}: clipped transfer {x[s].tolist()} is off the unit grid")
    feas, det, y, r, pn = _dynamics(model, on_hand, pipe, q, x)
    if not feas.all():
        s, txt = where(~feas)
        raise NotRepresentableError(
            f"policy {policy.name!r} in {txt}: action replenish={q[s].tolist()}, transfer={x[s].tolist()} "
            "is infeasible (order above max_order, transfer without a link, or shipping more than on hand)"
        )
    for i in range(N):
        if model.slots[i] and np.any(_grid_index(model.order_grid, q[:, i]) < 0):
            s, txt = where(_grid_index(model.order_grid, q[:, i]) < 0)
            raise NotRepresentableError(
                f"policy {policy.name!r} in {txt}: order {q[s, i]} of {names[i]!r} enters the pipeline but is "
                f"not on the order grid {model.order_grid.tolist()}"
            )
    # joint action index where the action is on the grids (for tables), else -1
    per = []
    for i in range(N):
        idx = _grid_index(model.order_grid, q[:, i])
        for j in net.neighbours[i]:
            t = _grid_index(model.transfer_grid, x[:, i, j])
            idx = np.where((idx < 0) | (t < 0), -1, idx * len(model.transfer_grid) + t)
        per.append(idx)
    per = np.stack(per, axis=1)
    ok = np.all(per >= 0, axis=1)
    if on_grid and not ok.all():
        s, txt = where(~ok)
        raise NotRepresentableError(
            f"policy {policy.name!r} in {txt}: action replenish={q[s].tolist()}, transfer={x[s].tolist()} is off "
            f"the action grids (orders {model.order_grid.tolist()}, transfers {model.transfer_grid.tolist()}); "
            "wrap it in SnapToGrid or pass on_grid=False (then it may beat the grid-restricted optimum)"
        )
    actions = np.where(ok, np.ravel_multi_index(tuple(np.maximum(per, 0).T), model.action_sizes), -1)
    return det + _stage_cost(model, y), y, r, pn, actions


def evaluate_policy(model: MDPModel, policy: Policy, on_grid: bool = True) -> PolicyValue:
    """Exact value of any stationary :class:`mas_lib.decide.policies.Policy` (notebook 06, benchmarks).

    Builds all ``S`` states as one :class:`SystemState` batch, calls ``policy.act`` once (and once
    more with ``t = 1`` to check the policy is stationary), maps the actions onto the model (they
    must be multiples of the unit; infeasible actions raise :class:`NotRepresentableError` naming
    the state, unless the config clips them as ``BatchCore`` does), then solves
    ``(I - gamma P_pi) v = c_pi``. Returns a :class:`PolicyValue`.

    ``on_grid=True`` (default) also requires every action to lie on the model's action grids, so
    that the policy plays in the same action set as the optimum (and can never beat it); with
    ``False`` any multiple of the unit is evaluated (the model dynamics do not need the grids
    unless a lead time >= 2 puts the order in the state).
    """
    t0 = time.perf_counter()
    cost, y, r, pn, actions = _policy_rows(model, policy, on_grid)
    P = _transition_matrix(model, y, r, pn)
    label = f"{policy.name} ({policy.describe()})" if policy.describe() else policy.name
    return _value_from_rows(model, label, P, cost, actions, t0)


def expected_episode_cost(
    model: MDPModel, policy: Policy | np.ndarray, days: int | None = None, on_grid: bool = True
) -> float:
    """Exact expected mean total cost per day [money/day] over the first ``days`` days from the
    start state, undiscounted -- what :func:`mas_lib.decide.policies.simulate` estimates (tests)."""
    days = model.config.episode_length if days is None else int(days)
    if isinstance(policy, Policy):
        cost, y, r, pn, _ = _policy_rows(model, policy, on_grid)
    else:
        _, cost, y, r, pn = _rows_for_actions(model, np.asarray(policy))
    P = _transition_matrix(model, y, r, pn).T.tocsr()
    mu = np.zeros(model.n_states)
    mu[model.start_state] = 1.0
    total = 0.0
    for _ in range(days):
        total += float(mu @ cost)
        mu = P @ mu
    return total / days


class SnapToGrid(Policy):
    """Wrap a policy so each quantity is rounded *down* to the model's action grid (orders above
    the grid's top become the top level, transfers likewise) -- e.g. a :class:`TransferRule`
    that would ship 80 units becomes "ship at most 60". Notebook 06 and the benchmark use it to
    put every baseline in the same action set as the optimum."""

    def __init__(self, policy: Policy, model: MDPModel):
        super().__init__(policy.config, policy.round_to)
        self.policy, self.model = policy, model
        self.name = policy.name

    @staticmethod
    def _down(grid: np.ndarray, v: np.ndarray) -> np.ndarray:
        return grid[np.clip(np.searchsorted(grid, v, side="right") - 1, 0, len(grid) - 1)]

    def act(self, state):
        q, x = self.policy.act(state)
        return self._down(self.model.order_grid, np.asarray(q)), self._down(self.model.transfer_grid, np.asarray(x))

    def describe(self):
        return self.policy.describe()


def gap(policy_value: PolicyValue | float, optimum_value: PolicyValue | float) -> float:
    """Gap of a policy to the optimum in percent of the optimal discounted cost from the start
    state: ``100 (v_pi(s0) - v*(s0)) / v*(s0)`` (the library's criterion; notebook 06)."""
    vp = policy_value.start_value if isinstance(policy_value, PolicyValue) else float(policy_value)
    vo = optimum_value.start_value if isinstance(optimum_value, PolicyValue) else float(optimum_value)
    return 100.0 * (vp - vo) / abs(vo)


# --------------------------------------------------------------------------- tuning baselines
def coordinate_search(
    make_policy: Callable[..., Policy],
    grids: Mapping[str, Sequence],
    start: Mapping[str, object],
    evaluate: Callable[[Policy], float],
    rounds: int = 1,
) -> tuple[dict, Policy, float, int]:
    """Tune one parameter at a time with :func:`mas_lib.decide.search.grid_search`, the others fixed,
    for ``rounds`` sweeps. Exact when the cost separates over the parameters (e.g. one
    parameter per warehouse and no transfers: each warehouse's cost depends on its own rule only).

    Returns ``(best parameters, best policy, best score, evaluations)``.
    """
    params = dict(start)
    best_pol, best, n = None, np.inf, 0
    for _ in range(rounds):
        for key, values in grids.items():
            grid = {k: ([v for v in values] if k == key else [params[k]]) for k in params}
            found = grid_search(make_policy, grid, evaluate)
            n += len(found.table)
            if found.best_score < best:
                best = found.best_score
                best_pol = found.best
                params[key] = found.table[key].iloc[0]
    return params, best_pol, best, n


def scorer(model: MDPModel) -> Callable[[Policy], float]:
    """The score :func:`mas_lib.decide.search.grid_search` minimises when tuning on ``model``: a
    policy's exact discounted cost from the start state [money] (notebook 06)."""

    def score(policy: Policy) -> float:
        return evaluate_policy(model, policy).start_value

    return score


@dataclass(frozen=True)
class TuningResult:
    """What :func:`tune_baselines` returns: ``table`` (one row per baseline: ``policy``,
    ``parameters``, ``daily_cost`` [money/day], ``average_cost`` [money/day], ``gap_pct``,
    ``evaluations``, ``seconds``) and ``policies`` (name -> the tuned policy)."""

    table: pd.DataFrame
    policies: dict[str, Policy]

    def to_frame(self) -> pd.DataFrame:
        """The table (the library's results convention)."""
        return self.table.copy()


def tune_baselines(instance: Instance, model: MDPModel, optimum: PolicyValue, coarse: bool = False) -> TuningResult:
    """Tune every baseline of :mod:`mas_lib.decide.policies` on an instance by exact evaluation and
    report its cost and gap to the optimum (notebook 06, ``benchmarks/bench_policies.py``).

    Baselines: fixed order quantity (every day), (s, S), base-stock, forecast base-stock and
    base-stock + transfer rule and (s, S) + transfer rule (when there are links); quantities in steps of ``instance.round_to`` (``coarse``: twice
    that, for a fast notebook run), every policy wrapped in :class:`SnapToGrid` so that it plays
    in the optimum's action set. Each parameter is a per-warehouse value tuned by
    :func:`coordinate_search` (one sweep for the separable rules, two with transfers). The score
    is the library's criterion: the discounted cost from the start state.

    Returns a frame (one row per baseline): ``policy``, ``parameters``, ``daily_cost``
    [money/day, ``(1 - gamma) v(s0)``], ``average_cost`` [money/day], ``gap_pct``,
    ``evaluations``, ``seconds`` -- in a :class:`TuningResult` with the tuned policies by name.
    """
    cfg, u = instance.config, instance.round_to
    step = 2 * u if coarse else u
    names = cfg.names
    caps = {n: w.capacity for n, w in zip(names, cfg.warehouses, strict=True)}
    top = {n: 2 * caps[n] for n in names}
    mean = dict(zip(names, cfg.demand.mean, strict=True))

    ev = scorer(model)

    def snap(pol: Policy) -> Policy:
        return SnapToGrid(pol, model)

    def vec(p: dict) -> list:
        return [p[n] for n in names]

    levels = {n: list(range(0, top[n] + 1, step)) for n in names}
    pairs = {
        n: [(s, S) for s in range(0, caps[n] + 1, step) for S in range(s + step, min(s + 12 * step, top[n]) + 1, step)]
        for n in names
    }
    safety = {n: list(range(-int(round(mean[n], -1)), caps[n] + 1, step)) for n in names}
    specs = [
        ("fixed order quantity", lambda **p: snap(FixedOrderQuantity(cfg, vec(p), round_to=u)),
         {n: list(range(0, int(cfg.warehouses[i].max_order) + 1, step)) for i, n in enumerate(names)},
         {n: 0 for n in names}, 1),
        ("(s, S)", lambda **p: snap(SsPolicy(cfg, [p[n][0] for n in names], [p[n][1] for n in names], round_to=u)),
         pairs, {n: pairs[n][0] for n in names}, 1),
        ("base-stock", lambda **p: snap(BaseStock(cfg, vec(p), round_to=u)), levels, {n: 0 for n in names}, 1),
        ("forecast base-stock", lambda **p: snap(ForecastBaseStock(cfg, vec(p), round_to=u)), safety,
         {n: 0 for n in names}, 1),
    ]
    rows, policies = [], {}
    best_levels = best_ss = None
    for label, make, grids, start, rounds in specs:
        t0 = time.perf_counter()
        params, pol, score, n = coordinate_search(make, grids, start, ev, rounds)
        if label == "base-stock":
            best_levels = params
        if label == "(s, S)":
            best_ss = params
        rows.append((label, params, pol, n, time.perf_counter() - t0))
    if cfg.links:
        t0 = time.perf_counter()
        grids = {"cover": [0.5, 1.0, 1.5, 2.0], "keep": [0.5, 1.0, 1.5, 2.0],
                 **{n: [v for v in levels[n] if abs(v - best_levels[n]) <= 3 * step] for n in names}}
        start = {"cover": 1.0, "keep": 1.0, **best_levels}

        def make_tr(cover, keep, **p):
            return snap(Combined(BaseStock(cfg, vec(p), round_to=u), TransferRule(cfg, cover=cover, keep=keep, round_to=u)))

        params, pol, score, n = coordinate_search(make_tr, grids, start, ev, rounds=2)
        rows.append(("base-stock + transfer rule", params, pol, n, time.perf_counter() - t0))
        t0 = time.perf_counter()
        near = {n: [pr for pr in pairs[n] if abs(pr[0] - best_ss[n][0]) <= step and abs(pr[1] - best_ss[n][1]) <= step]
                for n in names}
        grids = {"cover": [0.5, 1.0, 1.5, 2.0], "keep": [0.5, 1.0, 1.5, 2.0], **near}
        start = {"cover": 1.0, "keep": 1.0, **best_ss}

        def make_ss_tr(cover, keep, **p):
            rule = SsPolicy(cfg, [p[n][0] for n in names], [p[n][1] for n in names], round_to=u)
            return snap(Combined(rule, TransferRule(cfg, cover=cover, keep=keep, round_to=u)))

        params, pol, score, n = coordinate_search(make_ss_tr, grids, start, ev, rounds=2)
        rows.append(("(s, S) + transfer rule", params, pol, n, time.perf_counter() - t0))
    out = []
    for label, params, pol, n, secs in rows:
        pv = evaluate_policy(model, pol)
        policies[label] = pol
        out.append({
            "policy": label, "parameters": _fmt_params(params), "daily_cost": pv.daily_cost,
            "average_cost": pv.average_cost, "gap_pct": gap(pv, optimum), "evaluations": n, "seconds": secs,
        })
    return TuningResult(pd.DataFrame(out), policies)


def _fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def policy_table(model: MDPModel, actions: np.ndarray) -> pd.DataFrame:
    """A tidy table of a tabular policy: one row per state with the on-hand stock of each
    warehouse (``stock_A`` ...), its order (``order_A`` ...) and every transfer (``ship_A_B``)
    [units] -- for the policy plots of notebook 06."""
    on_hand, pipe = model.decode_states()
    q, x = model.decode_actions(np.asarray(actions))
    names = model.config.names
    cols = {}
    for i, n in enumerate(names):
        cols[f"stock_{n}"] = on_hand[:, i]
        for j in range(model.slots[i]):
            cols[f"pipeline_{n}_{j}"] = pipe[:, i, j]
    for i, n in enumerate(names):
        cols[f"order_{n}"] = q[:, i]
    for i, n in enumerate(names):
        for j in model.net.neighbours[i]:
            cols[f"ship_{n}_{names[j]}"] = x[:, i, j]
    return pd.DataFrame(cols)
