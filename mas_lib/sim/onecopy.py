"""The lean path for one copy (B = 1): :func:`mas_lib.sim.day.run_day` on Python numbers.

For a single environment (the PettingZoo API, a student's first loop) the arrays are tiny -- two
or three warehouses -- so each numpy call of a batch step costs far more than the arithmetic it
does. :func:`step_one` reads copy 0's state as Python lists, runs the day's rules
(:func:`mas_lib.sim.day.run_day`, the very function ``BatchCore.step`` runs on arrays) on Python
ints and floats, and writes the new state back into the core's arrays. It holds no rule of its
own: it checks that the action can be played as it is (or trims it with
:func:`mas_lib.sim.day.trim` under ``invalid_action="clip"``) and leaves anything unusual (an action
that needs the error message, a number of 2**53 units or more, more than :data:`MAX_N` warehouses)
to ``BatchCore.step``. ``tests/test_onecopy.py`` compares the two bit for bit; every
:meth:`mas_lib.sim.env.MultiWarehouseEnv.step` runs it (``benchmarks/bench_env.py`` times it).
"""

from __future__ import annotations

import struct
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from .day import FIELD_DTYPES, NUMBERS, available, rows_to_fields, run_day, trim
from .state import StepResult

if TYPE_CHECKING:
    from .core import BatchCore

__all__ = ["MAX_N", "OneCopy", "step_one", "write_held", "result_from_rows"]

#: the largest network the lean path takes (its sums are written out left to right, as the batch
#: step's, so the size is not about floats: beyond it a day's Python loops cost about as much as numpy)
MAX_N = 32

_DTYPES = FIELD_DTYPES
_BIG = 2**53


def _infos(rows: list[list]) -> list[dict]:
    """The rows of :func:`mas_lib.sim.day.run_day` as the per-step API's info dicts (dict displays in
    one comprehension are quicker than ``dict(zip(names, row))`` or a call per row;
    ``tests/test_onecopy.py`` checks the names and order)."""
    return [{"demand": r[0], "sales": r[1], "served": r[2], "lost": r[3], "backlog": r[4], "fill_rate": r[5],
             "on_hand": r[6], "ordered": r[7], "shipped_out": r[8], "received_transfers": r[9], "overflow": r[10],
             "holding_cost": r[11], "shortage_cost": r[12], "ordering_cost": r[13], "transport_cost": r[14],
             "total_cost": r[15], "satisfaction": r[16], "inventory_cost_reduction": r[17], "reward": r[18],
             "clipped": r[19]} for r in rows]


class OneCopy:
    """What the lean path needs of one configuration, built once per :class:`BatchCore`."""

    def __init__(self, core: BatchCore):
        net, cfg = core.net, core.config
        self.N = N = net.N
        self.rules = core.rules
        # (whole numbers from 2**53 on lose precision through float in the general action parser)
        self.usable = N <= MAX_N and max(net.capacity.max(), net.max_order.max()) < _BIG
        arc = net.arc.tolist()
        #: per warehouse, what the feasibility check reads: (i, max_order, the targets it cannot ship
        #: to -- itself and every warehouse without a link)
        self.checks = [(i, int(net.max_order[i]), [j for j in range(N) if not arc[i][j]]) for i in range(N)]
        self.clipping = cfg.invalid_action == "clip"
        self.unclipped = [False] * N
        self.backorders = bool(cfg.backorders)
        #: (pipeline, transit, demand) arrays of the core, their copy-0 views and the writers of the
        #: pipeline's and the road's copy 0 (see step_one and :func:`_writer`)
        self.views: tuple = (None,) * 8

    def feasible(self, q: list[int], x: list, on_hand: list[int]) -> tuple | None:
        """The action as ``BatchCore._validate`` lets it through: ``(q, x, None)`` when it passes every
        check as it is; else, with ``invalid_action="clip"``, the trimmed ``(q, x, clipped)`` (see
        :meth:`clip`); else ``None`` (``BatchCore.step`` raises the error)."""
        lead, cap, lo = self.rules.lead, self.rules.capacity, NUMBERS.minimum
        for i, mo, off in self.checks:
            qi, row = q[i], x[i]
            if qi < 0 or qi > mo or min(row) < 0:
                return self.clip(q, x, on_hand)
            for j in off:  # (transfers off the links and to itself must be 0)
                if row[j]:
                    return self.clip(q, x, on_hand)
            out = sum(row)  # (what is available is >= 0 here: nothing to check when nothing leaves)
            if out and out > available(on_hand[i], qi, lead[i], cap[i], lo):
                return self.clip(q, x, on_hand)
        return q, x, None

    def clip(self, q: list[int], x: list, on_hand: list[int]) -> tuple | None:
        """:func:`mas_lib.sim.day.trim` on Python numbers: ``(q, x, clipped)`` with ``clipped[i]`` True
        where warehouse ``i``'s action changed; ``None`` when the config raises instead, or for a
        number of 2**53 units or more (left to ``BatchCore.step``'s int64 arrays)."""
        if not self.clipping:
            return None
        for i in range(self.N):
            row = x[i]
            if not -_BIG < q[i] < _BIG or not -_BIG < min(row) <= max(row) < _BIG:
                return None
        q2, x2 = trim(self.rules, NUMBERS, q, x, on_hand)
        return q2, x2, [q2[i] != q[i] or x2[i] != list(x[i]) for i in range(self.N)]


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
    held = core._held
    if held is None:
        on_hand = core.on_hand[0].tolist()
    else:  # the lists of the previous lean step (see write_held)
        on_hand, backlog, requests, prev, days = held
    action = k.feasible(q, x, on_hand) if k.usable else None
    if action is None:
        return None
    q, x, clipped = action
    if clipped is None:
        clipped = k.unclipped
    if held is None:
        backlog, requests, prev = core.backlog[0].tolist(), core.requests[0].tolist(), core.prev_end[0].tolist()
        days = []
    t = core.t
    # copy 0's rows of the state arrays (views kept while the core holds the same arrays)
    views, d = k.views, core.__dict__
    if views[0] is not d["_pipeline"] or views[1] is not d["_transit"] or views[2] is not core.demand:
        pipe0, transit0 = d["_pipeline"][0], d["_transit"][0]
        views = k.views = (d["_pipeline"], d["_transit"], core.demand, pipe0, transit0, core.demand[0],
                           _writer(pipe0), _writer(transit0))
    pipe0, transit0, demand0, write_pipe, write_transit = views[3:]
    queues = core._lean_queues  # (the lists of the previous lean step: the arrays' numbers, see core._Queue)
    if queues is None:
        pipeline, transit = pipe0.tolist(), transit0.tolist()
    else:
        pipeline, transit = queues
        core._lean_queues = None  # (until they are written below)
    moving = any(map(any, transit))
    rows = run_day(k.rules, NUMBERS, on_hand, backlog, pipeline, transit, requests, prev, q, x,
                   demand0[t].tolist(), clipped)
    moving = moving or any(map(any, transit))  # else the road was empty and still is
    infos = _infos(rows)
    # pipeline and road written in place (as BatchCore.step does); the rest kept as lists (write_held)
    core.t = t + 1
    write_pipe(pipeline)
    if moving:
        write_transit(transit)
    if not core._queues_shared:
        core._lean_queues = (pipeline, transit)
    days.append((q, rows))
    core._held = (on_hand, backlog, requests, prev, days)  # (prev: today's closing stock)
    if core.t >= core.T:
        core._ready = False
    core._after_one = (on_hand, backlog, pipeline, transit, requests)
    return rows, infos


def _writer(a: np.ndarray):
    """A function that writes nested lists of whole numbers (Python ints below 2**53, the lean path's
    pipeline or road) into ``a``, in place: for a C-contiguous, writable, native int64 ``a`` it packs
    them straight into its memory (``struct``, one call; numpy's conversion of a nested list costs
    about twice as much for 2 warehouses and more for 6), else it assigns ``a[...] = lists``."""
    if a.dtype == np.int64 and a.dtype.isnative and a.flags.c_contiguous and a.flags.writeable and a.size:
        pack, memory, flatten = struct.Struct(f"={a.size}q").pack_into, memoryview(a).cast("B"), chain.from_iterable

        def write(lists: list) -> None:
            pack(memory, 0, *flatten(lists))
    else:
        def write(lists: list) -> None:
            a[...] = lists
    return write


def write_held(core: BatchCore) -> None:
    """Write the lists a lean step left in ``core._held`` into the core's arrays: ``on_hand``,
    ``backlog`` (with backorders), ``requests`` and ``prev_end`` as new arrays (as ``BatchCore.step``
    makes them), and each held day's (ordered, sold, overflow) added to the running totals (whole
    units: exact in any order). Called by the core's attributes when they are read or assigned
    (``core._Held``); ``state()`` and every other reader go through them."""
    on_hand, backlog, requests, ends, days = core._held
    core._held = None
    d = core.__dict__
    d["_on_hand"] = np.array([on_hand], dtype=np.int64)
    if core._one.backorders:
        d["_backlog"] = np.array([backlog], dtype=np.int64)
    d["_requests"] = np.array([requests], dtype=np.int64)
    d["_prev_end"] = np.array([ends], dtype=np.float64)
    added = np.array([(q, [r[1] for r in rows], [r[10] for r in rows]) for q, rows in days], dtype=np.int64)
    core._totals[:, 0] += added.sum(axis=0)


def result_from_rows(rows: list[list]) -> StepResult:
    """The :class:`StepResult` (``B = 1`` arrays) of the rows :func:`step_one` returned."""
    return StepResult(**rows_to_fields(rows, 1))
