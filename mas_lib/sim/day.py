"""The rules of one simulated day, written once: :func:`run_day` (and the ``"clip"`` trim, :func:`trim`).

``docs/dynamics.md`` states the rules (arrivals, decisions, transfers, demand, costs); this module is
their only implementation (paper sections 3.2.1 and 4.3; notebooks 00, 02 and 05 step it). The batch
core (:meth:`mas_lib.sim.core.BatchCore.step`, any number of copies) and the lean one-copy path of the per-step API (:mod:`mas_lib.sim.onecopy`) both call
:func:`run_day`; ``tests/test_planning_day.py`` checks the exact planner's tables
(:mod:`mas_lib.decide.planning.dynamics`) against it over every state, action and demand of the
small instances (notebook 06).

**Columns.** The state and the action are given *per warehouse* (and per link, per pipeline slot):
``on_hand[i]`` is warehouse ``i``'s stock, ``x[i][j]`` the units ``i`` ships to ``j``. Each entry
is either a Python number (the per-step API: one copy, two or three warehouses, where a numpy call
costs more than the arithmetic it does) or a numpy array of any shape (the batch core passes the
``(B,)`` column of every copy). The same Python lines run on both, with the few operations that
differ -- elementwise min/max, a choice, rounding down, a ratio -- taken from :data:`NUMBERS` or
:data:`ARRAYS`. Sums over warehouses or links are written out left to right, so the floats do not
depend on numpy's summation order: a float64 array and a Python float give the same bits.

Arrays handed in are never changed in place; the lists holding them (the containers) are filled in
with the new day's values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .config import RewardConfig
    from .network import Network

__all__ = ["Ops", "NUMBERS", "ARRAYS", "DayRules", "run_day", "trim", "available"]


class Ops(NamedTuple):
    """The operations that are written differently for Python numbers and for numpy arrays."""

    minimum: Callable  #: elementwise min of two values
    maximum: Callable  #: elementwise max of two values
    select: Callable  #: ``select(cond, a, b)``: ``a`` where ``cond``, else ``b``
    floor: Callable  #: round a float down to whole units (int)
    ratio: Callable  #: ``ratio(served, demand)``: served / demand, 1.0 where demand is 0 [-]
    to_float: Callable  #: a whole number of units as a float
    #: True for numbers: a quantity of 0 units can be skipped (it moves nothing and adds 0.0 to a
    #: cost that is +0.0 or more), a test an array cannot answer for all its entries at once
    sparse: bool


def _ratio(served: np.ndarray, demand: np.ndarray) -> np.ndarray:
    # (served has the shape of demand broadcast against the stock: it is computed from both)
    return np.divide(served, demand, out=np.ones(np.shape(served)), where=demand > 0)


#: :class:`Ops` for Python numbers (one copy). Min and max pick what the builtins pick (``a`` on a
#: tie), written as conditional expressions: a call of the builtin ``min(a, b)`` costs several
#: times as much (it iterates over its arguments)
NUMBERS = Ops(lambda a, b: b if b < a else a, lambda a, b: b if b > a else a, lambda c, a, b: a if c else b, math.floor,
              lambda s, d: s / d if d > 0 else 1.0, float, True)
#: :class:`Ops` for numpy arrays (broadcast against each other)
ARRAYS = Ops(np.minimum, np.maximum, np.where, lambda v: np.floor(v).astype(np.int64), _ratio,
             lambda v: np.asarray(v, dtype=np.float64), False)


class DayRules:
    """The constants of one configuration as Python numbers, per warehouse and per link [units, money].

    Built once per network (``Network.rules``) or per environment configuration
    (:meth:`for_config`, which adds the demand mode and the reward)."""

    def __init__(self, net: Network, backorders: bool = False, reward: RewardConfig | None = None):
        self.N = N = net.N
        self.capacity = net.capacity.tolist()
        self.max_order = net.max_order.tolist()
        self.lead = net.lead_time.tolist()
        arc = net.arc.tolist()
        self.arc = arc
        #: per sender, its links as ``(receiver, lead time, unit cost, fixed cost)``, receivers increasing
        self.links = [[(j, int(net.arc_lead_time[i, j]), float(net.arc_unit_cost[i, j]), float(net.arc_fixed_cost[i, j]))
                       for j in range(N) if arc[i][j]] for i in range(N)]
        self.lead0_arcs = any(lv == 0 for links in self.links for _, lv, _, _ in links)
        #: per warehouse ``(i, capacity, lead time, order fixed cost, order unit cost)`` (pass 1)
        self.senders = [(i, self.capacity[i], self.lead[i], float(net.order_fixed_cost[i]),
                         float(net.order_unit_cost[i])) for i in range(N)]
        #: per warehouse ``(i, capacity, holding cost, shortage cost)`` (pass 2)
        self.stores = [(i, self.capacity[i], float(net.holding_cost[i]), float(net.shortage_cost[i]))
                       for i in range(N)]
        self.backorders = bool(backorders)
        self.paper = reward is not None and reward.kind == "paper"
        self.c = (reward.c1, reward.c2, reward.c3) if reward is not None else (1.0, 0.5, 0.2)
        self.shared = bool(reward is not None and reward.shared)

    @classmethod
    def for_config(cls, config) -> DayRules:
        """The rules of an :class:`mas_lib.sim.config.EnvConfig`: its network, demand mode and reward."""
        return cls(config.network, config.backorders, config.reward)


def available(on_hand, q, lead, capacity, minimum: Callable = np.minimum):
    """Units that may leave a warehouse today: stock on hand plus a same-day receipt (lead time 0),
    capped at capacity [units]. Numbers or arrays (``Network.available`` passes every warehouse's
    lead times and capacities at once; ``minimum`` is :attr:`Ops.minimum`)."""
    return minimum(on_hand + q * (lead == 0), capacity)


def trim(rules: DayRules, ops: Ops, q: list, x: list, on_hand: list) -> tuple[list, list]:
    """The documented trim of ``invalid_action="clip"`` (docs/dynamics.md, "Actions") [units].

    Orders are clipped to ``[0, max_order]``; transfers below 0 or along no link become 0; a
    warehouse that ships more than :func:`available` has all its transfers scaled down by
    ``available / shipped`` (float64) and rounded down. Whole numbers below 2**62 (``UNIT_LIMIT``)
    are expected. Returns new ``(q, x)`` lists of columns.
    """
    q2, x2 = [], []
    for i in range(rules.N):
        qc = ops.minimum(ops.maximum(q[i], 0), rules.max_order[i])
        arow = rules.arc[i]
        row = [ops.maximum(v, 0) if arow[j] else v * 0 for j, v in enumerate(x[i])]
        avail = available(on_hand[i], qc, rules.lead[i], rules.capacity[i], ops.minimum)
        out = 0.0  # in float64: no wrap-around of an int64 sum of quantities near 2**62
        for v in row:
            out = out + ops.to_float(v)
        scale = ops.select(out > avail, avail / ops.maximum(out, 1.0), 1.0)
        q2.append(qc)
        x2.append([ops.floor(v * scale) for v in row])
    return q2, x2


def run_day(rules: DayRules, ops: Ops, on_hand: list, backlog: list, pipeline: list, transit: list,
            requests: list, prev_end: list, q: list, x: list, demand: list, clipped: list) -> list[list]:
    """One day of the simulation (docs/dynamics.md, "The order of events"; paper sections 3.2.1, 4.3).

    Args (lists of columns, see the module docstring; units unless said):
        rules: the configuration's :class:`DayRules`.
        ops: :data:`NUMBERS` or :data:`ARRAYS`.
        on_hand, backlog: per warehouse, this morning's stock (after today's arrivals) and backlog.
        pipeline, transit: ``pipeline[i][k]`` / ``transit[i][k]`` replenishments / transfers
            arriving at ``i`` at the start of day ``t+1+k``.
        requests: ``requests[s][r]`` units ``r`` has asked ``s`` to send.
        prev_end: per warehouse, yesterday's closing stock for the paper reward (filled in with
            today's, in units: the same float differences, whole numbers below 2**53).
        q, x: today's feasible action: orders ``q[i]``, shipments ``x[i][j]`` (0 off the links).
        demand: today's demand per warehouse.
        clipped: per warehouse, whether its action was trimmed (reported as is).

    Returns:
        one row per warehouse: the day's :class:`mas_lib.sim.state.StepResult` fields in field
        order (money for costs and reward). ``on_hand``, ``backlog``, ``pipeline``, ``transit``,
        ``requests`` and ``prev_end`` are filled in with tomorrow morning's state (tomorrow's arrivals
        received, refusals above capacity counted in the row's ``overflow``).
    """
    lo, hi, sparse, links = ops.minimum, ops.maximum, ops.sparse, rules.links
    N = rules.N
    overflow = [0] * N
    shipped = [0] * N
    ordering = [0.0] * N
    transport = [0.0] * N
    received = [on_hand[0] * 0] * N  # (0 units, as numbers or as arrays of the columns' shape; never changed in place)
    # pass 1, per sender. 2. decisions: pay for orders; same-day orders are received at once.
    # 3. transfers leave along the links; the sender pays; requests shrink by what was sent
    # (with numbers, a sender or a link that ships 0 units changes nothing and is skipped)
    for i, cap, lead, fixed, unit in rules.senders:
        qi, row = q[i], x[i]
        ordering[i] = fixed * (qi > 0) + unit * qi
        oh = on_hand[i]
        if lead == 0:  # received at once, up to capacity: the refused excess is overflow
            new = oh + qi
            oh = lo(new, cap)
            overflow[i] = new - oh
        else:
            pipeline[i][lead - 1] = pipeline[i][lead - 1] + qi
        out = sum(row)  # whole units: exact in any order
        on_hand[i] = oh - out
        shipped[i] = out
        if not sparse or out:
            cost = qi * 0.0
            ri = requests[i]
            for j, lv, au, af in links[i]:
                v = row[j]
                if not sparse or v:
                    cost = cost + (v * au + af * (v > 0))  # left to right over the receivers
                    if lv:
                        transit[j][lv - 1] = transit[j][lv - 1] + v
                    else:
                        received[j] = received[j] + v
                    ri[j] = hi(ri[j] - v, 0)
            transport[i] = cost
    # pass 2, per warehouse: lead-0 transfers arrive, 4. demand is served, 5. costs on closing
    # stock, 1'. tomorrow's arrivals
    rows = []
    c1, c2, c3 = rules.c
    lead0_arcs, backorders, paper, ratio = rules.lead0_arcs, rules.backorders, rules.paper, ops.ratio
    for i, cap, h, short in rules.stores:
        oh, ov = on_hand[i], overflow[i]
        if lead0_arcs:
            new = oh + received[i]
            oh = lo(new, cap)
            ov = ov + (new - oh)
        di, bi = demand[i], backlog[i]
        if backorders:
            need = di + bi
            sales = lo(oh, need)
            served = hi(sales - bi, 0)
            bi = need - sales
            backlog[i] = bi
            lost = di * 0
            shortage = short * bi
        else:
            sales = lo(oh, di)
            served = sales
            lost = di - sales
            shortage = short * lost
        end = oh - sales
        holding = h * end
        tr = transport[i]
        total = holding + shortage + ordering[i] + tr
        sat = ratio(served, di)
        reduction = h * (prev_end[i] - end)
        prev_end[i] = end
        reward = c1 * sat + c2 * reduction - c3 * tr if paper else -total
        p_row, t_row = pipeline[i], transit[i]
        new = end + (p_row[0] + t_row[0])
        on_hand[i] = kept = lo(new, cap)
        ov = ov + (new - kept)
        zero = end * 0  # (0 units, as a number or as an array)
        del p_row[0]
        p_row.append(zero)
        del t_row[0]
        t_row.append(zero)
        rows.append([di, sales, served, lost, bi, sat, end, q[i], shipped[i], received[i], ov, holding, shortage,
                     ordering[i], tr, total, sat, reduction, reward, clipped[i]])
    if rules.shared:
        team = rows[0][_REWARD]
        for row in rows[1:]:
            team = team + row[_REWARD]
        for row in rows:
            row[_REWARD] = team
    return rows


_REWARD = 18  # position of ``reward`` in a StepResult row (checked in tests/test_onecopy.py)


_INT, _FLOAT = np.int64, np.float64
#: dtype of each StepResult field, in field order
FIELD_DTYPES = {
    "demand": _INT, "sales": _INT, "served": _INT, "lost": _INT, "backlog": _INT, "fill_rate": _FLOAT,
    "on_hand": _INT, "ordered": _INT, "shipped_out": _INT, "received_transfers": _INT, "overflow": _INT,
    "holding_cost": _FLOAT, "shortage_cost": _FLOAT, "ordering_cost": _FLOAT, "transport_cost": _FLOAT,
    "total_cost": _FLOAT, "satisfaction": _FLOAT, "inventory_cost_reduction": _FLOAT, "reward": _FLOAT,
    "clipped": np.bool_,
}


def stack_columns(columns: list, B: int, dtype=np.int64) -> np.ndarray:
    """A ``(B, len(columns))`` array of per-warehouse columns (numbers or ``(B,)`` arrays): the
    transpose of a C-ordered ``(N, B)`` array, built without a further copy."""
    out = np.empty((len(columns), B), dtype=dtype)
    for i, c in enumerate(columns):
        out[i] = c
    return out.T


def from_columns(nested: list) -> np.ndarray:
    """The inverse of :func:`columns`: a C-ordered ``(B, N, ...)`` array of nested ``(B,)`` columns."""
    a = np.array(nested)
    return np.ascontiguousarray(a.transpose(a.ndim - 1, *range(a.ndim - 1)))


def columns(a: np.ndarray) -> list:
    """The columns of ``a (B, N, ...)`` as nested lists (warehouse first, then the trailing axes) of
    ``(B,)`` views, for :func:`run_day` (which never writes into an array it is given)."""
    c = a.transpose(*range(1, a.ndim), 0)
    return list(c) if a.ndim == 2 else [list(row) for row in c]


_INT_FIELDS = [k for k, dt in enumerate(FIELD_DTYPES.values()) if dt is _INT]
_FLOAT_FIELDS = [k for k, (name, dt) in enumerate(FIELD_DTYPES.items()) if dt is _FLOAT and name != "satisfaction"]


def rows_to_fields(rows: list[list], B: int, given: dict | None = None) -> dict[str, np.ndarray]:
    """The ``(B, N)`` arrays of :func:`run_day`'s rows (numbers, or ``(B,)`` arrays), by StepResult field
    name; fields in ``given`` are taken as they are (``satisfaction`` is the same array as ``fill_rate``).
    One array per dtype holds the fields (``(B, N)`` views of it, in warehouse-major memory order)."""
    fields = dict(given or {})
    names = list(FIELD_DTYPES)
    for keys, dtype in ((_INT_FIELDS, _INT), (_FLOAT_FIELDS, _FLOAT), ([19], np.bool_)):
        keys = [k for k in keys if names[k] not in fields]
        if not keys:
            continue
        if isinstance(rows[0][0], np.ndarray):  # (B,) columns, one after the other
            block = np.concatenate([row[k] for k in keys for row in rows], dtype=dtype, casting="unsafe")
        else:  # numbers
            block = np.array([row[k] for k in keys for row in rows], dtype=dtype)
        block = block.reshape(len(keys), len(rows), B).transpose(0, 2, 1)
        for k, values in zip(keys, block, strict=True):
            fields[names[k]] = values
    fields["satisfaction"] = fields["fill_rate"]
    return fields
