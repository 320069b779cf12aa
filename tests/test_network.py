"""The compiled network, the batched observation builder and the seeding rules."""

from __future__ import annotations

import numpy as np
import pytest
from factories import three_warehouses

from mas_lib import (
    BatchCore,
    ConfigError,
    InTransit,
    InvalidActionError,
    LinkConfig,
    MultiWarehouseEnv,
)
from mas_lib.decide.instances import INSTANCES, paper_instance
from mas_lib.sim.observe import ObservationSpec

three = three_warehouses


# ------------------------------------------------------------------------------ Network
def test_network_arrays_match_the_config():
    cfg = three()
    net = cfg.network
    assert net is cfg.network  # built once, cached on the config
    assert net.names == ("A", "B", "C")
    assert net.capacity.tolist() == [200, 250, 300]
    assert net.lead_time.tolist() == [2, 0, 1]
    assert net.order_fixed_cost.tolist() == [5.0, 0.0, 0.0] and net.order_unit_cost.tolist() == [2.0, 0.0, 0.0]
    assert net.holding_cost.tolist() == [1.0, 2.0, 1.0] and net.shortage_cost.tolist() == [10.0, 10.0, 7.0]
    assert net.arc.tolist() == [[False, True, False], [True, False, True], [False, True, False]]
    assert net.arc_unit_cost[0, 1] == 0.5 and net.arc_unit_cost[2, 1] == 1.5
    assert net.arc_fixed_cost[1, 0] == 3.0 and net.arc_lead_time[0, 1] == 1 and net.arc_lead_time[1, 2] == 0
    assert net.neighbours == ((1,), (0, 2), (1,))
    assert net.Lmax == 2 and net.Tmax == 1
    assert net.discrete_sizes == (3 * 2, 3 * 2 * 2, 3 * 2)
    assert net.n_joint_actions == 6 * 12 * 6


def test_network_arrays_are_read_only():
    net = three().network
    with pytest.raises(ValueError, match="read-only"):
        net.capacity[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        net.arc[0, 2] = True
    order, transfer = net.action_tables()[0]
    with pytest.raises(ValueError, match="read-only"):
        order[0] = 5


def test_one_way_link_gives_the_target_no_transfer_choice():
    cfg = three(one_way=True)
    net = cfg.network
    assert net.neighbours[0] == (1,) and net.neighbours[1] == (2,)  # B can ship to C only
    assert net.discrete_sizes == (6, 6, 6)
    inst = paper_instance()
    one_way = inst.config.replace(links=(LinkConfig("A", "B", unit_cost=1.0, fixed_cost=10.0, bidirectional=False),))
    assert one_way.network.n_joint_actions == (11 * 4) * 11 == 484
    from dataclasses import replace

    assert replace(inst, config=one_way).n_actions == 484  # used to say 1,936
    assert INSTANCES["paper"].n_actions == 1936


def test_action_tables_decode_and_joint_round_trip():
    net = three().network
    # warehouse B (neighbours A, C): index = o * 4 + t_A * 2 + t_C
    q, x = net.decode_discrete(np.array([[5, 2 * 4 + 1 * 2 + 1, 3]]))
    assert q.tolist() == [[40, 40, 20]]
    assert x[0, 0, 1] == 10 and x[0, 1, 0] == 10 and x[0, 1, 2] == 10 and x[0, 2, 1] == 10
    joint = np.arange(net.n_joint_actions)
    agents = net.joint_to_agents(joint)
    assert agents.shape == (net.n_joint_actions, 3)
    assert (net.agents_to_joint(agents) == joint).all()
    assert agents[1].tolist() == [0, 0, 1]  # warehouse 0 most significant
    with pytest.raises(InvalidActionError, match=r"warehouse 'B': discrete action = 12 is not allowed"):
        net.decode_discrete(np.array([[0, 12, 0]]))


def test_no_discrete_grid_is_a_clear_error():
    with pytest.raises(ValueError, match="no order_grid/transfer_grid"):
        _ = three(grids=False).network.discrete_sizes


def test_in_transit_beyond_the_link_lead_time_is_a_config_error():
    cfg = three()
    with pytest.raises(ConfigError, match=r"InTransit\('A'->'B'\).days = 5 is not allowed; allowed: 1 to 1"):
        cfg.replace(in_transit=(InTransit("A", "B", units=10, days=5),))
    ok = cfg.replace(in_transit=(InTransit("A", "B", units=10, days=1),))
    core = BatchCore(ok)
    core.reset(seed=0)
    assert core.transit[0, 1, 0] == 10


# ------------------------------------------------------------------------------ observations
@pytest.mark.parametrize("backorders,share", [(False, True), (True, True), (False, False)])
def test_observation_matches_the_labels(backorders, share):
    cfg = three(backorders=backorders, share=share, grids=False)
    core = BatchCore(cfg, batch_size=4)
    core.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        core.step(rng.integers(0, 30, size=(4, 3)), np.zeros((4, 3, 3), dtype=int))
    spec = ObservationSpec(cfg)
    obs = spec.observe(core.state())
    fc = core.current_forecast()
    for i, name in enumerate(cfg.names):
        assert obs[i].shape == (4, len(spec.labels[i])) and obs[i].dtype == np.float32
        for k, label in enumerate(spec.labels[i]):
            col = obs[i][:, k]
            if label == "on_hand [units]":
                want = core.on_hand[:, i]
            elif label == "backlog [units]":
                want = core.backlog[:, i]
            elif label.startswith("pipeline_day+"):
                want = core.pipeline[:, i, int(label.split("+")[1].split()[0]) - 1]
            elif label == "inbound_transfers [units]":
                want = core.transit[:, i].sum(axis=1)
            elif label == "requested_of_me [units]":
                want = core.requests[:, i].sum(axis=1)
            elif label.startswith("forecast_day+"):
                want = fc[:, int(label.split("+")[1].split()[0]), i]
            elif label == "episode_progress [0-1]":
                want = np.full(4, core.t / core.T)
            else:  # a neighbour's shared number
                other, what = label.split(".", 1)
                j = cfg.index(other)
                want = core.on_hand[:, j] if what.startswith("on_hand") else fc[:, int(what.split("+")[1].split()[0]), j]
            np.testing.assert_allclose(col, want, err_msg=f"{name}: {label}")
    n_shared = sum(len(nb) for nb in cfg.network.neighbours) * (1 + cfg.forecast_horizon)
    assert sum(spec.sizes) == 3 * (4 + cfg.forecast_horizon) + 3 * backorders + 3 + share * n_shared


def test_env_observation_is_the_batch_observation_of_copy_0():
    cfg = three(grids=False)
    env = MultiWarehouseEnv(cfg)
    obs, _ = env.reset(seed=5)
    core = BatchCore(cfg, batch_size=2)
    core.reset(seed=5)
    batch = ObservationSpec(cfg).observe(core.state())
    for i, a in enumerate(env.possible_agents):
        np.testing.assert_array_equal(obs[a], batch[i][0])
        assert env.observation_labels(a) == ObservationSpec(cfg).labels[i]
    assert env.state().shape == (sum(ObservationSpec(cfg).sizes),)


# ------------------------------------------------------------------------------ seeding
def test_copies_and_seeds_are_independent_streams():
    cfg = three(grids=False).replace(episode_length=40)
    a, b = BatchCore(cfg, batch_size=2), BatchCore(cfg, batch_size=2)
    a.reset(seed=0)
    b.reset(seed=1)
    # the old rule default_rng(seed + b) made copy 1 of seed 0 equal to copy 0 of seed 1
    assert not np.array_equal(a.demand[1], b.demand[0])
    assert not np.array_equal(a.demand[0], a.demand[1])


def test_reset_without_seed_records_a_replayable_seed():
    cfg = three(grids=False)
    core = BatchCore(cfg, batch_size=3)
    core.reset()
    assert isinstance(core.seed, int)
    replay = BatchCore(cfg, batch_size=3)
    replay.reset(seed=core.seed)
    np.testing.assert_array_equal(core.demand, replay.demand)
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=core.seed, options={"copy": 2})
    np.testing.assert_array_equal(env.core.demand[0], core.demand[2])
    env.reset(options={"copy": 0})
    assert isinstance(env.core.seed, int)


def test_a_bad_seed_is_a_clear_error():
    core = BatchCore(three(grids=False))
    with pytest.raises(ValueError, match=r"seed = -1 is not allowed; allowed: a whole number >= 0"):
        core.reset(seed=-1)
    with pytest.raises(ValueError, match=r"seed = 1.5 is not allowed"):
        core.reset(seed=1.5)


def test_final_step_receives_tomorrows_arrivals():
    """After the last day the state is the final observation (arrivals received), units conserved."""
    cfg = three(grids=False).replace(episode_length=3)
    core = BatchCore(cfg, batch_size=2)
    core.reset(seed=0)
    for _ in range(3):
        core.step(np.full((2, 3), 20), np.zeros((2, 3, 3), dtype=int))
    assert core.done
    # A (lead time 2) ordered 20 on day 2: after the last day it sits in the first pipeline slot
    assert (core.pipeline[:, 0, 0] == 20).all() and (core.pipeline[:, 0, 1] == 0).all()
    assert (core.conservation_gap() == 0).all()
    with pytest.raises(RuntimeError, match="reset"):
        core.step(np.zeros((2, 3), dtype=int), np.zeros((2, 3, 3), dtype=int))
