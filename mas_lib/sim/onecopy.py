"""The lean path for one copy (B = 1): the day of :meth:`BatchCore.step` in plain Python numbers.

For a single environment (the PettingZoo API, a student's first loop) the arrays are tiny -- two
or three warehouses -- so each of the ~60 numpy calls of a batch step costs far more than the
arithmetic it does. :func:`step_one` runs the same day, event by event and in the same order of
floating-point operations, on Python ints and floats, then writes the state back into the core's
arrays. The results are bit-for-bit those of ``BatchCore.step`` with ``B = 1`` (checked in
``tests/test_onecopy.py``), the ``invalid_action="clip"`` trim included; anything unusual (an action
that needs the error message, a number of 2**53 units or more, more than :data:`MAX_N` warehouses)
goes through ``BatchCore.step`` itself. Every
:meth:`mas_lib.sim.env.MultiWarehouseEnv.step` runs it (``benchmarks/bench_env.py`` times it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .state import StepResult

if TYPE_CHECKING:
    from .core import BatchCore

__all__ = ["MAX_N", "LazyState", "OneCopy", "step_one", "result_from_rows"]

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
_REWARD = list(_DTYPES).index("reward")


def _lazy(name: str) -> property:
    private = "_" + name

    def get(self):
        if self._pending is not None:
            self._flush()
        try:
            return self.__dict__[private]
        except KeyError:
            raise AttributeError(f"{type(self).__name__!r} has no {name!r} before reset()") from None

    def put(self, value) -> None:
        if self._pending is not None:
            self._flush()
        self.__dict__[private] = value

    return property(get, put, doc=f"``{name}`` of every copy (an array; see :class:`LazyState`).")


def _total(k: int) -> property:
    def get(self):
        if self._pending is not None:
            self._flush()
        return self._total_views[k]

    def put(self, value) -> None:
        if self._pending is not None:
            self._flush()
        view = self._total_views[k]
        if value is not view:
            view[...] = value

    return property(get, put, doc="running total per copy and warehouse [units] (see :class:`LazyState`).")


class LazyState:
    """Mixin of :class:`BatchCore`: after a lean one-copy step, ``on_hand``, ``backlog``,
    ``requests``, ``prev_end`` and the days' additions to the running totals are held as Python
    lists and become arrays only when something reads them (a per-step loop that never looks at them pays nothing for
    them). Reading or assigning any of them gives exactly the arrays ``BatchCore.step`` would have
    made; ``pipeline`` and ``transit`` are always arrays (the core updates them in place)."""

    _pending: tuple | None = None

    on_hand = _lazy("on_hand")
    backlog = _lazy("backlog")
    requests = _lazy("requests")
    prev_end = _lazy("prev_end")
    total_ordered = _total(0)
    total_sold = _total(1)
    total_overflow = _total(2)

    def _flush(self) -> None:
        on_hand, backlog, requests, prev_end, days = self._pending
        self._pending = None
        d = self.__dict__
        d["_on_hand"] = np.array([on_hand], dtype=np.int64)
        if backlog is not None:
            d["_backlog"] = np.array([backlog], dtype=np.int64)
        d["_requests"] = np.array([requests], dtype=np.int64)  # (a new array each day, as BatchCore.step)
        d["_prev_end"] = np.array([prev_end], dtype=np.float64)
        self._totals[:, 0] += np.array(days, dtype=np.int64).sum(axis=0)  # each day's (ordered, sold, overflow)


class OneCopy:
    """The constants of one configuration as Python lists, built once per :class:`BatchCore`."""

    def __init__(self, core: BatchCore):
        net, cfg = core.net, core.config
        self.N = N = net.N
        # (whole numbers from 2**53 on lose precision through float in the general action parser)
        self.usable = N <= MAX_N and max(net.capacity.max(), net.max_order.max()) < 2**53
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
        #: per warehouse, what pass 1 (orders and shipments) and pass 2 (receipts, demand, costs) read;
        #: a sender's links as (receiver, lead, unit cost, fixed cost), receivers in increasing order
        self.senders = [(i, self.capacity[i], self.lead[i], self.fixed[i], self.unit[i],
                         [(j, lv, self.arc_unit[i][j], self.arc_fixed[i][j]) for s, j, lv in self.arcs if s == i])
                        for i in range(N)]
        self.stores = [(i, self.capacity[i], self.holding[i], self.short[i]) for i in range(N)]
        #: per warehouse, what the feasibility check reads: (i, max_order, capacity, same-day receipt,
        #: the targets it cannot ship to -- itself and every warehouse without a link)
        self.checks = [(i, self.max_order[i], self.capacity[i], self.lead[i] == 0,
                        [j for j in range(N) if not self.arc[i][j]]) for i in range(N)]
        self.clipping = cfg.invalid_action == "clip"
        self.unclipped = [False] * N
        self.backorders = bool(cfg.backorders)
        rc = cfg.reward
        self.paper = rc.kind == "paper"
        self.c = (rc.c1, rc.c2, rc.c3)
        self.shared = bool(rc.shared)
        self.L, self.Tm = net.Lmax, net.Tmax
        #: (pipeline, transit, demand) arrays of the core and their copy-0 views (see step_one)
        self.views: tuple = (None,) * 6

    def feasible(self, q: list[int], x: list, on_hand: list[int]) -> tuple | None:
        """The action as ``BatchCore._validate`` lets it through: ``(q, x, None)`` when it passes every
        check as it is; else, with ``invalid_action="clip"``, the trimmed ``(q, x, clipped)`` (see
        :meth:`clip`); else ``None`` (``BatchCore.step`` raises the error)."""
        for i, mo, cap, lead0, off in self.checks:
            qi, row = q[i], x[i]
            if qi < 0 or qi > mo or min(row) < 0:
                return self.clip(q, x, on_hand)
            for j in off:  # (transfers off the links and to itself must be 0)
                if row[j]:
                    return self.clip(q, x, on_hand)
            avail = on_hand[i] + qi if lead0 else on_hand[i]
            if sum(row) > (avail if avail < cap else cap):
                return self.clip(q, x, on_hand)
        return q, x, None

    def clip(self, q: list[int], x: list, on_hand: list[int]) -> tuple | None:
        """:meth:`mas_lib.sim.network.Network.clip_actions` in Python numbers, with the same floating-point
        operations (so the same units): ``(q, x, clipped)`` with ``clipped[i]`` True where warehouse
        ``i``'s action changed; ``None`` when the config raises instead, or for a number of 2**53 units
        or more (numpy's int64 sums and float conversions are left to ``BatchCore.step``)."""
        if not self.clipping:
            return None
        q2, x2, clipped = [], [], []
        big = 2**53
        for i, mo, cap, lead0, _ in self.checks:
            qi, row, arow = q[i], x[i], self.arc[i]
            if not -big < qi < big or not -big < min(row) <= max(row) < big:
                return None
            qc = mo if qi > mo else (0 if qi < 0 else qi)  # np.clip(q, 0, max_order)
            new = [v if v > 0 and arow[j] else 0 for j, v in enumerate(row)]
            avail = on_hand[i] + qc if lead0 else on_hand[i]
            if avail > cap:
                avail = cap
            out = sum(new)
            if out >= big:
                return None
            if out > avail:  # scale every transfer down, rounding down (float64 as numpy: both < 2**53)
                scale = float(avail) / float(out if out > 1 else 1)
                new = [math.floor(v * scale) for v in new]
            q2.append(qc)
            x2.append(new)
            clipped.append(qc != qi or new != list(row))
        return q2, x2, clipped


def step_one(core: BatchCore, q: list[int], x: list) -> tuple[list[list], list[dict]] | None:
    """One day of copy 0 of ``core`` (``B = 1``) for a whole-number action given as lists.

    Args:
        core: a :class:`BatchCore` with one copy, reset and not done.
        q: units ordered by each warehouse (Python ints).
        x: ``x[i][j]`` units shipped from ``i`` to ``j`` (Python ints; rows may be lists or tuples).

    Returns:
        ``(rows, infos)``: one row per warehouse, the day's :class:`StepResult` fields as Python
        numbers in field order (``StepResult.field_names()``), and the same numbers as one dict per
        warehouse (field name -> number; the per-step API's ``infos``, the caller's to keep);
        or ``None`` when this action must go through
        ``BatchCore.step`` (not feasible and not to be clipped, a number of 2**53 units or more, or
        a network too big for the lean path).
        The core's state advances exactly as ``BatchCore.step`` would advance it.
    """
    k: OneCopy = core._one
    pending = core._pending
    cd = core.__dict__
    if pending is None:
        on_hand = cd["_on_hand"][0].tolist()
        p_backlog = days = None
    else:
        on_hand, p_backlog, requests, prev, days = pending
    action = k.feasible(q, x, on_hand) if k.usable else None
    if action is None:
        return None
    q, x, clipped = action
    if clipped is None:
        clipped = k.unclipped
    if pending is None:
        prev = cd["_prev_end"][0].tolist()
        requests = cd["_requests"][0].tolist()
    backlog = cd["_backlog"][0].tolist() if p_backlog is None else p_backlog
    N, t = k.N, core.t
    # copy 0's rows of the state arrays (views kept while the core holds the same arrays)
    views = k.views
    if views[0] is not core.pipeline or views[1] is not core.transit or views[2] is not core.demand:
        views = k.views = (core.pipeline, core.transit, core.demand, core.pipeline[0], core.transit[0], core.demand[0])
    pipe0, transit0, demand0 = views[3:]
    pipeline = pipe0.tolist()
    transit = transit0.tolist()
    d = demand0[t].tolist()
    overflow = [0] * N
    shipped = [0] * N
    ordering = [0.0] * N
    transport = [0.0] * N
    received = [0] * N
    # pass 1, per sender. 2. decisions: pay for orders; same-day orders are received at once.
    # 3. transfers leave along the links (every other entry of the row is 0). The transport cost is
    # numpy's left-to-right sum over the row; its terms off the links and for 0 units are 0.0 and
    # every cost is >= 0, so adding only the others gives the same float.
    for i, cap, lead, fixed, unit, links in k.senders:
        qi, row = q[i], x[i]
        ordering[i] = fixed * (qi > 0) + unit * qi
        oh = on_hand[i]
        if lead == 0:
            oh += qi
            if oh > cap:
                overflow[i] = oh - cap
                oh = cap
        else:
            pipeline[i][lead - 1] += qi
        out = sum(row)
        on_hand[i] = oh - out
        shipped[i] = out
        if out:
            cost = 0.0
            ri = requests[i]
            for j, lv, au, af in links:
                v = row[j]
                if v:
                    cost += v * au + af
                    if lv:
                        transit[j][lv - 1] += v
                    else:
                        received[j] += v
                    if ri[j]:  # requests = max(requests - x, 0)
                        ri[j] = ri[j] - v if ri[j] > v else 0
            transport[i] = cost
    moving = any(map(any, transit))  # else transit is all zeros before and after the shift
    # pass 2, per warehouse: lead-0 transfers arrive, 4. demand is served, 5. costs on closing
    # stock, 1'. tomorrow's arrivals
    rows = []
    infos = []
    sold = [0] * N
    ends = [0] * N
    c1, c2, c3 = k.c
    paper, backorders, lead0_arcs = k.paper, k.backorders, k.lead0_arcs
    for i, cap, h, short in k.stores:
        oh = on_hand[i]
        if lead0_arcs:
            oh += received[i]
            if oh > cap:
                overflow[i] += oh - cap
                oh = cap
        di, bi = d[i], backlog[i]
        if backorders:
            need = di + bi
            sales = oh if oh < need else need
            served = sales - bi if sales > bi else 0
            bi = need - sales
            backlog[i] = bi
            lost = 0
            shortage = short * bi
        else:
            sales = oh if oh < di else di
            served = sales
            lost = di - sales
            shortage = short * lost
        end = oh - sales
        holding = h * end
        total = holding + shortage + ordering[i] + transport[i]
        sat = served / di if di > 0 else 1.0
        reduction = h * (prev[i] - end)
        reward = c1 * sat + c2 * reduction - c3 * transport[i] if paper else -total
        p_row, t_row = pipeline[i], transit[i]
        new = end + (p_row[0] + t_row[0])
        p_row.append(0)
        del p_row[0]
        t_row.append(0)
        del t_row[0]
        if new > cap:
            overflow[i] += new - cap
            new = cap
        on_hand[i] = new
        sold[i] = sales
        ends[i] = end
        qi, sh, rc, ov, o, tr, cl = q[i], shipped[i], received[i], overflow[i], ordering[i], transport[i], clipped[i]
        rows.append([di, sales, served, lost, bi, sat, end, qi, sh, rc, ov, holding, shortage, o, tr, total, sat,
                     reduction, reward, cl])
        # the same numbers under their names (a dict display is quicker than dict(zip(names, row)))
        infos.append({"demand": di, "sales": sales, "served": served, "lost": lost, "backlog": bi, "fill_rate": sat,
                      "on_hand": end, "ordered": qi, "shipped_out": sh, "received_transfers": rc, "overflow": ov,
                      "holding_cost": holding, "shortage_cost": shortage, "ordering_cost": o, "transport_cost": tr,
                      "total_cost": total, "satisfaction": sat, "inventory_cost_reduction": reduction,
                      "reward": reward, "clipped": cl})
    if k.shared:
        team = rows[0][_REWARD]
        for i in range(1, N):
            team += rows[i][_REWARD]
        for row, info in zip(rows, infos):  # noqa: B905 (one info per row)
            row[_REWARD] = info["reward"] = team
    # write the state back: pipeline and transit in place (as BatchCore.step does), the rest as
    # lists that LazyState turns into new arrays when read
    core.t = t + 1
    pipe0[...] = pipeline
    if moving:
        transit0[...] = transit
    # the running totals: each day's (ordered, sold, overflow), added up when they are read
    if days is None:
        days = [(q, sold, overflow)]
    else:
        days.append((q, sold, overflow))
    core._pending = (on_hand, backlog if backorders else p_backlog, requests, ends, days)
    if core.t >= core.T:
        core._ready = False
    core._after_one = (on_hand, backlog, pipeline, transit, requests)
    return rows, infos


def result_from_rows(rows: list[list]) -> StepResult:
    """The :class:`StepResult` (``B = 1`` arrays) of the rows :func:`step_one` returned."""
    arrays = {name: np.array([col], dtype=_DTYPES[name]) for name, col in zip(_DTYPES, zip(*rows, strict=True), strict=True)}
    arrays["satisfaction"] = arrays["fill_rate"]
    return StepResult(**arrays)
