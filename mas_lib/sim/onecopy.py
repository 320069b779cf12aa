"""The lean path for one copy (B = 1): the day of :meth:`BatchCore.step` in plain Python numbers.

For a single environment (the PettingZoo API, a student's first loop) the arrays are tiny -- two
or three warehouses -- so each of the ~60 numpy calls of a batch step costs far more than the
arithmetic it does. :func:`step_one` runs the same day, event by event and in the same order of
floating-point operations, on Python ints and floats, then writes the state back into the core's
arrays. The results are bit-for-bit those of ``BatchCore.step`` with ``B = 1`` (checked in
``tests/test_env.py``); anything unusual (an action that needs the error message or the clip trim,
more than :data:`MAX_N` warehouses) goes through ``BatchCore.step`` itself. Notebook 02's loop and
``benchmarks/bench_env.py`` run it through :class:`mas_lib.sim.env.MultiWarehouseEnv`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .state import StepResult

if TYPE_CHECKING:
    from .core import BatchCore

__all__ = ["MAX_N", "OneCopy", "step_one"]

#: up to this many warehouses numpy's ``sum`` over a row adds left to right, as the loops here do
#: (from 8 on it switches to pairwise summation); larger networks use ``BatchCore.step``.
MAX_N = 7

_INT, _FLOAT = np.int64, np.float64
#: dtype of each StepResult field, in field order
_DTYPES = {
    "demand": _INT, "sales": _INT, "served": _INT, "lost": _INT, "backlog": _INT, "fill_rate": _FLOAT,
    "on_hand": _INT, "ordered": _INT, "shipped_out": _INT, "received_transfers": _INT, "overflow": _INT,
    "holding_cost": _FLOAT, "shortage_cost": _FLOAT, "ordering_cost": _FLOAT, "transport_cost": _FLOAT,
    "total_cost": _FLOAT, "satisfaction": _FLOAT, "inventory_cost_reduction": _FLOAT, "reward": _FLOAT,
    "clipped": np.bool_,
}


class OneCopy:
    """The constants of one configuration as Python lists, built once per :class:`BatchCore`."""

    def __init__(self, core: BatchCore):
        net, cfg = core.net, core.config
        self.N = N = net.N
        self.usable = N <= MAX_N
        self.capacity = net.capacity.tolist()
        self.max_order = net.max_order.tolist()
        self.lead = net.lead_time.tolist()
        self.fixed = net.order_fixed_cost.tolist()
        self.unit = net.order_unit_cost.tolist()
        self.holding = net.holding_cost.tolist()
        self.short = net.shortage_cost.tolist()
        self.arc = net.arc.tolist()
        self.arc_unit = net.arc_unit_cost.tolist()
        self.arc_fixed = net.arc_fixed_cost.tolist()
        #: (sender, receiver, lead) of every link
        self.arcs = [(int(i), int(j), int(net.arc_lead_time[i, j])) for i, j in np.argwhere(net.arc)]
        self.lead0_arcs = any(lv == 0 for _, _, lv in self.arcs)
        self.same_day = [i for i in range(N) if self.lead[i] == 0]
        self.later = [(i, self.lead[i] - 1) for i in range(N) if self.lead[i] >= 1]
        self.backorders = bool(cfg.backorders)
        rc = cfg.reward
        self.paper = rc.kind == "paper"
        self.c = (rc.c1, rc.c2, rc.c3)
        self.shared = bool(rc.shared)
        self.L, self.Tm = net.Lmax, net.Tmax

    def valid(self, q: list[int], x: list[list[int]], on_hand: list[int]) -> bool:
        """True when the action passes every check of ``BatchCore._validate`` as it is."""
        cap, mo, arc = self.capacity, self.max_order, self.arc
        for i in range(self.N):
            qi = q[i]
            if qi < 0 or qi > mo[i]:
                return False
            out = 0
            row, arow = x[i], arc[i]
            for j in range(self.N):
                v = row[j]
                if v < 0 or (v and not arow[j]):
                    return False
                out += v
            avail = on_hand[i] + (qi if self.lead[i] == 0 else 0)
            if out > (avail if avail < cap[i] else cap[i]):
                return False
        return True


def _row_sum(values: list[float]) -> float:
    """Left-to-right sum: what numpy's ``sum`` over a row of fewer than 8 float64 does."""
    total = values[0]
    for v in values[1:]:
        total += v
    return total


def step_one(core: BatchCore, q: list[int], x: list[list[int]]) -> list[list] | None:
    """One day of copy 0 of ``core`` (``B = 1``) for a whole-number action given as lists.

    Args:
        core: a :class:`BatchCore` with one copy, reset and not done.
        q: units ordered by each warehouse (Python ints).
        x: ``x[i][j]`` units shipped from ``i`` to ``j`` (Python ints).

    Returns:
        The day's :class:`StepResult` fields for the one copy, as lists of Python numbers in field
        order (``StepResult.field_names()``), or ``None`` when this action must go through
        ``BatchCore.step`` (not feasible as given, or the network is too big for the lean path).
        The core's state advances exactly as ``BatchCore.step`` would advance it.
    """
    k: OneCopy = core._one
    on_hand = core.on_hand[0].tolist()
    if not k.usable or not k.valid(q, x, on_hand):
        return None
    N, cap = k.N, k.capacity
    t = core.t
    rng = range(N)
    # 2. decisions: pay for orders; same-day orders are received at once
    ordering = [k.fixed[i] * (q[i] > 0) + k.unit[i] * q[i] for i in rng]
    overflow = [0] * N
    for i in k.same_day:
        new = on_hand[i] + q[i]
        over = new - cap[i]
        if over > 0:
            overflow[i] = over
            new -= over
        on_hand[i] = new
    pipeline = core.pipeline[0]
    for i, slot in k.later:
        pipeline[i, slot] += q[i]
    # 3. transfers leave; lead-0 transfers are received before demand
    shipped = [sum(x[i]) for i in rng]
    transport = []
    au, af = k.arc_unit, k.arc_fixed
    for i in rng:
        on_hand[i] -= shipped[i]
        row = x[i]
        transport.append(_row_sum([row[j] * au[i][j] + af[i][j] * (row[j] > 0) for j in rng]))
    requests = core.requests[0].tolist()
    for i in rng:
        ri, xi = requests[i], x[i]
        for j in rng:
            v = ri[j] - xi[j]
            ri[j] = v if v > 0 else 0
    received = [0] * N
    if k.arcs:
        transit = core.transit[0]
        for i, j, lv in k.arcs:
            if lv == 0:
                received[j] += x[i][j]
            elif x[i][j]:
                transit[j, lv - 1] += x[i][j]
        if k.lead0_arcs:
            for j in rng:
                new = on_hand[j] + received[j]
                over = new - cap[j]
                if over > 0:
                    overflow[j] += over
                    new -= over
                on_hand[j] = new
    # 4. demand is served
    d = core.demand[0, t].tolist()
    backlog = core.backlog[0].tolist()
    if k.backorders:
        need = [d[i] + backlog[i] for i in rng]
        sales = [min(on_hand[i], need[i]) for i in rng]
        served = [max(sales[i] - backlog[i], 0) for i in rng]
        backlog = [need[i] - sales[i] for i in rng]
        lost = [0] * N
        shortage = [k.short[i] * backlog[i] for i in rng]
    else:
        sales = [min(on_hand[i], d[i]) for i in rng]
        served = sales
        lost = [d[i] - sales[i] for i in rng]
        shortage = [k.short[i] * lost[i] for i in rng]
    end = [on_hand[i] - sales[i] for i in rng]
    # 5. costs on closing stock
    holding = [k.holding[i] * end[i] for i in rng]
    total = [holding[i] + shortage[i] + ordering[i] + transport[i] for i in rng]
    satisfaction = [served[i] / d[i] if d[i] > 0 else 1.0 for i in rng]
    prev = core.prev_end[0].tolist()
    reduction = [k.holding[i] * (prev[i] - end[i]) for i in rng]
    if k.paper:
        c1, c2, c3 = k.c
        reward = [c1 * satisfaction[i] + c2 * reduction[i] - c3 * transport[i] for i in rng]
    else:
        reward = [-v for v in total]
    if k.shared:
        reward = [_row_sum(reward)] * N
    # 1'. tomorrow's arrivals
    core.t = t + 1
    arriving = (pipeline[:, 0] + core.transit[0, :, 0]).tolist()
    if k.L > 1:
        pipeline[:, :-1] = pipeline[:, 1:]
    pipeline[:, -1] = 0
    if k.Tm > 1:
        core.transit[0, :, :-1] = core.transit[0, :, 1:]
    core.transit[0, :, -1] = 0
    on_hand = end.copy()
    total_overflow = list(overflow)
    for i in rng:
        new = on_hand[i] + arriving[i]
        over = new - cap[i]
        if over > 0:
            total_overflow[i] += over
            new -= over
        on_hand[i] = new
    # write the state back (new arrays where BatchCore.step makes new ones)
    core.on_hand = np.array([on_hand], dtype=np.int64)
    if k.backorders:
        core.backlog = np.array([backlog], dtype=np.int64)
    core.requests = np.array([requests], dtype=np.int64)
    core.prev_end = np.array([end], dtype=np.float64)
    core._totals[:, 0] += (q, sales, total_overflow)
    if core.t >= core.T:
        core._ready = False
    core._after_one = (on_hand, backlog, requests)
    return [d, sales, served, lost, backlog, satisfaction, end, list(q), shipped, received,
            total_overflow, holding, shortage, ordering, transport, total, satisfaction, reduction, reward,
            [False] * N]


def result_from_lists(cols: list[list]) -> StepResult:
    """The :class:`StepResult` (``B = 1`` arrays) of the columns :func:`step_one` returned."""
    arrays = {name: np.array([col], dtype=_DTYPES[name]) for name, col in zip(_DTYPES, cols, strict=True)}
    arrays["satisfaction"] = arrays["fill_rate"]
    return StepResult(**arrays)
