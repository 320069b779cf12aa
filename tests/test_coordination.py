"""Decentralised learners: the per-warehouse trainer (independent / hysteretic / VDN) with and
without stock-report messages, the agents that execute it over the bus, and the central learner
executed through messages."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib.decide.coordination import DecentralisedConfig, train_decentralised
from mas_lib.decide.instances import get_instance
from mas_lib.decide.planning import evaluate_policy, model_for
from mas_lib.decide.tabular import best_preset, train
from mas_lib.messaging import CentralByMessages, MessagingAgents


@pytest.fixture(scope="module")
def paper_model():
    inst = get_instance("paper")
    return inst, model_for(inst)


@pytest.mark.parametrize("method", ["vdn", "independent", "hysteretic"])
def test_decentralised_trainer_gives_one_table_per_warehouse(method, paper_model):
    inst, model = paper_model
    res = train_decentralised(inst.config, method=method, steps=30, batch=16, episode_length=10, seed=1)
    pol = res.policy
    assert pol.form == "shared" and len(pol.tables) == 2
    assert [t.shape[1] for t in pol.tables] == [44, 44]  # each agent ranks its own 44 actions only
    assert res.transitions == 30 * 16 and len(res.curve) > 0
    assert np.isfinite(evaluate_policy(model, pol).daily_cost)
    again = train_decentralised(inst.config, method=method, steps=30, batch=16, episode_length=10, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(pol.tables, again.policy.tables, strict=True))


def test_decentralised_config_rejects_bad_values():
    with pytest.raises(ValueError, match="DecentralisedConfig.method = 'magic' is not allowed"):
        DecentralisedConfig(method="magic")
    with pytest.raises(ValueError, match="DecentralisedConfig.gamma = 1.0 is not allowed"):
        DecentralisedConfig(gamma=1.0)
    with pytest.raises(ValueError, match="DecentralisedConfig.beta = 2 is not allowed"):
        DecentralisedConfig(beta=2)


def test_central_by_messages_plays_the_central_greedy_action(paper_model):
    inst, model = paper_model
    team = train(inst.config, best_preset(gamma=inst.gamma, steps=40, batch=32, seed=0)).policy
    pair = CentralByMessages(team, log_copies=2)
    states = model.states_as_system_state()
    q1, x1 = pair.act(states)
    q2, x2 = team.act(states)
    assert np.array_equal(q1, q2) and np.array_equal(x1, x2)  # variable elimination is exact
    log = pair.buses[0].log()
    assert log["type"].tolist() == ["stock report", "stock report", "value message", "plan"]
    assert len(log.iloc[2]["content"]["values"]) == 44
    assert pair.numbers_per_decision == 2 + 44 + 1


def test_central_by_messages_rejects_what_it_cannot_run(paper_model):
    inst, _ = paper_model
    own = train_decentralised(inst.config, steps=5, batch=4, episode_length=5).policy
    with pytest.raises(ValueError, match="CentralByMessages.team = 'QPolicy' is not allowed; allowed: a central-form"):
        CentralByMessages(own)


def test_central_by_messages_sweep_job_gives_the_direct_numbers(paper_model):
    """The sweep job behind bench_coordination's seeds: the same gap as training and scoring directly,
    for each seed, through the serial sweep runner."""
    from mas_lib.decide.planning import gap, policy_iteration
    from mas_lib.messaging import train_central_by_messages
    from mas_lib.scale import run_sweep

    inst, model = paper_model
    opt = policy_iteration(model)
    frame = run_sweep(train_central_by_messages, {"instance": ["paper"]}, seeds=[0, 3], workers="serial",
                      fixed={"steps": 40, "batch": 32}, progress=False)
    assert frame["status"].tolist() == ["ok", "ok"] and frame["transitions"].tolist() == [40 * 32] * 2
    for row in frame.itertuples():
        team = train(inst.config, best_preset(gamma=inst.gamma, steps=40, batch=32, seed=row.seed)).policy
        value = evaluate_policy(model, CentralByMessages(team))
        assert row.gap_pct == gap(value, opt) and row.daily_cost == value.daily_cost
    assert frame["gap_pct"].iloc[0] != frame["gap_pct"].iloc[1]


# ---------------------------------------------------------------- agents on own stock + messages
def _agents(inst, messages=True, levels=None, method="vdn"):
    return train_decentralised(inst.config, method=method, steps=30, batch=16, episode_length=10, seed=2,
                               messages=messages, message_levels=levels).policy


def _with_stock(states, warehouse, units):
    from dataclasses import replace

    on_hand = states.on_hand.copy()
    on_hand[:, warehouse] = units
    return replace(states, on_hand=on_hand)


@pytest.mark.parametrize("levels", [None, 3])
def test_messaging_agents_send_one_number_per_report_on_the_bus(levels, paper_model):
    inst, model = paper_model
    agents = _agents(inst, levels=levels)
    team = MessagingAgents(agents, log_copies=3)
    states = model.states_as_system_state()
    q1, x1 = team.act(states)
    q2, x2 = agents.act(states)  # the table's own encoder reads the partner's stock directly
    assert np.array_equal(q1, q2) and np.array_equal(x1, x2)  # the bus delivers exactly that observation
    assert team.messages_per_decision == team.numbers_per_decision == 2
    assert team.messages_sent() == 2 * states.batch_size
    log = team.buses[0].log()
    assert log["type"].tolist() == ["stock report", "stock report"]
    assert (log["day"] == log["deliver_day"]).all() and (log["status"] == "delivered").all()  # latency 0
    assert [list(c) for c in log["content"]] == [["units"], ["units"]]  # one number each
    enc = agents.encoder
    for row in log.itertuples():
        j = list(inst.config.network.names).index(row.sender)
        units = int(states.on_hand[0, j])
        band = enc.stock_level(j, np.array([units]), enc.share_levels)
        assert row.content["units"] == enc.level_floor(j, band, enc.share_levels)[0] <= units


def test_messaging_agents_see_only_own_stock_and_the_message(paper_model):
    """Changing B's stock changes nothing A sees unless it changes B's report; without messages it
    changes nothing at all."""
    inst, model = paper_model
    states = model.states_as_system_state()
    lonely = MessagingAgents(_agents(inst, messages=False))
    assert lonely.messages_per_decision == 0
    obs = lonely.observe(_with_stock(states, 1, 0))
    assert np.array_equal(obs[:, 0], lonely.observe(_with_stock(states, 1, 250))[:, 0])
    assert lonely.messages_sent() == 0 and lonely.buses[0].log().empty
    coarse = MessagingAgents(_agents(inst, levels=3))
    enc = coarse.encoder
    cap = int(inst.config.network.capacity[1])
    units = np.arange(0, cap + 1, enc.unit)
    bands = enc.stock_level(1, units, 3)
    same = units[bands == bands[0]]
    assert len(same) > 1
    first = coarse.observe(_with_stock(states, 1, int(same[0])))[:, 0]
    assert np.array_equal(first, coarse.observe(_with_stock(states, 1, int(same[-1])))[:, 0])
    other = coarse.observe(_with_stock(states, 1, int(units[bands != bands[0]][0])))[:, 0]
    assert not np.array_equal(first, other)  # a different report: A sees it


def test_same_learner_with_and_without_messages(paper_model):
    """The with/without comparison: the same trainer, only the observation differs (tables of 546
    against 21 or 26 states of own stock); both are evaluated exactly."""
    from mas_lib.decide.planning import gap, policy_iteration

    inst, model = paper_model
    opt = policy_iteration(model)
    talk, alone = _agents(inst, True), _agents(inst, False)
    assert [t.shape[0] for t in talk.tables] == [model.states_as_system_state().batch_size] * 2
    assert [t.shape[0] for t in alone.tables] == list(inst.config.network.capacity // alone.encoder.unit + 1)
    gaps = [gap(evaluate_policy(model, MessagingAgents(p)), opt) for p in (talk, alone)]
    assert all(np.isfinite(g) and g >= -1e-9 for g in gaps)
    assert "messages" in talk.name and "no messages" in alone.name


def test_messaging_agents_refuse_another_network_or_form(paper_model):
    inst, _ = paper_model
    agents = _agents(inst)
    from mas_lib.messaging.networks import regional_network

    with pytest.raises(ValueError, match=r"MessagingAgents network N = 5 is not allowed; allowed: the trained agents' 2"):
        MessagingAgents(agents, regional_network(4))
    with pytest.raises(ValueError, match=r"MessagingAgents network lead_time = \[1, 1\] is not allowed; allowed: the "
                       r"trained agents' \[0, 0\]"):
        MessagingAgents(agents, get_instance("cross_border").config)
    team = train(inst.config, best_preset(gamma=inst.gamma, steps=5, batch=4, seed=0)).policy
    with pytest.raises(ValueError, match="MessagingAgents.agents = 'central' is not allowed; allowed: a QPolicy"):
        MessagingAgents(team)
    with pytest.raises(ValueError, match="DecentralisedConfig.message_levels = 1 is not allowed; allowed: None or"):
        DecentralisedConfig(message_levels=1)
