"""Tests of the twin's product choice (mas_lib.ops.products) and the strategy tables on several
product sets (mas_lib.ops.strategy_sets) -- notebook 08, benchmarks/bench_system.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import ops
from mas_lib.validation import ConfigError


def _clean(rows):
    return pd.DataFrame(rows, columns=["date", "stock_code", "quantity"]).assign(
        date=lambda f: pd.to_datetime(f["date"]))


@pytest.fixture(scope="module")
def clean():
    """Ten products sold in December 2010 (P0 the most); two first sold in 2011 (NEW1 hugely)."""
    rows = [("2010-12-05", f"P{i}", 100 - 10 * i) for i in range(10)]
    rows += [("2011-02-01", "P9", 10_000), ("2011-03-01", "NEW1", 50_000), ("2011-04-01", "NEW2", 5),
             ("2010-12-06", "RET", -3), ("2011-01-05", "RET", 10)]  # RET: net returns before the start
    return _clean(rows)


def test_ranked_before_ignores_the_future(clean):
    r = ops.ranked_before(clean, "2011-01-01")
    assert r["stock_code"].tolist() == [f"P{i}" for i in range(10)]  # P9's 2011 sales do not lift it
    assert r["rank"].tolist() == list(range(1, 11)) and r["units"].iloc[0] == 100
    assert "NEW1" not in set(r["stock_code"]) and "RET" not in set(r["stock_code"])
    assert ops.products_by_rank(r, 3, 5) == ["P2", "P3", "P4"]


def test_new_products_are_their_own_case(clean):
    assert ops.new_products(clean, "2011-01-01") == ["NEW1", "RET", "NEW2"]
    assert ops.new_products(clean, "2011-01-01", n=1) == ["NEW1"]
    ranked = set(ops.ranked_before(clean, "2011-01-01")["stock_code"])
    assert ranked.isdisjoint(ops.new_products(clean, "2011-01-01"))


def test_ranks_out_of_range_name_the_value(clean):
    r = ops.ranked_before(clean, "2011-01-01")
    with pytest.raises(ConfigError, match=r"last = 11 .*not allowed"):
        ops.products_by_rank(r, 1, 11)
    with pytest.raises(ConfigError, match=r"first = 0 .*not allowed"):
        ops.products_by_rank(r, 0, 3)
    with pytest.raises(ConfigError, match=r"last = 2 .*not allowed"):
        ops.products_by_rank(r, 3, 2)
    with pytest.raises(ConfigError, match=r"product_set = 'top 5' is not allowed.*ranks 21-40"):
        ops.product_set("top 5", clean)
    with pytest.raises(ConfigError, match=r"last = 20 .*not allowed"):  # only 10 products ranked
        ops.product_set("top 1-20", clean)
    with pytest.raises(ConfigError, match=r"clean = .*not allowed"):
        ops.ranked_before(pd.DataFrame({"x": [1]}))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), units=st.lists(st.integers(1, 1000), min_size=20, max_size=60))
def test_random_set_is_seeded_and_drawn_from_products_sold_before(seed, units):
    rows = [("2010-12-10", f"C{i:03d}", u) for i, u in enumerate(units)] + [("2011-05-01", "LATE", 999)]
    clean = _clean(rows)
    a = ops.product_set("random 20", clean, seed=seed)
    assert a == ops.product_set("random 20", clean, seed=seed) == sorted(a)  # same seed, same set
    assert len(set(a)) == 20 and "LATE" not in a
    assert set(a) <= set(ops.ranked_before(clean)["stock_code"])
    assert a == ops.product_set("random 20", clean, seed=np.random.default_rng(seed))


def test_real_product_sets(retail_clean):
    sets = ops.product_sets(retail_clean)
    assert list(sets) == list(ops.PRODUCT_SETS) and all(len(v) == ops.SET_SIZE for v in sets.values())
    every = [p for v in list(sets.values())[:3] for p in v]
    assert len(set(every)) == 60  # the three ranked sets do not overlap
    # the two products of the whole-period top 20 first sold in 2011 are new products, in no set
    new = ops.new_products(retail_clean)
    assert {"23084", "23203"} <= set(new[:5])
    assert not {"23084", "23203"} & {p for v in sets.values() for p in v}
    assert sets["random 20"] == ops.product_sets(retail_clean)["random 20"]


def test_real_load_twin_data_product_set_and_bad_codes(retail_clean):
    d = ops.load_twin_data(product_set="ranks 21-40", end="2011-02-28")
    assert d.products == ops.product_set("ranks 21-40", retail_clean) and d.units.shape[1] == 80
    with pytest.raises(ConfigError, match=r"products = \['85123A'\] \(given more than once\)"):
        ops.load_twin_data(["85123A", "22834", "85123a"])
    with pytest.raises(ConfigError, match="product_set = 'top 1-20' is not allowed"):
        ops.load_twin_data(["85123A"], product_set="top 1-20")
    with pytest.raises(ConfigError, match="product_set = 'best' is not allowed"):
        ops.load_twin_data(product_set="best")
    with pytest.raises(ConfigError, match=r"n_products = 100000 .*not allowed.*sold before 2011-01-01"):
        ops.load_twin_data(n_products=100_000)


# ------------------------------------------------------------------ strategy tables
@pytest.fixture(scope="module")
def tables():
    sets = {"a": ops.synthetic_twin_data(n_products=3, seed=1, n_days=120),
            "b": ops.synthetic_twin_data(n_products=3, seed=2, n_days=120)}
    return sets, ops.strategy_tables(sets, policies=("(s, S)", "base-stock"), strategies=("never", "weekly"),
                                     n_boot=300)


def test_strategy_tables_per_set_with_intervals(tables):
    sets, res = tables
    t = res.to_frame()
    assert list(t["set"].unique()) == ["a", "b"] and len(t) == 2 * 2 * 2
    assert list(t.loc[t["set"] == "a", "policy"]) == ["(s, S)", "(s, S)", "base-stock", "base-stock"]
    assert {"cost", "fill rate", "holding", "MAE", "fits", "saving", "saving low", "saving high"} <= set(t.columns)
    base = t[t["strategy"] == "never"]
    assert (base[["saving", "saving low", "saving high"]] == 0).all().all()
    other = t[t["strategy"] == "weekly"]
    assert (other["saving low"] <= other["saving"]).all() and (other["saving"] <= other["saving high"]).all()
    assert (other["products"] == 3).all()
    # the saving is 1 - mean cost / mean cost of never, over the products of the set
    pp = res.per_product
    for (s, p), g in pp.groupby(["set", "policy"]):
        w = g.pivot(index="product", columns="strategy", values="cost")
        row = t[(t["set"] == s) & (t["policy"] == p) & (t["strategy"] == "weekly")].iloc[0]
        assert row["saving"] == pytest.approx(1 - w["weekly"].mean() / w["never"].mean())
        # the per-product costs add up to the set's cost
        assert w["weekly"].sum() == pytest.approx(row["cost"])
    cheap = res.cheapest()
    assert len(cheap) == 4 and set(cheap["cheapest"]) <= {"never", "weekly"}
    s = res.summary()
    assert s["a / (s, S)"] in {"never", "weekly"} and s["failed"] == 0 and s["source"] == "synthetic"


def test_strategy_tables_bad_input_and_a_failing_set(tables, monkeypatch):
    sets, _ = tables
    with pytest.raises(ConfigError, match="strategies = 'daily' is not allowed"):
        ops.strategy_tables(sets, strategies=("never", "daily"))
    with pytest.raises(ConfigError, match="baseline = 'weekly' is not allowed"):
        ops.strategy_tables(sets, strategies=("never",), baseline="weekly")
    with pytest.raises(ConfigError, match="policies = 'lucky' is not allowed"):
        ops.strategy_tables(sets, policies=("lucky",))
    with pytest.raises(ConfigError, match=r"sets\['x'\] = 'list' is not allowed"):
        ops.strategy_tables({"x": []})
    with pytest.raises(ConfigError, match="level = 1.5"):
        ops.strategy_tables(sets, level=1.5)
    real = ops.strategy_sets.scheduled_forecasts

    def flaky(data, strategy, **kw):
        if data is sets["b"] and strategy == "weekly":
            raise RuntimeError("fit failed")
        return real(data, strategy, **kw)

    monkeypatch.setattr(ops.strategy_sets, "scheduled_forecasts", flaky)
    res = ops.strategy_tables(sets, policies=("(s, S)",), strategies=("never", "weekly"), n_boot=100)
    assert res.failed == {("b", "weekly"): "RuntimeError: fit failed"}
    t = res.to_frame()
    assert len(t[t["set"] == "a"]) == 2 and t[t["set"] == "b"]["strategy"].tolist() == ["never"]
    assert res.summary()["failed"] == 1
