"""Tests of the twin's guards against careless or hostile input (mas_lib.ops, notebook 08): the date
window must lie inside the data, a plan must belong to its data, alert rules never fire on a
missing KPI, the dashboard refuses runs over different days, and capacity is sized so that a
product without recent history is not starved (refused units are counted, never hidden)."""

from __future__ import annotations

import pandas as pd
import pytest

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
