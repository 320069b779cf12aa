"""Tests of mas_lib.ops: the digital twin (network, demand, scheduled forecasts without look-ahead,
the daily loop, KPIs and alerts, drift detectors, retraining) -- notebook 08."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mas_lib import ops
from mas_lib.validation import ConfigError


@pytest.fixture(scope="module")
def syn():
    """Synthetic twin data: 2 products x 4 warehouses, from 2010-12-01, simulated from 2011-01-01."""
    return ops.synthetic_twin_data(n_products=2, seed=3, n_days=150)


@pytest.fixture(scope="module")
def syn_run(syn):
    plan = ops.scheduled_forecasts(syn, "weekly")
    return ops.run_twin(syn, plan, "base-stock")


# ------------------------------------------------------------------ network
def test_default_network_is_cross_border():
    net = ops.default_network()
    assert net.names == ["UK", "EIRE", "EU", "ROW"]
    leads = net.lead_times
    assert leads["UK"] < min(leads["EIRE"], leads["EU"], leads["ROW"])
    assert net.warehouse_of("United Kingdom") == "UK" and net.warehouse_of("Germany") == "EU"
    assert net.warehouse_of("EIRE") == "EIRE" and net.warehouse_of("Australia") == "ROW"
    assert net.warehouse_of("Unspecified") == "ROW"


def test_network_rejects_bad_input():
    W = ops.TwinWarehouse
    with pytest.raises(ConfigError, match="served by both"):
        ops.TwinNetwork((W("A", ("X",), 1), W("B", ("X",), 2)))
    with pytest.raises(ConfigError, match="at most one"):
        ops.TwinNetwork((W("A", None, 1), W("B", None, 2)))
    with pytest.raises(ConfigError, match="TwinLink end = 'C'"):
        ops.TwinNetwork((W("A", ("X",), 1), W("B", None, 2)), links=(ops.TwinLink("A", "C", 1),))
    with pytest.raises(ConfigError, match="lead_time"):
        W("A", ("X",), -1)


def test_env_config_has_one_node_per_warehouse_and_product(syn):
    plan = ops.scheduled_forecasts(syn, "never")
    run = ops.run_twin(syn, plan)
    P, W = len(syn.products), len(syn.warehouses)
    assert run.arrays["demand"].shape == (len(syn.sim_days), P * W)
    assert run.nodes[0] == ("UK", syn.products[0]) and run.nodes[P] == ("EIRE", syn.products[0])


# ------------------------------------------------------------------ demand
def test_synthetic_data_said_plainly_and_missing_days_are_zero(syn):
    assert syn.source == "synthetic"
    assert not syn.units.isna().any().any()
    assert (syn.units.loc[~syn.open.to_numpy()] == 0).all().all()
    assert syn.units.index.is_monotonic_increasing
    assert (syn.units.index[1:] - syn.units.index[:-1] == pd.Timedelta(days=1)).all()


def test_from_frame_fills_missing_days_and_rejects_empty_warehouse():
    net = ops.default_network()
    days = pd.date_range("2010-12-01", "2011-01-31")
    rows = [{"date": d, "warehouse": w, "stock_code": "10001", "units": 5.0}
            for d in days[::2] for w in net.names]  # every other day missing
    calendar = pd.Series(True, index=days)  # the data covers 2011-01-31, a day without a row
    data = ops.twin_data_from_frame(pd.DataFrame(rows), ["10001"], net, "2011-01-01", "2011-01-31",
                                    calendar=calendar)
    assert len(data.units) == len(days) and data.units.index[-1] == days[-1]
    assert (data.units.iloc[1::2] == 0).all().all() and (data.units.iloc[::2] == 5).all().all()
    rows = [r for r in rows if r["warehouse"] != "ROW"]
    with pytest.raises(ConfigError, match="warehouse 'ROW' has no demand series"):
        ops.twin_data_from_frame(pd.DataFrame(rows), ["10001"], net, "2011-01-01")


def test_empty_date_range_is_rejected(syn):
    tidy = pd.DataFrame({"date": pd.date_range("2010-12-01", periods=60), "warehouse": "UK",
                         "stock_code": "1", "units": 1.0})
    net = ops.TwinNetwork((ops.TwinWarehouse("UK", None, 1),))
    with pytest.raises(ConfigError, match="end = '2010-12-20' is not allowed"):
        ops.twin_data_from_frame(tidy, ["1"], net, "2011-01-01", "2010-12-20")
    with pytest.raises(ConfigError, match="start = '2010-12-01' is not allowed"):
        ops.twin_data_from_frame(tidy, ["1"], net, "2010-12-01")


def test_subset_rejects_unknown_products(syn):
    assert syn.subset(syn.products[:1]).units.shape[1] == 4
    with pytest.raises(ConfigError, match="NOPE"):
        syn.subset(["NOPE"])


# ------------------------------------------------------------------ forecasts: no look-ahead
@pytest.mark.parametrize("strategy", ["never", "weekly", "4-weekly", "drift"])
def test_forecasts_use_only_the_past(syn, strategy):
    """Changing the demand of day t and later never changes a forecast made on or before t."""
    base = ops.scheduled_forecasts(syn, strategy)
    first = int(np.searchsorted(syn.units.index, syn.start))
    t = 40
    changed = ops.TwinData(syn.units.copy(), syn.open, syn.start, syn.products, syn.network, syn.source)
    rng = np.random.default_rng(0)
    changed.units.iloc[first + t:] = rng.integers(0, 500, size=changed.units.iloc[first + t:].shape)
    other = ops.scheduled_forecasts(changed, strategy)
    np.testing.assert_array_equal(base.mean[: t + 1], other.mean[: t + 1])
    np.testing.assert_array_equal(base.safety[: t + 1], other.safety[: t + 1])
    assert not np.array_equal(base.mean[t + 8 :], other.mean[t + 8 :]) or strategy == "never"


def test_refit_schedules(syn):
    T = len(syn.sim_days)
    never = ops.scheduled_forecasts(syn, "never")
    weekly = ops.scheduled_forecasts(syn, "weekly")
    monthly = ops.scheduled_forecasts(syn, "4-weekly")
    N = syn.units.shape[1]
    assert never.n_refits == N
    assert weekly.n_refits == N * len(range(0, T, 7))
    assert monthly.n_refits == N * len(range(0, T, 28))
    assert (never.mean[:, :, :][~syn.open.to_numpy()[-T:]][:, 0] == 0).all()  # closed days: 0
    assert weekly.mean.shape[1] == max(syn.network.lead_times.values()) + 1
    with pytest.raises(ConfigError, match="strategy"):
        ops.scheduled_forecasts(syn, "daily")


# ------------------------------------------------------------------ the loop
def test_run_records_a_consistent_year(syn, syn_run):
    a = syn_run.arrays
    np.testing.assert_array_equal(a["demand"], syn.units.loc[syn.start:].to_numpy())
    np.testing.assert_array_equal(a["sales"] + a["lost"], a["demand"])
    np.testing.assert_allclose(a["total_cost"], a["holding_cost"] + a["shortage_cost"] + a["ordering_cost"]
                               + a["transport_cost"])
    closed = ~syn_run.open
    assert closed.any() and (a["ordered"][closed] == 0).all()  # no orders on closed days
    s = syn_run.summary()
    assert 0.5 < s["fill rate"] <= 1.0 and s["total cost"] > 0 and s["refits"] > 0
    assert isinstance(s, pd.Series) and s.name == syn_run.policy and s.dtype == float   # labelled numbers
    frame = syn_run.to_frame()
    assert len(frame) == len(syn_run.dates) * len(syn_run.nodes)
    assert frame["total_cost"].sum() == pytest.approx(s["total cost"])


def test_policies_and_plug_in(syn):
    plan = ops.scheduled_forecasts(syn, "4-weekly")
    ss = ops.run_twin(syn, plan, "(s, S)")
    bs = ops.run_twin(syn, plan, "base-stock")
    # (s, S) orders less often than base-stock
    assert (ss.arrays["ordered"] > 0).sum() < (bs.arrays["ordered"] > 0).sum()
    tr = ops.run_twin(syn, plan, "base-stock + transfers")
    assert tr.arrays["shipped_out"].sum() >= 0

    from mas_lib.decide.policies import DoNothing

    none = ops.run_twin(syn, plan, lambda config, plan, open_days: DoNothing(config))
    assert none.arrays["ordered"].sum() == 0 and none.summary()["fill rate"] < bs.summary()["fill rate"]
    with pytest.raises(ConfigError, match="policy"):
        ops.run_twin(syn, plan, "magic")


def test_more_safety_gives_higher_fill_rate(syn):
    low = ops.scheduled_forecasts(syn, "weekly", service_level=0.6)
    high = ops.scheduled_forecasts(syn, "weekly", service_level=0.99)
    assert (high.safety >= low.safety).all()
    assert ops.run_twin(syn, high).summary()["fill rate"] > ops.run_twin(syn, low).summary()["fill rate"]


# ------------------------------------------------------------------ monitoring
def test_weekly_kpis_and_alerts(syn_run):
    k = ops.weekly_kpis(syn_run)
    assert set(ops.KPI_COLUMNS) <= set(k.columns)
    assert ((k["fill_rate"] >= 0) & (k["fill_rate"] <= 1)).all()
    assert ((k["cycle_service"] >= 0) & (k["cycle_service"] <= 1)).all()
    a = syn_run.arrays
    assert k["demand"].sum() == a["demand"].sum() and np.isclose(k["cost"].sum(), a["total_cost"].sum())
    # coarser groups add up
    kw = ops.weekly_kpis(syn_run, by=("week", "warehouse"))
    assert np.isclose(kw["cost"].sum(), k["cost"].sum()) and len(kw) * len(syn_run.products) == len(k)
    al = ops.alerts(k)
    assert set(al["rule"]) <= set(ops.ALERT_RULES["rule"])
    under = al[al["rule"] == "fill rate under target"]
    assert (under["value"] < 0.9).all()
    # a hand-made rule fires exactly where the KPI says so
    rule = pd.DataFrame([{"rule": "any loss", "kpi": "lost", "op": ">", "threshold": 0, "meaning": ""}])
    assert len(ops.alerts(k, rule)) == int(((k["lost"] > 0) & (k["demand"] > 0)).sum())
    with pytest.raises(ConfigError, match="by"):
        ops.weekly_kpis(syn_run, by=("warehouse",))


# ------------------------------------------------------------------ drift
@pytest.mark.parametrize("kind", ["tracking signal", "cusum", "page-hinkley"])
def test_detectors_find_a_known_change(kind):
    r = ops.detection_study(kind, n_series=100, shift=0.5, seed=1)
    assert r["delay"].notna().mean() >= 0.9 and r["delay"].median() <= 15


def test_cusum_and_page_hinkley_rarely_false_alarm():
    for kind in ("cusum", "page-hinkley"):
        r = ops.detection_study(kind, n_series=100, shift=0.0, seed=2)
        assert r["false_alarms"].mean() < 1.0
    # the classic cumulative tracking signal rings much more often on daily noise
    ts = ops.detection_study("tracking signal", n_series=100, shift=0.0, seed=2)
    assert ts["false_alarms"].mean() > 3.0


def test_detector_reset_and_mask():
    det = ops.PageHinkley(2, warmup=3)
    for _ in range(3):
        det.update([1.0, -1.0])
    alarm = det.update([100.0, 0.0], mask=[False, True])
    assert not alarm.any() and det.count[0] == 3
    with pytest.raises(ConfigError, match="detector"):
        ops.make_detector("magic", 2)


def test_drift_strategy_refits_on_alarms(syn):
    plan = ops.scheduled_forecasts(syn, "drift")
    assert (plan.refit[1:] == plan.alarms[1:]).all()
    assert plan.n_refits == syn.units.shape[1] + plan.alarms[1:].sum()


def test_compare_strategies_table(syn):
    table, runs = ops.compare_strategies(syn.subset(syn.products[:1]), peak=("2011-02-01", "2011-03-31"))
    assert list(table["strategy"]) == list(ops.STRATEGIES) and set(runs) == set(ops.STRATEGIES)
    assert {"cost", "fill rate", "MAE", "peak cost", "peak fill rate", "peak MAE", "fits"} <= set(table.columns)
    assert table.set_index("strategy").loc["weekly", "fits"] > table.set_index("strategy").loc["never", "fits"]


# ------------------------------------------------------------------ real data
def test_real_twin_products_checked(retail_path):
    with pytest.raises(ConfigError, match="POST"):
        ops.load_twin_data(["85123A", "POST"])
    with pytest.raises(ConfigError, match="99999"):
        ops.load_twin_data(["85123A", "99999"])
    with pytest.raises(ConfigError, match="products"):
        ops.load_twin_data([])
    d = ops.load_twin_data(["85123a"], end="2011-03-31")
    assert d.source == "real" and d.products == ["85123A"] and d.units.shape[1] == 4
    assert d.units.index.min() == pd.Timestamp("2010-12-01") and d.units.index.max() == pd.Timestamp("2011-03-31")
    # Saturdays are closed and have no demand
    sat = d.units.index.day_of_week == 5
    assert not d.open[sat].any() and (d.units[sat] == 0).all().all()


def test_real_twin_top_products(retail_path):
    """The default products are ranked on the sales before the twin's start (December 2010), not
    on the whole period, which would choose them with the future."""
    d = ops.load_twin_data(n_products=3)
    assert d.products == ["21212", "85123A", "22834"]  # the whole period would rank 84077, 85099B, 22197
    assert d.units.shape == (374, 12)
    # the UK hub carries most of the units
    uk = d.units[[c for c in d.units.columns if c.startswith("UK:")]].to_numpy().sum()
    assert uk / d.units.to_numpy().sum() > 0.7
