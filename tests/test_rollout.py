"""The one rollout loop: its step stream, truncation, seeding, and the functions built on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import lead_one_pair

from mas_lib import (
    BatchCore,
    MultiWarehouseEnv,
)
from mas_lib.decide import (
    BaseStock,
    Combined,
    ForecastBaseStock,
    KPIAccumulator,
    SimulationSummary,
    TransferRule,
    compare,
    play,
    rollout,
    simulate,
    trajectory,
)


@pytest.fixture
def cfg():
    return lead_one_pair()


def test_stream_carries_states_actions_and_results(cfg):
    pol = BaseStock(cfg, level=[200, 250])
    steps = list(rollout(cfg, pol, copies=3, seed=4))
    assert len(steps) == cfg.episode_length
    assert [s.day for s in steps] == list(range(20)) and {s.episode for s in steps} == {0}
    assert [s.truncated for s in steps] == [False] * 19 + [True]
    for prev, nxt in zip(steps, steps[1:], strict=False):
        # the snapshot of tomorrow's state is what the policy saw the next morning
        np.testing.assert_array_equal(prev.next_state.on_hand, nxt.state.on_hand)
        np.testing.assert_array_equal(nxt.replenish, pol.act(nxt.state)[0])
    assert steps[0].result.total_cost.shape == (3, 2)


def test_snapshots_are_not_views(cfg):
    steps = list(rollout(cfg, BaseStock(cfg, level=[200, 250]), copies=2, seed=0))
    first = steps[0].state.on_hand.copy()
    assert np.array_equal(steps[0].state.on_hand, first)  # not overwritten by later days
    assert not np.array_equal(steps[0].state.on_hand, steps[-1].next_state.on_hand)


def test_multi_day_rollout_resets_with_episode_seeds(cfg):
    pol = BaseStock(cfg, level=[200, 250])
    steps = list(rollout(cfg, pol, copies=2, seed=7, days=45))
    assert len(steps) == 45
    assert [s.episode for s in steps][19:22] == [0, 1, 1]
    assert steps[19].truncated and steps[39].truncated and not steps[44].truncated
    # episode e resets with seed (7, e): replay episode 1 copy 1 through the env
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=7, options={"stream": (1,), "copy": 1})
    assert env.core.demand[0, 0].tolist() == steps[20].result.demand[1].tolist()


def test_rollout_accepts_a_callable_and_an_existing_core(cfg):
    core = BatchCore(cfg, batch_size=2)
    zeros = (np.zeros((2, 2), dtype=np.int64), np.zeros((2, 2, 2), dtype=np.int64))
    n = play(rollout(core, lambda state: zeros, seed=1))
    assert n == cfg.episode_length
    with pytest.raises(TypeError, match="policy must be a Policy or a callable"):
        next(rollout(cfg, "base-stock"))
    with pytest.raises(ValueError, match=r"rollout.days = 0 is not allowed"):
        next(rollout(cfg, BaseStock(cfg, level=100), days=0))


def test_simulate_is_the_kpi_listener_over_one_rollout(cfg):
    pol = ForecastBaseStock(cfg, safety=20)
    s = simulate(cfg, pol, episodes=16, seed=3, warmup=5)
    acc = KPIAccumulator(16, warmup=5)
    play(rollout(cfg, pol, copies=16, seed=3), acc)
    assert s == acc.summary(s.policy)
    assert s.days == 15 and s.episodes == 16
    # fill rate and cost recomputed by hand from the raw stream
    steps = list(rollout(cfg, pol, copies=16, seed=3))[5:]
    served = sum(float(st.result.served.sum()) for st in steps)
    demand = sum(float(st.result.demand.sum()) for st in steps)
    assert s.fill_rate == pytest.approx(served / demand)
    per_copy = sum(st.result.total_cost.sum(axis=1) for st in steps) / 15
    assert s.daily_cost == pytest.approx(per_copy.mean())
    assert s.daily_cost_ci == pytest.approx(1.96 * per_copy.std(ddof=1) / 4)
    with pytest.raises(ValueError, match="warmup = 20 leaves no day"):
        simulate(cfg, pol, episodes=2, warmup=20)


def test_summary_convention(cfg):
    s = simulate(cfg, BaseStock(cfg, level=[200, 250]), episodes=4, seed=0)
    assert isinstance(s, SimulationSummary)
    ser = s.summary()
    assert ser["daily_cost"] == s.daily_cost and ser.name == s.policy
    frame = s.to_frame()
    assert list(frame.columns) == list(ser.index) and len(frame) == 1


def test_trajectory_replays_the_env_path(cfg):
    pol = Combined(BaseStock(cfg, level=[150, 250]), TransferRule(cfg))
    traj = trajectory(cfg, pol, seed=11)
    assert len(traj) == 2 * cfg.episode_length
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=11)
    costs = []
    while env.agents:
        _, _, _, _, info = env.step(pol.env_actions(env))
        costs.append([info[a]["total_cost"] for a in ("A", "B")])
    np.testing.assert_allclose(traj.pivot(index="day", columns="warehouse", values="total_cost").to_numpy(), costs)
    # a day's stock balance: start + orders (lead 1: arrive next day) + in - out - sales = end
    a = traj[traj.warehouse == "A"].reset_index(drop=True)
    assert (a.start_stock.iloc[1:].to_numpy() == (a.end_stock + a.replenish).iloc[:-1].to_numpy()).all()


def test_compare_uses_common_random_numbers(cfg):
    pol = BaseStock(cfg, level=[200, 250])
    table = compare(cfg, {"same": pol, "again": pol}, episodes=8, seed=2)
    assert isinstance(table, pd.DataFrame) and list(table.index) == ["same", "again"]
    assert table.loc["same", "daily_cost"] == table.loc["again", "daily_cost"]


# ------------------------------------------------------- a policy cannot change the simulation
STATE_FIELDS = ("on_hand", "backlog", "pipeline", "transit", "requests", "forecast")


def _writer(field: str, inner):
    """A policy that adds 10 units to one array of the state it is handed, then acts like ``inner``."""

    def decide(state):
        arr = getattr(state, field)
        arr += 10
        return inner.act(state)

    return decide


@pytest.mark.parametrize("copies", [1, 4])
@pytest.mark.parametrize("field", STATE_FIELDS)
def test_a_policy_that_writes_its_state_gets_an_error_and_the_core_is_untouched(cfg, copies, field):
    """The rollout hands policies read-only views: writing one raises numpy's read-only error, and the
    core's stock, pipeline and unit balance are as they were."""
    core = BatchCore(cfg, copies)
    steps = rollout(core, _writer(field, BaseStock(cfg, level=[200, 250])), seed=3)
    with pytest.raises(ValueError, match="read-only"):
        next(steps)
    core.reset(seed=3)
    before = {f: getattr(core.state(), f).copy() for f in STATE_FIELDS}
    with pytest.raises(ValueError, match="read-only"):
        _writer(field, BaseStock(cfg, level=[200, 250]))(core.state())
    for f in STATE_FIELDS:
        np.testing.assert_array_equal(getattr(core.state(), f), before[f])
    assert core.conservation_gap().tolist() == [0] * copies


def test_compare_cost_breakdown_adds_up_to_the_daily_cost():
    """The breakdown columns of compare() (holding, shortage, ordering, transport) add up to the daily
    cost, for a network with a fixed and a per-unit order cost (ordering is a large part of it)."""
    cfg = lead_one_pair()
    assert cfg.network.order_fixed_cost.min() > 0
    table = compare(cfg, {"base-stock": BaseStock(cfg, level=[200, 250]),
                          "forecast": ForecastBaseStock(cfg, safety=20)}, episodes=16, seed=4)
    parts = ["holding_cost", "shortage_cost", "ordering_cost", "transport_cost"]
    assert set(parts) <= set(table.columns)
    np.testing.assert_allclose(table[parts].sum(axis=1), table["daily_cost"], rtol=1e-12)
    assert (table["ordering_cost"] > 0.1 * table["daily_cost"]).all()
