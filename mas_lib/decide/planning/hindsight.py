r"""The hindsight limit: the cheapest cost a clairvoyant planner who knows every day's demand in
advance can reach on one network, under the simulator's rules of the day (``docs/dynamics.md``).

No policy that only sees the past can do better, so this is an exact lower bound on the cost of
every policy run by :class:`~mas_lib.sim.core.BatchCore` on the same demand -- the yardstick the
digital twin (:mod:`mas_lib.ops.hindsight`, paper sections 3.2.3-3.2.5) needs on real demand,
where no exact optimum is known. The formulation is written out in ``docs/hindsight.md``.

Two models, both solved by HiGHS through :func:`scipy.optimize.milp`:

* ``mode="milp"`` -- the simulator exactly: whole-unit orders and transfers, a 0/1 indicator per
  order and per shipment for the fixed costs, and the forced rules of the day (sales are
  ``min(stock, demand)``, a receipt above capacity is refused) written with 0/1 switches. Its
  optimum is the best cost of any integer plan the simulator accepts (tested against brute force
  over every plan of tiny networks). Solved to ``mip_rel_gap``; when the time limit stops it, the
  solver's dual bound (``bound``) is still a valid lower bound and the incumbent is a real plan.
* ``mode="lp"`` -- its relaxation: fractional units, fractional fixed-cost indicators (a fixed
  cost is paid in proportion ``q / max_order``), and free disposal / voluntary lost sales (stock
  may be thrown away or held back). Every simulator trajectory is feasible in it at the same
  cost, so its optimum is a lower bound too, weaker but fast for a year of four warehouses.

Not modelled (refused with :class:`~mas_lib.validation.ConfigError`): backorders. Ignored as they
do not change what is feasible or what it costs: open requests (information only), the reward
kind, ``invalid_action`` (a trimmed action is one of the feasible ones). Orders are allowed on
every day, as in the simulator (a shop calendar that forbids some is a rule of the policies).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from ...sim.config import EnvConfig
from ...validation import ConfigError, Validated, choice, not_allowed, number, whole

__all__ = ["HindsightOptions", "HindsightBound", "hindsight_bound", "check_demand", "model_size"]

#: the cost kinds of a plan, per warehouse [money]
COSTS = ("holding", "shortage", "ordering", "transport")


@dataclass(frozen=True)
class HindsightOptions(Validated):
    """How the hindsight model is solved.

    ``mode``: ``"lp"`` (the relaxation, the default: fast, a valid but weaker bound) or ``"milp"``
    (the simulator's integer rules exactly). ``time_limit`` [s] of one solve (a stopped MILP
    reports its dual bound). ``mip_rel_gap``: relative optimality gap at which the MILP stops
    (0 = prove optimality). ``max_variables``: the largest model built; a bigger one is refused
    with the estimate (:func:`model_size`) before any memory is used. ``cut_window`` [days]: add
    the window inequalities of :func:`_window_cuts` for windows up to this long (default 7; 0 = none); they
    cut off fractional plans that dodge fixed order costs, so the LP's bound rises (the MILP's
    optimum is unchanged), at the price of ``N x T x cut_window`` more rows.
    """

    mode: str = choice("lp", ("lp", "milp"))
    time_limit: float = number(600.0, low=0.0, unit="s")
    mip_rel_gap: float = number(1e-6, low=0.0, high=1.0)
    max_variables: int = whole(2_000_000, low=1)
    cut_window: int = whole(7, unit="days")


def check_demand(demand, config: EnvConfig, field: str = "demand") -> np.ndarray:
    """``demand`` as a ``(T, N)`` int64 array [units/day], T >= 1 days and N the warehouses of
    ``config``; every entry a finite whole number >= 0. Raises :class:`ConfigError` naming the field,
    the day, the warehouse and the value otherwise."""
    try:
        a = np.asarray(demand, dtype=float)
    except (TypeError, ValueError):
        raise not_allowed(field, type(demand).__name__, "a (days, warehouses) array of numbers") from None
    N = config.network.N
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] != N:
        raise not_allowed(f"{field}.shape", a.shape, f"(days >= 1, {N}) -- one column per warehouse {list(config.names)}")
    bad = ~np.isfinite(a) | (a < 0) | (np.nan_to_num(a) != np.round(np.nan_to_num(a)))
    if bad.any():
        t, i = np.argwhere(bad)[0]
        raise not_allowed(f"{field}[day {t}, {config.names[i]!r}]", float(a[t, i]),
                          "a finite whole number of units >= 0")
    return a.astype(np.int64)


def _flow(config: EnvConfig) -> dict:
    """The network's arrays the model reads, plus which overflow events can happen."""
    net = config.network
    arcs = [(int(i), int(j)) for i, j in np.argwhere(net.arc)]
    lead0_in = [any(net.arc_lead_time[j, i] == 0 for j, k in arcs if k == i) for i in range(net.N)]
    return {"net": net, "arcs": arcs, "lead0_in": lead0_in}


def model_size(config: EnvConfig, days: int, mode: str = "lp") -> int:
    """Number of variables of the hindsight model of ``config`` over ``days`` days (an upper
    estimate, computed without building it): per day and warehouse the order, stock after a
    same-day receipt (lead time 0), after transfers, the sales, the morning stock and the refused
    units of each receipt; one per link and day; in ``"milp"`` also the 0/1 switches."""
    f = _flow(config)
    net = f["net"]
    n_l0, n_in = int((net.lead_time == 0).sum()), sum(f["lead0_in"])
    per_day = (6 * net.N + int((net.order_fixed_cost > 0).sum()) + 2 * n_l0 + n_in + len(f["arcs"])
               + int(sum(net.arc_fixed_cost[i, j] > 0 for i, j in f["arcs"])))
    if mode == "milp":
        per_day += 2 * net.N + n_l0 + n_in
    return int(days) * per_day


class _Model:
    """A sparse model under construction: variables with bounds, costs and integrality; rows
    ``lb <= a . x <= ub``."""

    def __init__(self) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.cost: list[float] = []
        self.integer: list[int] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.rlb: list[float] = []
        self.rub: list[float] = []

    def var(self, lb: float = 0.0, ub: float = np.inf, cost: float = 0.0, integer: bool = False) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.cost.append(cost)
        self.integer.append(int(integer))
        return len(self.lb) - 1

    def row(self, terms: dict[int, float], lb: float, ub: float) -> None:
        r = len(self.rlb)
        for v, c in terms.items():
            if c != 0:
                self.rows.append(r)
                self.cols.append(v)
                self.vals.append(float(c))
        self.rlb.append(lb)
        self.rub.append(ub)

    def eq(self, terms: dict[int, float], value: float) -> None:
        self.row(terms, value, value)


def _add(terms: dict[int, float], v: int, c: float) -> None:
    terms[v] = terms.get(v, 0.0) + c


def _window_cuts(m: _Model, window: int, D: np.ndarray, net, config: EnvConfig, pipe: np.ndarray, inbound: dict,
                 q: np.ndarray, y: np.ndarray, x: dict, s: np.ndarray, end: np.ndarray) -> None:
    """Valid inequalities that make the relaxation pay for fixed order costs (``docs/hindsight.md``).

    For a warehouse ``i`` with a fixed order cost and days ``t <= l < t + window``: the units sold in
    ``[t, l]`` are at most the closing stock of day ``t - 1``, plus what arrives in ``[t, l]`` from
    the initial pipeline and by transfer, plus, for each order placed on day ``u`` arriving in
    ``[t, l]``, the demand from its arrival to ``l`` times its 0/1 indicator. (Without an order no
    replenishment arrives; with one, sales after the first arrival are at most the demand.) Every
    plan of the simulator satisfies them, so adding them keeps both models' optimum a lower bound."""
    T, N = D.shape
    cum = np.vstack([np.zeros((1, N)), np.cumsum(D, axis=0)])
    for i in range(N):
        if y[0, i] < 0:
            continue
        L = int(net.lead_time[i])
        for t in range(T):
            start = float(net.initial_inventory[i]) if t == 0 else 0.0
            for last in range(t, min(T, t + window)):
                terms: dict[int, float] = {int(s[u, i]): 1.0 for u in range(t, last + 1)}
                if t > 0:
                    terms[int(end[t - 1, i])] = -1.0
                const = start + float(pipe[t:last + 1, i].sum())
                for j, lead in inbound[i]:
                    for u in range(max(0, t - lead), last - lead + 1):
                        _add(terms, x[u, j, i], -1.0)
                for u in range(max(0, t - L), last - L + 1):
                    _add(terms, int(y[u, i]), -float(cum[last + 1, i] - cum[u + L, i]))
                m.row(terms, -np.inf, const)


@dataclass
class HindsightBound:
    """The clairvoyant optimum of one network over one demand path (:func:`hindsight_bound`).

    ``bound`` [money]: the valid lower bound on any policy's total cost -- the optimum of an LP, of a
    MILP solved to optimality, or the dual bound of a MILP stopped by the time limit. ``cost`` [money]:
    the total cost of the plan found (= ``bound`` unless a MILP was stopped with a gap). ``costs``:
    ``(T, N)`` per cost kind of :data:`COSTS` [money]; ``ordered``, ``shipped`` (``(T, N, N)``,
    ``shipped[t, i, j]`` from i to j), ``sales``, ``on_hand`` (closing stock) and ``refused``
    (units refused at capacity) of the plan [units]; ``status`` the solver's message; ``seconds``
    the CPU time of the solve [s]; ``exact``: True for the MILP solved to its gap. A MILP stopped by
    the time limit reports as ``bound`` the better of the solver's dual bound and the LP relaxation
    of the same model; if it found no plan yet, ``cost`` and the plan's arrays are NaN.
    """

    names: list[str]
    mode: str
    bound: float
    cost: float
    costs: dict[str, np.ndarray]
    ordered: np.ndarray
    shipped: np.ndarray
    sales: np.ndarray
    on_hand: np.ndarray
    refused: np.ndarray
    status: str
    seconds: float
    n_variables: int
    n_constraints: int
    exact: bool = False
    demand: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Per warehouse: the plan's cost by kind and total [money], units ordered, shipped out,
        received by transfer, sold, lost and refused over the horizon [units]."""
        out = pd.DataFrame({k: self.costs[k].sum(axis=0) for k in COSTS}, index=pd.Index(self.names, name="warehouse"))
        out["total"] = out[list(COSTS)].sum(axis=1)
        out["ordered"] = self.ordered.sum(axis=0)
        out["shipped out"] = self.shipped.sum(axis=(0, 2))
        out["received"] = self.shipped.sum(axis=(0, 1))
        out["sold"] = self.sales.sum(axis=0)
        out["lost"] = (self.demand - self.sales).sum(axis=0)
        out["refused"] = self.refused.sum(axis=0)
        return out

    def summary(self) -> pd.Series:
        """The bound and the plan's totals [money], fill rate, model size and solve time [CPU s],
        named ``"hindsight (lp)"`` or ``"hindsight (milp)"``."""
        d = self.demand.sum()
        return pd.Series({
            "bound": self.bound, "plan cost": self.cost,
            **{k: float(self.costs[k].sum()) for k in COSTS},
            "fill rate": float(self.sales.sum() / d) if d else 1.0, "exact": self.exact,
            "variables": self.n_variables, "constraints": self.n_constraints,
            "cpu seconds": self.seconds, "status": self.status,
        }, name=f"hindsight ({self.mode})")


def hindsight_bound(
    config: EnvConfig,
    demand,
    options: HindsightOptions | None = None,
    fix: tuple[np.ndarray, np.ndarray] | None = None,
) -> HindsightBound:
    """Solve the clairvoyant planning model of ``config`` on ``demand`` (``(T, N)`` units/day).

    The horizon is ``T`` days (the demand's length). Stock starts at each warehouse's
    ``initial_inventory``; ``initial_pipeline`` and ``in_transit`` arrive as in the core; receipts
    after the last day cost nothing and count for nothing. ``fix=(orders (T, N), transfers (T, N, N))``
    pins the plan's decisions (e.g. to a simulator rollout's): with ``mode="milp"`` the objective is
    then that trajectory's cost. Returns a :class:`HindsightBound`. Raises :class:`ConfigError` for
    bad demand, backorders or a model above ``options.max_variables``.
    """
    opts = HindsightOptions() if options is None else options
    if not isinstance(opts, HindsightOptions):
        raise not_allowed("options", type(opts).__name__, "a HindsightOptions or None", TypeError)
    if config.backorders:
        raise not_allowed("config.backorders", True, "False: the hindsight model covers lost sales only")
    D = check_demand(demand, config)
    T, N = D.shape
    size = model_size(config, T, opts.mode)
    if size > opts.max_variables:
        raise ConfigError(
            f"the hindsight model of {N} warehouses x {T} days needs about {size} variables; the limit "
            f"(HindsightOptions.max_variables) is {opts.max_variables}: split the network or shorten the horizon")
    if fix is not None:
        fq, fx = (np.asarray(a) for a in fix)
        if fq.shape != (T, N) or fx.shape != (T, N, N):
            raise not_allowed("fix shapes", (fq.shape, fx.shape), f"orders {(T, N)} and transfers {(T, N, N)}")
    f = _flow(config)
    net, arcs = f["net"], f["arcs"]
    exact = opts.mode == "milp"
    cap = net.capacity.astype(float)
    m = _Model()
    q = np.zeros((T, N), dtype=np.int64)
    y = np.full((T, N), -1, dtype=np.int64)
    x: dict[tuple[int, int, int], int] = {}
    w: dict[tuple[int, int, int], int] = {}
    s = np.zeros((T, N), dtype=np.int64)
    end = np.zeros((T, N), dtype=np.int64)
    refused: list[tuple[int, int, int]] = []  # (t, i, variable)

    def capped(t: int, i: int, terms: dict[int, float], const: float, inflow_max: float) -> int:
        """A stock ``S = V - o`` after a receipt, ``V = terms . x + const``: ``0 <= S <= C``, ``o >= 0``;
        in the MILP ``o = max(V - C, 0)`` exactly (a switch ``b``: ``o <= M b``, ``S >= C b``)."""
        S, o = m.var(0.0, cap[i]), m.var()
        terms = dict(terms)
        _add(terms, S, -1.0)
        _add(terms, o, -1.0)
        m.eq(terms, -const)
        if exact:
            b = m.var(0.0, 1.0, integer=True)
            m.row({o: 1.0, b: -max(inflow_max, 1.0)}, -np.inf, 0.0)
            m.row({S: 1.0, b: -cap[i]}, 0.0, np.inf)
        refused.append((t, i, o))
        return S

    pipe = np.zeros((T + 1, N))
    for i, wc in enumerate(config.warehouses):
        for k, units in enumerate(wc.initial_pipeline):
            if k + 1 <= T:
                pipe[k + 1, i] += units
    for tr in config.in_transit:
        if tr.days <= T:
            pipe[tr.days, net.index(tr.target)] += tr.units
    inbound = {i: [(j, int(net.arc_lead_time[j, i])) for j, k in arcs if k == i] for i in range(N)}
    for t in range(T):
        for i in range(N):
            lo = hi = None
            if fix is not None:
                lo = hi = float(fq[t, i])
            q[t, i] = m.var(lo if lo is not None else 0.0, hi if hi is not None else float(net.max_order[i]),
                            float(net.order_unit_cost[i]), integer=exact)
            if net.order_fixed_cost[i] > 0:
                y[t, i] = m.var(0.0, 1.0, float(net.order_fixed_cost[i]), integer=exact)
                m.row({q[t, i]: 1.0, y[t, i]: -float(net.max_order[i])}, -np.inf, 0.0)
            for j in net.neighbours[i]:
                val = None if fix is None else float(fx[t, i, j])
                x[t, i, j] = m.var(val if val is not None else 0.0, val if val is not None else cap[i],
                                   float(net.arc_unit_cost[i, j]), integer=exact)
                if net.arc_fixed_cost[i, j] > 0:
                    w[t, i, j] = m.var(0.0, 1.0, float(net.arc_fixed_cost[i, j]), integer=exact)
                    m.row({x[t, i, j]: 1.0, w[t, i, j]: -cap[i]}, -np.inf, 0.0)
        if fix is not None:
            bad = [(i, j) for i in range(N) for j in range(N) if fx[t, i, j] != 0 and (t, i, j) not in x]
            if bad:
                raise not_allowed("fix transfers", f"{fx[t][bad[0]]} units {config.names[bad[0][0]]}->"
                                  f"{config.names[bad[0][1]]} on day {t}", "transfers along links only")
        for i in range(N):
            # 1. morning stock: yesterday's closing stock + today's arrivals, capped
            if t == 0:
                morning = m.var(float(net.initial_inventory[i]), float(net.initial_inventory[i]))
            else:
                terms = {end[t - 1, i]: 1.0}
                inflow = pipe[t, i]
                if net.lead_time[i] >= 1 and t - net.lead_time[i] >= 0:
                    _add(terms, int(q[t - net.lead_time[i], i]), 1.0)
                    inflow += net.max_order[i]
                for j, lead in inbound[i]:
                    if lead >= 1 and t - lead >= 0:
                        _add(terms, x[t - lead, j, i], 1.0)
                        inflow += cap[j]
                morning = capped(t, i, terms, pipe[t, i], inflow) if inflow > 0 else end[t - 1, i]
            # 2. a same-day order is received at once, capped
            avail = capped(t, i, {morning: 1.0, int(q[t, i]): 1.0}, 0.0, float(net.max_order[i])) \
                if net.lead_time[i] == 0 else morning
            # 3. transfers leave (at most the stock after a same-day receipt), lead-0 ones arrive
            out = {x[t, i, j]: 1.0 for j in net.neighbours[i]}
            if out:
                m.row({**out, avail: -1.0}, -np.inf, 0.0)
            terms = {avail: 1.0, **{v: -1.0 for v in out}}
            zero_in = [x[t, j, i] for j, lead in inbound[i] if lead == 0]
            if zero_in:
                for v in zero_in:
                    _add(terms, v, 1.0)
                after = capped(t, i, terms, 0.0, sum(cap[j] for j, lead in inbound[i] if lead == 0))
            else:
                after = m.var(0.0, cap[i])
                _add(terms, after, -1.0)
                m.eq(terms, 0.0)
            # 4. demand is served: sales <= stock, <= demand; in the MILP sales = min(stock, demand)
            s[t, i] = m.var(0.0, float(D[t, i]), -float(net.shortage_cost[i]))
            end[t, i] = m.var(0.0, cap[i], float(net.holding_cost[i]))
            m.eq({after: 1.0, int(s[t, i]): -1.0, int(end[t, i]): -1.0}, 0.0)
            if exact and D[t, i] > 0:
                z = m.var(0.0, 1.0, integer=True)  # 1: the stock runs out (sales = stock)
                m.row({int(s[t, i]): 1.0, z: float(D[t, i])}, float(D[t, i]), np.inf)
                m.row({int(s[t, i]): 1.0, after: -1.0, z: -cap[i]}, -cap[i], np.inf)
    if opts.cut_window > 0:
        _window_cuts(m, opts.cut_window, D, net, config, pipe, inbound, q, y, x, s, end)
    constant = float((net.shortage_cost * D).sum())
    n_var, n_con = len(m.lb), len(m.rlb)
    A = sp.csr_array((m.vals, (m.rows, m.cols)), shape=(n_con, n_var))
    tic = time.process_time()
    integer = np.asarray(m.integer)

    def solve(integrality: np.ndarray, limited: bool = True):
        options = {"mip_rel_gap": opts.mip_rel_gap, "presolve": True}
        if limited and opts.time_limit is not None:
            options["time_limit"] = opts.time_limit
        return milp(np.asarray(m.cost), integrality=integrality, bounds=Bounds(m.lb, m.ub),
                    constraints=LinearConstraint(A, m.rlb, m.rub), options=options)

    res = solve(integer)
    status = str(res.message)
    if exact and res.status != 0:
        # stopped early: the better of the solver's dual bound and the relaxation of this same model
        dual = getattr(res, "mip_dual_bound", None)
        # the relaxation is an LP (seconds): never cut short, so the bound is at least the LP's
        relaxed = solve(np.zeros_like(integer), limited=False)
        cands = [float(dual) + constant] if dual is not None and np.isfinite(dual) else []
        if relaxed.status == 0:
            cands.append(float(relaxed.fun) + constant)
        if not cands:
            raise RuntimeError(f"the hindsight model could not be solved: {res.message}")
        bound = max(cands)
        status += f" (bound: the best of the dual bound and the relaxation; {len(cands)} available)"
    elif res.x is None:
        raise RuntimeError(f"the hindsight model could not be solved: {res.message}")
    seconds = time.process_time() - tic
    if res.x is None:  # a MILP stopped without a plan: the bound stands, the plan is unknown (NaN)
        v, cost = np.full(len(m.lb), np.nan), np.nan
    else:
        v = np.where(integer == 1, np.round(res.x), res.x) if exact else res.x
        cost = float(res.fun) + constant
    if not exact:
        bound = cost
    elif res.status == 0:
        # solved to the relative gap mip_rel_gap: the incumbent may sit above the optimum by that
        # gap, so the lower bound is the solver's dual bound (equal to the cost when the gap is 0)
        dual = getattr(res, "mip_dual_bound", None)
        bound = min(cost, float(dual) + constant) if dual is not None and np.isfinite(dual) else cost
    ordered = v[q]
    shipped = np.zeros((T, N, N))
    transport = np.zeros((T, N))
    for (t, i, j), k in x.items():
        shipped[t, i, j] = v[k]
        transport[t, i] += net.arc_unit_cost[i, j] * v[k] + (net.arc_fixed_cost[i, j] * v[w[t, i, j]] if (t, i, j) in w else 0.0)
    fixed = np.where(y >= 0, v[np.maximum(y, 0)], 0.0) * net.order_fixed_cost
    sales = v[s]
    ref = np.zeros((T, N))
    for t, i, k in refused:
        ref[t, i] += v[k]
    costs = {"holding": net.holding_cost * v[end], "shortage": net.shortage_cost * (D - sales),
             "ordering": fixed + net.order_unit_cost * ordered, "transport": transport}
    return HindsightBound(
        names=list(config.names), mode=opts.mode, bound=bound, cost=cost, costs=costs, ordered=ordered,
        shipped=shipped, sales=sales, on_hand=v[end], refused=ref, status=status, seconds=seconds,
        n_variables=n_var, n_constraints=n_con, exact=exact and res.status == 0 and bound == cost, demand=D.astype(float),
    )
