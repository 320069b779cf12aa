"""One day of the simulator's dynamics on many (state, action) rows at once (for the exact planner).

The exact planner never simulates: it needs, for every state-action pair, the day's cost and the
distribution of tomorrow's state. These private helpers compute both in the planner's compact form
-- the stock facing demand and tomorrow's arrivals (the post-decision state), and per-warehouse
tables over the demand distribution -- so that :func:`mas_lib.decide.planning.build_model` (all
pairs) and :func:`mas_lib.decide.planning.evaluate_policy` (one action per state) share one
implementation. The rules themselves are the simulator's, :func:`mas_lib.sim.day.run_day` (same-day
receipts, transfers, overflow above capacity, lost sales, holding on closing stock, ordering and
transport costs); ``tests/test_planning_day.py`` runs that function over every state, action and
demand value of the small instances and checks these tables against it (allowed actions, expected
cost, tomorrow's state). Paper sections 3.2.1 and 4.1. Quantities are in units, costs in money.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from .model import MDPModel

__all__: list[str] = []


def grid_index(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each value in a sorted grid, -1 where it is not on the grid."""
    v = np.asarray(values)
    pos = np.clip(np.searchsorted(grid, v), 0, len(grid) - 1)
    return np.where(grid[pos] == v, pos, -1)


def day_before_demand(model: MDPModel, on_hand, pipe, q, x):
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


def stage_cost(model: MDPModel, y: np.ndarray) -> np.ndarray:
    """Expected holding + lost-sale cost [money] of facing demand with stock ``y (M,N)`` [units]
    (``y`` is at most the capacity, so a table per stock level is looked up)."""
    total = np.zeros(y.shape[0])
    for i in range(model.net.N):
        total += stage_table(model, i)[y[:, i] // model.unit]
    return total


def stage_table(model: MDPModel, i: int) -> np.ndarray:
    """Expected holding + lost-sale cost [money] of warehouse ``i`` for every stock level."""
    net = model.net
    d, p = model.demand_support[i], model.demand_pmf[i]
    y = np.arange(model.levels[i])[:, None] * model.unit
    left = np.maximum(y - d[None, :], 0)
    lost = np.maximum(d[None, :] - y, 0)
    return (net.holding_cost[i] * left + net.shortage_cost[i] * lost) @ p


def post_index(model: MDPModel, y, r, pipe_next) -> np.ndarray:
    """Flat post-decision index of ``(y, r, pipe_next)`` rows (see :meth:`MDPModel.continuation`)."""
    coords, shape = [], []
    for i in range(model.net.N):
        coords += [y[:, i] // model.unit, r[:, i] // model.unit]
        shape += [model.levels[i], model.arrival_levels[i]]
        for j in range(model.slots[i]):
            coords.append(np.maximum(grid_index(model.order_grid, pipe_next[:, i, j]), 0))
            shape.append(len(model.order_grid))
    coords = [np.clip(c, 0, n - 1) for c, n in zip(coords, shape, strict=True)]
    return np.ravel_multi_index(tuple(coords), tuple(shape))


def transition_matrix(model: MDPModel, y, r, pipe_next) -> sp.csr_matrix:
    """Sparse ``(M, S)`` matrix of next-state probabilities for M rows of ``(y, r, pipe_next)``.

    Row ``m`` has one entry per joint demand outcome (warehouse 0's demand varying slowest), in
    that order before duplicates are summed; the column is the flat next-state index, built by
    Horner's rule over (stock level, pipeline slots) of each warehouse -- the same numbers as
    ``np.ravel_multi_index`` without materialising one coordinate array per dimension. A pipeline
    entry off the order grid raises the ValueError ``np.ravel_multi_index`` raises. Used by exact
    evaluation and policy iteration (paper section 4.5)."""
    N, M = model.net.N, y.shape[0]
    cap = model.net.capacity
    prob = np.ones((M, 1))
    cols = np.zeros((M, 1), dtype=np.intp)
    for i in range(N):
        d, p = model.demand_support[i], model.demand_pmf[i]
        nxt = np.minimum(np.maximum(y[:, i, None] - d[None, :], 0) + r[:, i, None], cap[i]) // model.unit
        _in_range(nxt, model.levels[i])
        prob = (prob[:, :, None] * p[None, None, :]).reshape(M, -1)
        cols = (cols[:, :, None] * model.levels[i] + nxt[:, None, :].astype(np.intp)).reshape(M, -1)
        for j in range(model.slots[i]):
            g = grid_index(model.order_grid, pipe_next[:, i, j])
            _in_range(g, len(model.order_grid))
            cols = cols * len(model.order_grid) + g[:, None].astype(np.intp)
    K = prob.shape[1]
    indptr = np.arange(0, M * K + 1, K, dtype=np.intp)
    P = sp.csr_matrix((prob.ravel(), cols.ravel(), indptr), shape=(M, model.n_states))
    P.sum_duplicates()
    return P


def _in_range(coords: np.ndarray, size: int) -> None:
    """The check ``np.ravel_multi_index`` makes: every coordinate in ``[0, size)``."""
    if coords.size and (coords.min() < 0 or coords.max() >= size):
        raise ValueError("invalid entry in coordinates array")


def rows_for_actions(model: MDPModel, actions: np.ndarray):
    """``(feasible, cost [money], y, r, pipe_next)`` of playing joint action ``actions[s]`` in every state."""
    on_hand, pipe = model.decode_states()
    q, x = model.decode_actions(actions)
    feas, det, y, r, pn = day_before_demand(model, on_hand, pipe, q, x)
    return feas, det + stage_cost(model, y), y, r, pn
