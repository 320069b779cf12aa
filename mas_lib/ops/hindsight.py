"""How far the twin's policies are from the hindsight limit (paper 3.2.3-3.2.5: judging the system in
operation on real demand, where no exact optimum is known).

:func:`twin_bounds` solves, for every product, the clairvoyant planning model of
:mod:`mas_lib.decide.planning.hindsight` on that product's network (one node per warehouse, its
links) over the simulated year of real demand, with exactly the capacities and starting stock
:func:`~mas_lib.ops.run_twin` gives the nodes (the same :func:`~mas_lib.ops.twin.twin_config`).
Products never share stock, so the year's bound is the sum of the products' bounds.
:func:`hindsight_gap` says how many percent each policy pays above it.
:func:`clairvoyant_plans` gives the other end of the interval: a real clairvoyant plan per product,
simulated through the batch core, whose cost is an upper bound on the clairvoyant optimum -- so the
reader sees ``[bound, plan cost]`` and how much of a gap may be the bound's slack
(``docs/hindsight.md``). :func:`clairvoyant_stock_line` draws the plan in the dashboard.

Orders are allowed every day in the bound, as in the simulator: the built-in policies do not order
on the shop's closed days, but that is their rule, not the simulation's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..decide.planning.hindsight import COSTS, HindsightBound, HindsightOptions, hindsight_bound
from ..decide.policies import Policy
from ..decide.rollout import rollout
from ..sim.config import EnvConfig
from ..sim.demand import RecordedDemand
from ..sim.state import SystemState
from ..validation import check_choice, check_number, not_allowed
from .demand import TwinData
from .forecasting import ForecastPlan
from .twin import TwinRun, twin_config

__all__ = ["MERGE_DAYS", "TwinBounds", "twin_bounds", "ClairvoyantPlans", "clairvoyant_plans", "hindsight_gap",
           "clairvoyant_stock_line"]


@dataclass
class TwinBounds:
    """The hindsight limit of every product of a twin (:func:`twin_bounds`).

    ``bounds[p]``: the :class:`~mas_lib.decide.planning.hindsight.HindsightBound` of product ``p``'s
    network; ``capacity`` ``(W * P,)`` the nodes' capacities [units] (warehouse-major, as
    :class:`~mas_lib.ops.TwinRun`); ``days`` simulated; ``cpu_seconds`` [s] per product (model build
    and solve, CPU time of this process)."""

    warehouses: list[str]
    products: list[str]
    bounds: list[HindsightBound]
    capacity: np.ndarray
    days: int
    mode: str
    cpu_seconds: np.ndarray

    @property
    def total(self) -> float:
        """The year's lower bound on any policy's total cost [money]: the sum of the products' bounds."""
        return float(sum(b.bound for b in self.bounds))

    def plan_cost(self) -> pd.DataFrame:
        """``(warehouse x product)`` total cost [money] of the clairvoyant plan at each node."""
        return pd.DataFrame({p: b.to_frame()["total"].to_numpy() for p, b in zip(self.products, self.bounds, strict=True)},
                            index=pd.Index(self.warehouses, name="warehouse"))

    def to_frame(self) -> pd.DataFrame:
        """One row per product: its bound and the plan's cost by kind [money], fill rate, whether
        the bound is an exact MILP optimum, model size and CPU seconds."""
        rows = []
        for p, b, sec in zip(self.products, self.bounds, self.cpu_seconds, strict=True):
            s = b.summary()
            rows.append({"product": p, "bound": b.bound, "plan cost": b.cost, **{k: s[k] for k in COSTS},
                         "fill rate": s["fill rate"], "exact": b.exact, "variables": b.n_variables,
                         "cpu seconds": float(sec)})
        return pd.DataFrame(rows).set_index("product")

    def summary(self) -> pd.Series:
        """The year's bound [money], products, days, and the CPU time in total and per product [s]."""
        return pd.Series({"bound": self.total, "products": len(self.products), "days": self.days,
                          "exact products": int(sum(b.exact for b in self.bounds)),
                          "cpu seconds": float(self.cpu_seconds.sum()),
                          "cpu seconds per product": float(self.cpu_seconds.mean()) if len(self.bounds) else 0.0},
                         name=f"hindsight ({self.mode})")


def _product_config(config: EnvConfig, nodes: list[int], frame: pd.DataFrame, plan: ForecastPlan) -> EnvConfig:
    """The twin's config restricted to one product's nodes (its warehouses and links, unchanged)."""
    names = {config.warehouses[k].name for k in nodes}
    links = tuple(lk for lk in config.links if lk.source in names and lk.target in names)
    demand = RecordedDemand(frame.iloc[:, nodes], forecasts=plan.mean[:, :, nodes])
    return config.replace(warehouses=tuple(config.warehouses[k] for k in nodes), links=links, demand=demand)


def _product_models(data: TwinData, plan: ForecastPlan, products: Sequence[str] | None):
    """``(chosen products, [(config, demand (T, W))] per product, capacities (W * len(chosen),))``:
    each product's network as :func:`run_twin` simulates it. Refuses unknown products."""
    config, frame, _, _ = twin_config(data, plan)
    chosen = list(data.products) if products is None else list(products)
    unknown = [p for p in chosen if p not in data.products]
    if unknown or not chosen:
        raise not_allowed("products", unknown or chosen, f"a non-empty subset of {data.products}")
    P = len(data.products)
    demand = config.demand.values[: len(frame)]  # what the core replays (whole units)
    models = []
    for p in chosen:
        nodes = [w * P + data.products.index(p) for w in range(len(data.warehouses))]
        models.append((_product_config(config, nodes, frame, plan), demand[:, nodes]))
    cap = config.network.capacity.reshape(len(data.warehouses), P)
    caps = cap[:, [data.products.index(p) for p in chosen]].reshape(-1)
    return chosen, models, caps


def twin_bounds(
    data: TwinData, plan: ForecastPlan, options: HindsightOptions | None = None,
    products: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None,
) -> TwinBounds:
    """The hindsight limit of every product of ``data`` (or of ``products``, a subset) over the
    simulated days: one model per product network, with the capacities and starting stock of
    :func:`~mas_lib.ops.run_twin` on the same ``plan`` (they depend on it). ``options``: see
    :class:`~mas_lib.decide.planning.hindsight.HindsightOptions` (default: the LP relaxation).
    ``progress(done, total)`` is called after each product. Returns a :class:`TwinBounds`."""
    chosen, models, caps = _product_models(data, plan, products)
    out, secs = [], []
    for n, (cfg, demand) in enumerate(models):
        tic = time.process_time()
        out.append(hindsight_bound(cfg, demand, options))
        secs.append(time.process_time() - tic)
        if progress is not None:
            progress(n + 1, len(chosen))
    return TwinBounds(list(data.warehouses), chosen, out, caps, len(models[0][1]), out[0].mode, np.array(secs))


class _Replay(Policy):
    """Plays a fixed plan: day ``t``'s orders ``(T, N)`` and transfers ``(T, N, N)`` [units] in every
    copy. Orders are whole units in ``[0, max_order]`` (rounded); a day's transfers out of a
    warehouse are scaled down (and floored) to its stock at decision time, as a shipment
    cannot exceed what is on hand -- so any fractional plan becomes one the simulator accepts."""

    name = "clairvoyant plan"

    def __init__(self, config: EnvConfig, orders: np.ndarray, transfers: np.ndarray):
        super().__init__(config)
        self.orders, self.transfers = orders, transfers

    def act(self, state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        B, t = state.batch_size, state.t
        q = np.broadcast_to(self._order(self.orders[t]), (B, self.N)).copy()
        x = np.broadcast_to(np.floor(np.maximum(self.transfers[t], 0.0) + 1e-9), (B, self.N, self.N)).copy()
        out = x.sum(axis=2)
        scale = np.where(out > state.on_hand, state.on_hand / np.where(out > 0, out, 1.0), 1.0)
        x = np.floor(x * scale[:, :, None] + 1e-9) * self.net.arc[None]
        return q, x.astype(np.int64)


#: the merge windows [days] tried when rounding the LP plan (1 = the LP's days as they are)
MERGE_DAYS = (1, 2, 3, 5, 7, 14, 28)


def _merge(a: np.ndarray, days: int) -> np.ndarray:
    """``a`` (``(T, ...)`` units per day) with each block of ``days`` days summed onto its first day:
    the LP spreads an order over many days to pay its fixed cost only in part; merged, the units
    are the same and the fixed cost is paid once per block."""
    out = np.zeros_like(a, dtype=float)
    for t0 in range(0, len(a), days):
        out[t0] = a[t0:t0 + days].sum(axis=0)
    return out


def _simulate_plan(config: EnvConfig, orders: np.ndarray, transfers: np.ndarray) -> dict[str, np.ndarray]:
    """The batch core's run of a fixed plan: ``cost`` ``(T, N)`` [money], closing stock ``on_hand``
    ``(T, N)``, the ``ordered`` ``(T, N)`` and ``shipped`` ``(T, N, N)`` units as played."""
    T, N = orders.shape
    out = {"cost": np.zeros((T, N)), "on_hand": np.zeros((T, N)), "ordered": np.zeros((T, N), dtype=np.int64),
           "shipped": np.zeros((T, N, N), dtype=np.int64)}
    for step in rollout(config, _Replay(config, orders, transfers), copies=1, seed=0):
        out["cost"][step.day] = step.result.total_cost[0]
        out["on_hand"][step.day] = step.result.on_hand[0]
        out["ordered"][step.day] = step.result.ordered[0]
        out["shipped"][step.day] = step.transfer[0]
    return out


@dataclass
class ClairvoyantPlans:
    """The best known clairvoyant plan of each product (:func:`clairvoyant_plans`): a real plan
    the simulator accepts, so its cost is an upper bound on the clairvoyant optimum, as the bound
    of :class:`TwinBounds` is a lower one -- the optimum lies in ``[bound, plan cost]``.

    ``cost[p]`` ``(T, W)`` [money] and ``on_hand[p]`` ``(T, W)`` closing stock [units] of product
    ``p``'s plan as the batch core simulated it, ``ordered[p]`` ``(T, W)`` and ``shipped[p]``
    ``(T, W, W)`` its decisions as played [units]; ``source[p]``: which candidate simulated cheapest
    (the rounded LP plan with its orders merged over some days and its transfers kept, merged or
    dropped, or
    ``"MILP incumbent"``); ``milp_status[p]`` the MILP's outcome (``"not run"``,
    the solver's message, or why nothing was solved in time); ``cpu_seconds`` [s] per product (the MILP solve, if
    any, and the simulations; CPU time of this process)."""

    warehouses: list[str]
    products: list[str]
    cost: list[np.ndarray]
    on_hand: list[np.ndarray]
    ordered: list[np.ndarray]
    shipped: list[np.ndarray]
    source: list[str]
    milp_status: list[str]
    cpu_seconds: np.ndarray

    @property
    def total(self) -> float:
        """The plans' total cost over the year [money]."""
        return float(sum(c.sum() for c in self.cost))

    def plan_cost(self) -> pd.DataFrame:
        """``(warehouse x product)`` total cost [money] of the plans at each node."""
        return pd.DataFrame({p: c.sum(axis=0) for p, c in zip(self.products, self.cost, strict=True)},
                            index=pd.Index(self.warehouses, name="warehouse"))

    def to_frame(self, bounds: TwinBounds | None = None) -> pd.DataFrame:
        """One row per product: ``plan cost`` [money], ``source``, ``milp status``, ``cpu seconds``; with ``bounds``
        also ``bound`` and ``slack %`` = 100 (plan cost - bound) / bound -- how much of any policy's gap
        to the bound may be the bound's own looseness."""
        out = pd.DataFrame({"plan cost": [float(c.sum()) for c in self.cost], "source": self.source,
                            "milp status": self.milp_status, "cpu seconds": self.cpu_seconds}, index=pd.Index(self.products, name="product"))
        if bounds is not None:
            b = np.array([bounds.bounds[bounds.products.index(p)].bound for p in self.products])
            out.insert(0, "bound", b)
            out["slack %"] = _gap(out["plan cost"].to_numpy(), b)
        return out


def clairvoyant_plans(
    data: TwinData, plan: ForecastPlan, bounds: TwinBounds, products: Sequence[str] | None = None,
    milp_seconds: float = 0.0,
) -> ClairvoyantPlans:
    """A real clairvoyant plan per product of ``bounds`` (or of ``products``, a subset), simulated
    through the batch core on the twin's network: the LP plan of ``bounds`` rounded (orders to
    whole units, transfers floored and kept within the stock, see :class:`_Replay`), with its
    orders merged over each window of :data:`MERGE_DAYS` (:func:`_merge`: the LP pays fixed costs
    in proportion, so it spreads orders thin) with its transfers as they are, merged too, or
    dropped (floored transfers can strand the units an overseas node was to sell) and, when
    ``milp_seconds`` > 0, also the incumbent of the exact MILP stopped after ``milp_seconds`` [CPU s
    of the solver]; the cheaper of the two in simulation is kept. The reported cost is always the
    simulator's, never the model's. Returns a :class:`ClairvoyantPlans`. Notebook 08 and
    ``benchmarks/bench_system.py``."""
    milp_seconds = float(check_number(milp_seconds, "milp_seconds", low=0.0, unit="s"))
    chosen = list(bounds.products) if products is None else list(products)
    unknown = [p for p in chosen if p not in bounds.products]
    if unknown or not chosen:
        raise not_allowed("products", unknown or chosen, f"a non-empty subset of the bounded {bounds.products}")
    _, models, caps = _product_models(data, plan, chosen)
    W = len(data.warehouses)
    mine, theirs = caps.reshape(W, len(chosen)), bounds.capacity.reshape(W, len(bounds.products))
    for n, p in enumerate(chosen):
        if not np.array_equal(mine[:, n], theirs[:, bounds.products.index(p)]):
            raise not_allowed("bounds", f"made with other capacities for {p!r}", "bounds of this data and plan")
    sims_kept, sources, statuses, secs = [], [], [], []
    for p, (cfg, demand) in zip(chosen, models, strict=True):
        tic = time.process_time()
        b = bounds.bounds[bounds.products.index(p)]
        cands = {}
        for k in MERGE_DAYS:
            cands[f"rounded LP, orders merged over {k} days"] = (_merge(b.ordered, k), b.shipped)
            cands[f"rounded LP, orders merged over {k} days, no transfers"] = (_merge(b.ordered, k),
                                                                               np.zeros_like(b.shipped))
            if k > 1:
                cands[f"rounded LP, orders and transfers merged over {k} days"] = (_merge(b.ordered, k),
                                                                                   _merge(b.shipped, k))
        status = "not run"
        if milp_seconds > 0:
            try:
                m = hindsight_bound(cfg, demand, HindsightOptions(mode="milp", time_limit=milp_seconds,
                                                                  mip_rel_gap=1e-4))
            except RuntimeError as err:  # nothing solved in time: the rounded LP plan stands
                status = str(err)
            else:
                status = m.status
                if np.isfinite(m.cost):
                    cands["MILP incumbent"] = (m.ordered, m.shipped)
        statuses.append(status)
        sims = {name: _simulate_plan(cfg, q, x) for name, (q, x) in cands.items()}
        best = min(sims, key=lambda name: sims[name]["cost"].sum())
        sims_kept.append(sims[best])
        sources.append(best)
        secs.append(time.process_time() - tic)
    return ClairvoyantPlans(list(data.warehouses), chosen, *([r[k] for r in sims_kept] for k in
                            ("cost", "on_hand", "ordered", "shipped")), sources, statuses, np.array(secs))


def _gap(cost: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Percent above the bound; 0 where both are 0, inf where only the bound is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 100.0 * (cost - bound) / bound
    return np.where(bound > 0, g, np.where(np.isclose(cost, bound), 0.0, np.inf))


def hindsight_gap(run: TwinRun, bounds: TwinBounds, by: str = "warehouse",
                  plans: ClairvoyantPlans | None = None) -> pd.DataFrame:
    """How many percent ``run``'s policy pays above the hindsight limit.

    ``by="warehouse"``: one row per warehouse plus ``"network"``. The network row is the exact
    comparison: the policy's total cost over the bounded products against the sum of their bounds.
    A warehouse row compares the policy's cost at that warehouse (summed over the products) with
    the cost the clairvoyant plan incurs *at that warehouse* -- an attribution of the network's
    bound along one optimal plan, not a bound of its own (a policy may spend less than the plan at
    one warehouse and more at another, so a warehouse gap can be negative). ``by="product"``: one row
    per product, each exact (a product's network is bounded on its own).
    Columns: ``policy cost``, ``bound`` [money] and ``gap %`` = 100 (cost - bound) / bound (0 when
    both are 0). With ``plans`` (:func:`clairvoyant_plans` of some of the bounded products) also
    ``plan cost`` [money] and ``gap to plan %``, over the planned products only (NaN rows elsewhere:
    no plan, no number): the gap to a plan that exists, which the bound's slack does not inflate.
    Raises :class:`ConfigError` when the run is not of the bounded twin (other warehouses,
    products, days or capacities)."""
    check_choice(by, "by", ("warehouse", "product"))
    if run.warehouses != bounds.warehouses or not set(bounds.products) <= set(run.products):
        raise not_allowed("bounds", f"for {bounds.warehouses} x {bounds.products}",
                          f"bounds of this run's warehouses {run.warehouses} and products")
    if len(run.dates) != bounds.days:
        raise not_allowed("bounds.days", bounds.days, f"the run's {len(run.dates)} days")
    W, P = len(run.warehouses), len(run.products)
    cols = [run.products.index(p) for p in bounds.products]
    if run.capacity.size and not np.array_equal(run.capacity.reshape(W, P)[:, cols].reshape(-1), bounds.capacity):
        raise not_allowed("bounds.capacity", "different from the run's", "the run's node capacities (same plan)")
    cost = run.arrays["total_cost"].sum(axis=0).reshape(W, P)[:, cols]
    if by == "product":
        index = pd.Index(bounds.products, name="product")
        policy, bound = cost.sum(axis=0), np.array([b.bound for b in bounds.bounds])
    else:
        index = pd.Index([*run.warehouses, "network"], name="warehouse")
        policy = np.append(cost.sum(axis=1), cost.sum())
        bound = np.append(bounds.plan_cost().to_numpy().sum(axis=1), bounds.total)
    out = pd.DataFrame({"policy cost": policy, "bound": bound, "gap %": _gap(policy, bound)}, index=index)
    if plans is not None:
        if plans.warehouses != bounds.warehouses or not set(plans.products) <= set(bounds.products):
            raise not_allowed("plans", f"for {plans.warehouses} x {plans.products}", "plans of the bounded products")
        pc = plans.plan_cost()
        sub = cost[:, [bounds.products.index(p) for p in plans.products]]
        if by == "product":
            pol = pd.Series(sub.sum(axis=0), index=plans.products)
            cost_plan = pd.Series(pc.to_numpy().sum(axis=0), index=plans.products)
        else:
            pol = pd.Series(np.append(sub.sum(axis=1), sub.sum()), index=index)
            cost_plan = pd.Series(np.append(pc.to_numpy().sum(axis=1), pc.to_numpy().sum()), index=index)
        out["plan cost"] = cost_plan.reindex(index).to_numpy()
        have = out["plan cost"].notna().to_numpy()
        g = np.full(len(out), np.nan)
        g[have] = _gap(pol.reindex(index).to_numpy()[have], out["plan cost"].to_numpy()[have])
        out["gap to plan %"] = g
    out.attrs["policy"] = run.policy
    return out



def clairvoyant_stock_line(bounds: TwinBounds, plans: ClairvoyantPlans | None = None) -> Callable[[TwinRun, int], np.ndarray]:
    """An ``extra_lines`` entry for the dashboard (:func:`~mas_lib.ops.plot_dashboard`): ``f(run, node)
    -> (T,)`` the closing stock [units] of the clairvoyant plan at that node -- of ``plans`` (the real
    plan, as simulated) when given and the product has one, else of the bound's (LP, possibly
    fractional) plan; all NaN (nothing drawn) for a product that was not bounded."""

    def line(run: TwinRun, node: int) -> np.ndarray:
        w, p = divmod(node, len(run.products))
        product = run.products[p]
        if plans is not None and product in plans.products:
            return plans.on_hand[plans.products.index(product)][:, w]
        if product in bounds.products:
            return bounds.bounds[bounds.products.index(product)].on_hand[:, w]
        return np.full(len(run.dates), np.nan)

    return line
