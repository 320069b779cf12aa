"""The instance suite (mas_lib.decide.suite), the suite runs and the DQN recipe's fixes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib.decide import planning as pl
from mas_lib.decide import suite
from mas_lib.decide.deep import DQNConfig, train_dqn
from mas_lib.decide.deep.dqn import initial_q, random_play_value
from mas_lib.decide.deep.recipes import DQN_ABLATION, RECIPES, recipe_for
from mas_lib.decide.suite_runs import train_on_suite
from mas_lib.sim.scenarios import regional_network
from mas_lib.validation import ConfigError


def _fingerprint(inst):
    d = inst.config.demand
    return (inst.description, inst.start_state, [s.tolist() for s in d.support], [p.round(12).tolist() for p in d.pmf])


def test_the_generator_is_seeded_and_reproducible():
    a, b = suite.draw_instance(7), suite.draw_instance(np.random.default_rng(7))
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(suite.draw_instance(8)) != _fingerprint(a)
    assert [_fingerprint(i) for i in suite.draw_suite(3, size=3)] == [_fingerprint(i) for i in suite.draw_suite(3, size=3)]
    # the fixed suite is the documented draw
    fixed = suite.draw_suite()
    assert [i.name for i in fixed] == list(suite.SUITE) and len(suite.SUITE) >= 8
    assert [_fingerprint(i) for i in fixed] == [_fingerprint(suite.suite_instance(n)) for n in suite.SUITE]
    assert set(suite.DEVELOPMENT).isdisjoint(suite.HELD_OUT) and set(suite.DEVELOPMENT) | set(suite.HELD_OUT) == set(suite.SUITE)


def test_the_suite_varies_what_it_should():
    insts = [suite.suite_instance(n) for n in suite.SUITE]
    links = {(lk.bidirectional, lk.lead_time) for i in insts for lk in i.config.links}
    assert {True, False} <= {b for b, _ in links} and {0, 1} <= {t for _, t in links}
    assert {i.config.warehouses[0].lead_time for i in insts} == {0, 1}
    assert len({w.shortage_cost for i in insts for w in i.config.warehouses}) > 5


def test_the_generator_refuses_instances_too_large_for_the_planner():
    with pytest.raises(pl.UnsupportedConfigError, match=r"about [\d.]+ GiB \([\d,]+ states x 1,936 actions.*"
                                                        r"allowed: max_memory_gib = 0.6 GiB"):
        suite.draw_instance(0, replenish_lead=2, link="two-way")
    est = pl.estimate_memory(suite.draw_instance(0).config, 10)
    assert est.gib <= suite.SUITE_MAX_GIB
    with pytest.raises(pl.UnsupportedConfigError, match="max_memory_gib = 0.01 GiB"):
        suite.make_instance("small", max_memory_gib=0.01)


@pytest.mark.parametrize(("change", "field"), [
    ({"shape": "gamma"}, "make_instance.shape"), ({"link": "both"}, "make_instance.link"),
    ({"capacity": (205, 250)}, "make_instance.capacity"), ({"capacity": (200,)}, "make_instance.capacity"),
    ({"mean": (0.0, 10.0)}, "make_instance.mean"), ({"transfer_lead": 2}, "make_instance.transfer_lead"),
])
def test_bad_parameters_name_the_field(change, field):
    with pytest.raises(ConfigError, match=f"{field} = .* is not allowed; allowed: "):
        suite.make_instance("bad", **change)
    with pytest.raises(KeyError, match="instance = 'suite-99' is not allowed"):
        suite.suite_instance("suite-99")


@pytest.mark.parametrize("shape", suite.DEMAND_SHAPES)
def test_demand_shapes_keep_their_mean(shape):
    inst = suite.make_instance("s", mean=(40.0, 60.0), shape=shape)
    np.testing.assert_allclose(inst.config.demand.mean, [40.0, 60.0], atol=2.0)


def test_every_suite_instance_solves_and_the_reference_numbers_are_consistent():
    ref = suite.suite_reference(suite.SUITE)
    assert list(ref["instance"]) == list(suite.SUITE)
    assert set(ref["split"]) == {"development", "held-out"}
    assert np.isfinite(ref[["optimum_daily_cost", "no_transfer_daily_cost", "ss_gap_pct"]]).all().all()
    # fewer options cannot do better than the optimum: without transfers, and an (s, S) rule
    assert (ref["no_transfer_daily_cost"] >= ref["optimum_daily_cost"] - 1e-9).all()
    assert (ref["ss_daily_cost"] >= ref["no_transfer_daily_cost"] - 1e-9).all()
    assert (ref["transfer_value_pct"] >= -1e-9).all() and (ref["transfer_value_pct"] > 1.0).sum() >= 4
    assert (ref["states"] * ref["actions"] <= 2_000_000).all()


@settings(max_examples=50, deadline=None)
@given(opt=st.floats(1, 1e4), worth=st.floats(1e-3, 1e3), x=st.floats(-2, 2))
def test_transfer_share_is_one_at_the_optimum_zero_without_transfers(opt, worth, x):
    nt = opt + worth
    assert suite.transfer_value(opt, opt, nt) == pytest.approx(1.0)
    assert suite.transfer_value(nt, opt, nt) == pytest.approx(0.0, abs=1e-9)
    assert suite.transfer_value(nt - x * worth, opt, nt) == pytest.approx(x, rel=1e-6, abs=1e-6)
    assert math.isnan(suite.transfer_value(opt + 1, opt, opt))


# --------------------------------------------------------------------------- the DQN fixes
def test_the_dqn_recipe_has_the_fixes_and_the_ablation_removes_each():
    r = RECIPES["DQN"]
    assert r.transitions == 512_000 and r.q_init == "auto" and r.anneal_lr
    assert DQN_ABLATION["DQN, 64k transitions"].transitions == 64_000
    assert DQN_ABLATION["DQN, optimistic start"].q_init == 0.0 and DQN_ABLATION["DQN, constant step"].anneal_lr is False
    assert DQNConfig().q_init == 0.0 and DQNConfig().anneal_lr is False  # the library defaults are unchanged


def test_the_initial_q_estimate_is_pessimistic():
    inst = suite.suite_instance(suite.DEVELOPMENT[0])
    model, opt = pl.reference(inst)
    cfg = RECIPES["DQN"]
    q0 = initial_q(inst.config, cfg)
    worst_optimal = -opt.values.max() * cfg.reward_scale  # the optimal value of the worst state, as a Q
    assert q0 < worst_optimal < 0  # below the optimal value of every state
    assert q0 == random_play_value(inst.config, cfg.gamma, cfg.reward_scale, cfg.seed)  # seeded
    assert initial_q(inst.config, cfg.replace(q_init=-3.0)) == -3.0
    # no update before warm-up ends: the network's output bias is still the estimate
    res = train_dqn(inst.config, cfg.replace(days=2, copies=4, warmup=100, log_every=2))
    np.testing.assert_allclose(res.networks["q"].params[-1], q0, rtol=1e-6)


def test_the_step_size_schedule_reaches_zero():
    inst = suite.suite_instance(suite.DEVELOPMENT[0])
    tiny = dict(days=6, copies=4, warmup=8, batch=8, log_every=1, hidden=(8,))
    lr = train_dqn(inst.config, DQNConfig(anneal_lr=True, **tiny)).curve["lr"]
    assert lr.iloc[-1] == 0.0 and (np.diff(lr) < 0).all() and lr.iloc[0] < 1e-3
    const = train_dqn(inst.config, DQNConfig(**tiny)).curve["lr"]
    assert (const == 1e-3).all()
    with pytest.raises(ConfigError, match="DQNConfig.q_init = 'high' is not allowed; allowed: a finite number or 'auto'"):
        DQNConfig(q_init="high")


def test_a_recipe_refuses_an_instance_of_another_shape():
    with pytest.raises(ConfigError, match=r"config warehouses = 5 is not allowed; allowed: 2"):
        recipe_for("DQN", regional_network())
    big = suite.make_instance("big").config.replace(transfer_grid=(0, 10, 20, 30, 40, 50, 60))
    with pytest.raises(ConfigError, match="config joint actions = 5929 is not allowed; allowed: at most 1936"):
        recipe_for("DQN", big)
    assert recipe_for("DQN", suite.suite_instance("suite-0").config, seed=2).seed == 2


def test_train_on_suite_scores_a_tiny_run_exactly():
    row = train_on_suite("suite-2", "DQN", seed=0, scale=0.005)
    assert row["transitions"] == 10 * 256 and row["gap_pct"] > 0
    assert row["daily_cost"] > row["optimum_daily_cost"]
    want = (row["no_transfer_daily_cost"] - row["daily_cost"]) / (row["no_transfer_daily_cost"] - row["optimum_daily_cost"])
    assert row["transfer_share"] == pytest.approx(want)
    with pytest.raises(ConfigError, match="train_on_suite.learner = 'A3C' is not allowed"):
        train_on_suite("suite-2", "A3C")
