"""Tests of the exact planner (mas_lib.decide.planning) and the benchmark instances (mas_lib.decide.instances)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib.decide import (
    BaseStock,
    Combined,
    DoNothing,
    FixedOrderQuantity,
    ForecastBaseStock,
    SsPolicy,
    TransferRule,
    planning,
    simulate,
)
from mas_lib.decide.instances import INSTANCES, cross_border_instance, paper_instance
from mas_lib.decide.planning import (
    NotRepresentableError,
    SnapToGrid,
    UnsupportedConfigError,
    build_model,
    estimate_memory,
    evaluate_actions,
    evaluate_policy,
    expected_episode_cost,
    gap,
    model_for,
    policy_iteration,
    value_iteration,
)
from mas_lib.sim.config import EnvConfig, LinkConfig, WarehouseConfig
from mas_lib.sim.demand import DiscreteIIDDemand, PoissonDemand

#: The exact optimum [money/day, (1 - gamma) v*(s0)] printed in benchmarks/results/policies.csv
#: (525.9976 and 552.0032 there), at full precision.
OPTIMUM_DAILY_COST = {"paper": 525.9976238885414, "cross_border": 552.0032432090005}
#: How much worse the optimum is without the A <-> B link [% of the optimal discounted cost]
#: (policies.csv: 3.4655 and 4.1250) -- the value of transfers.
NO_TRANSFER_GAP_PCT = {"paper": 3.4655, "cross_border": 4.1250}


@pytest.fixture(scope="module")
def solved():
    out = {}
    for name, inst in INSTANCES.items():
        model = model_for(inst)
        out[name] = (inst, model, policy_iteration(model))
    return out


def test_instance_sizes_match_model(solved):
    for inst, model, _ in solved.values():
        assert model.n_states == inst.n_states == 546
        assert model.n_actions == inst.n_actions == 1936
        on_hand, _ = model.decode_states([model.start_state])
        assert on_hand[0].tolist() == [100, 150]


def test_no_transfer_variants_are_smaller():
    assert paper_instance(transfers=False).n_actions == 11 * 11
    assert cross_border_instance(transfers=False).config.links == ()


@pytest.mark.parametrize("name,levels", [("paper", (100, 140)), ("cross_border", (180, 240))])
def test_exact_value_matches_simulation(solved, name, levels):
    inst, model, _ = solved[name]
    pol = BaseStock(inst.config, levels, round_to=inst.round_to)
    exact = expected_episode_cost(model, pol)
    sim = simulate(inst.config, pol, episodes=300, seed=11)
    assert abs(exact - sim.daily_cost) <= sim.daily_cost_ci, (exact, sim.daily_cost, sim.daily_cost_ci)


def test_optimal_policy_replayed_in_simulator(solved):
    inst, model, opt = solved["cross_border"]
    pol = opt.policy_object()
    exact = expected_episode_cost(model, opt.policy)
    sim = simulate(inst.config, pol, episodes=300, seed=5)
    assert abs(exact - sim.daily_cost) <= sim.daily_cost_ci


def test_value_iteration_equals_policy_iteration(solved):
    for _, model, pi in solved.values():
        vi = value_iteration(model, tol=1e-6)
        np.testing.assert_allclose(vi.values, pi.values, atol=1e-5)
        assert vi.start_value == pytest.approx(pi.start_value, abs=1e-5)


def test_exact_evaluation_of_optimum_equals_optimal_values(solved):
    for _, model, opt in solved.values():
        pv = evaluate_policy(model, opt.policy_object())
        np.testing.assert_allclose(pv.values, opt.values, rtol=1e-10)
        assert gap(pv, opt) == pytest.approx(0.0, abs=1e-9)
        # Bellman optimality: no action improves on the optimal values anywhere
        W = model.continuation(opt.values)
        Q = model.cost_sa + model.gamma * W[model.z_sa]
        np.testing.assert_allclose(Q.min(axis=1), opt.values, rtol=1e-9)


def test_optimum_beats_every_baseline(solved):
    for inst, model, opt in solved.values():
        cfg, u = inst.config, inst.round_to
        baselines = [
            DoNothing(cfg),
            FixedOrderQuantity(cfg, (80, 100), round_to=u),
            SsPolicy(cfg, (60, 80), (160, 200), round_to=u),
            BaseStock(cfg, (120, 160), round_to=u),
            ForecastBaseStock(cfg, safety=(20, 20), round_to=u),
            SnapToGrid(Combined(BaseStock(cfg, (120, 160), round_to=u), TransferRule(cfg, round_to=u)), model),
        ]
        gaps = []
        for pol in baselines:
            pv = evaluate_policy(model, pol)
            assert np.all(pv.values >= opt.values - 1e-6), pol.name
            gaps.append(gap(pv, opt))
        assert min(gaps) >= 0
        assert all(g > 1.0 for g in gaps), gaps  # none of these hand-set rules is (nearly) optimal
        assert gaps[0] == max(gaps)  # doing nothing is the worst
        assert gap(evaluate_policy(model, opt.policy_object()), opt) == pytest.approx(0.0, abs=1e-12)


def test_newsvendor_fractile_single_warehouse():
    """One warehouse, lead time 0, no fixed cost: order up to the critical fractile
    F(S*) >= (p - c) / (p + h - gamma c) every day (lost sales, leftovers carried over)."""
    h, p, c, gamma, unit = 1.0, 10.0, 1.0, 0.9, 10
    demand = DiscreteIIDDemand.poisson([60.0], unit=unit)
    cfg = EnvConfig(
        warehouses=(WarehouseConfig("A", capacity=200, initial_inventory=0, holding_cost=h, shortage_cost=p,
                                    order_unit_cost=c, max_order=200),),
        demand=demand, order_grid=tuple(range(0, 201, unit)), transfer_grid=(0,),
    )
    model = build_model(cfg, unit, gamma)
    opt = policy_iteration(model)
    ratio = (p - c) / (p + h - gamma * c)
    cdf = np.cumsum(demand.pmf[0])
    s_star = int(demand.support[0][np.argmax(cdf >= ratio)])
    on_hand, _ = model.decode_states()
    q, _ = model.decode_actions(opt.policy)
    y = on_hand[:, 0] + q[:, 0]
    below = on_hand[:, 0] <= s_star
    assert np.all(y[below] == s_star)
    assert np.all(q[~below, 0] == 0)
    vi = value_iteration(model)
    assert np.array_equal(vi.policy, opt.policy)


def _single(shortage_cost=10.0, order_step=10):
    demand = DiscreteIIDDemand.poisson([60.0], unit=10)
    return EnvConfig(
        warehouses=(WarehouseConfig("A", capacity=200, initial_inventory=0, holding_cost=1.0,
                                    shortage_cost=shortage_cost, order_unit_cost=1.0, max_order=200),),
        demand=demand, order_grid=tuple(range(0, 201, order_step)), transfer_grid=(0,),
    )


def test_the_newsvendor_level_rises_with_the_lost_sale_penalty():
    """The level the optimum orders up to is the critical fractile's, for a low and a high penalty."""
    levels = []
    for p in (10.0, 40.0):
        cfg = _single(p)
        model = build_model(cfg, 10, 0.9)
        table = planning.policy_table(model, value_iteration(model).policy)
        ratio = (p - 1.0) / (p + 1.0 - 0.9)
        demand = cfg.demand
        s_star = int(demand.support[0][np.argmax(np.cumsum(demand.pmf[0]) >= ratio)])
        after = table["stock_A"] + table["order_A"]
        assert int(after[table["order_A"] > 0].max()) == s_star
        levels.append(s_star)
    assert levels[1] > levels[0]


def test_value_iteration_sweeps_follow_the_contraction_rate():
    """Value iteration contracts the error by gamma per sweep: from the largest optimal value to
    ``tol`` it needs about log(max |v| / tol) / log(1 / gamma) sweeps."""
    model = build_model(_single(), 10, 0.9)
    vi = value_iteration(model, tol=1e-6)
    expected = np.log(np.abs(vi.values).max() / 1e-6) / np.log(1 / model.gamma)
    assert abs(vi.iterations - expected) <= 0.05 * vi.iterations


def test_a_finer_action_grid_never_costs_more():
    """The coarse grid's actions are on the fine grid, so the fine optimum is no worse."""
    coarse = policy_iteration(build_model(_single(order_step=20), 10, 0.9))
    fine = policy_iteration(build_model(_single(order_step=10), 10, 0.9))
    assert fine.daily_cost <= coarse.daily_cost + 1e-9

def _small(lead=2, transfer_lead=1):
    demand = DiscreteIIDDemand.poisson([30.0, 40.0], unit=10)
    ws = tuple(
        WarehouseConfig(n, capacity=80, initial_inventory=40, holding_cost=1.0, shortage_cost=8.0,
                        order_fixed_cost=20.0, order_unit_cost=1.0, lead_time=lead, max_order=60)
        for n in ("A", "B")
    )
    return EnvConfig(
        warehouses=ws, demand=demand, links=(LinkConfig("A", "B", unit_cost=1.0, fixed_cost=5.0,
                                                        lead_time=transfer_lead),),
        order_grid=(0, 20, 40, 60), transfer_grid=(0, 20), episode_length=40,
    )


def test_pipeline_and_transfer_lead_one_match_simulation():
    cfg = _small(lead=2, transfer_lead=1)
    model = build_model(cfg, 10, 0.9)
    assert model.n_states == (9 * 4) ** 2
    pol = SnapToGrid(Combined(BaseStock(cfg, (80, 100), round_to=20),
                              TransferRule(cfg, cover=1.5, keep=1.0, round_to=20)), model)
    exact = expected_episode_cost(model, pol)
    sim = simulate(cfg, pol, episodes=400, seed=3)
    assert abs(exact - sim.daily_cost) <= sim.daily_cost_ci
    opt = policy_iteration(model)
    assert opt.start_value <= evaluate_policy(model, pol).start_value
    sim_opt = simulate(cfg, opt.policy_object(), episodes=400, seed=4)
    assert abs(expected_episode_cost(model, opt.policy) - sim_opt.daily_cost) <= sim_opt.daily_cost_ci


def test_long_run_average_cost_close_to_long_simulation(solved):
    inst, model, _ = solved["paper"]
    pol = BaseStock(inst.config, (100, 140), round_to=inst.round_to)
    pv = evaluate_policy(model, pol)
    sim = simulate(inst.config.replace(episode_length=400), pol, episodes=100, seed=2, warmup=50)
    assert abs(pv.average_cost - sim.daily_cost) <= 2 * sim.daily_cost_ci


def test_unsupported_configs_raise_clear_errors():
    cfg = paper_instance().config
    with pytest.raises(UnsupportedConfigError, match="lost sales"):
        build_model(cfg.replace(backorders=True), 10, 0.95)
    with pytest.raises(UnsupportedConfigError, match="DiscreteIIDDemand"):
        build_model(cfg.replace(demand=PoissonDemand([85.0, 110.0])), 10, 0.95)
    with pytest.raises(UnsupportedConfigError, match="multiple of unit"):
        build_model(cfg, 20, 0.95)  # B starts with 150 units
    with pytest.raises(UnsupportedConfigError, match="transfer lead"):
        build_model(_small(transfer_lead=2), 10, 0.9)
    with pytest.raises(UnsupportedConfigError, match=r"build_model\.gamma = 1\.0 is not allowed; allowed: a finite number in \(0, 1\)"):
        build_model(cfg, 10, 1.0)
    with pytest.raises(UnsupportedConfigError, match=r"build_model\.unit = 0 is not allowed"):
        build_model(cfg, 0, 0.95)
    with pytest.raises(UnsupportedConfigError, match=r"build_model\.unit = 2\.5 is not allowed"):
        build_model(cfg, 2.5, 0.95)


def test_bad_arguments_name_the_field(solved):
    _, model, opt = solved["paper"]
    with pytest.raises(ValueError, match=r"value_iteration\.tol = 0\.0 is not allowed"):
        value_iteration(model, tol=0.0)
    with pytest.raises(ValueError, match=r"policy_iteration\.max_iter = 0 is not allowed"):
        policy_iteration(model, max_iter=0)
    with pytest.raises(ValueError, match=r"expected_episode_cost\.days = 0 is not allowed"):
        expected_episode_cost(model, opt.policy, days=0)
    with pytest.raises(ValueError, match=r"gap\.optimum_value = 0\.0 is not allowed"):
        gap(1.0, 0.0)
    with pytest.raises(ValueError, match=r"build_model\.max_memory_gib = -1 is not allowed"):
        build_model(paper_instance().config, 10, 0.95, max_memory_gib=-1)


def test_evaluate_actions_checks_the_table(solved):
    _, model, opt = solved["paper"]
    assert evaluate_actions(model, opt.policy).start_value == pytest.approx(opt.start_value, rel=1e-12)
    with pytest.raises(ValueError, match=r"evaluate_actions\.actions shape = \(545,\) is not allowed; allowed: \(546,\)"):
        evaluate_actions(model, opt.policy[:-1])
    with pytest.raises(ValueError, match=r"shape = \(546, 2\) is not allowed; allowed: \(546,\)"):
        evaluate_actions(model, np.stack([opt.policy, opt.policy], axis=1))
    bad = opt.policy.copy()
    bad[7] = model.n_actions
    with pytest.raises(ValueError, match=r"actions\[7\] = 1936 is not allowed; allowed: a joint action index from 0 to 1935"):
        evaluate_actions(model, bad)
    with pytest.raises(ValueError, match=r"expected_episode_cost\.policy shape = \(10,\)"):
        expected_episode_cost(model, opt.policy[:10])


def test_memory_guard_refuses_before_allocating():
    """A 5-unit grid on the paper instance has 2,091 x 284,089 = 594 M state-action pairs; it
    used to die with a numpy MemoryError after starting. Now it is refused up front."""
    import tracemalloc

    cfg = paper_instance().config
    grids = dict(order_grid=tuple(range(0, 201, 5)), transfer_grid=tuple(range(0, 61, 5)))
    size = estimate_memory(cfg, 5, **grids)
    assert (size.n_states, size.n_actions) == (41 * 51, (41 * 13) ** 2)
    assert size.pairs == 594_030_099
    assert size.gib > 16.0  # at least the two stored arrays and a sweep's temporaries (32 bytes/pair)
    tracemalloc.start()
    try:
        with pytest.raises(UnsupportedConfigError, match=r"about 17\.7 GiB \(2,091 states x 284,089 actions = "
                           r"594,030,099 state-action pairs\); allowed: max_memory_gib = 4 GiB"):
            build_model(cfg, 5, 0.95, **grids)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, peak  # nothing of the size of the model was allocated
    # the limit is a keyword: the small instances fit in the default and fail under a tiny one
    small = estimate_memory(cfg, 10)
    assert small.pairs == 546 * 1936 and small.gib < 0.5
    with pytest.raises(UnsupportedConfigError, match="max_memory_gib = 0.01 GiB"):
        build_model(cfg, 10, 0.95, max_memory_gib=0.01)


@pytest.mark.parametrize("name", ["paper", "cross_border"])
def test_headline_optimum(solved, name):
    """The exact optimum the notebooks and benchmarks report."""
    inst, model, opt = solved[name]
    assert opt.daily_cost == pytest.approx(OPTIMUM_DAILY_COST[name], rel=1e-6)
    assert round(opt.daily_cost, 1) == {"paper": 526.0, "cross_border": 552.0}[name]
    assert opt.daily_cost == pytest.approx((1 - inst.gamma) * opt.start_value, rel=1e-12)


@pytest.mark.parametrize("name", ["paper", "cross_border"])
def test_value_of_transfers(solved, name):
    """Without the A <-> B link the optimum costs 3.47% (paper) / 4.12% (cross_border) more."""
    _, _, opt = solved[name]
    factory = {"paper": paper_instance, "cross_border": cross_border_instance}[name]
    small = model_for(factory(transfers=False))
    assert small.n_actions == 11 * 11 and small.n_states == 546
    alone = policy_iteration(small)
    assert alone.daily_cost > opt.daily_cost
    assert gap(alone, opt) == pytest.approx(NO_TRANSFER_GAP_PCT[name], abs=0.01)
    assert gap(alone.start_value, opt.start_value) == gap(alone, opt)


def test_public_names_are_reexported():
    for name in planning.__all__:
        assert getattr(planning, name) is not None, name


def test_unrepresentable_policies_raise(solved):
    inst, model, _ = solved["paper"]
    cfg = inst.config
    with pytest.raises(NotRepresentableError, match="multiple"):
        evaluate_policy(model, BaseStock(cfg, (95, 140), round_to=1))
    with pytest.raises(NotRepresentableError, match="stationary"):
        evaluate_policy(model, FixedOrderQuantity(cfg, (80, 100), every=2, round_to=20))
    with pytest.raises(NotRepresentableError, match="grid"):
        evaluate_policy(model, BaseStock(cfg, (110, 150), round_to=10))
    # off-grid but representable quantities can still be evaluated on request
    pv = evaluate_policy(model, BaseStock(cfg, (110, 150), round_to=10), on_grid=False)
    assert np.isfinite(pv.start_value)


def test_tuned_baselines_never_beat_the_optimum(solved):
    from mas_lib.decide.planning import tune_baselines

    inst, model, opt = solved["cross_border"]
    tuned = tune_baselines(inst, model, opt, coarse=True)
    frame = tuned.table
    assert set(tuned.policies) == set(frame["policy"])
    assert {"fixed order quantity", "(s, S)", "base-stock", "forecast base-stock",
            "base-stock + transfer rule", "(s, S) + transfer rule"} == set(frame["policy"])
    assert (frame["gap_pct"] > 0).all()  # no classical rule reaches the optimum on this instance
    # the gap is the daily cost's excess over the optimum in percent
    np.testing.assert_allclose(frame["gap_pct"], 100 * (frame["daily_cost"] - opt.daily_cost) / opt.daily_cost,
                               rtol=1e-9)
    # (s, S) beats base-stock when orders carry a fixed cost
    gaps = frame.set_index("policy")["gap_pct"]
    assert gaps["(s, S)"] < gaps["base-stock"]


def _huge(capacity: int) -> EnvConfig:
    """The paper instance with ``capacity`` (and max_order) units per warehouse and no grids."""
    import dataclasses

    cfg = paper_instance().config
    ws = tuple(dataclasses.replace(w, capacity=capacity, max_order=capacity) for w in cfg.warehouses)
    return cfg.replace(warehouses=ws, order_grid=None, transfer_grid=None)


def test_memory_guard_estimates_from_grid_lengths_before_building_the_grids():
    """With unit 1 the default grids have ``capacity + 1`` levels: the guard used to build them
    (seconds and GiB at 1e7 units, a bare MemoryError at 3e7) and then report an int64-wrapped
    action count. Now the counts are exact Python integers and nothing is built before the refusal."""
    import tracemalloc

    cap = 2_000_000
    levels = cap + 1
    S, A = levels**2, (levels * levels) ** 2  # stock levels of A and B; (order x transfer levels) each
    size = estimate_memory(_huge(cap), 1)
    assert (size.n_states, size.n_actions, size.pairs) == (S, A, S * A)
    tracemalloc.start()
    try:
        with pytest.raises(UnsupportedConfigError, match=rf"\({S:,} states x {A:,} actions = {S * A:,} "
                           r"state-action pairs\); allowed: max_memory_gib = 4 GiB"):
            build_model(_huge(cap), 1, 0.95)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20, peak  # no grid of two million levels was built
    for cap in (10**7, 3 * 10**7, 10**12):  # the sizes that took 5.5 s / raised MemoryError, and beyond
        with pytest.raises(UnsupportedConfigError, match=rf"{(cap + 1) ** 2:,} states x {(cap + 1) ** 4:,} actions"):
            build_model(_huge(cap), 1, 0.95)


def test_joint_action_count_is_exact_beyond_int64():
    """65,536 order and transfer levels: 2**32 actions per warehouse, 2**64 joint actions (an
    int64 product gave 0, and the memory guard then divided by it)."""
    grid = tuple(range(0, 655_360, 10))
    cfg = paper_instance().config.replace(order_grid=grid, transfer_grid=grid)
    assert cfg.network.discrete_sizes == (2**32, 2**32)
    assert cfg.network.n_joint_actions == 2**64
    with pytest.raises(UnsupportedConfigError, match=r"18,446,744,073,709,551,616 actions"):
        build_model(cfg, 10, 0.95)
    big = paper_instance().config.replace(order_grid=grid, transfer_grid=(0, 10))
    assert big.network.n_joint_actions == (65_536 * 2) ** 2  # within int64: unchanged


@given(k=st.integers(1, 400), t=st.integers(1, 400), n=st.integers(1, 4))
@settings(max_examples=25, deadline=None)
def test_joint_action_count_is_the_product_of_the_warehouses_counts(k, t, n):
    """On a chain of ``n`` warehouses, ``n_joint_actions`` is the exact product of
    ``K * T**m_i`` (``m_i`` = warehouses ``i`` ships to), whatever its size."""
    import math

    ws = tuple(WarehouseConfig(f"W{i}", capacity=10 * max(k, t), initial_inventory=0) for i in range(n))
    links = tuple(LinkConfig(f"W{i}", f"W{i + 1}") for i in range(n - 1))
    cfg = EnvConfig(warehouses=ws, links=links, demand=PoissonDemand([1.0] * n),
                    order_grid=tuple(range(0, 10 * k, 10)), transfer_grid=tuple(range(0, 10 * t, 10)))
    want = math.prod(k * t ** len(cfg.network.neighbours[i]) for i in range(n))
    assert cfg.network.n_joint_actions == want and isinstance(cfg.network.n_joint_actions, int)


def test_values_and_solutions_follow_the_results_convention(solved):
    """PolicyValue and Solution have to_frame() (one row per state) and summary() (a labelled series)."""
    import pandas as pd

    _, model, sol = solved["paper"]
    frame = sol.to_frame()
    assert list(frame.columns) == ["state", "value", "action"] and len(frame) == model.n_states
    s = sol.summary()
    assert isinstance(s, pd.Series) and s.name == f"optimal ({sol.method})"
    assert s["daily_cost"] == sol.daily_cost and s["iterations"] == sol.iterations and s["states"] == model.n_states
    value = evaluate_policy(model, sol.policy_object())
    assert value.summary()["daily_cost"] == pytest.approx(sol.daily_cost) and "iterations" not in value.summary()
