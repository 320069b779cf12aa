"""The digital twin of the retailer: one year of forecasts, decisions and real demand, day by day
(paper 3.2.3-3.2.5: the system in operation).

:func:`run_twin` is the daily loop. For every simulated day ``t``:

1. **morning** -- the forecasts made that morning and the safety stock in force come from a
   :class:`~mas_lib.ops.forecasting.ForecastPlan` (fitted strictly on the days before ``t``);
2. **decide** -- every (warehouse, product) agent applies the policy (forecast base-stock,
   (s, S), optionally with transfers; any :class:`mas_lib.decide.Policy` can be plugged in);
3. **demand** -- the recorded demand of the day arrives through
   :class:`mas_lib.sim.demand.RecordedDemand` and the batch core serves it (lost sales);
4. **record** -- sales, losses, stock, orders, transfers, refused receipts and costs are kept as
   ``(T, N)`` arrays in a :class:`TwinRun`, which :mod:`mas_lib.ops.monitor` turns into KPIs and alerts.

Capacity is sized so that the built-in rules' receipts fit (see
:class:`~mas_lib.ops.network.TwinNetwork`); where it binds anyway, the refused units (the core's
``overflow``: paid for with the order, not refunded) are counted in the summary, the KPIs and the alerts.

The forecasts can be prepared before the loop because real demand does not react to the
agents' decisions (lost sales are not re-recorded); they are still computed morning by morning
on past data only. All nodes of all products are one batch core, so a day is one vectorised step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..decide.policies import Combined, Policy, TransferRule
from ..decide.rollout import rollout
from ..sim.config import EnvConfig
from ..sim.demand import RecordedDemand
from ..validation import check_choice, not_allowed
from .demand import TwinData
from .forecasting import ForecastPlan
from .policies import PlannedBaseStock, PlannedSs, largest_target, lead_time_demand

__all__ = ["POLICIES", "RECORDED", "TwinRun", "run_twin", "twin_config"]

#: built-in policies by name
POLICIES = ("base-stock", "(s, S)", "base-stock + transfers")
#: the StepResult fields a run keeps, each ``(T, N)``
RECORDED = ("demand", "sales", "lost", "on_hand", "ordered", "shipped_out", "received_transfers", "overflow",
            "holding_cost", "shortage_cost", "ordering_cost", "transport_cost", "total_cost")

PolicyFactory = Callable[[EnvConfig, ForecastPlan, np.ndarray], Policy]


@dataclass
class TwinRun:
    """One year of the twin. ``arrays[name]`` is ``(T, N)`` for every name in
    :data:`RECORDED` plus ``forecast`` (one-step, units/day), ``safety`` and ``level`` (the
    order-up-to level, units) and ``refused_cost`` (money, see :meth:`summary`); ``dates`` the
    simulated days, ``nodes`` warehouse-major; ``capacity`` ``(N,)`` units each node holds."""

    dates: pd.DatetimeIndex
    open: np.ndarray
    warehouses: list[str]
    products: list[str]
    arrays: dict[str, np.ndarray]
    policy: str
    strategy: str
    source: str
    seconds: float
    plan: ForecastPlan = field(repr=False)
    capacity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    @property
    def nodes(self) -> list[tuple[str, str]]:
        """``(warehouse, product)`` per node."""
        return [(w, p) for w in self.warehouses for p in self.products]

    def daily(self) -> pd.DataFrame:
        """Tidy daily table: ``date, warehouse, product`` + one column per array."""
        T, N = len(self.dates), len(self.nodes)
        out = {"date": np.repeat(self.dates.to_numpy(), N),
               "warehouse": np.tile([w for w, _ in self.nodes], T),
               "product": np.tile([p for _, p in self.nodes], T),
               "open": np.repeat(self.open, N)}
        out.update({k: v.reshape(-1) for k, v in self.arrays.items()})
        return pd.DataFrame(out)

    def refused(self) -> pd.Series:
        """Units refused at capacity over the run, per node name (``"UK:85123A"``) [units]."""
        names = [f"{w}:{p}" for w, p in self.nodes]
        return pd.Series(self.arrays["overflow"].sum(axis=0), index=names, name="refused")

    def to_frame(self) -> pd.DataFrame:
        """The run as a tidy table: :meth:`daily` (the results convention of the package)."""
        return self.daily()

    def summary(self, bounds=None, plans=None) -> pd.Series:
        """Year totals as a labelled series named after the policy: cost by kind [money], fill
        rate, forecast MAE [units/day], refits, and the units refused at capacity [units] with
        their cost [money]. (The strategy is ``self.strategy``.)

        With ``bounds`` (a :class:`~mas_lib.ops.TwinBounds` of this run's twin) also ``hindsight
        bound`` [money] and ``gap to bound %`` over the bounded products (the network row of
        :func:`~mas_lib.ops.hindsight_gap`); with ``plans`` (:func:`~mas_lib.ops.clairvoyant_plans`)
        also ``clairvoyant plan`` [money] and ``gap to plan %`` over the planned products. Without
        them those entries are absent, never a placeholder number.

        Refused units follow the core's rule: they were paid for when ordered (purchase + freight
        per unit) and are not refunded, so their cost is already inside ``ordering`` and
        ``total cost``; ``refused cost`` shows that part (refused units x the refusing node's
        cost per unit), it is not added again."""
        a = self.arrays
        d = a["demand"].sum()
        err = (a["demand"] - a["forecast"])[self.open]
        return pd.Series({
                "total cost": float(a["total_cost"].sum()), "holding": float(a["holding_cost"].sum()),
                "shortage": float(a["shortage_cost"].sum()), "ordering": float(a["ordering_cost"].sum()),
                "transport": float(a["transport_cost"].sum()),
                "fill rate": float(a["sales"].sum() / d) if d else 1.0,
                "forecast MAE": float(np.abs(err).mean()), "refits": self.plan.n_refits,
                "refused": float(a["overflow"].sum()), "refused cost": float(a["refused_cost"].sum()),
                **self._gap_entries(bounds, plans)},
            name=self.policy)

    def _gap_entries(self, bounds, plans) -> dict[str, float]:
        """The hindsight entries of :meth:`summary` (empty without ``bounds``)."""
        if bounds is None:
            if plans is not None:
                raise not_allowed("plans", "given without bounds", "plans together with the bounds they round")
            return {}
        from .hindsight import hindsight_gap  # hindsight imports this module

        net = hindsight_gap(self, bounds, plans=plans).loc["network"]
        out = {"hindsight bound": float(net["bound"]), "gap to bound %": float(net["gap %"])}
        if plans is not None:
            out.update({"clairvoyant plan": float(net["plan cost"]), "gap to plan %": float(net["gap to plan %"])})
        return out


def _policy(policy, config: EnvConfig, plan: ForecastPlan, open_days: np.ndarray) -> Policy:
    if callable(policy) and not isinstance(policy, str):
        made = policy(config, plan, open_days)
        if not isinstance(made, Policy) and not callable(made):
            raise not_allowed("policy", policy, "a factory returning a mas_lib.decide Policy", TypeError)
        return made
    check_choice(policy, "policy", POLICIES)
    if policy == "(s, S)":
        return PlannedSs(config, plan.safety, open_days)
    base = PlannedBaseStock(config, plan.safety, open_days)
    if policy == "base-stock":
        return base
    return Combined(base, TransferRule(config, cover=3.0, keep=10.0, min_shipment=10))


def twin_config(data: TwinData, plan: ForecastPlan) -> tuple[EnvConfig, pd.DataFrame, np.ndarray, np.ndarray]:
    """The simulation :func:`run_twin` runs: ``(config, frame, open_days, leads)`` -- the
    :class:`EnvConfig` of every node (capacity and starting stock as :func:`run_twin` documents), the
    simulated days' demand [units/day], the shop's calendar and each node's lead time [days]. Also
    what :mod:`mas_lib.ops.hindsight` bounds. Checks that ``plan`` was made from ``data``."""
    if plan.made_for != data.fingerprint:
        raise not_allowed("plan", f"made for {plan.made_for}",
                          f"a plan made by scheduled_forecasts from this data ({data.fingerprint})")
    units = data.units
    first = int(np.searchsorted(units.index, data.start))
    frame = units.iloc[first:]
    T, N = frame.shape
    if plan.mean.shape[0] != T or plan.mean.shape[2] != N:
        raise ValueError(f"the plan covers {plan.mean.shape[0]} days x {plan.mean.shape[2]} nodes but the data "
                         f"has {T} x {N}: make the plan from the same data")
    net = data.network
    open_days = data.open.to_numpy(dtype=bool)[first:]
    leads = np.repeat([w.lead_time for w in net.warehouses], len(data.products))
    start_level = lead_time_demand(plan.mean[:1], leads)[0] + plan.safety[0]
    history_max = units.iloc[:first].to_numpy().max(axis=0)
    capacity = net.node_capacity(history_max, largest_target(plan.mean, plan.safety, leads))
    config = net.env_config(data.products, RecordedDemand(frame, forecasts=plan.mean), T, plan.mean.shape[1],
                            np.rint(start_level).astype(np.int64), capacity)
    return config, frame, open_days, leads


def run_twin(
    data: TwinData, plan: ForecastPlan, policy: str | PolicyFactory = "base-stock",
    progress: Callable[[int, int], None] | None = None,
) -> TwinRun:
    """Run the twin through every simulated day of ``data`` (see the module docstring).

    ``policy``: one of :data:`POLICIES`, or a factory ``(config, plan, open_days) -> Policy`` --
    the plug-in point for learners and for coordination protocols. ``plan`` must have been made
    from ``data`` (same products, warehouses and days: its ``made_for`` fingerprint), else
    :class:`~mas_lib.validation.ConfigError`. Stock starts at each node's first order-up-to
    level. Capacity (:meth:`~mas_lib.ops.network.TwinNetwork.node_capacity`) is the largest of
    ``min_capacity``, ``capacity_days`` x the largest daily demand before the first simulated day,
    and ``capacity_cover`` x the largest stock the built-in rules aim at over the plan
    (:func:`~mas_lib.ops.policies.largest_target`): a product without sales before the start gets
    room for what the plan will ask of it. The plan's targets are made morning by morning from
    past data; using their maximum to size the building is a design choice, not a decision the
    agents see. Units refused at capacity anyway are recorded (``overflow``, ``refused_cost``).
    Returns a :class:`TwinRun`. Paper 3.2.3-3.2.5; notebook 08 and ``benchmarks/bench_system.py``.
    """
    config, frame, open_days, leads = twin_config(data, plan)
    T, N = frame.shape
    net = data.network
    capacity = config.network.capacity.copy()
    pol = _policy(policy, config, plan, open_days)
    name = policy if isinstance(policy, str) else getattr(pol, "name", "custom")
    rec = {k: np.zeros((T, N)) for k in (*RECORDED, "level")}
    tic = time.perf_counter()
    for step in rollout(config, pol, copies=1, seed=0):
        t = step.day
        for k in RECORDED:
            rec[k][t] = getattr(step.result, k)[0]
        rec["level"][t] = lead_time_demand(step.state.forecast, leads)[0] + plan.safety[t]
        if progress is not None:
            progress(t + 1, T)
    rec["forecast"] = plan.one_step.copy()
    rec["safety"] = plan.safety.copy()
    rec["refused_cost"] = rec["overflow"] * np.repeat([w.order_unit_cost for w in net.warehouses], len(data.products))
    return TwinRun(frame.index, open_days, data.warehouses, data.products, rec, name, plan.strategy, data.source,
                   time.perf_counter() - tic, plan, capacity)
