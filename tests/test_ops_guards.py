"""Tests of the twin's guards against careless or hostile input (mas_lib.ops, notebook 08): the date
window must lie inside the data, a plan must belong to its data, alert rules never fire on a
missing KPI, the dashboard refuses runs over different days, and capacity is sized so that a
product without recent history is not starved (refused units are counted, never hidden)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import ops
from mas_lib.validation import ConfigError


def _tidy(first="2010-12-01", last="2011-03-31", products=("10001",), every=1, units=5.0):
    """A tidy demand table with a sale of ``units`` every ``every`` days at every default warehouse."""
    days = pd.date_range(first, last)[::every]
    net = ops.default_network()
    return pd.DataFrame([{"date": d, "warehouse": w, "stock_code": p, "units": units}
                         for d in days for w in net.names for p in products])


# ------------------------------------------------------------------ the date window
def test_end_after_the_data_is_refused_naming_the_data_range():
    """Days after the data's last day are not invented as zero demand."""
    with pytest.raises(ConfigError, match=r"end = '2011-06-30' is not allowed.*2010-12-01.*2011-03-31"):
        ops.twin_data_from_frame(_tidy(), ["10001"], ops.default_network(), "2011-01-01", "2011-06-30")


def test_start_after_the_data_names_start_and_the_data_range():
    with pytest.raises(ConfigError, match=r"start = '2011-05-01' is not allowed.*2010-12-01.*2011-03-31") as e:
        ops.twin_data_from_frame(_tidy(), ["10001"], ops.default_network(), "2011-05-01")
    assert "end =" not in str(e.value)


@pytest.mark.parametrize("start, end", [("2011-03-31", None), ("2011-02-01", "2011-02-01")])
def test_a_one_day_window_is_refused_naming_the_minimum(start, end):
    with pytest.raises(ConfigError, match=r"is not allowed.*at least 2 simulated days"):
        ops.twin_data_from_frame(_tidy(), ["10001"], ops.default_network(), start, end)


def test_the_shortest_window_runs():
    data = ops.twin_data_from_frame(_tidy(), ["10001"], ops.default_network(), "2011-02-01", "2011-02-02")
    assert len(data.sim_days) == ops.MIN_SIM_DAYS == 2
    run = ops.run_twin(data, ops.scheduled_forecasts(data, "never"))
    assert run.arrays["demand"].shape == (2, 4)


def test_history_starts_on_the_calendars_first_day():
    """A product first sold after the calendar's first day has zero demand (an open shop, no sale)
    on the days before, so the default start date works for it."""
    tidy = _tidy(first="2011-02-01")
    calendar = pd.Series(True, index=pd.date_range("2010-12-01", "2011-03-31"))
    data = ops.twin_data_from_frame(tidy, ["10001"], ops.default_network(), "2011-01-01", calendar=calendar)
    assert data.units.index[0] == pd.Timestamp("2010-12-01") and data.start == pd.Timestamp("2011-01-01")
    assert (data.units.loc[:"2011-01-31"] == 0).all().all() and (data.units.loc["2011-02-01":] == 5).all().all()
    with pytest.raises(ConfigError, match="calendar"):
        ops.twin_data_from_frame(tidy, ["10001"], ops.default_network(), "2011-01-01",
                                 calendar=pd.Series(True, index=pd.date_range("2011-02-15", "2011-03-31")))


# ------------------------------------------------------------------ real data
def test_real_window_outside_the_data_is_refused(retail_path):
    with pytest.raises(ConfigError, match=r"end = '2012-03-31' is not allowed.*2010-12-01.*2011-12-09"):
        ops.load_twin_data(["85123A"], start="2011-11-01", end="2012-03-31")
    with pytest.raises(ConfigError, match=r"start = '2012-01-01' is not allowed.*2010-12-01.*2011-12-09"):
        ops.load_twin_data(["85123A"], start="2012-01-01")
    with pytest.raises(ConfigError, match="at least 2 simulated days"):
        ops.load_twin_data(["85123A"], start="2011-12-09")


def test_real_product_first_sold_in_2011_gets_the_full_history(retail_path):
    """23203 (first sold in 2011) works with the default start; its history is the data's."""
    d = ops.load_twin_data(["23203"])
    assert d.units.index[0] == pd.Timestamp("2010-12-01") and d.units.index[-1] == pd.Timestamp("2011-12-09")
    assert d.units.loc[: d.start - pd.Timedelta(days=1)].to_numpy().sum() == 0
    assert d.units.to_numpy().sum() > 0


# ------------------------------------------------------------------ a plan belongs to its data
def test_a_plan_from_other_products_of_the_same_shape_is_refused():
    data = ops.synthetic_twin_data(n_products=2, seed=3, n_days=120)
    a, b = data.subset(data.products[:1]), data.subset(data.products[1:])
    plan = ops.scheduled_forecasts(a, "never")
    assert plan.mean.shape[2] == b.units.shape[1]  # same shape: only the fingerprint tells them apart
    with pytest.raises(ConfigError, match=rf"plan = .*{a.products[0]}.* is not allowed.*{b.products[0]}"):
        ops.run_twin(b, plan)
    ops.run_twin(a, plan)  # its own data is fine


def test_a_plan_from_other_days_of_the_same_length_is_refused():
    net = ops.default_network()
    early = ops.twin_data_from_frame(_tidy(every=2), ["10001"], net, "2011-01-01", "2011-02-28")
    late = ops.twin_data_from_frame(_tidy(every=2), ["10001"], net, "2011-01-02", "2011-03-01")
    assert len(early.sim_days) == len(late.sim_days)
    plan = ops.scheduled_forecasts(early, "never")
    with pytest.raises(ConfigError, match=r"plan = .*2011-01-01 \.\. 2011-02-28.* is not allowed.*2011-01-02"):
        ops.run_twin(late, plan)


# ------------------------------------------------------------------ alert rules and missing KPIs
_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
        "abs>": lambda v, th: np.abs(v) > th}


@settings(max_examples=80, deadline=None)
@given(values=st.lists(st.one_of(st.just(float("nan")), st.floats(-100, 100)), min_size=1, max_size=30),
       op=st.sampled_from(sorted(_OPS)), threshold=st.floats(-100, 100))
def test_an_alert_fires_exactly_where_a_known_kpi_breaks_the_rule(values, op, threshold):
    """A NaN KPI (e.g. days of supply in a week without stock) never fires, whatever the operator;
    a known value fires exactly when the comparison holds (weeks with demand only)."""
    n = len(values)
    kpis = pd.DataFrame({"week": pd.date_range("2011-01-03", periods=n, freq="7D"), "warehouse": "UK",
                         "product": "1", "demand": np.arange(n) % 3, "days_of_supply": values})
    rule = pd.DataFrame([{"rule": "r", "kpi": "days_of_supply", "op": op, "threshold": threshold, "meaning": ""}])
    fired = ops.alerts(kpis, rule)
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        expect = ~np.isnan(v) & _OPS[op](v, threshold) & (kpis["demand"].to_numpy() > 0)
    assert list(fired["week"]) == list(kpis.loc[expect, "week"])
    assert not fired["value"].isna().any()


def test_no_false_alerts_on_weeks_with_a_missing_kpi():
    """Nobody orders, so the stock runs out: weeks with demand and no stock have no turns."""
    from mas_lib.decide.policies import DoNothing

    data = ops.synthetic_twin_data(n_products=2, seed=3, n_days=150)
    run = ops.run_twin(data, ops.scheduled_forecasts(data, "never"), lambda config, plan, open_days: DoNothing(config))
    k = ops.weekly_kpis(run)
    assert (k["turns"].isna() & (k["demand"] > 0)).sum() > 10
    for kpi in ("days_of_supply", "turns"):
        for op in ("<=", ">=", "<", ">", "abs>"):
            rule = pd.DataFrame([{"rule": "r", "kpi": kpi, "op": op, "threshold": 0.5, "meaning": ""}])
            fired = ops.alerts(k, rule)
            assert fired["value"].notna().all(), (kpi, op)


# ------------------------------------------------------------------ capacity and refused units
def _new_product_data():
    """10001 sells from the first day; 10002 only from 2011-02-01 -- no history before the start."""
    old = _tidy(products=("10001",), units=20.0)
    new = _tidy(first="2011-02-01", products=("10002",), units=300.0)
    calendar = pd.Series(True, index=pd.date_range("2010-12-01", "2011-03-31"))
    return ops.twin_data_from_frame(pd.concat([old, new]), ["10001", "10002"], ops.default_network(), "2011-01-01",
                                    calendar=calendar)


@pytest.mark.parametrize("policy", ops.POLICIES)
def test_a_product_without_history_is_not_starved_by_capacity(policy):
    """Capacity is sized from what the policy will ask for, not only from the history before the
    start (none here): every built-in policy's receipts fit, so nothing is refused."""
    data = _new_product_data()
    run = ops.run_twin(data, ops.scheduled_forecasts(data, "weekly"), policy)
    new = [i for i, (_, p) in enumerate(run.nodes) if p == "10002"]
    assert run.arrays["overflow"][:, new].sum() == 0
    assert run.summary()["refused"] == 0
    assert (run.capacity[new] > 10 * 300).all()  # far above min_capacity (500 units)
    late = run.dates >= pd.Timestamp("2011-03-01")
    uk = run.nodes.index(("UK", "10002"))
    assert run.arrays["sales"][late, uk].sum() > 0.9 * run.arrays["demand"][late, uk].sum()


def test_refused_units_are_a_kpi_and_in_the_cost_summary():
    """A policy that orders more than fits: refused units are counted per node, warehouse and in
    total, valued at the node's purchase + freight cost per unit (already paid in ordering), alerted."""
    from mas_lib.decide.policies import FixedOrderQuantity

    data = _new_product_data()
    run = ops.run_twin(data, ops.scheduled_forecasts(data, "never"),
                       lambda config, plan, open_days: FixedOrderQuantity(config, 10_000, every=1))  # >> capacity
    over = run.arrays["overflow"]
    assert over.sum() > 0
    unit = np.repeat([w.order_unit_cost for w in data.network.warehouses], len(data.products))
    s = run.summary()
    assert s["refused"] == over.sum()
    assert np.isclose(s["refused cost"], (over * unit).sum())
    assert np.isclose(s["total cost"], s["holding"] + s["shortage"] + s["ordering"] + s["transport"])  # not twice
    per_node = run.refused()
    assert list(per_node.index) == data.nodes and per_node.sum() == over.sum()
    k = ops.weekly_kpis(run)
    assert k["refused"].sum() == over.sum() and np.isclose(k["refused_cost"].sum(), s["refused cost"])
    kw = ops.weekly_kpis(run, by=("week", "warehouse"))
    assert kw.groupby("warehouse")["refused"].sum().reindex(data.warehouses).tolist() == [
        per_node[[f"{w}:{p}" for p in data.products]].sum() for w in data.warehouses]
    al = ops.alerts(k)
    hits = al[al["rule"] == "capacity refused"]
    assert len(hits) == int(((k["refused"] > 0) & (k["demand"] > 0)).sum()) > 0

