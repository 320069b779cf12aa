"""Tests of the environment: API, order of events, errors, batch/per-step identity, conservation."""

from __future__ import annotations

import numpy as np
import pytest
from factories import two_warehouses
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import parallel_api_test

from mas_lib import (
    BatchCore,
    ConfigError,
    DiscreteIIDDemand,
    EnvConfig,
    ForecastPlusNoise,
    InTransit,
    InvalidActionError,
    LinkConfig,
    MultiWarehouseEnv,
    PoissonDemand,
    Request,
    RewardConfig,
    WarehouseConfig,
)

two_wh = two_warehouses


# ----------------------------------------------------------------- PettingZoo API
@pytest.mark.parametrize("lead,tlead,backorders", [(0, 0, False), (3, 1, False), (2, 0, True)])
def test_parallel_api(lead, tlead, backorders):
    env = MultiWarehouseEnv(two_wh(lead, tlead, backorders, invalid="clip"))
    parallel_api_test(env, num_cycles=60)


def test_discrete_grid_api():
    cfg = two_wh(invalid="clip", order_grid=(0, 50, 100), transfer_grid=(0, 20))
    env = MultiWarehouseEnv(cfg)
    assert env.action_space("A").n == 6
    parallel_api_test(env, num_cycles=40)
    env.reset(seed=0)
    # index = o * 2 + t: order 100, transfer 20 to B
    _, _, _, _, info = env.step({"A": 5, "B": 0})
    assert info["A"]["ordered"] == 100 and info["A"]["shipped_out"] == 20


def test_observation_labels_match_vector():
    env = MultiWarehouseEnv(two_wh(lead=3))
    obs, _ = env.reset(seed=1)
    for a in env.possible_agents:
        assert len(env.observation_labels(a)) == obs[a].shape[0]
        assert env.observation_space(a).contains(obs[a])


# ----------------------------------------------------------------- order of events
def test_same_day_replenishment_and_transfer_reach_today_demand():
    cfg = two_wh(demand=ForecastPlusNoise([[80, 120]]), reward=RewardConfig(kind="cost"))
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    # A: 100 + 20 ordered (same day) - 40 shipped to B -> 80, demand 80 -> 0 left.
    # B: 150 + 40 received -> 190, demand 120 -> 70 left.
    _, rew, _, _, info = env.step({"A": {"replenish": 20, "transfer": {"B": 40}}, "B": {"replenish": 0}})
    assert info["A"]["on_hand"] == 0 and info["A"]["lost"] == 0
    assert info["B"]["on_hand"] == 70
    # costs: A pays 5 + 2*20 ordering, 1 + 0.5*40 transport, 0 holding
    assert info["A"]["ordering_cost"] == pytest.approx(45.0)
    assert info["A"]["transport_cost"] == pytest.approx(21.0)
    assert rew["A"] == pytest.approx(-66.0)
    assert rew["B"] == pytest.approx(-70.0)


def test_lead_time_delays_arrival_exactly():
    cfg = two_wh(lead=2, demand=ForecastPlusNoise([[0, 0]]))
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    env.step({"A": {"replenish": 30}, "B": {"replenish": 0}})  # day 0 order
    assert env.core.on_hand[0, 0] == 100  # not yet
    env.step({"A": {"replenish": 0}, "B": {"replenish": 0}})  # day 1; at end, day-2 arrivals
    assert env.core.on_hand[0, 0] == 130  # arrives at the start of day 2, before decisions


def test_transfer_lead_time_and_overflow():
    cfg = two_wh(tlead=1, demand=ForecastPlusNoise([[0, 0]]))
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    env.step({"A": {"transfer": {"B": 100}}, "B": {}})
    assert env.core.on_hand[0].tolist() == [0, 250]
    _, _, _, _, info = env.step({"A": {}, "B": {"replenish": 100}})
    # B: 250 (incl. A's transfer, received this morning) + 100 same-day order -> 300 cap, 50 refused
    assert info["B"]["overflow"] == 50
    assert env.core.on_hand[0, 1] == 300
    assert env.core.conservation_gap()[0] == 0


def test_backorders_carry_unmet_demand():
    cfg = two_wh(backorders=True, demand=ForecastPlusNoise([[150, 0]]))
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    _, _, _, _, info = env.step({"A": {}, "B": {}})
    assert info["A"]["backlog"] == 50 and info["A"]["lost"] == 0
    assert info["A"]["shortage_cost"] == pytest.approx(500.0)
    _, _, _, _, info = env.step({"A": {"replenish": 200}, "B": {}})
    # 200 on hand serves backlog 50 first, then today's 150
    assert info["A"]["backlog"] == 0 and info["A"]["served"] == 150 and info["A"]["on_hand"] == 0


def test_initial_in_transit_arrives():
    cfg = two_wh(tlead=2, demand=ForecastPlusNoise([[0, 0]]), in_transit=(InTransit("B", "A", 40, days=1),))
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    env.step({"A": {}, "B": {}})
    assert env.core.on_hand[0, 0] == 140


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "action,match",
    [
        ({"A": {"replenish": -1}, "B": {}}, "replenish = -1"),
        ({"A": {"replenish": 10**6}, "B": {}}, "max_order"),
        ({"A": {"transfer": {"B": 101}}, "B": {}}, "only 100 units"),
        ({"A": {"transfer": {"C": 1}}, "B": {}}, "unknown warehouse 'C'"),
        ({"A": {"replenish": 2.5}, "B": {}}, "whole number"),
        ({"A": {}}, "no action for warehouse"),
        ({"A": {"ship": 3}, "B": {}}, "unknown action field"),
        ({"A": np.array([1, 2, 3]), "B": {}}, "must have 2 entries"),
    ],
)
def test_invalid_actions_raise_clear_errors(action, match):
    env = MultiWarehouseEnv(two_wh())
    env.reset(seed=0)
    before = env.core.on_hand.copy()
    with pytest.raises(InvalidActionError, match=match):
        env.step(action)
    assert (env.core.on_hand == before).all() and env.core.t == 0  # nothing lost


def test_clip_mode_trims_and_reports():
    env = MultiWarehouseEnv(two_wh(invalid="clip"))
    env.reset(seed=0)
    _, _, _, _, info = env.step({"A": {"transfer": {"B": 500}}, "B": {}})
    assert info["A"]["shipped_out"] == 100 and info["A"]["clipped"]


def test_no_link_transfer_raises():
    cfg = EnvConfig(
        warehouses=(WarehouseConfig("A", initial_inventory=10), WarehouseConfig("B"), WarehouseConfig("C")),
        links=(LinkConfig("A", "B", bidirectional=False),),
        demand=PoissonDemand([1, 1, 1]),
    )
    core = BatchCore(cfg)
    core.reset(seed=0)
    x = np.zeros((1, 3, 3), dtype=int)
    x[0, 0, 2] = 1
    with pytest.raises(InvalidActionError, match="no link A->C"):
        core.step(np.zeros((1, 3), dtype=int), x)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(capacity=0), r"capacity = 0 is not allowed; allowed: a whole number >= 1"),
        (dict(initial_inventory=500), "exceeds capacity"),
        (dict(holding_cost=-1), r"holding_cost = -1 is not allowed; allowed: a finite number >= 0"),
        (dict(lead_time=1.5), r"lead_time = 1.5 is not allowed; allowed: a whole number"),
        (dict(lead_time=1, initial_pipeline=(1, 2)), "initial_pipeline has 2 entries"),
    ],
)
def test_warehouse_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        WarehouseConfig("A", **kwargs)


def test_env_config_validation():
    w = (WarehouseConfig("A"), WarehouseConfig("B"))
    with pytest.raises(ConfigError, match="unknown warehouse 'Z'"):
        EnvConfig(warehouses=w, links=(LinkConfig("A", "Z"),), demand=PoissonDemand([1, 1]))
    with pytest.raises(ConfigError, match="serves 3 warehouses"):
        EnvConfig(warehouses=w, demand=PoissonDemand([1, 1, 1]))
    with pytest.raises(ConfigError, match="invalid_action"):
        EnvConfig(warehouses=w, demand=PoissonDemand([1, 1]), invalid_action="ignore")
    with pytest.raises(ConfigError, match="must start at 0"):
        EnvConfig(warehouses=w, demand=PoissonDemand([1, 1]), order_grid=(10, 20), transfer_grid=(0,))
    with pytest.raises(ConfigError, match="kind = 'profit' is not allowed"):
        RewardConfig(kind="profit")


# ----------------------------------------------------------------- batch == per-step
def test_batch_core_matches_per_step_api():
    cfg = two_wh(lead=2, tlead=1, invalid="clip", episode_length=25)
    B = 6
    rng = np.random.default_rng(7)
    q = rng.integers(0, 150, size=(cfg.episode_length, B, 2))
    xs = rng.integers(0, 80, size=(cfg.episode_length, B, 2))
    core = BatchCore(cfg, batch_size=B)
    core.reset(seed=100)
    batch_log = []
    for t in range(cfg.episode_length):
        x = np.zeros((B, 2, 2), dtype=int)
        x[:, 0, 1], x[:, 1, 0] = xs[t, :, 0], xs[t, :, 1]
        r = core.step(q[t], x)
        batch_log.append((r.on_hand.copy(), r.total_cost.copy(), r.reward.copy(), r.sales.copy()))
    for b in range(B):
        env = MultiWarehouseEnv(cfg)
        env.reset(seed=100, options={"copy": b})  # replay copy b of the batch
        for t in range(cfg.episode_length):
            acts = {"A": np.array([q[t, b, 0], xs[t, b, 0]]), "B": np.array([q[t, b, 1], xs[t, b, 1]])}
            _, rew, _, _, info = env.step(acts)
            on_hand, cost, reward, sales = batch_log[t]
            assert [info[a]["on_hand"] for a in "AB"] == on_hand[b].tolist()
            assert [info[a]["sales"] for a in "AB"] == sales[b].tolist()
            np.testing.assert_allclose([info[a]["total_cost"] for a in "AB"], cost[b])
            np.testing.assert_allclose([rew[a] for a in "AB"], reward[b])


def test_same_seed_same_episode():
    cfg = two_wh(demand=PoissonDemand([50, 60]))
    a, b = BatchCore(cfg, 3), BatchCore(cfg, 3)
    a.reset(seed=5)
    b.reset(seed=5)
    assert (a.demand == b.demand).all()
    b.reset(seed=6)
    assert not (a.demand == b.demand).all()


def test_shared_cost_reward_is_the_team_total():
    cfg = two_wh(reward=RewardConfig(kind="cost", shared=True))
    core = BatchCore(cfg, 2)
    core.reset(seed=0)
    r = core.step(np.zeros((2, 2), dtype=int), np.zeros((2, 2, 2), dtype=int))
    np.testing.assert_allclose(r.reward[:, 0], -r.total_cost.sum(1))
    np.testing.assert_allclose(r.reward[:, 0], r.reward[:, 1])


def test_shared_paper_reward_sums_the_paper_terms():
    """With kind="paper" every agent gets c1*satisfaction + c2*reduction - c3*transport, summed
    over the warehouses when shared (paper section 4.3)."""
    c1, c2, c3 = 2.0, 0.5, 0.2
    cfg = two_wh(reward=RewardConfig(kind="paper", c1=c1, c2=c2, c3=c3, shared=True),
                 demand=ForecastPlusNoise([[120, 100]]))
    core = BatchCore(cfg, 1)
    core.reset(seed=0)
    x = np.zeros((1, 2, 2), dtype=int)
    x[0, 1, 0] = 30  # B ships 30 to A: transport 1 + 0.5 * 30 = 16
    r = core.step(np.zeros((1, 2), dtype=int), x)
    # A: 100 + 30 = 130, demand 120 -> serves all, ends at 10 (reduction 1 * (100 - 10) = 90)
    # B: 150 - 30 = 120, demand 100 -> serves all, ends at 20 (reduction 1 * (150 - 20) = 130)
    a = c1 * 1.0 + c2 * 90.0 - c3 * 0.0
    b = c1 * 1.0 + c2 * 130.0 - c3 * 16.0
    np.testing.assert_allclose(r.reward[0], [a + b, a + b])
    np.testing.assert_allclose(r.inventory_cost_reduction[0], [90.0, 130.0])
    np.testing.assert_allclose(r.transport_cost[0], [0.0, 16.0])


# ----------------------------------------------------------------- conservation (hypothesis)
@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(2, 5),
    lead=st.lists(st.integers(0, 6), min_size=5, max_size=5),
    tlead=st.lists(st.integers(0, 3), min_size=5, max_size=5),
    extra_arcs=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.booleans()), max_size=4),
    cap=st.integers(20, 200),
    backorders=st.booleans(),
    seed=st.integers(0, 10_000),
    days=st.integers(1, 25),
)
def test_units_are_conserved(n, lead, tlead, extra_arcs, cap, backorders, seed, days):
    """2-5 warehouses, lead times 0-6, a chain plus random extra links (one-way or both ways, lead
    times 0-3), goods on the road and open requests at the start, random (clipped) actions."""
    rng = np.random.default_rng(seed)
    ws = tuple(
        WarehouseConfig(f"W{i}", capacity=cap, initial_inventory=int(rng.integers(0, cap + 1)), lead_time=lead[i],
                        initial_pipeline=tuple(int(v) for v in rng.integers(0, 30, size=lead[i])))
        for i in range(n)
    )
    pairs = {(i, i + 1): (tlead[i], True) for i in range(n - 1)}
    for a, b, both in extra_arcs:
        a, b = a % n, b % n
        if a != b and (a, b) not in pairs and (b, a) not in pairs:
            pairs[(a, b)] = (tlead[(a + b) % 5], both)
    links = tuple(LinkConfig(f"W{a}", f"W{b}", lead_time=lt, bidirectional=both) for (a, b), (lt, both) in pairs.items())
    on_road = tuple(InTransit(f"W{a}", f"W{b}", units=int(rng.integers(0, 20)), days=max(1, lt))
                    for (a, b), (lt, _) in pairs.items())
    asks = tuple(Request(f"W{b}", f"W{a}", units=int(rng.integers(0, 20))) for (a, b) in pairs)
    cfg = EnvConfig(warehouses=ws, links=links, demand=PoissonDemand(rng.uniform(0, 40, size=n)),
                    episode_length=days, backorders=backorders, invalid_action="clip", in_transit=on_road,
                    requests=asks)
    core = BatchCore(cfg, batch_size=4)
    core.reset(seed=seed)
    total_demand = np.zeros((4, n))
    total_sales = np.zeros((4, n))
    total_lost = np.zeros((4, n))
    while not core.done:
        q = rng.integers(0, cap + 1, size=(4, n))
        x = rng.integers(0, cap + 1, size=(4, n, n))  # clipped to links and stock by the env
        r = core.step(q, x)
        assert (core.on_hand >= 0).all() and (core.on_hand <= core.net.capacity).all()
        assert (core.conservation_gap() == 0).all()
        assert (r.shipped_out <= cap).all() and (core.requests >= 0).all()
        total_demand += r.demand
        total_sales += r.sales
        total_lost += r.lost
    # every unit of demand is sold, lost, or still waiting in the backlog
    np.testing.assert_array_equal(total_demand, total_sales + total_lost + core.backlog)


def test_discrete_iid_demand_poisson_discretisation():
    d = DiscreteIIDDemand.poisson([30.0, 50.0], unit=10)
    assert all((s % 10 == 0).all() for s in d.support)
    np.testing.assert_allclose(d.mean, [30, 50], atol=0.6)
    demand, fc = d.sample_episode(np.random.default_rng(0), 100, 2)
    assert demand.shape == (100, 2) and fc.shape == (100, 2, 2) and (demand % 10 == 0).all()


# ----------------------------------------------------------------- a policy cannot change the state
STATE_ARRAYS = ("on_hand", "backlog", "pipeline", "transit", "requests", "forecast")


@pytest.mark.parametrize("lead,tlead,backorders", [(0, 0, False), (3, 1, True)])
def test_policies_and_observations_cannot_change_the_env_state(lead, tlead, backorders):
    """``env.core.state()`` (what ``Policy.env_actions`` and the tabular trainer read) is read-only,
    right after a reset and after lean one-copy steps; an agent scribbling on its observation changes
    its own numbers only. The episode stays the batch core's, unit for unit."""
    from mas_lib.decide import BaseStock

    cfg = two_wh(lead, tlead, backorders, invalid="clip")
    env, ref = MultiWarehouseEnv(cfg), BatchCore(cfg, 1)
    pol = BaseStock(cfg, level=[150, 220])
    obs, _ = env.reset(seed=4)
    ref.reset(seed=4)
    while env.agents:
        state = env.core.state()
        for name in STATE_ARRAYS:
            with pytest.raises(ValueError, match="read-only"):
                getattr(state, name)[...] += 10
        for a in obs:
            obs[a] += 1000.0
        obs, _, _, _, info = env.step(pol.env_actions(env))
        res = ref.step(*pol.act(ref.state()))
        assert [info[a]["on_hand"] for a in env.possible_agents] == res.on_hand[0].tolist()
        np.testing.assert_array_equal(env.core.on_hand, ref.on_hand)
        np.testing.assert_array_equal(env.core.pipeline, ref.pipeline)
    assert env.core.conservation_gap().tolist() == [0]


def test_the_core_may_still_be_set_up_by_hand():
    """Only what is handed out is read-only: a test or a notebook that sets the core's stock directly
    (``core.on_hand[:] = ...``) still can, and the next state shows it."""
    core = BatchCore(two_wh(), 1)
    core.reset(seed=0)
    core.on_hand[:] = [[7, 9]]
    core.pipeline[0, 0, 0] = 3
    s = core.state()
    assert s.on_hand.tolist() == [[7, 9]] and s.pipeline[0, 0, 0] == 3 and not s.on_hand.flags.writeable


def test_batch_step_reads_a_pipeline_and_road_assigned_between_steps():
    """The batch step keeps the column views of the pipeline and the road while the core holds the
    same two arrays; arrays assigned in their place are read from the next day on (a step on a
    replaced array gives what a core that always held it gives)."""
    cfg = two_warehouses(3, 1, False, invalid="clip")
    a, b = BatchCore(cfg, 4), BatchCore(cfg, 4)
    q = np.full((4, 2), 20)
    x = np.zeros((4, 2, 2), dtype=np.int64)
    x[:, 0, 1] = 3
    a.reset(seed=2)
    a.step(q, x)  # (a's views of its first arrays are made here)
    b.reset(seed=2)
    b.step(q, x)
    for core in (a, b):
        pipe, road = core.pipeline.copy(), core.transit.copy()
        pipe[:, :, 0] += 7
        road[:, 1, 0] += 5
        core.pipeline, core.transit = pipe, road
    b._queues = None  # b makes its views afresh
    for _ in range(3):
        ra, rb = a.step(q, x), b.step(q, x)
        assert np.array_equal(ra.on_hand, rb.on_hand) and np.array_equal(ra.received_transfers, rb.received_transfers)
        assert np.array_equal(a.pipeline, b.pipeline) and np.array_equal(a.transit, b.transit)
