"""Tests of mas_lib.data.synthetic: reproducibility, validation and the ground truth it promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mas_lib.data.synthetic import (
    SyntheticDemandConfig,
    black_friday,
    generate_demand,
    holiday_calendar,
)

DATA_COLUMNS = ["date", "market", "stock_code", "units", "open"]
TRUTH_COLUMNS = ["true_mean", "promo", "holiday", "price", "is_outlier", "is_missing"]

# a config with every nuisance switched off, so single effects can be checked exactly
PLAIN = dict(
    dispersion=0.0, yearly_amplitude=0.0, trend_per_year=0.0, promo_rate=0.0,
    black_friday_lift=1.0, singles_day_lift=1.0, christmas_lift=1.0,
    missing_rate=0.0, outlier_rate=0.0, closed_weekdays=(), christmas_break=False,
)


def test_same_seed_same_frame_and_rng_equivalent():
    a = generate_demand(seed=7, n_days=60, n_products=3)
    b = generate_demand(seed=7, n_days=60, n_products=3)
    c = generate_demand(rng=np.random.default_rng(7), n_days=60, n_products=3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    d = generate_demand(seed=8, n_days=60, n_products=3)
    assert not a["units"].equals(d["units"])


def test_columns_shape_and_types():
    df = generate_demand(seed=1, n_days=30, n_products=4, markets=("domestic", "overseas"))
    assert list(df.columns[:5]) == DATA_COLUMNS
    assert set(TRUTH_COLUMNS) <= set(df.columns)
    assert len(df) == 30 * 4 * 2
    assert df["date"].dtype.kind == "M"
    assert df["open"].dtype == bool
    u = df["units"].dropna()
    assert (u >= 0).all() and np.array_equal(u, np.round(u))
    assert df["units"].isna().equals(df["is_missing"])
    assert set(df["holiday"]) <= {"none", "black_friday", "singles_day", "christmas"}


def test_closed_days_sell_nothing():
    df = generate_demand(seed=2, start="2010-12-01", n_days=60, n_products=2)
    closed = df[~df["open"]]
    assert (closed["date"].dt.day_of_week == 5).any()  # Saturdays
    assert closed["date"].isin(pd.to_datetime(["2010-12-25", "2011-01-01"])).any()
    assert (closed["units"].fillna(0) == 0).all() and (closed["true_mean"] == 0).all()
    opened = df[df["open"]]
    assert (opened["date"].dt.day_of_week != 5).all()
    assert not opened["date"].isin(pd.to_datetime(["2010-12-24", "2011-01-03"])).any()


@pytest.mark.parametrize(
    "field, value",
    [
        ("base_level", 0.0), ("base_level", -1.0), ("dispersion", -0.1),
        ("yearly_amplitude", 1.0), ("trend_per_year", -1.0), ("promo_rate", 1.0),
        ("missing_rate", -0.01), ("outlier_rate", 1.5), ("zero_prob", float("nan")),
        ("promo_length", 0), ("promo_length", 2.5), ("weekly_profile", (1.0, 1.0)),
        ("weekly_profile", (1, 1, 1, 1, 1, 1, -1)), ("closed_weekdays", (7,)),
        ("closed_weekdays", tuple(range(7))), ("black_friday_lift", 0.0),
        ("market_scale", (("domestic", 0.0),)), ("yearly_peak_doy", 0),
        ("intermittent_zero_prob", 1.0),
    ],
)
def test_config_validation_names_field_and_value(field, value):
    with pytest.raises(ValueError) as err:
        SyntheticDemandConfig(**{field: value})
    msg = str(err.value)
    assert field in msg and "allowed" in msg


def test_generate_argument_errors():
    with pytest.raises(ValueError, match="n_days"):
        generate_demand(n_days=0)
    with pytest.raises(ValueError, match="n_products"):
        generate_demand(n_products=0)
    with pytest.raises(ValueError, match="market_scale"):
        generate_demand(markets=("mars",))
    with pytest.raises(TypeError, match="SyntheticDemandConfig"):
        generate_demand(config={"base_level": 3})


def test_missing_and_outlier_rates_near_chosen():
    cfg = SyntheticDemandConfig(missing_rate=0.05, outlier_rate=0.02)
    df = generate_demand(cfg, n_days=730, n_products=10, seed=3)
    assert abs(df["is_missing"].mean() - 0.05) < 0.008
    open_rate = df.loc[df["open"], "is_outlier"].mean()
    assert abs(open_rate - 0.02 * 0.95) < 0.006  # outliers on open days, minus the missing ones
    # an outlier is a bulk order: far above the expected demand
    out = df[df["is_outlier"]]
    assert (out["units"] > out["true_mean"]).mean() > 0.9


def test_weekly_pattern_recovered():
    profile = (1.0, 1.2, 1.4, 1.6, 0.8, 0.6, 0.4)
    cfg = SyntheticDemandConfig(weekly_profile=profile, **PLAIN)
    df = generate_demand(cfg, n_days=700, n_products=5, markets=("domestic",), seed=4)
    by_dow = df.groupby(df["date"].dt.day_of_week)["units"].mean()
    expected = np.asarray(profile) / np.mean(profile)
    np.testing.assert_allclose(by_dow / by_dow.mean(), expected, rtol=0.06)


def test_true_mean_is_the_expectation():
    cfg = SyntheticDemandConfig(zero_prob=0.3, dispersion=0.5, **{
        k: v for k, v in PLAIN.items() if k != "dispersion"})
    df = generate_demand(cfg, n_days=1000, n_products=4, markets=("domestic",), seed=5)
    ratio = df["units"].sum() / df["true_mean"].sum()
    assert abs(ratio - 1) < 0.04
    assert abs((df["units"] == 0).mean() - 0.3) < 0.03


def test_intermittent_products_are_sparse():
    cfg = SyntheticDemandConfig(intermittent_fraction=0.5, intermittent_zero_prob=0.8, **PLAIN)
    df = generate_demand(cfg, n_days=400, n_products=20, markets=("domestic",), seed=6)
    zero_share = df.groupby("stock_code")["units"].apply(lambda u: (u == 0).mean())
    assert (zero_share > 0.7).sum() >= 4 and (zero_share < 0.1).sum() >= 4


def test_holidays_and_promotions():
    assert black_friday(2011) == pd.Timestamp("2011-11-25")
    assert black_friday(2010) == pd.Timestamp("2010-11-26")
    hol = holiday_calendar(pd.date_range("2011-11-10", "2011-12-24"))
    assert hol["2011-11-11"] == "singles_day" and hol["2011-11-28"] == "black_friday"
    assert hol["2011-12-05"] == "christmas" and hol["2011-12-24"] == "none"
    flat = {k: v for k, v in PLAIN.items() if k != "singles_day_lift"}
    cfg = SyntheticDemandConfig(singles_day_lift=3.0, weekly_profile=(1,) * 7, **flat)
    df = generate_demand(cfg, start="2011-11-01", n_days=20, n_products=2, seed=7)
    tm = df.set_index(["date", "market", "stock_code"])["true_mean"]
    lift = tm.xs(pd.Timestamp("2011-11-11")) / tm.xs(pd.Timestamp("2011-11-09"))
    np.testing.assert_allclose(lift.xs("overseas"), 3.0)  # 11.11 is a cross-border peak
    np.testing.assert_allclose(lift.xs("domestic"), 1.0)

    promo_cfg = SyntheticDemandConfig(promo_rate=0.1, promo_lift=2.0, promo_discount=0.2)
    df = generate_demand(promo_cfg, n_days=200, n_products=3, markets=("domestic",), seed=8)
    assert df["promo"].any()
    base = df[~df["promo"]].groupby("stock_code")["price"].first()
    on = df[df["promo"]]
    np.testing.assert_allclose(on["price"], on["stock_code"].map(base) * 0.8)


def test_describe_lists_every_field():
    table = SyntheticDemandConfig().describe()
    assert {"base_level", "missing_rate", "weekly_profile"} <= set(table["field"])


@settings(max_examples=25, deadline=None)
@example(seed=0, dispersion=2.2e-311, zero_prob=0.0, n_days=1)  # once overflowed the gamma draw
@given(
    seed=st.integers(0, 10_000),
    dispersion=st.floats(0, 2),
    zero_prob=st.floats(0, 0.9),
    n_days=st.integers(1, 40),
)
def test_units_always_whole_and_nonnegative(seed, dispersion, zero_prob, n_days):
    cfg = SyntheticDemandConfig(dispersion=dispersion, zero_prob=zero_prob)
    df = generate_demand(cfg, n_days=n_days, n_products=2, seed=seed)
    u = df["units"].dropna().to_numpy()
    assert np.all(u >= 0) and np.array_equal(u, np.round(u))
    assert np.all(df["true_mean"] >= 0)
