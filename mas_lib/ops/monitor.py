"""Monitoring the twin (paper 3.2.5): KPIs per warehouse, product and week, and alert rules.

:func:`weekly_kpis` aggregates a :class:`~mas_lib.ops.twin.TwinRun` to one row per
(week, warehouse, product) -- or coarser, with ``by`` -- with these KPIs (units in brackets):

* ``fill_rate`` -- units sold / units asked [-]; ``cycle_service`` -- share of open days without a
  stock-out [-]; ``stockout_days`` -- open days with lost sales [days]; ``lost`` [units];
* ``turns`` -- annualised inventory turns, sales / mean stock x 52 [1/year]; ``days_of_supply`` --
  mean stock / mean daily demand on open days [days];
* ``holding``, ``shortage``, ``ordering``, ``transport``, ``cost`` [money]; ``transfers`` -- units
  shipped to other warehouses [units];
* ``refused`` -- units refused at capacity (paid for, not refunded: the core's ``overflow``)
  [units]; ``refused_cost`` -- their purchase + freight cost, a part of ``ordering`` [money];
* ``mae``, ``bias`` -- of the morning's one-step forecast on open days [units/day] (bias =
  mean of actual - forecast: positive means under-forecasting); ``tracking_signal`` -- cumulative
  error over the last 4 weeks / their mean absolute error [-].

:data:`ALERT_RULES` is the rule table; :func:`alerts` applies it and returns the alerts as a table.

:func:`warehouse_kpis` gives the year's KPIs per warehouse and for the network and, when the
hindsight bounds of :mod:`mas_lib.ops.hindsight` are given, the gap to them. The network's gap is
exact (the policy's cost against a lower bound). A warehouse's "bound" is not a bound of its own:
it is the network bound split along the clairvoyant plan -- the cost that plan incurs at that
warehouse -- so a policy can spend less than it there and more elsewhere, and a warehouse gap can be
negative.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..validation import not_allowed
from .hindsight import ClairvoyantPlans, TwinBounds, hindsight_gap
from .twin import TwinRun

__all__ = ["KPI_COLUMNS", "ALERT_RULES", "weekly_kpis", "warehouse_kpis", "alerts"]

KPI_COLUMNS = ("demand", "sales", "lost", "fill_rate", "cycle_service", "stockout_days", "turns",
               "days_of_supply", "holding", "shortage", "ordering", "transport", "cost", "transfers",
               "refused", "refused_cost", "mae", "bias", "tracking_signal")

#: the alert rules: a KPI, a comparison and a threshold (edit a copy to change them)
ALERT_RULES = pd.DataFrame([
    {"rule": "fill rate under target", "kpi": "fill_rate", "op": "<", "threshold": 0.90,
     "meaning": "less than 90 % of the week's demand was served"},
    {"rule": "stock-outs", "kpi": "stockout_days", "op": ">=", "threshold": 3,
     "meaning": "lost sales on 3 or more open days of the week"},
    {"rule": "forecast biased", "kpi": "tracking_signal", "op": "abs>", "threshold": 4.0,
     "meaning": "|tracking signal| > 4: errors of one sign pile up over 4 weeks"},
    {"rule": "overstock", "kpi": "days_of_supply", "op": ">", "threshold": 60.0,
     "meaning": "more than 60 days of stock on hand"},
    {"rule": "capacity refused", "kpi": "refused", "op": ">", "threshold": 0,
     "meaning": "receipts refused at capacity: units paid for and lost"},
])

_KEYS = ("week", "warehouse", "product")


def weekly_kpis(run: TwinRun, by: Sequence[str] = _KEYS) -> pd.DataFrame:
    """KPIs of ``run`` per ``by`` (a subset of ``("week", "warehouse", "product")``, always with
    ``week``), one row per group; columns :data:`KPI_COLUMNS` (see the module docstring).
    ``week`` is the Monday starting the week. Notebook 08 and the dashboard."""
    by = tuple(by)
    if "week" not in by or any(b not in _KEYS for b in by) or len(set(by)) != len(by):
        raise not_allowed("by", by, f"distinct names from {list(_KEYS)} including 'week'")
    d = run.daily()
    d["week"] = d["date"] - pd.to_timedelta(d["date"].dt.day_of_week, unit="D")
    o = d["open"].to_numpy()
    err = np.where(o, d["demand"] - d["forecast"], 0.0)
    d = d.assign(err=err, abs_err=np.abs(err), open_days=o.astype(int),
                 stockout=(o & (d["lost"] > 0)).astype(int), open_demand=np.where(o, d["demand"], 0.0))
    sums = ["demand", "sales", "lost", "holding_cost", "shortage_cost", "ordering_cost", "transport_cost",
            "total_cost", "shipped_out", "overflow", "refused_cost", "err", "abs_err", "open_days", "stockout",
            "open_demand"]
    node_day = d.groupby([*(k for k in by if k != "week"), "date", "week"], sort=True)
    day = node_day[sums].sum().join(node_day["on_hand"].sum())
    g = day.groupby(list(by), sort=True)
    k = g[sums].sum()
    stock = g["on_hand"].mean()
    n_open = g["open_days"].apply(lambda s: int((s > 0).sum()))
    out = pd.DataFrame(index=k.index)
    out["demand"], out["sales"], out["lost"] = k["demand"], k["sales"], k["lost"]
    out["fill_rate"] = np.where(k["demand"] > 0, k["sales"] / k["demand"].where(k["demand"] > 0, 1), 1.0)
    out["stockout_days"] = g["stockout"].apply(lambda s: int((s > 0).sum()))
    out["cycle_service"] = np.where(n_open > 0, 1 - out["stockout_days"] / n_open.clip(lower=1), 1.0)
    out["turns"] = np.where(stock > 0, k["sales"] / stock.where(stock > 0, 1) * 52, np.nan)
    mean_open_demand = k["open_demand"] / n_open.clip(lower=1)
    out["days_of_supply"] = np.where(mean_open_demand > 0, stock / mean_open_demand.where(mean_open_demand > 0, 1),
                                     np.nan)
    out["holding"], out["shortage"] = k["holding_cost"], k["shortage_cost"]
    out["ordering"], out["transport"], out["cost"] = k["ordering_cost"], k["transport_cost"], k["total_cost"]
    out["transfers"] = k["shipped_out"]
    out["refused"], out["refused_cost"] = k["overflow"], k["refused_cost"]
    nobs = k["open_days"].clip(lower=1)
    out["mae"], out["bias"] = k["abs_err"] / nobs, k["err"] / nobs
    group = [b for b in by if b != "week"]
    roll = (k[["err", "abs_err", "open_days"]].groupby(level=group, sort=False) if group
            else k[["err", "abs_err", "open_days"]]).rolling(4, min_periods=1).sum()
    if group:
        roll = roll.droplevel(list(range(len(group))))
    roll = roll.reindex(k.index)
    mad = roll["abs_err"] / roll["open_days"].clip(lower=1)
    out["tracking_signal"] = np.where(mad > 0, roll["err"] / mad.where(mad > 0, 1), 0.0)
    return out.reset_index()


def warehouse_kpis(run: TwinRun, bounds: TwinBounds | None = None, plans: ClairvoyantPlans | None = None) -> pd.DataFrame:
    """The year's KPIs of ``run`` per warehouse plus a ``"network"`` row: ``demand``, ``sales``, ``lost``
    [units], ``fill_rate`` [-], ``cost`` [money] (all products). With ``bounds``: ``bound`` [money] and
    ``gap %`` over the bounded products, whose cost is ``cost of bounded products`` (see the module docstring: a warehouse's bound is the network
    bound split along the clairvoyant plan and its gap can be negative; the network row is the exact
    comparison); with ``plans`` also ``plan cost`` and ``gap to plan %`` (the best known clairvoyant
    plan, a real one). No bounds, no such columns. Notebook 08."""
    W, P = len(run.warehouses), len(run.products)
    a = run.arrays
    per = {k: a[k].sum(axis=0).reshape(W, P).sum(axis=1) for k in ("demand", "sales", "lost", "total_cost")}
    out = pd.DataFrame({k: np.append(v, v.sum()) for k, v in per.items()},
                       index=pd.Index([*run.warehouses, "network"], name="warehouse")).rename(columns={"total_cost": "cost"})
    out.insert(3, "fill_rate", np.where(out["demand"] > 0, out["sales"] / out["demand"].where(out["demand"] > 0, 1), 1.0))
    if bounds is not None:
        gap = hindsight_gap(run, bounds, plans=plans)
        out = out.join(gap.rename(columns={"policy cost": "cost of bounded products"}))
    elif plans is not None:
        raise not_allowed("plans", "given without bounds", "plans together with the bounds they round")
    return out


def alerts(kpis: pd.DataFrame, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """Apply the alert ``rules`` (default :data:`ALERT_RULES`) to a :func:`weekly_kpis` table.

    Returns one row per alert: the group keys, ``rule``, ``kpi``, ``value``, ``threshold``,
    sorted by week. Weeks without demand raise no alert, and neither does a KPI that is not
    defined that week (NaN: ``turns`` without stock, ``days_of_supply`` without demand) --
    whatever the comparison, NaN is never read as a number. Notebook 08.
    """
    rules = ALERT_RULES if rules is None else rules
    keys = [c for c in _KEYS if c in kpis.columns]
    ops = {"<": np.less, ">": np.greater, ">=": np.greater_equal, "<=": np.less_equal,
           "abs>": lambda v, th: np.abs(v) > th}
    found = []
    for r in rules.itertuples():
        if r.op not in ops:
            raise not_allowed("rule op", r.op, f"one of {list(ops)}")
        if r.kpi not in kpis.columns:
            raise not_allowed("rule kpi", r.kpi, f"one of {list(KPI_COLUMNS)}")
        v = kpis[r.kpi].to_numpy(dtype=float)
        known = ~np.isnan(v)  # a KPI that cannot be computed (no stock, no demand) never fires
        with np.errstate(invalid="ignore"):
            hit = known & ops[r.op](v, r.threshold) & (kpis["demand"].to_numpy() > 0)
        hit = pd.Series(hit, index=kpis.index)
        sub = kpis.loc[hit, keys].copy()
        sub["rule"], sub["kpi"], sub["value"], sub["threshold"] = r.rule, r.kpi, v[hit.to_numpy()], r.threshold
        found.append(sub)
    out = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=[*keys, "rule", "kpi", "value"])
    return out.sort_values(keys + ["rule"], kind="mergesort").reset_index(drop=True)
