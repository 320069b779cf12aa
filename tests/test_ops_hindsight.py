"""The twin's hindsight limit (mas_lib.ops.hindsight): one bound per product network with the
capacities and starting stock run_twin uses, below every built-in policy; the gap tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import ops
from mas_lib.decide.planning.hindsight import HindsightOptions
from mas_lib.decide.policies import Policy
from mas_lib.validation import ConfigError


@pytest.fixture(scope="module")
def syn():
    return ops.synthetic_twin_data(n_products=2, seed=3, n_days=120)


@pytest.fixture(scope="module")
def syn_plan(syn):
    return ops.scheduled_forecasts(syn, "4-weekly")


@pytest.fixture(scope="module")
def syn_bounds(syn, syn_plan):
    return ops.twin_bounds(syn, syn_plan)


@pytest.fixture(scope="module")
def syn_runs(syn, syn_plan):
    return {p: ops.run_twin(syn, syn_plan, p) for p in ops.POLICIES}


def test_bounds_use_the_runs_network(syn, syn_plan, syn_bounds, syn_runs):
    config, frame, _, _ = ops.twin_config(syn, syn_plan)
    run = syn_runs["base-stock"]
    assert np.array_equal(syn_bounds.capacity, run.capacity) and np.array_equal(config.network.capacity, run.capacity)
    assert syn_bounds.days == len(run.dates) == len(frame)
    assert syn_bounds.products == syn.products and len(syn_bounds.bounds) == 2
    # a product's model sees that product's demand, whole units as the core replays it
    first = syn_bounds.bounds[0]
    assert first.names == [f"{w}:{syn.products[0]}" for w in syn.warehouses]
    P = len(syn.products)
    assert np.array_equal(first.demand, run.arrays["demand"][:, ::P])
    assert syn_bounds.plan_cost().to_numpy().sum() == pytest.approx(syn_bounds.total)
    assert syn_bounds.to_frame()["bound"].sum() == pytest.approx(syn_bounds.summary()["bound"])


def test_every_policy_pays_at_least_the_bound(syn_bounds, syn_runs):
    for name, run in syn_runs.items():
        net = ops.hindsight_gap(run, syn_bounds)
        assert list(net.index) == [*run.warehouses, "network"] and net.attrs["policy"] == name
        assert net.loc["network", "policy cost"] == pytest.approx(run.summary()["total cost"])
        assert net.loc["network", "policy cost"] >= net.loc["network", "bound"]
        assert net.loc["network", "gap %"] == pytest.approx(
            100 * (net.loc["network", "policy cost"] / syn_bounds.total - 1))
        assert net["policy cost"].iloc[:-1].sum() == pytest.approx(net.loc["network", "policy cost"])
        prod = ops.hindsight_gap(run, syn_bounds, by="product")
        assert (prod["policy cost"] >= prod["bound"] - 1e-6).all() and (prod["gap %"] >= 0).all()


def test_subset_and_mismatches_are_refused(syn, syn_plan, syn_runs):
    one = ops.twin_bounds(syn, syn_plan, products=[syn.products[1]])
    gap = ops.hindsight_gap(syn_runs["(s, S)"], one, by="product")
    assert list(gap.index) == [syn.products[1]]
    with pytest.raises(ConfigError, match=r"products = \['NOPE'\] is not allowed"):
        ops.twin_bounds(syn, syn_plan, products=["NOPE"])
    with pytest.raises(ConfigError, match="by = 'country' is not allowed"):
        ops.hindsight_gap(syn_runs["(s, S)"], one, by="country")
    other = ops.synthetic_twin_data(n_products=2, seed=4, n_days=100)
    other_bounds = ops.twin_bounds(other, ops.scheduled_forecasts(other, "never"))
    with pytest.raises(ConfigError, match="bounds"):
        ops.hindsight_gap(syn_runs["(s, S)"], other_bounds)


def test_milp_bound_with_a_time_limit_is_still_below(syn, syn_plan, syn_runs):
    short = ops.twin_bounds(syn, syn_plan, HindsightOptions(mode="milp", time_limit=2.0, mip_rel_gap=1e-3),
                            products=[syn.products[1]])
    b = short.bounds[0]
    # the limit is wall-clock: stopped (a dual bound, maybe no plan yet) or solved, the bound is below the plan
    assert np.isnan(b.cost) or b.bound <= b.cost + 1e-6
    assert b.exact == (b.bound == b.cost)
    lp = ops.twin_bounds(syn, syn_plan, products=[syn.products[1]]).bounds[0]
    assert b.bound >= lp.bound - 1e-6  # at least the relaxation of the same (tighter) model
    for run in syn_runs.values():
        assert ops.hindsight_gap(run, short, by="product")["gap %"].iloc[0] >= 0


def test_real_products_policies_above_the_bound(retail_path):
    # four real product networks keep the suite fast; the benchmark bounds the full sets
    data = ops.load_twin_data(n_products=4)
    plan = ops.scheduled_forecasts(data, "4-weekly")
    bounds = ops.twin_bounds(data, plan)
    assert len(bounds.bounds) == 4 and bounds.total > 0
    for name in ops.POLICIES:
        run = ops.run_twin(data, plan, name)
        gap = ops.hindsight_gap(run, bounds, by="product")
        assert (gap["policy cost"] >= gap["bound"] - 1e-6).all(), name


@pytest.fixture(scope="module")
def syn_plans(syn, syn_plan, syn_bounds):
    return ops.clairvoyant_plans(syn, syn_plan, syn_bounds)


class _Play(Policy):
    """Replays whole-network orders and transfers [units] through the twin's own loop."""

    def __init__(self, config, orders, transfers):
        super().__init__(config)
        self.orders, self.transfers = orders, transfers

    def act(self, state):
        return self.orders[state.t][None].astype(np.int64), self.transfers[state.t][None].astype(np.int64)


def test_clairvoyant_plan_is_real_and_above_the_bound(syn, syn_plan, syn_bounds, syn_plans):
    table = syn_plans.to_frame(syn_bounds)
    assert (table["bound"] <= table["plan cost"] + 1e-6).all()
    assert (table["slack %"] >= 0).all()
    assert all(src.startswith("rounded LP") or src == "MILP incumbent" for src in table["source"])
    assert syn_plans.total == pytest.approx(table["plan cost"].sum())
    # the plans' cost is the simulator's: replay every product's plan at once through run_twin
    T, W, P = syn_bounds.days, len(syn.warehouses), len(syn.products)
    q, x = np.zeros((T, W * P)), np.zeros((T, W * P, W * P))
    for k, p in enumerate(syn_plans.products):
        nodes = [w * P + syn.products.index(p) for w in range(W)]
        q[:, nodes] = syn_plans.ordered[k]
        x[:, nodes[0]:nodes[-1] + 1:P, nodes[0]:nodes[-1] + 1:P] = syn_plans.shipped[k]
    run = ops.run_twin(syn, syn_plan, lambda config, plan, open_days: _Play(config, q, x))
    cost = run.arrays["total_cost"].reshape(T, W, P)
    for k, p in enumerate(syn_plans.products):
        assert np.allclose(cost[:, :, syn.products.index(p)], syn_plans.cost[k])
    assert np.allclose(run.arrays["on_hand"].reshape(T, W, P)[:, :, 0], syn_plans.on_hand[0])


def test_milp_incumbent_is_kept_only_when_it_simulates_cheaper(syn, syn_plan, syn_bounds, syn_plans):
    both = ops.clairvoyant_plans(syn, syn_plan, syn_bounds, products=[syn.products[0]], milp_seconds=1.0)
    assert both.total <= syn_plans.cost[0].sum() + 1e-6  # never worse than the rounded LP candidates alone
    assert both.to_frame(syn_bounds)["slack %"].iloc[0] >= 0
    with pytest.raises(ConfigError, match="milp_seconds = -1"):
        ops.clairvoyant_plans(syn, syn_plan, syn_bounds, milp_seconds=-1)
    with pytest.raises(ConfigError, match=r"products = \['NOPE'\] is not allowed"):
        ops.clairvoyant_plans(syn, syn_plan, syn_bounds, products=["NOPE"])


def test_gap_to_the_plan_and_kpi_tables(syn_bounds, syn_plans, syn_runs):
    for run in syn_runs.values():
        gap = ops.hindsight_gap(run, syn_bounds, plans=syn_plans)
        net = gap.loc["network"]
        assert net["plan cost"] == pytest.approx(syn_plans.total) and net["plan cost"] >= net["bound"] - 1e-6
        assert net["gap to plan %"] == pytest.approx(100 * (net["policy cost"] / syn_plans.total - 1))
        assert net["gap to plan %"] <= net["gap %"]  # the plan is above the bound, so the gap to it is smaller
        # no bounds -> no hindsight entries; with them, the network row of hindsight_gap
        assert not any("gap" in k or "bound" in k for k in run.summary().index)
        s = run.summary(syn_bounds, syn_plans)
        assert s["gap to bound %"] == pytest.approx(net["gap %"]) and s["gap to plan %"] == pytest.approx(net["gap to plan %"])
        k = ops.warehouse_kpis(run)
        assert list(k.index) == [*run.warehouses, "network"] and "gap %" not in k.columns
        assert k.loc["network", "cost"] == pytest.approx(run.summary()["total cost"])
        kb = ops.warehouse_kpis(run, syn_bounds, syn_plans)
        assert np.allclose(kb["gap %"], gap["gap %"]) and np.allclose(kb["plan cost"], gap["plan cost"])
        # a warehouse's "bound" is the network bound split along the plan: the split adds up
        assert kb["bound"].iloc[:-1].sum() == pytest.approx(syn_bounds.total)
    with pytest.raises(ConfigError, match="plans"):
        ops.warehouse_kpis(run, plans=syn_plans)
    with pytest.raises(ConfigError, match="plans"):
        run.summary(plans=syn_plans)


def test_product_gap_to_plan(syn_bounds, syn_plans, syn_runs):
    gap = ops.hindsight_gap(syn_runs["(s, S)"], syn_bounds, by="product", plans=syn_plans)
    assert np.allclose(gap["plan cost"], [c.sum() for c in syn_plans.cost])
    assert (gap["plan cost"] >= gap["bound"] - 1e-6).all()


def test_merging_the_lp_orders_never_makes_the_plan_dearer(syn, syn_plan, syn_bounds, syn_plans):
    from mas_lib.ops.hindsight import _product_models, _simulate_plan

    _, models, _ = _product_models(syn, syn_plan, syn.products)
    for k, (cfg, _demand) in enumerate(models):
        b = syn_bounds.bounds[k]
        plain = _simulate_plan(cfg, b.ordered, b.shipped)["cost"].sum()  # the LP plan rounded, day by day
        assert syn_plans.cost[k].sum() <= plain + 1e-6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=30), st.integers(1, 10))
def test_merge_keeps_the_units_and_orders_at_most_once_per_block(values, days):
    from mas_lib.ops.hindsight import _merge

    a = np.array(values)
    m = _merge(a, days)
    assert m.sum() == pytest.approx(a.sum())
    assert all(np.count_nonzero(m[t:t + days]) <= 1 and m[t] == pytest.approx(a[t:t + days].sum())
               for t in range(0, len(a), days))
