"""The paper's reward terms, the cost reward, and the demand processes' validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mas_lib import (
    BatchCore,
    DiscreteIIDDemand,
    EnvConfig,
    ForecastPlusNoise,
    PoissonDemand,
    RecordedDemand,
    RewardConfig,
    WarehouseConfig,
)
from mas_lib.sim.rewards import cost_reward, paper_reward, paper_reward_terms


def test_paper_reward_terms_by_hand():
    # A served 80 of 80, closed at 40 after 100 yesterday (h = 1), paid 25 transport
    terms = paper_reward_terms(served_today=[80, 30], demand=[80, 0], holding_cost_rate=[1.0, 2.0],
                               previous_end_inventory=[100, 10], end_inventory=[40, 10], transport_cost=[25, 0])
    np.testing.assert_allclose(terms["satisfaction"], [1.0, 1.0])  # no demand counts as satisfied
    np.testing.assert_allclose(terms["inventory_cost_reduction"], [60.0, 0.0])
    np.testing.assert_allclose(terms["transport_cost"], [25.0, 0.0])
    r = paper_reward(terms, c1=1.0, c2=0.5, c3=0.2)
    np.testing.assert_allclose(r, [1.0 + 30.0 - 5.0, 1.0])
    np.testing.assert_allclose(paper_reward(terms, 2.0, 0.0, 1.0), [2.0 - 25.0, 2.0])
    np.testing.assert_allclose(cost_reward([3.0, -1.0]), [-3.0, 1.0])


def test_core_rewards_follow_the_config():
    ws = (WarehouseConfig("A", capacity=200, initial_inventory=100, holding_cost=1.0, shortage_cost=10.0),)
    demand = ForecastPlusNoise([[60.0]])
    paper = EnvConfig(warehouses=ws, demand=demand, episode_length=3,
                      reward=RewardConfig(kind="paper", c1=2.0, c2=0.5, c3=0.2))
    core = BatchCore(paper)
    core.reset(seed=0)
    r = core.step(np.array([[0]]), np.zeros((1, 1, 1), dtype=int))
    # served 60/60 -> satisfaction 1; stock 100 -> 40: reduction 60; no transport
    assert r.reward[0, 0] == pytest.approx(2.0 * 1.0 + 0.5 * 60.0)
    assert r.fill_rate[0, 0] == r.satisfaction[0, 0] == 1.0
    cost = EnvConfig(warehouses=ws, demand=demand, episode_length=3)
    core = BatchCore(cost)
    core.reset(seed=0)
    r = core.step(np.array([[0]]), np.zeros((1, 1, 1), dtype=int))
    assert r.reward[0, 0] == -r.total_cost[0, 0] == -40.0  # 40 units held overnight at 1/unit-day


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: PoissonDemand([80, -1]), r"PoissonDemand.mean = .* is not allowed; allowed: finite numbers >= 0"),
        (lambda: PoissonDemand([[[1.0]]]), "PoissonDemand.mean must be a vector"),
        (lambda: ForecastPlusNoise([80, 90], noise_sd=[-1, 2]), r"noise_sd = \[-1, 2\] is not allowed"),
        (lambda: ForecastPlusNoise([80, 90], noise_sd=[1, 2, 3]), r"noise_sd = \[1, 2, 3\] is not allowed"),
        (lambda: DiscreteIIDDemand([[0, 10]], [[0.5, 0.6]]), "sum to 1"),
        (lambda: DiscreteIIDDemand([[0, -10]], [[0.5, 0.5]]), "whole numbers of units >= 0"),
        (lambda: RecordedDemand(pd.DataFrame({"A": [1.0]})), ">= 2 rows"),
        (lambda: RecordedDemand(pd.DataFrame({"A": [1.0, -2.0]})), ">= 0 units/day"),
    ],
)
def test_demand_validation_names_the_field(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_sample_episode_checks_its_arguments():
    d = PoissonDemand([5.0])
    with pytest.raises(ValueError, match=r"n_days = 0 is not allowed"):
        d.sample_episode(np.random.default_rng(0), 0, 2)
    with pytest.raises(ValueError, match=r"forecast horizon = 1.5 is not allowed"):
        d.sample_episode(np.random.default_rng(0), 3, 1.5)


@pytest.mark.parametrize(
    "process",
    [
        PoissonDemand([[5.0, 9.5], [7.0, 0.0], [12.0, 3.0]]),  # a repeating pattern
        ForecastPlusNoise([[80, 120], [90, 100]], noise_sd=[7.0, 0.0]),
        DiscreteIIDDemand([[0, 3, 8], [1, 2]], [[0.2, 0.5, 0.3], [0.6, 0.4]]),
        RecordedDemand(pd.DataFrame({"A": np.arange(40.0), "B": np.arange(40.0) % 7}), random_start=True),
    ],
)
def test_sample_batch_is_sample_episode_per_copy(process):
    """Every copy of a batch draw is, number for number, the episode its own generator gives alone."""
    seeds = [np.random.SeedSequence(3, spawn_key=(b,)) for b in range(5)]
    demand, forecast = process.sample_batch([np.random.default_rng(s) for s in seeds], 11, 3)
    assert demand.shape == (5, 11, 2) and demand.dtype == np.int64
    assert forecast.shape == (5, 11, 3, 2) and forecast.dtype == np.float64
    assert demand.flags.writeable and forecast.flags.writeable and forecast.flags.c_contiguous
    for b, s in enumerate(seeds):
        d1, f1 = process.sample_episode(np.random.default_rng(s), 11, 3)
        assert demand[b].tobytes() == np.asarray(d1, dtype=np.int64).tobytes()
        assert forecast[b].tobytes() == np.asarray(f1, dtype=np.float64).tobytes()
    assert not np.array_equal(demand[0], demand[1]) or isinstance(process, RecordedDemand)
    with pytest.raises(ValueError, match=r"n_days = 0 is not allowed"):
        process.sample_batch([np.random.default_rng(0)], 0, 2)
