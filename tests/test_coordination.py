"""Decentralised learners: the per-warehouse trainer (independent / hysteretic / VDN) and
the coordination-graph pair that executes a team table by message passing."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib.decide.coordination import DecentralisedConfig, train_decentralised
from mas_lib.decide.instances import get_instance
from mas_lib.decide.planning import evaluate_policy, model_for
from mas_lib.decide.tabular import best_preset, train
from mas_lib.messaging import CoordinatedPair


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


def test_coordinated_pair_plays_the_team_greedy_action_by_messages(paper_model):
    inst, model = paper_model
    team = train(inst.config, best_preset(gamma=inst.gamma, steps=40, batch=32, seed=0)).policy
    pair = CoordinatedPair(team, log_copies=2)
    states = model.states_as_system_state()
    q1, x1 = pair.act(states)
    q2, x2 = team.act(states)
    assert np.array_equal(q1, q2) and np.array_equal(x1, x2)  # variable elimination is exact
    log = pair.buses[0].log()
    assert log["type"].tolist() == ["stock report", "stock report", "value message", "plan"]
    assert len(log.iloc[2]["content"]["values"]) == 44


def test_coordinated_pair_rejects_what_it_cannot_run(paper_model):
    inst, _ = paper_model
    own = train_decentralised(inst.config, steps=5, batch=4, episode_length=5).policy
    with pytest.raises(ValueError, match="CoordinatedPair.team = 'QPolicy' is not allowed; allowed: a central-form"):
        CoordinatedPair(own)


def test_coordinated_pair_sweep_job_gives_the_direct_numbers(paper_model):
    """The sweep job behind bench_coordination's seeds: the same gap as training and scoring directly,
    for each seed, through the serial sweep runner."""
    from mas_lib.decide.planning import gap, policy_iteration
    from mas_lib.messaging import train_coordinated_pair
    from mas_lib.scale import run_sweep

    inst, model = paper_model
    opt = policy_iteration(model)
    frame = run_sweep(train_coordinated_pair, {"instance": ["paper"]}, seeds=[0, 3], workers="serial",
                      fixed={"steps": 40, "batch": 32}, progress=False)
    assert frame["status"].tolist() == ["ok", "ok"] and frame["transitions"].tolist() == [40 * 32] * 2
    for row in frame.itertuples():
        team = train(inst.config, best_preset(gamma=inst.gamma, steps=40, batch=32, seed=row.seed)).policy
        value = evaluate_policy(model, CoordinatedPair(team))
        assert row.gap_pct == gap(value, opt) and row.daily_cost == value.daily_cost
    assert frame["gap_pct"].iloc[0] != frame["gap_pct"].iloc[1]
