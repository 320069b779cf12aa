"""Classical baselines, simulation summary and grid search (mas_lib.decide.policies)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mas_lib import EnvConfig, LinkConfig, MultiWarehouseEnv, PoissonDemand, WarehouseConfig
from mas_lib.decide import (
    BaseStock,
    Combined,
    DoNothing,
    FixedOrderQuantity,
    ForecastBaseStock,
    SsPolicy,
    TransferRule,
    grid_search,
    inventory_position,
    simulate,
    trajectory,
)
from mas_lib.sim.core import BatchCore


@pytest.fixture
def cfg():
    ws = tuple(
        WarehouseConfig(n, capacity=400, initial_inventory=i, lead_time=2, holding_cost=1.0, shortage_cost=10.0,
                        order_unit_cost=1.0)
        for n, i in (("A", 100), ("B", 150))
    )
    return EnvConfig(warehouses=ws, links=(LinkConfig("A", "B", unit_cost=0.5),), demand=PoissonDemand([80, 110]),
                     episode_length=40)


def test_base_stock_orders_up_to_level(cfg):
    core = BatchCore(cfg, 3)
    core.reset(seed=0)
    pol = BaseStock(cfg, level=[300, 350])
    for _ in range(10):
        q, x = pol.act(core.state())
        pos_before = inventory_position(core.state())
        assert (q == np.maximum(np.array([300, 350]) - pos_before, 0)).all()
        core.step(q, x)


def test_ss_orders_only_below_s(cfg):
    pol = SsPolicy(cfg, s=[100, 100], S=[300, 300])
    core = BatchCore(cfg, 1)
    core.reset(seed=0)
    q, _ = pol.act(core.state())
    assert q[0, 0] == 200 and q[0, 1] == 0  # A at 100 <= s; B at 150 > s
    with pytest.raises(ValueError, match="S >= s"):
        SsPolicy(cfg, s=10, S=5)


def test_fixed_order_every_k_days(cfg):
    pol = FixedOrderQuantity(cfg, quantity=50, every=3)
    core = BatchCore(cfg, 1)
    core.reset(seed=0)
    seen = []
    while not core.done and core.t < 7:
        q, x = pol.act(core.state())
        seen.append(int(q[0, 0]))
        core.step(q, x)
    assert seen == [50, 0, 0, 50, 0, 0, 50]


def test_round_to_and_max_order(cfg):
    pol = BaseStock(cfg, level=10_000, round_to=25)
    core = BatchCore(cfg, 1)
    core.reset(seed=0)
    q, _ = pol.act(core.state())
    assert (q % 25 == 0).all() and (q <= 400).all()


def test_transfer_rule_moves_surplus_to_need(cfg):
    core = BatchCore(cfg, 1)
    core.reset(seed=0)
    core.on_hand[:] = [[0, 300]]
    x = TransferRule(cfg, cover=1.0, keep=1.0).transfers(core.state())
    # A needs ~80 (forecast), B has 300 - 110 = 190 surplus
    assert x[0, 1, 0] == 80 and x[0, 0, 1] == 0


def test_policies_are_feasible_in_env(cfg):
    pol = Combined(ForecastBaseStock(cfg, safety=30), TransferRule(cfg))
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=3)
    while env.agents:
        env.step(pol.env_actions(env))  # raises if anything is infeasible


def test_simulate_is_reproducible_and_ranks_policies(cfg):
    a = simulate(cfg, ForecastBaseStock(cfg, safety=30), episodes=32, seed=1)
    b = simulate(cfg, ForecastBaseStock(cfg, safety=30), episodes=32, seed=1)
    assert a == b
    nothing = simulate(cfg, DoNothing(cfg), episodes=32, seed=1)
    assert a.daily_cost < nothing.daily_cost and a.fill_rate > 0.9 > nothing.fill_rate
    assert a.daily_cost == pytest.approx(a.holding_cost + a.shortage_cost + a.ordering_cost + a.transport_cost)


def test_trajectory_frame(cfg):
    df = trajectory(cfg, ForecastBaseStock(cfg, safety=30), seed=0)
    assert len(df) == 2 * cfg.episode_length
    assert (df["demand"] == df["sales"] + df["lost"]).all()


def test_grid_search_finds_best(cfg):
    res = grid_search(lambda safety: ForecastBaseStock(cfg, safety=safety), {"safety": [0, 30, 400]},
                      lambda p: simulate(cfg, p, episodes=16, seed=0).daily_cost)
    assert res.table["safety"].iloc[0] in (0, 30)
    assert isinstance(res.best, ForecastBaseStock)
    assert res.best.safety[0] == res.table["safety"].iloc[0]
    assert res.best_score == res.table["score"].min()


def test_a_nan_order_target_is_an_error_not_zero(cfg):
    """A forecast that is not a number (NaN) gave an order of -2**63 units, which the clip trim turned
    into 0; the policy now says which warehouse's order is not a number."""
    core = BatchCore(cfg, 2)
    core.reset(seed=0)
    s = core.state()
    bad = s.forecast.copy()
    bad[1, :, 1] = np.nan
    state = dataclasses.replace(s, forecast=bad)
    with pytest.raises(ValueError, match=r"ForecastBaseStock: replenish of warehouse 'B' \(copy 1\) = nan is not allowed"):
        ForecastBaseStock(cfg, safety=10).act(state)
    q, _ = BaseStock(cfg, level=1e30).act(core.state())  # a huge target is the largest order: max_order
    assert q.tolist() == [[400, 400], [400, 400]]


def test_a_nan_forecast_is_an_error_for_the_transfer_rule(cfg):
    """With a NaN forecast every comparison was False, so the rule silently shipped nothing."""
    core = BatchCore(cfg, 1)
    core.reset(seed=0)
    core.on_hand[:] = [[0, 300]]
    s = core.state()
    bad = s.forecast.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"TransferRule: forecast of warehouse 'A' \(copy 0\) = nan is not allowed"):
        TransferRule(cfg).transfers(dataclasses.replace(s, forecast=bad))
    assert TransferRule(cfg).transfers(s)[0, 1, 0] == 80  # the same state with its forecast: B ships to A
