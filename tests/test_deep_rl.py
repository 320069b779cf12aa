"""Deep RL learners of mas_lib.decide.deep: one encoding for env and batch core, masks
equal to the planner's feasibility, tiny DQN / REINFORCE / PPO runs that the exact planner
evaluates, NaN rewards reported with their step, weights for another network refused."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib.decide.deep import (
    DQNConfig,
    NetworkPolicy,
    NonFiniteError,
    ObservationEncoder,
    PGConfig,
    WeightsMismatchError,
    linear_schedule,
    long_lead_instance,
    train_dqn,
    train_pg,
)
from mas_lib.decide.deep.features import ActionMasks
from mas_lib.decide.deep.nn import MLP
from mas_lib.decide.instances import get_instance
from mas_lib.decide.planning import evaluate_policy, gap, model_for, policy_iteration
from mas_lib.decide.rollout import rollout
from mas_lib.sim.core import BatchCore
from mas_lib.sim.env import MultiWarehouseEnv

TINY_DQN = DQNConfig(hidden=(16,), days=40, copies=8, batch=32, warmup=64, target_every=10, log_every=10)
TINY_PG = PGConfig(actor_hidden=(8,), critic_hidden=(8,), days=40, copies=8, horizon=10, minibatch=40, log_every=10)


@pytest.fixture(scope="module")
def paper():
    inst = get_instance("paper")
    model = model_for(inst)
    return inst, model, evaluate_policy(model, policy_iteration(model).policy_object())


def test_encoder_scales_stock_features_in_one_place():
    inst = long_lead_instance()
    enc = ObservationEncoder(inst.config)
    assert enc.own_labels[0] == ["on_hand [units]", "pipeline_day+1 [units]", "pipeline_day+2 [units]",
                                 "inbound_transfers [units]"]
    core = BatchCore(inst.config, batch_size=3)
    core.reset(seed=0)
    obs = enc.observe(core.state())
    x = enc.central_input(obs)
    assert x.shape == (3, enc.central_size) == (3, 8)
    np.testing.assert_allclose(x[:, 0], core.state().on_hand[:, 0] / 200)
    np.testing.assert_allclose(x[:, 4], core.state().on_hand[:, 1] / 250)
    xa, xb = enc.agent_inputs(obs)
    np.testing.assert_array_equal(xa, x)  # A: own block first, then B's
    np.testing.assert_array_equal(xb, np.concatenate([x[:, 4:], x[:, :4]], axis=1))
    np.testing.assert_array_equal(enc.on_hand(obs), core.state().on_hand)


def test_wrong_observation_shape_is_a_clear_error():
    enc = ObservationEncoder(get_instance("paper").config)
    good = [np.zeros((2, n)) for n in enc.spec.sizes]
    with pytest.raises(ValueError, match=r"observation of agent 'B' has shape \(2, 3\)"):
        enc.central_input([good[0], np.zeros((2, 3))])
    with pytest.raises(ValueError, match="one per warehouse"):
        enc.central_input(good[:1])
    with pytest.raises(ValueError, match="lacks agent"):
        enc.env_observations({"A": good[0][0]})


def test_masks_equal_the_planners_feasibility(paper):
    inst, model, _ = paper
    masks = ActionMasks(inst.config)
    states = model.states_as_system_state()
    joint = masks.joint(states.on_hand)
    assert joint.shape == (model.n_states, model.n_actions)
    # every action the optimum takes is allowed; the mask forbids shipping more than is on hand
    opt = policy_iteration(model).policy
    assert joint[np.arange(model.n_states), opt].all()
    q, x = masks.decode_joint(np.arange(model.n_actions))
    for s in (0, 17, model.n_states - 1):
        avail = np.minimum(states.on_hand[s] + q, model.net.capacity)  # lead time 0: same-day receipt
        np.testing.assert_array_equal(joint[s], (x.sum(axis=2) <= avail).all(axis=1))


def test_tiny_dqn_trains_and_the_planner_evaluates_it(paper, tmp_path):
    inst, model, optimum = paper
    res = train_dqn(inst.config, TINY_DQN)
    assert res.transitions == 40 * 8 and res.curve["transitions"].iloc[-1] == 320
    assert np.isfinite(res.curve["loss"].iloc[-1])
    v = evaluate_policy(model, res.policy)
    assert gap(v, optimum) >= 0  # a learned policy plays on the grid: never better than the optimum
    again = train_dqn(inst.config, TINY_DQN)  # same seed -> same network
    np.testing.assert_array_equal(again.networks["q"].params[0], res.networks["q"].params[0])
    # weights round-trip through .npz; weights of another network are refused
    path = res.networks["q"].save(tmp_path / "dqn.npz", instance=inst.name)
    fresh = train_dqn(inst.config, TINY_DQN, days=1, warmup=10_000).networks["q"].load(path, instance=inst.name)
    assert evaluate_policy(model, NetworkPolicy(inst.config, [fresh], "q")).start_value == v.start_value
    with pytest.raises(WeightsMismatchError):
        train_dqn(inst.config, TINY_DQN, hidden=(8,), days=1).networks["q"].load(path)


@pytest.mark.parametrize("method", ["ppo", "reinforce"])
def test_tiny_policy_gradient_trains_and_the_planner_evaluates_it(paper, method):
    inst, model, optimum = paper
    res = train_pg(inst.config, TINY_PG, method=method)
    assert set(res.networks) == {"actor_A", "actor_B", "critic"}
    assert np.isfinite(res.curve["critic_loss"].iloc[-1])
    assert gap(evaluate_policy(model, res.policy), optimum) >= 0


def test_same_agent_through_env_and_batch_core(paper):
    inst = paper[0]
    policy = train_pg(inst.config, TINY_PG).policy
    batch = [s for s in rollout(inst.config, policy, copies=1, seed=5)]
    env = MultiWarehouseEnv(inst.config)
    obs, _ = env.reset(seed=5)
    for s in batch:
        actions = policy.env_actions(obs)
        q, x = env.core.decode_discrete(np.array([[actions[a] for a in env.possible_agents]]))
        np.testing.assert_array_equal(q, s.replenish)
        np.testing.assert_array_equal(x, s.transfer)
        obs, rewards, _, trunc, _ = env.step(actions)
        np.testing.assert_array_equal(env.last_result.total_cost, s.result.total_cost)
    assert all(trunc.values()) and len(batch) == inst.config.episode_length


@pytest.mark.parametrize("trainer", ["dqn", "pg"])
def test_nan_reward_is_reported_with_its_step(monkeypatch, trainer):
    inst = get_instance("paper")
    real = BatchCore.step

    def step(self, q, x):
        res = real(self, q, x)
        if self.t == 4:  # the 4th simulated day (step 3)
            res.total_cost[0, 0] = np.nan
        return res

    monkeypatch.setattr(BatchCore, "step", step)
    with pytest.raises(NonFiniteError, match="rewards has 1 non-finite value.*training step 3"):
        if trainer == "dqn":
            train_dqn(inst.config, TINY_DQN)
        else:
            train_pg(inst.config, TINY_PG)


def test_long_lead_instance_size():
    inst = long_lead_instance()
    assert inst.n_states == 21 * 11 * 26 * 11 == 66_066
    assert inst.n_actions == 1936
    assert [w.lead_time for w in inst.config.warehouses] == [2, 2]
    assert [link.lead_time for link in inst.config.links] == [1]


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="DQNConfig.days"):
        DQNConfig(days=0)
    with pytest.raises(ValueError, match="PGConfig.method"):
        PGConfig(method="a3c")
    with pytest.raises(ValueError, match=r"NetworkPolicy.nets .*allowed: \[\(4, 1936\)\]"):
        NetworkPolicy(get_instance("paper").config, [MLP([3, 4, 5])], "q")


def test_linear_schedule_runs_from_start_to_end():
    assert linear_schedule(0.03, 0.0, 0, 100) == 0.03
    assert linear_schedule(0.03, 0.0, 50, 100) == pytest.approx(0.015)
    assert linear_schedule(0.03, 0.0, 100, 100) == 0.0
    assert linear_schedule(1e-3, 0.0, 150, 100) == 0.0  # never past the end
    assert linear_schedule(0.01, 0.05, 25, 100) == pytest.approx(0.02)  # may also rise


def test_schedules_change_training_only_when_they_change_a_setting(paper):
    inst = paper[0]
    base = train_pg(inst.config, TINY_PG)
    same = train_pg(inst.config, TINY_PG.replace(entropy_end=TINY_PG.entropy))  # a flat schedule
    annealed = train_pg(inst.config, TINY_PG.replace(anneal_lr=True))
    decayed = train_pg(inst.config, TINY_PG.replace(entropy=0.5, entropy_end=0.0))
    flat = train_pg(inst.config, TINY_PG.replace(entropy=0.5))
    w = lambda r: np.concatenate([p.ravel() for net in r.networks.values() for p in net.params])  # noqa: E731
    np.testing.assert_array_equal(w(base), w(same))
    assert not np.array_equal(w(base), w(annealed))
    assert not np.array_equal(w(flat), w(decayed))
    with pytest.raises(ValueError, match="PGConfig.entropy_end"):
        PGConfig(entropy_end=-0.1)
    with pytest.raises(ValueError, match="PGConfig.anneal_lr"):
        PGConfig(anneal_lr="yes")
