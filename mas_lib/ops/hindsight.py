"""How far the twin's policies are from the hindsight limit (paper 3.2.3-3.2.5: judging the system in
operation on real demand, where no exact optimum is known).

:func:`twin_bounds` solves, for every product, the clairvoyant planning model of
:mod:`mas_lib.decide.planning.hindsight` on that product's network (one node per warehouse, its
links) over the simulated year of real demand, with exactly the capacities and starting stock
:func:`~mas_lib.ops.run_twin` gives the nodes (the same :func:`~mas_lib.ops.twin.twin_config`).
Products never share stock, so the year's bound is the sum of the products' bounds.
:func:`hindsight_gap` says how many percent each policy pays above it.

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
from ..sim.config import EnvConfig
from ..sim.demand import RecordedDemand
from ..validation import check_choice, not_allowed
from .demand import TwinData
from .forecasting import ForecastPlan
from .twin import TwinRun, twin_config

__all__ = ["TwinBounds", "twin_bounds", "hindsight_gap"]


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


def twin_bounds(
    data: TwinData, plan: ForecastPlan, options: HindsightOptions | None = None,
    products: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None,
) -> TwinBounds:
    """The hindsight limit of every product of ``data`` (or of ``products``, a subset) over the
    simulated days: one model per product network, with the capacities and starting stock of
    :func:`~mas_lib.ops.run_twin` on the same ``plan`` (they depend on it). ``options``: see
    :class:`~mas_lib.decide.planning.hindsight.HindsightOptions` (default: the LP relaxation).
    ``progress(done, total)`` is called after each product. Returns a :class:`TwinBounds`."""
    config, frame, _, _ = twin_config(data, plan)
    chosen = list(data.products) if products is None else list(products)
    unknown = [p for p in chosen if p not in data.products]
    if unknown or not chosen:
        raise not_allowed("products", unknown or chosen, f"a non-empty subset of {data.products}")
    P = len(data.products)
    demand = config.demand.values[: len(frame)]  # what the core replays (whole units)
    out, secs, caps = [], [], np.zeros(0, dtype=np.int64)
    for n, p in enumerate(chosen):
        tic = time.process_time()
        nodes = [w * P + data.products.index(p) for w in range(len(data.warehouses))]
        out.append(hindsight_bound(_product_config(config, nodes, frame, plan), demand[:, nodes], options))
        secs.append(time.process_time() - tic)
        if progress is not None:
            progress(n + 1, len(chosen))
    cap = config.network.capacity.reshape(len(data.warehouses), P)
    caps = cap[:, [data.products.index(p) for p in chosen]].reshape(-1)
    return TwinBounds(list(data.warehouses), chosen, out, caps, len(frame), out[0].mode, np.array(secs))


def _gap(cost: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Percent above the bound; 0 where both are 0, inf where only the bound is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 100.0 * (cost - bound) / bound
    return np.where(bound > 0, g, np.where(np.isclose(cost, bound), 0.0, np.inf))


def hindsight_gap(run: TwinRun, bounds: TwinBounds, by: str = "warehouse") -> pd.DataFrame:
    """How many percent ``run``'s policy pays above the hindsight limit.

    ``by="warehouse"``: one row per warehouse plus ``"network"``. The network row is the exact
    comparison: the policy's total cost over the bounded products against the sum of their bounds.
    A warehouse row compares the policy's cost at that warehouse (summed over the products) with
    the cost the clairvoyant plan incurs *at that warehouse* -- an attribution of the network's
    bound along one optimal plan, not a bound of its own (a policy may spend less than the plan at
    one warehouse and more at another, so a warehouse gap can be negative). ``by="product"``: one row
    per product, each exact (a product's network is bounded on its own).
    Columns: ``policy cost``, ``bound`` [money] and ``gap %`` = 100 (cost - bound) / bound (0 when
    both are 0). Raises :class:`ConfigError` when the run is not of the bounded twin (other
    warehouses, products, days or capacities)."""
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
    out.attrs["policy"] = run.policy
    return out

