"""The compiled network: every per-warehouse and per-link array of an :class:`EnvConfig`, built once.

An :class:`EnvConfig` is written for people (warehouses and links as dataclasses); the simulation,
the policies, the learners and the exact planner all want the same facts as numpy arrays. A
:class:`Network` holds them, computed once per configuration (``config.network`` caches it), so
that every consumer reads the same arrays instead of re-deriving them:

* per warehouse ``(N,)``: ``capacity`` [units], ``initial_inventory`` [units], ``holding_cost``
  [money/unit-day], ``shortage_cost`` [money/unit or money/unit-day], ``order_fixed_cost``
  [money/order], ``order_unit_cost`` [money/unit], ``lead_time`` [days], ``max_order`` [units];
* per ordered pair ``(N, N)`` indexed ``[sender, receiver]``: ``arc`` (a transfer is allowed),
  ``arc_unit_cost`` [money/unit], ``arc_fixed_cost`` [money/shipment], ``arc_lead_time`` [days];
* ``neighbours[i]``: the warehouses ``i`` can ship to, in action order;
* the discrete action layout for tabular learners and the planner: ``discrete_sizes``,
  ``action_tables()``, ``n_joint_actions``, :meth:`decode_discrete`, and the documented trim
  :meth:`clip_actions` of ``invalid_action="clip"``.

Every array is read-only (``writeable=False``): a consumer that tries to change one gets an error
instead of silently changing the network for everyone else. Paper sections 3.2.1 and 4.1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from ..validation import check_whole
from .day import ARRAYS, DayRules, stack_columns, trim
from .day import available as day_available
from .state import InvalidActionError

if TYPE_CHECKING:
    from .config import EnvConfig

__all__ = ["Network", "UNIT_LIMIT", "whole_units", "units_array"]

#: the most units one quantity of an action counts as [units]: a larger order or transfer (1e30, a
#: Python int like 2**70, inf) is taken as this many before the checks and the ``"clip"`` trim, so
#: it is rejected (``invalid_action="raise"``, the message showing the value given) or trimmed like
#: any too-large quantity (an order becomes ``max_order``, a transfer what is on hand). Far above
#: any stock, and a few of them still add up without leaving int64.
UNIT_LIMIT = 2**62


def whole_units(value, field: str) -> int | float:
    """One quantity of an action as given [units]: a whole number (an int, or a float without a
    fraction) comes back as a Python ``int``, +-inf as a ``float``. Booleans, strings, ``None``, NaN
    and fractions raise :class:`InvalidActionError` naming ``field``, the value and what is allowed.
    A float beyond int64 (1e30) also stays a ``float``, so a message can show it as given. Used by
    :func:`units_array` and by the per-step API's action parser (``MultiWarehouseEnv``)."""
    if isinstance(value, (float, np.floating)) and (math.isinf(value) or abs(value) >= 2.0**63):
        return float(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)  # (whole; also one too large for a float, 10**400)
    return check_whole(value, field, low=None, unit="units", error=InvalidActionError)


def units_array(a: np.ndarray, field_of: Callable[[tuple], str]) -> np.ndarray:
    """An action array of any dtype as int64 units, every value beyond :data:`UNIT_LIMIT` (inf
    included) taken as +-``UNIT_LIMIT``; a new array. ``field_of(index)`` names the entry at
    ``index`` for the error :func:`whole_units` raises for a value that is not a whole number
    (``BatchCore.step`` passes e.g. ``"warehouse 'A' (copy 3): replenish"``)."""
    kind = a.dtype.kind
    if kind == "i":
        return a.astype(np.int64)
    if kind == "u":  # (only uint64 holds more than UNIT_LIMIT)
        return np.minimum(a, np.uint64(UNIT_LIMIT)).astype(np.int64) if a.itemsize == 8 else a.astype(np.int64)
    if kind == "f":
        a = a.astype(np.float64, copy=False)  # (float16 cannot hold UNIT_LIMIT)
        bad = np.isnan(a) | (np.isfinite(a) & (a != np.rint(a)))
        if bad.any():
            index = tuple(int(k) for k in np.argwhere(bad)[0])
            whole_units(a[index].item(), field_of(index))  # raises
        return np.clip(a, -UNIT_LIMIT, UNIT_LIMIT).astype(np.int64)
    out = np.empty(a.shape, dtype=np.int64)  # objects, booleans, strings: one value at a time
    for index, value in np.ndenumerate(a):
        v = whole_units(value, field_of(index))
        out[index] = int(max(-UNIT_LIMIT, min(UNIT_LIMIT, v)))
    return out


def _frozen(a) -> np.ndarray:
    arr = np.array(a)
    arr.setflags(write=False)
    return arr


class Network:
    """The arrays of one :class:`EnvConfig` (see the module docstring for names and units).

    Build it with ``config.network`` (cached on the config) rather than calling the constructor.
    """

    def __init__(self, config: EnvConfig):
        ws = config.warehouses
        self.names: tuple[str, ...] = tuple(w.name for w in ws)
        self.N = N = len(ws)
        self.capacity = _frozen(np.array([w.capacity for w in ws], dtype=np.int64))
        self.initial_inventory = _frozen(np.array([w.initial_inventory for w in ws], dtype=np.int64))
        self.holding_cost = _frozen(np.array([w.holding_cost for w in ws], dtype=float))
        self.shortage_cost = _frozen(np.array([w.shortage_cost for w in ws], dtype=float))
        self.order_fixed_cost = _frozen(np.array([w.order_fixed_cost for w in ws], dtype=float))
        self.order_unit_cost = _frozen(np.array([w.order_unit_cost for w in ws], dtype=float))
        self.lead_time = _frozen(np.array([w.lead_time for w in ws], dtype=np.int64))
        self.max_order = _frozen(np.array([w.max_order for w in ws], dtype=np.int64))
        arc = np.zeros((N, N), dtype=bool)
        unit_cost = np.zeros((N, N))
        fixed_cost = np.zeros((N, N))
        lead = np.zeros((N, N), dtype=np.int64)
        index = {n: i for i, n in enumerate(self.names)}
        for link in config.links:
            s, g = index[link.source], index[link.target]
            for a, b in [(s, g), (g, s)] if link.bidirectional else [(s, g)]:
                arc[a, b] = True
                unit_cost[a, b] = link.unit_cost
                fixed_cost[a, b] = link.fixed_cost
                lead[a, b] = link.lead_time
        self.arc = _frozen(arc)
        self.arc_unit_cost = _frozen(unit_cost)
        self.arc_fixed_cost = _frozen(fixed_cost)
        self.arc_lead_time = _frozen(lead)
        self.neighbours: tuple[tuple[int, ...], ...] = tuple(tuple(int(j) for j in np.flatnonzero(arc[i])) for i in range(N))
        #: pipeline slots kept per warehouse (at least 1, so arrays never have a zero axis)
        self.Lmax = max(1, int(self.lead_time.max()))
        #: transit slots kept per warehouse (at least 1)
        self.Tmax = max(1, int(lead[arc].max()) if arc.any() else 1)
        self.order_grid = None if config.order_grid is None else _frozen(np.asarray(config.order_grid, dtype=np.int64))
        self.transfer_grid = (
            None if config.transfer_grid is None else _frozen(np.asarray(config.transfer_grid, dtype=np.int64))
        )

    # ------------------------------------------------------------------ discrete actions
    @property
    def has_discrete_actions(self) -> bool:
        """True when the config gives ``order_grid``/``transfer_grid`` (a ``Discrete`` action space)."""
        return self.order_grid is not None

    def _require_grid(self) -> None:
        if self.order_grid is None:
            raise ValueError("this EnvConfig has no order_grid/transfer_grid: discrete actions are off")

    @cached_property
    def discrete_sizes(self) -> tuple[int, ...]:
        """Number of discrete actions of each warehouse: ``len(order_grid) * len(transfer_grid) ** m_i``
        with ``m_i`` the warehouses it can ship to (needs the grids)."""
        self._require_grid()
        K, T = len(self.order_grid), len(self.transfer_grid)
        return tuple(int(K * T ** len(nb)) for nb in self.neighbours)

    @property
    def n_joint_actions(self) -> int:
        """Number of joint actions of all warehouses (the central learner's and the planner's): the
        exact product of :attr:`discrete_sizes` in Python integers (an int64 product wraps, e.g.
        to 0 for two warehouses of 2**32 actions each)."""
        return math.prod(self.discrete_sizes)

    @cached_property
    def _tables(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        self._require_grid()
        og, tg = self.order_grid, self.transfer_grid
        tables = []
        for i, nb in enumerate(self.neighbours):
            # index layout: o * T^m + t_1 * T^(m-1) + ... + t_m (order most significant)
            digits = np.unravel_index(np.arange(self.discrete_sizes[i]), (len(og),) + (len(tg),) * len(nb))
            x = np.zeros((self.discrete_sizes[i], self.N), dtype=np.int64)
            for k, j in enumerate(nb):
                x[:, j] = tg[digits[1 + k]]
            tables.append((_frozen(og[digits[0]]), _frozen(x)))
        return tuple(tables)

    def action_tables(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each warehouse ``i``, ``(order (A_i,), transfer (A_i, N))``: the units ordered and
        shipped to every warehouse by each of its discrete actions (read-only arrays)."""
        return list(self._tables)

    def decode_discrete(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map discrete action indices ``(B, N)`` to ``(replenish (B,N), transfer (B,N,N))`` [units].

        Index layout for warehouse ``i`` with neighbours ``j_1..j_m``:
        ``idx = o * T^m + t_1 * T^(m-1) + ... + t_m`` with ``o`` an index into ``order_grid`` and
        ``t_k`` into ``transfer_grid`` (T = its length). Raises :class:`InvalidActionError` naming
        the warehouse for an index out of range.
        """
        sizes = np.array(self.discrete_sizes)
        a = np.asarray(actions)
        if a.ndim != 2 or a.shape[1] != self.N:
            raise InvalidActionError(f"discrete actions must have shape (rows, {self.N}); got {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            raise InvalidActionError(f"discrete actions must be whole numbers; got dtype {a.dtype}")
        bad = (a < 0) | (a >= sizes)
        if bad.any():
            b, i = np.argwhere(bad)[0]
            raise InvalidActionError(
                f"warehouse {self.names[i]!r}: discrete action = {a[b, i]} is not allowed; "
                f"allowed: 0 to {(sizes - 1).tolist()} per warehouse"
            )
        q = np.empty(a.shape, dtype=np.int64)
        x = np.empty((a.shape[0], self.N, self.N), dtype=np.int64)
        for i, (order, transfer) in enumerate(self._tables):
            q[:, i] = order[a[:, i]]
            x[:, i, :] = transfer[a[:, i]]
        return q, x

    def joint_to_agents(self, joint: np.ndarray) -> np.ndarray:
        """Joint action indices ``(M,)`` -> per-warehouse ``Discrete`` indices ``(M, N)`` (warehouse 0
        most significant, the layout of the central learner and the planner)."""
        return np.stack(np.unravel_index(np.asarray(joint, dtype=np.int64), self.discrete_sizes), axis=1)

    def agents_to_joint(self, actions: np.ndarray) -> np.ndarray:
        """Per-warehouse ``Discrete`` indices ``(M, N)`` -> joint indices ``(M,)`` (inverse of
        :meth:`joint_to_agents`)."""
        a = np.asarray(actions, dtype=np.int64)
        return np.ravel_multi_index(tuple(a.T), self.discrete_sizes)

    # ------------------------------------------------------------------ feasibility
    def available(self, on_hand: np.ndarray, replenish: np.ndarray) -> np.ndarray:
        """Units each warehouse may ship today ``(M, N)``: stock on hand plus a same-day receipt
        (lead time 0), capped at capacity [units] (the rule is :func:`mas_lib.sim.day.available`)."""
        return day_available(on_hand, replenish, self.lead_time, self.capacity)

    def clip_actions(self, q: np.ndarray, x: np.ndarray, on_hand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The documented trim of ``invalid_action="clip"``, for any number of rows [units].

        Orders are clipped to ``[0, max_order]``; transfers below 0 or without a link become 0;
        if a warehouse ships more than it has on hand (after a same-day receipt, capped at
        capacity), all its transfers are scaled down proportionally and rounded down. Rows that
        are already feasible are unchanged. The exact planner applies the same trim (the rule is
        :func:`mas_lib.sim.day.trim`, which the per-step API runs on Python numbers). ``q`` and
        ``x`` are whole numbers of units of any dtype (:func:`units_array`: 1e30 or inf counts as
        :data:`UNIT_LIMIT`, so an order of inf becomes ``max_order``; NaN is an error).
        """
        q = units_array(np.asarray(q), lambda k: f"replenish{list(k)}")
        x = units_array(np.asarray(x), lambda k: f"transfer{list(k)}")
        N = self.N
        q2, x2 = trim(self.rules, ARRAYS, list(q.T), [list(x[:, i].T) for i in range(N)], list(np.asarray(on_hand).T))
        M = q.shape[0]
        return stack_columns(q2, M), np.stack([stack_columns(row, M) for row in x2], axis=1)

    @cached_property
    def rules(self) -> DayRules:
        """The network's constants for :mod:`mas_lib.sim.day` (lost sales, cost reward)."""
        return DayRules(self)

    def index(self, name: str) -> int:
        """Index of warehouse ``name`` (a :class:`ValueError` naming the known ones otherwise)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"unknown warehouse {name!r}; known: {list(self.names)}") from None

    def neighbour_names(self, i: int | str) -> list[str]:
        """Names of the warehouses ``i`` can ship to, in action order."""
        i = self.index(i) if isinstance(i, str) else int(i)
        return [self.names[j] for j in self.neighbours[i]]
