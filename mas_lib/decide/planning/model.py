r"""The exact Markov decision process behind the simulator, for a discretised instance (notebook 06).

The paper (sections 3.1.2, 4.4-4.5) trains warehouse agents with tabular Q-learning but never
says how good the learned policy is. For a discretised instance (:mod:`mas_lib.decide.instances`)
:func:`build_model` builds the *exact* finite MDP behind :class:`mas_lib.sim.core.BatchCore`;
:mod:`.solve` finds its optimum and :mod:`.evaluate` values any policy on it exactly.

**Model** (the same order of events as :mod:`mas_lib.sim.core`): the decision-time state is the
on-hand stock of every warehouse plus, for a replenishment lead time ``L >= 2``, the ``L - 1``
live pipeline slots (an order with ``L = 1`` has already arrived by the next decision). An
action is one replenishment level from ``order_grid`` per warehouse and one transfer level from
``transfer_grid`` per link direction, indexed exactly as ``config.network.decode_discrete`` does
(joint index: warehouse 0 most significant). Same-day receipts, transfers, overflow above
capacity, lost sales and every cost term (holding on closing stock, lost-sale penalty, ordering
fixed + per unit, transport per unit + fixed) are the simulator's one implementation of a day,
:func:`mas_lib.sim.day.run_day`; :mod:`.dynamics` tabulates them, checked against that function over
every state, action and demand value in ``tests/test_planning_day.py``. Supported: lost sales, any replenishment lead time, transfer lead times 0 or
1, a :class:`~mas_lib.sim.demand.DiscreteIIDDemand`. Not supported (a clear
:class:`UnsupportedConfigError`): backorders, transfer lead times >= 2, goods in transit or open
requests at the start, and models too large for memory (see below).

**Size.** With ``O_i = capacity_i / unit + 1`` stock levels, ``K`` order levels and ``T``
transfer levels, there are :math:`S = \prod_i O_i K^{\max(L_i-1,0)}` states and
:math:`A = \prod_i K\,T^{m_i}` joint actions (``m_i`` = warehouses ``i`` can ship to). The model
stores two ``S x A`` arrays (16 bytes per pair), a Bellman sweep needs two more temporary ones
and the build works through the pairs in chunks; :func:`estimate_memory` adds these up and
:func:`build_model` refuses, before allocating anything, a model whose estimate exceeds
``max_memory_gib``. Measured on 2 shared cores: the two instances (546 states x 1,936 actions =
1.06 M pairs, about 34 MB) build in about 1 s, policy iteration takes 0.1-0.3 s and value
iteration 1-3 s; with 10-unit order and transfer grids (546 x 21,609 = 11.8 M pairs) the build
takes ~9 s, policy iteration ~1 s and value iteration ~22 s. Each extra day of replenishment lead
time multiplies ``S`` by ``K``, each extra warehouse multiplies both counts -- exact DP is for
small, carefully discretised instances.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ...sim.config import EnvConfig
from ...sim.demand import DiscreteIIDDemand
from ...sim.network import Network
from ...sim.state import SystemState
from ...validation import ConfigError, check_bool, check_number, check_whole
from .dynamics import day_before_demand, grid_index, post_index, stage_cost

if TYPE_CHECKING:
    from ..instances import Instance

__all__ = [
    "UnsupportedConfigError",
    "NotRepresentableError",
    "MDPModel",
    "MemoryEstimate",
    "estimate_memory",
    "build_model",
    "model_for",
]

GIB = 2**30
#: Bytes stored per state-action pair: ``cost_sa`` (float64) and ``z_sa`` (int64).
STORED_BYTES_PER_PAIR = 16
#: Bytes of temporaries per pair during a Bellman sweep (``W[z_sa]`` and ``Q``, float64 each).
SWEEP_BYTES_PER_PAIR = 16


class UnsupportedConfigError(ConfigError):
    """The configuration has a feature the exact model does not cover (the message says which)."""


class NotRepresentableError(ValueError):
    """A policy's action cannot be played in the exact model (the message names state and quantity)."""


# --------------------------------------------------------------------------- the model
@dataclass
class MDPModel:
    """The exact finite MDP of a discretised :class:`EnvConfig` (built by :func:`build_model`;
    paper section 4.5).

    Attributes (units in brackets): ``config`` (with action grids set), ``net`` (its
    ``config.network``), ``unit`` [units],
    ``gamma`` [per day], ``n_states``, ``n_actions``, ``state_shape`` (on-hand level then live
    pipeline slots, warehouse by warehouse), ``order_grid``/``transfer_grid`` [units],
    ``start_state`` (index of the config's starting stock), ``cost_sa (S, A)`` expected one-day
    cost [money] (``inf`` for infeasible actions), ``z_sa (S, A)`` post-decision index (both
    ``None`` in an evaluation-only model, ``build_model(..., with_pairs=False)``).
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
    cost_sa: np.ndarray | None = field(repr=False)
    z_sa: np.ndarray | None = field(repr=False)
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
                g = grid_index(self.order_grid, state.pipeline[:, i, j])
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


# --------------------------------------------------------------------------- memory
@dataclass(frozen=True)
class MemoryEstimate:
    """Size of an exact model before it is built: ``n_states``, ``n_actions``, ``pairs`` (their
    product) and the estimated peak memory ``bytes`` / ``gib`` [GiB] of building and solving it."""

    n_states: int
    n_actions: int
    pairs: int
    bytes: int

    @property
    def gib(self) -> float:
        """The estimate in GiB (2**30 bytes)."""
        return self.bytes / GIB


def _chunk_row_bytes(net: Network) -> int:
    """Working memory [bytes] of one state-action row while the model is filled (measured: about
    210 bytes for two warehouses; this bound is a little above)."""
    N, L = net.N, net.Lmax
    return 8 * (6 * N + 2 * N * N + 2 * N * L) + 64


def _grid_lengths(config: EnvConfig, unit: int, order_grid, transfer_grid) -> tuple[int, int]:
    """The number of order and transfer levels :func:`_grids` will use, counted without building a
    default grid (``max_order / unit + 1`` and ``max capacity / unit + 1`` levels)."""
    og = order_grid if order_grid is not None else config.order_grid
    tg = transfer_grid if transfer_grid is not None else config.transfer_grid
    K = len(og) if og is not None else max(w.max_order for w in config.warehouses) // unit + 1
    T = len(tg) if tg is not None else max(w.capacity for w in config.warehouses) // unit + 1
    return K, T


def _counts(net: Network, unit: int, K: int, T: int) -> tuple[int, int]:
    """States and joint actions in exact Python integers from the grid lengths (``K`` order, ``T``
    transfer levels): :math:`S = \\prod_i O_i K^{\\max(L_i-1,0)}` and :math:`A = \\prod_i K T^{m_i}`,
    the sizes of :func:`_state_space` and ``Network.n_joint_actions``."""
    S = math.prod((int(net.capacity[i]) // unit + 1) * K ** max(int(net.lead_time[i]) - 1, 0) for i in range(net.N))
    A = math.prod(K * T ** len(nb) for nb in net.neighbours)
    return S, A


def _estimate(net: Network, S: int, A: int, max_pairs: int) -> MemoryEstimate:
    """The :class:`MemoryEstimate` of ``S`` states and ``A`` joint actions (Python integers, so a
    size beyond int64 is reported exactly instead of wrapping)."""
    pairs = S * A
    chunk_pairs = min(pairs, max(A, (max_pairs // A) * A))
    working = max(chunk_pairs * _chunk_row_bytes(net), pairs * SWEEP_BYTES_PER_PAIR)
    return MemoryEstimate(S, A, pairs, pairs * STORED_BYTES_PER_PAIR + working)


def estimate_memory(
    config: EnvConfig,
    unit: int,
    order_grid: tuple[int, ...] | None = None,
    transfer_grid: tuple[int, ...] | None = None,
    max_pairs: int = 2_000_000,
) -> MemoryEstimate:
    """Estimate the states, actions and peak memory [bytes, GiB] of ``build_model`` plus a solve,
    without allocating: 16 bytes per state-action pair stored, plus the larger of the build's
    chunk buffers and a Bellman sweep's temporaries (16 bytes per pair). Same arguments as
    :func:`build_model`; the sizes are counted from the grids' lengths in exact integers (no
    default grid is built; the grids' values are checked by :func:`build_model`). Paper section
    4.5 (how far exact planning reaches)."""
    unit = check_whole(unit, "build_model.unit", low=1, unit="units", error=UnsupportedConfigError)
    K, T = _grid_lengths(config, unit, order_grid, transfer_grid)
    S, A = _counts(config.network, unit, K, T)
    return _estimate(config.network, S, A, check_whole(max_pairs, "build_model.max_pairs", low=1))


# --------------------------------------------------------------------------- build phases
def _check_supported(config: EnvConfig) -> None:
    """Phase 1: refuse features the exact model does not cover."""
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


def _check_unit(config: EnvConfig, unit: int) -> None:
    """Phase 1b: capacities, starting stock and demand must be multiples of ``unit``."""
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


def _grids(config: EnvConfig, unit: int, order_grid, transfer_grid) -> tuple[EnvConfig, np.ndarray, np.ndarray]:
    """Phase 2: the action grids [units] (given, else the config's, else every multiple of ``unit``
    up to ``max_order`` / the largest capacity), set on a copy of the config."""
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
    return config, ogrid, tgrid


def _state_space(net: Network, unit: int, ogrid: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Phase 3: stock ``levels`` and pipeline ``slots`` per warehouse, and the state shape."""
    levels = net.capacity // unit + 1
    slots = np.maximum(net.lead_time - 1, 0)
    state_shape: list[int] = []
    for i in range(net.N):
        state_shape += [int(levels[i])] + [len(ogrid)] * int(slots[i])
    return levels, slots, tuple(state_shape)


def _check_memory(estimate: MemoryEstimate, max_memory_gib: float) -> None:
    """Phase 4: refuse, before allocating, a model whose estimated memory exceeds the limit."""
    if estimate.gib > max_memory_gib:
        gib = f"{estimate.gib:.1f}" if estimate.gib < 1e6 else f"{estimate.gib:.3g}"  # 17.7, or 2.98e+34
        raise UnsupportedConfigError(
            f"the exact model would need about {gib} GiB ({estimate.n_states:,} states x "
            f"{estimate.n_actions:,} actions = {estimate.pairs:,} state-action pairs); allowed: "
            f"max_memory_gib = {max_memory_gib:g} GiB. Use coarser grids (a larger unit, fewer order or "
            "transfer levels) or raise max_memory_gib if the machine has the memory"
        )


def _demand_tables(config: EnvConfig) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Phase 5: each warehouse's demand support [units] and probabilities (zero-probability values dropped)."""
    supports, pmfs = [], []
    for s, p in zip(config.demand.support, config.demand.pmf, strict=True):
        keep = p > 0
        supports.append(s[keep].astype(np.int64))
        pmfs.append(p[keep] / p[keep].sum())
    return supports, pmfs


def _next_matrices(net: Network, unit: int, levels, arrival, supports, pmfs) -> list[sp.csr_matrix]:
    """Phase 6: per warehouse, the sparse matrix from (stock facing demand, arrivals) to tomorrow's
    stock level -- the demand draw, lost sales and the capacity cap."""
    out = []
    for i in range(net.N):
        yv = np.arange(levels[i])[:, None, None] * unit
        rv = np.arange(arrival[i])[None, :, None] * unit
        nxt = np.minimum(np.maximum(yv - supports[i][None, None, :], 0) + rv, net.capacity[i]) // unit
        M = np.zeros((levels[i] * arrival[i], levels[i]))
        rows = np.repeat(np.arange(levels[i] * arrival[i]), supports[i].size)
        np.add.at(M, (rows, nxt.reshape(-1)), np.tile(pmfs[i], levels[i] * arrival[i]))
        out.append(sp.csr_matrix(M))
    return out


def _start_state(config: EnvConfig, unit: int, ogrid: np.ndarray, slots, state_shape) -> int:
    """Phase 7: index of the config's starting stock and pipeline."""
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
            g = int(grid_index(ogrid, np.array([pipe[j]]))[0])
            if g < 0:
                raise UnsupportedConfigError(f"warehouse {w.name!r}: initial_pipeline {w.initial_pipeline} is off the order grid")
            start.append(g)
    return int(np.ravel_multi_index(tuple(start), state_shape))


def _fill_pairs(model: MDPModel, max_pairs: int) -> None:
    """Phase 8: the expected one-day cost [money] (``inf`` if infeasible) and the post-decision
    index of every state-action pair, ``max_pairs`` pairs (rounded to whole states) at a time."""
    S, A = model.n_states, model.n_actions
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
        feas, det, y, r, pn = day_before_demand(model, oh, pp, qq, xx)
        cost = det + stage_cost(model, y)
        model.cost_sa[s0:s1] = np.where(feas, cost, np.inf).reshape(m, A)
        model.z_sa[s0:s1] = post_index(model, y, r, pn).reshape(m, A)


# --------------------------------------------------------------------------- build
def build_model(
    config: EnvConfig,
    unit: int,
    gamma: float,
    order_grid: tuple[int, ...] | None = None,
    transfer_grid: tuple[int, ...] | None = None,
    max_pairs: int = 2_000_000,
    max_memory_gib: float = 4.0,
    with_pairs: bool = True,
) -> MDPModel:
    """Build the exact MDP of ``config`` with stock in multiples of ``unit`` units (notebook 06;
    paper sections 3.2.1 and 4.1 for the dynamics, 4.5 for what the optimum is compared with).

    Args:
        config: the environment (lost sales, :class:`DiscreteIIDDemand`, transfer lead <= 1).
        unit: stock/demand step [units]; capacities, stock, demand and grids must be multiples.
        gamma: discount factor per day, in (0, 1).
        order_grid, transfer_grid: action levels [units]; default: the config's, else every
            multiple of ``unit`` up to ``max_order`` (orders) and the largest capacity (transfers).
        max_pairs: state-action pairs processed per chunk (memory bound).
        max_memory_gib: refuse (before allocating) a model whose :func:`estimate_memory` exceeds
            this many GiB.
        with_pairs: ``False`` builds an *evaluation-only* model: the states, the demand and the
            dynamics, but not the ``S x A`` tables (``cost_sa``/``z_sa`` are ``None``).
            :func:`~.evaluate.evaluate_policy` and :func:`~.evaluate.evaluate_actions` work on it
            (they only need one action per state); the solvers refuse it. On the 66,066-state
            ``long_lead`` instance it builds in about a second instead of minutes and needs
            megabytes instead of 4 GiB (``benchmarks/bench_deep_rl.py`` evaluates its learners this way).

    Returns:
        an :class:`MDPModel` with ``n_states``, ``n_actions`` and the expected one-day cost and
        post-decision index of every state-action pair. Raises :class:`UnsupportedConfigError`
        naming the unsupported feature, the bad argument or the memory estimate.
    """
    t0 = time.perf_counter()
    gamma = check_number(gamma, "build_model.gamma", low=0.0, high=1.0, low_inclusive=False,
                         high_inclusive=False, unit="per day", error=UnsupportedConfigError)
    unit = check_whole(unit, "build_model.unit", low=1, unit="units", error=UnsupportedConfigError)
    max_pairs = check_whole(max_pairs, "build_model.max_pairs", low=1)
    max_memory_gib = check_number(max_memory_gib, "build_model.max_memory_gib", low=0.0, low_inclusive=False,
                                  allow_inf=True, unit="GiB")
    with_pairs = check_bool(with_pairs, "build_model.with_pairs")
    _check_supported(config)
    _check_unit(config, unit)
    # sizes from the grids' lengths, and the refusal, before any grid or table is built
    size = _estimate(config.network, *_counts(config.network, unit, *_grid_lengths(config, unit, order_grid,
                                                                                   transfer_grid)), max_pairs)
    if with_pairs:
        _check_memory(size, max_memory_gib)
    config, ogrid, tgrid = _grids(config, unit, order_grid, transfer_grid)
    net = config.network
    levels, slots, state_shape = _state_space(net, unit, ogrid)
    in_one = (net.arc & (net.arc_lead_time == 1)).sum(axis=0)
    arrival = (np.where(net.lead_time >= 1, ogrid.max(), 0) + in_one * tgrid.max()) // unit + 1
    supports, pmfs = _demand_tables(config)
    S, A = size.n_states, size.n_actions
    model = MDPModel(
        config=config, unit=unit, gamma=gamma, net=net, order_grid=ogrid, transfer_grid=tgrid,
        levels=levels, slots=slots, state_shape=state_shape, action_sizes=tuple(int(n) for n in net.discrete_sizes),
        n_states=S, n_actions=A, start_state=_start_state(config, unit, ogrid, slots, state_shape),
        demand_support=supports, demand_pmf=pmfs, arrival_levels=arrival,
        cost_sa=np.empty((S, A)) if with_pairs else None,
        z_sa=np.empty((S, A), dtype=np.int64) if with_pairs else None,
        next_matrices=_next_matrices(net, unit, levels, arrival, supports, pmfs),
    )
    if with_pairs:
        _fill_pairs(model, max_pairs)
    model.build_seconds = time.perf_counter() - t0
    return model


def model_for(instance: Instance, **kwargs) -> MDPModel:
    """:func:`build_model` for an :class:`mas_lib.decide.instances.Instance` (its config, unit and
    gamma; keyword arguments as for :func:`build_model`). Notebooks 05 and 06, paper section 4.5."""
    return build_model(instance.config, instance.unit, instance.gamma, **kwargs)
