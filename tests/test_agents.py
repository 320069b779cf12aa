"""Tests of mas_lib.decide.tabular: tabular Q-learning (paper 3.1.2, 4.4-4.5) and its building blocks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mas_lib import DiscreteIIDDemand, EnvConfig, LinkConfig, PoissonDemand, WarehouseConfig
from mas_lib.decide import (
    ActionTable,
    DoNothing,
    QLearningConfig,
    QPolicy,
    StateEncoder,
    batch_q_update,
    best_preset,
    epsilon_greedy,
    exploration_rate,
    infer_unit,
    learning_rate,
    paper_preset,
    q_update,
    simulate,
    train,
    train_loop,
)
from mas_lib.sim.config import ConfigError
from mas_lib.sim.core import BatchCore, SystemState


def tiny(lead: int = 0, episode_length: int = 40) -> EnvConfig:
    """Two warehouses of 40 units, 10-unit steps: 5 x 5 stock states, 8 actions each."""
    ws = tuple(
        WarehouseConfig(n, capacity=40, initial_inventory=20, holding_cost=1.0, shortage_cost=10.0,
                        order_fixed_cost=5.0, order_unit_cost=0.5, lead_time=lead, max_order=30)
        for n in ("A", "B")
    )
    return EnvConfig(
        warehouses=ws, links=(LinkConfig("A", "B", unit_cost=0.5, fixed_cost=1.0),),
        demand=DiscreteIIDDemand.poisson([10.0, 15.0], unit=10, max_units=40),
        episode_length=episode_length, order_grid=(0, 10, 20, 30), transfer_grid=(0, 10),
    )


def all_stock_states(cfg: EnvConfig, unit: int = 10) -> SystemState:
    caps = [w.capacity for w in cfg.warehouses]
    a, b = np.meshgrid(np.arange(0, caps[0] + 1, unit), np.arange(0, caps[1] + 1, unit), indexing="ij")
    on = np.stack([a.ravel(), b.ravel()], axis=1).astype(np.int64)
    M = on.shape[0]
    core = BatchCore(cfg, 1)
    return SystemState(
        on_hand=on, backlog=np.zeros((M, 2), np.int64), pipeline=np.zeros((M, 2, core.net.Lmax), np.int64),
        transit=np.zeros((M, 2, core.net.Tmax), np.int64), requests=np.zeros((M, 2, 2), np.int64),
        forecast=np.zeros((M, cfg.forecast_horizon, 2)), t=0,
    )


# ------------------------------------------------------------------ the update rule
def test_update_rule_by_hand():
    # Q = 2, r = 1, gamma = 0.9, max next = 5, alpha = 0.5: 2 + 0.5 * (1 + 4.5 - 2) = 3.75
    assert q_update(2.0, 1.0, [3.0, 5.0], gamma=0.9, alpha=0.5) == pytest.approx(3.75)
    table = np.array([[2.0, 0.0], [3.0, 5.0]])
    visits = np.zeros((2, 2), dtype=np.int64)
    target = np.array([1.0 + 0.9 * table[1].max()])
    batch_q_update(table, visits, np.array([0]), np.array([0]), target, lambda n: np.full(np.shape(n), 0.5))
    assert table[0, 0] == 3.75 and visits[0, 0] == 1
    assert table[1].tolist() == [3.0, 5.0]


def test_duplicate_pairs_are_averaged():
    qcfg = QLearningConfig(alpha="visits")
    table = np.zeros((1, 2))
    visits = np.zeros((1, 2), dtype=np.int64)
    # three samples of the same pair with 1/n rates = their running average
    batch_q_update(table, visits, np.zeros(3, int), np.zeros(3, int), np.array([3.0, 6.0, 9.0]),
                   lambda n: learning_rate(qcfg, n))
    assert table[0, 0] == pytest.approx(6.0) and visits[0, 0] == 3
    batch_q_update(table, visits, np.zeros(1, int), np.zeros(1, int), np.array([10.0]),
                   lambda n: learning_rate(qcfg, n))
    assert table[0, 0] == pytest.approx((3 + 6 + 9 + 10) / 4)
    # constant rate, equal targets: k updates in one go == k sequential updates
    t1, n1 = np.zeros((1, 1)), np.zeros((1, 1), dtype=np.int64)
    batch_q_update(t1, n1, np.zeros(4, int), np.zeros(4, int), np.full(4, 8.0), lambda n: np.full(np.shape(n), 0.25))
    q = 0.0
    for _ in range(4):
        q += 0.25 * (8.0 - q)
    assert t1[0, 0] == pytest.approx(q)


# ------------------------------------------------------------------ exploration
def test_epsilon_greedy_frequencies():
    rng = np.random.default_rng(1)
    row = np.array([1.0, -np.inf, 5.0, 2.0])  # action 1 infeasible, greedy = 2
    n = 20000
    counts = np.bincount([epsilon_greedy(row, 0.3, rng) for _ in range(n)], minlength=4) / n
    assert counts[1] == 0
    assert counts[2] == pytest.approx(0.7 + 0.3 / 3, abs=0.015)
    assert counts[0] == pytest.approx(0.1, abs=0.01) and counts[3] == pytest.approx(0.1, abs=0.01)
    assert all(epsilon_greedy(row, 0.0, rng) == 2 for _ in range(50))


def test_schedules():
    c = QLearningConfig(alpha="constant", alpha0=0.2)
    assert learning_rate(c, 7) == 0.2
    v = QLearningConfig(alpha="visits")
    assert np.allclose(learning_rate(v, np.array([1, 2, 4])), [1.0, 0.5, 0.25])
    p = QLearningConfig(alpha="polynomial", alpha_power=0.5 + 1e-9)
    assert learning_rate(p, 4) == pytest.approx(0.5, rel=1e-6)
    lin = QLearningConfig(epsilon="linear", epsilon_start=1.0, epsilon_end=0.1, epsilon_decay=0.5)
    assert exploration_rate(lin, 0.0) == 1.0
    assert exploration_rate(lin, 0.25) == pytest.approx(0.55)
    assert exploration_rate(lin, 0.9) == pytest.approx(0.1)
    exp = QLearningConfig(epsilon="exponential", epsilon_start=1.0, epsilon_end=0.01, epsilon_decay=1.0)
    assert exploration_rate(exp, 0.5) == pytest.approx(0.1)
    const = QLearningConfig(epsilon="constant", epsilon_start=0.3)
    assert exploration_rate(const, 0.7) == 0.3


# ------------------------------------------------------------------ states and actions
@pytest.mark.parametrize("form", ["independent", "shared", "central"])
def test_encoder_ranges_and_round_trip(form):
    cfg = tiny()
    enc = StateEncoder(cfg, unit=10, form=form, share_levels=3)
    st = all_stock_states(cfg)
    idx = enc.encode(st)
    assert idx.shape == (25, enc.n_learners) and idx.dtype == np.int64
    for k in range(enc.n_learners):
        assert idx[:, k].min() >= 0 and idx[:, k].max() < enc.sizes[k]
        assert np.array_equal(enc.decode(idx[:, k], k), enc.levels(st, k))
    if form == "central":
        assert enc.sizes == [25] and len(np.unique(idx)) == 25
        assert np.array_equal(enc.decode(idx[:, 0]), st.on_hand // 10)
    if form == "independent":
        assert enc.sizes == [5, 5]
    if form == "shared":
        assert enc.sizes == [15, 15]  # own 5 levels x neighbour's 3 coarse levels
        assert enc.feature_names(0) == ["A.stock", "B.stock (shared)"]


def test_encoder_pipeline_slots_and_caps():
    cfg = tiny(lead=3)
    enc = StateEncoder(cfg, unit=10, form="independent")
    assert enc.feature_names(0) == ["A.stock", "A.pipeline[0]", "A.pipeline[1]"]
    assert enc.sizes[0] == 5 * 4 * 4
    core = BatchCore(cfg, 2)
    core.reset(seed=0)
    core.step(np.array([[30, 10], [0, 20]]), np.zeros((2, 2, 2), dtype=np.int64))
    lv = enc.levels(core.state(), 0)
    assert lv[:, 0].max() <= 4 and lv[:, 2].tolist() == [3, 0]  # the order sits in the last live slot
    assert infer_unit(cfg) == 10


def test_action_table_matches_core():
    cfg = tiny()
    acts = ActionTable(cfg)
    a = np.array(np.meshgrid(np.arange(acts.sizes[0]), np.arange(acts.sizes[1]), indexing="ij")).reshape(2, -1).T
    core = BatchCore(cfg, a.shape[0])
    q1, x1 = core.decode_discrete(a)
    q2, x2 = acts.decode(a)
    assert np.array_equal(q1, q2) and np.array_equal(x1, x2)
    f = acts.feasible(0, np.array([0, 10]))
    assert f.shape == (2, 8)
    assert not f[0, 1] and f[0, 3] and f[1, 1]  # ship 10 with 0 on hand: only if 10+ is ordered today


# ------------------------------------------------------------------ training
@pytest.mark.parametrize(
    "changes",
    [dict(form="central"), dict(form="independent", alpha="visits"),
     dict(form="shared", double=True, epsilon="exponential", epsilon_end=0.05),
     dict(form="central", q_init="auto", reward="paper")],
)
def test_vectorised_equals_loop_with_one_copy(changes):
    cfg = tiny(episode_length=30)
    q = QLearningConfig(steps=200, batch=1, log_every=20, seed=3, **changes)
    a, b = train(cfg, q), train_loop(cfg, q)
    for ta, tb in zip(a.policy.tables, b.policy.tables, strict=True):
        assert np.array_equal(ta, tb)
    for va, vb in zip(a.policy.visits, b.policy.visits, strict=True):
        assert np.array_equal(va, vb)
    assert np.allclose(a.curve.to_numpy(), b.curve.to_numpy())
    assert a.steps == b.steps == 200


def test_vectorised_and_loop_learn_the_same_with_many_copies():
    cfg = tiny(episode_length=50)
    q = best_preset(gamma=0.9, steps=200, batch=32, form="central", q_init="auto", episode_length=50)
    a, b = train(cfg, q), train_loop(cfg, q)
    assert a.steps == b.steps == 6400
    ca = simulate(cfg, a.policy, episodes=300, seed=11).daily_cost
    cb = simulate(cfg, b.policy, episodes=300, seed=11).daily_cost
    assert abs(ca - cb) / cb < 0.1


def test_deterministic_with_seed():
    cfg = tiny()
    q = best_preset(gamma=0.9, steps=100, batch=32, form="central")
    a, b = train(cfg, q, seed=5), train(cfg, q, seed=5)
    c = train(cfg, q, seed=6)
    assert np.array_equal(a.policy.tables[0], b.policy.tables[0])
    assert not np.array_equal(a.policy.tables[0], c.policy.tables[0])
    assert list(a.curve.columns) == ["step", "day", "mean_daily_cost", "mean_daily_reward", "epsilon"]


def test_q_learning_beats_doing_nothing():
    cfg = tiny(episode_length=60)
    res = train(cfg, best_preset(gamma=0.9, steps=600, batch=64, form="central", q_init="auto"))
    learned = simulate(cfg, res.policy, episodes=200, seed=1)
    idle = simulate(cfg, DoNothing(cfg), episodes=200, seed=1)
    assert learned.daily_cost < 0.5 * idle.daily_cost
    assert learned.fill_rate > 0.8


def test_near_optimal_on_tiny_instance():
    from mas_lib.decide import planning
    cfg = tiny(episode_length=60)
    model = planning.build_model(cfg, 10, 0.9)
    opt = planning.policy_iteration(model)
    res = train(cfg, best_preset(gamma=0.9, steps=1500, batch=256, form="central", q_init="auto"))
    value = planning.evaluate_policy(model, res.policy)
    assert planning.gap(value, opt) < 5.0


def test_save_load_round_trip(tmp_path):
    cfg = tiny()
    res = train(cfg, QLearningConfig(form="shared", double=True, steps=50, batch=8))
    path = res.policy.save(tmp_path / "q.npz")
    with np.load(path, allow_pickle=False) as z:
        assert "q_0" in z and "q2_1" in z
    back = QPolicy.load(path, cfg)
    for t1, t2 in zip(res.policy.tables + res.policy.tables2, back.tables + back.tables2, strict=True):
        assert np.array_equal(t1, t2)
    st = all_stock_states(cfg)
    for u, v in zip(res.policy.act(st), back.act(st), strict=True):
        assert np.array_equal(u, v)
    other = cfg.replace(order_grid=(0, 10, 20))
    with pytest.raises(ValueError, match="different environment"):
        QPolicy.load(path, other)


def test_policy_interface_in_env():
    from mas_lib.sim.env import MultiWarehouseEnv

    cfg = tiny()
    res = train(cfg, QLearningConfig(steps=30, batch=4))
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    acts = res.policy.env_actions(env)
    assert set(acts) == {"A", "B"}
    env.step(acts)


# ------------------------------------------------------------------ validation and presets
@pytest.mark.parametrize(
    "field,value,allowed",
    [("gamma", 1.0, "[0, 1)"), ("form", "joint", "'central'"), ("alpha", "1/n", "'visits'"),
     ("alpha0", 0.0, "(0, 1]"), ("alpha_power", 0.4, "(0.5, 1]"), ("epsilon_start", 1.5, "[0, 1]"),
     ("steps", 0, ">= 1"), ("batch", 2.5, ">= 1"), ("double", 1, "True or False"),
     ("reward", "profit", "'paper'"), ("q_init", "high", "'auto'"), ("unit", 0, ">= 1")],
)
def test_config_validation(field, value, allowed):
    with pytest.raises(ConfigError) as err:
        QLearningConfig(**{field: value})
    msg = str(err.value)
    assert f"QLearningConfig.{field}" in msg and repr(value) in msg and allowed in msg


def test_presets_and_grid_required():
    naive = paper_preset(gamma=0.95)
    assert (naive.form, naive.alpha, naive.epsilon, naive.q_init) == ("central", "constant", "constant", 0.0)
    assert best_preset().alpha == "polynomial"
    cfg = tiny().replace(order_grid=None, transfer_grid=None)
    with pytest.raises(ConfigError, match="order_grid"):
        train(cfg, QLearningConfig(steps=2, batch=1))


# ------------------------------------------------------------------ truncation, results, config conventions
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("double", [False, True])
def test_train_bootstraps_on_truncation(batch, double):
    # episodes of 2 days, 4 days per copy: 2 truncations per copy, and every transition is learned from
    cfg = tiny(episode_length=2)
    q = QLearningConfig(form="independent", steps=4, batch=batch, double=double, log_every=1, seed=2)
    for fit in (train, train_loop):
        res = fit(cfg, q)
        assert res.steps == 4 * batch
        for v in res.policy.visits:  # one visit per transition and learner, none dropped at truncation
            assert int(v.sum()) == 4 * batch


def test_truncated_update_uses_the_final_observation():
    # one copy, one two-day episode: the day-2 target is r + gamma * max Q(final state), so replaying the
    # textbook update with the final observation reproduces the learned table bit for bit
    from mas_lib.decide.rollout import rollout
    from mas_lib.sim.config import RewardConfig

    cfg = tiny(episode_length=2)
    q = QLearningConfig(form="central", steps=2, batch=1, gamma=0.9, alpha="constant", alpha0=0.5,
                        epsilon="constant", epsilon_start=0.0, q_init=1.0, log_every=1, seed=4)
    res = train(cfg, q)
    enc, acts = res.policy.encoder, res.policy.actions
    table = np.where(np.isfinite(res.policy.tables[0]), 1.0, -np.inf)
    expected = table.copy()
    learner_cfg = cfg.replace(reward=RewardConfig(kind="cost", shared=False))  # the learner's own reward

    def greedy(state):
        s = enc.encode(state)[:, 0]
        return acts.decode(acts.to_warehouse(np.argmax(expected[s], axis=1)[:, None], "central"))

    steps = list(rollout(learner_cfg, greedy, copies=1, seed=4, days=2))
    assert steps[-1].next_state is not None
    for st in steps:
        s = enc.encode(st.state)[0, 0]
        s2 = enc.encode(st.next_state)[0, 0]
        a = int(np.argmax(expected[s]))
        expected[s, a] = q_update(expected[s, a], float(st.result.reward.sum()), expected[s2], 0.9, 0.5)
    assert np.array_equal(res.policy.tables[0], expected)


def test_training_result_frame_and_summary():
    cfg = tiny()
    res = train(cfg, QLearningConfig(steps=20, batch=4, log_every=5, seed=1))
    frame = res.to_frame()
    assert frame.equals(res.curve) and frame is not res.curve
    frame.loc[0, "mean_daily_cost"] = -1.0
    assert res.curve.loc[0, "mean_daily_cost"] != -1.0  # a copy
    s = res.summary()
    assert s["transitions"] == 80 == res.steps and s["copies"] == 4 and s["days per copy"] == 20
    assert s["final mean daily cost"] == res.curve["mean_daily_cost"].iloc[-1] > 0
    assert s["final epsilon"] == res.curve["epsilon"].iloc[-1]
    assert s["throughput"] == res.throughput and s["seconds"] == res.seconds
    assert s.name == res.policy.describe()


def test_config_summary_and_normalised_values():
    q = QLearningConfig(steps=np.int64(7), batch=2, gamma=0, double=np.bool_(True), q_init=np.float32(-1.5))
    assert type(q.steps) is int and q.steps == 7 and type(q.gamma) is float and q.double is True
    assert q.q_init == -1.5 and type(q.q_init) is float
    s = q.summary()
    assert list(s.index) == [f.name for f in dataclasses.fields(QLearningConfig)]
    assert s["steps"] == 7 and s["form"] == "central" and s["episode_length"] is None
    assert not hasattr(q, "as_dict")


def test_config_messages_name_field_value_and_allowed():
    with pytest.raises(ConfigError, match=r"^QLearningConfig\.gamma = 1\.5 is not allowed; allowed: .*\[0, 1\)"):
        QLearningConfig(gamma=1.5)
    with pytest.raises(ConfigError, match=r"QLearningConfig\.episode_length = 1 is not allowed; allowed: None or .*>= 2"):
        QLearningConfig(episode_length=1)
    with pytest.raises(ConfigError, match=r"QLearningConfig\.epsilon_end = 0\.0 .*exponential"):
        QLearningConfig(epsilon="exponential", epsilon_end=0.0)
    with pytest.raises(ConfigError, match=r"QLearningConfig\.q_init = nan .*'auto'"):
        QLearningConfig(q_init=float("nan"))
    with pytest.raises(ConfigError, match=r"QLearningConfig\.c1 = inf .*finite"):
        QLearningConfig(c1=float("inf"))
    with pytest.raises(ConfigError, match=r"QLearningConfig\.seed = -1 .*>= 0"):
        QLearningConfig(seed=-1)
    with pytest.raises(ConfigError, match=r"StateEncoder\.form = 'joint'"):
        StateEncoder(tiny(), form="joint")


# ------------------------------------------------------------------ policy files
def _rewrite(src, dst, **changes):
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    for k in [k for k, v in arrays.items() if v is None]:
        del arrays[k]
    np.savez(dst, **arrays)
    return dst


@pytest.fixture(scope="module")
def saved_policy(tmp_path_factory):
    cfg = tiny()
    res = train(cfg, QLearningConfig(form="central", steps=20, batch=4))
    path = res.policy.save(tmp_path_factory.mktemp("policy") / "good.npz")
    return cfg, res.policy, path


def test_load_refuses_a_table_of_the_wrong_shape(saved_policy, tmp_path):
    cfg, pol, path = saved_policy
    assert pol.tables[0].shape == (25, 64)  # 5 x 5 stock levels, 8 x 8 joint actions
    bad = _rewrite(path, tmp_path / "short.npz", q_0=pol.tables[0][:, :63])
    with pytest.raises(ValueError, match=r"short\.npz.*q_0\.shape = \(25, 63\) is not allowed; allowed: \(25, 64\)"):
        QPolicy.load(bad, cfg)


def test_load_refuses_nan_and_plus_inf(saved_policy, tmp_path):
    cfg, pol, path = saved_policy
    t = pol.tables[0].copy()
    t[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"nan\.npz.*q_0 = 1 NaN or \+inf value\(s\), the first at \(3, 0\).*-inf"):
        QPolicy.load(_rewrite(path, tmp_path / "nan.npz", q_0=t), cfg)
    t[3, 0] = np.inf
    with pytest.raises(ValueError, match="q_0 = 1 NaN or"):
        QPolicy.load(_rewrite(path, tmp_path / "inf.npz", q_0=t), cfg)


def test_load_refuses_bad_visit_counts(saved_policy, tmp_path):
    cfg, pol, path = saved_policy
    with pytest.raises(ValueError, match=r"visits\.npz.*n_0\.shape = \(25, 8\) is not allowed; allowed: \(25, 64\)"):
        QPolicy.load(_rewrite(path, tmp_path / "visits.npz", n_0=pol.visits[0][:, :8]), cfg)
    neg = pol.visits[0].copy()
    neg[0, 0] = -1
    with pytest.raises(ValueError, match=r"n_0 = .*min -1 is not allowed; allowed: whole numbers >= 0"):
        QPolicy.load(_rewrite(path, tmp_path / "neg.npz", n_0=neg), cfg)
    with pytest.raises(ValueError, match=r"missing arrays = \['n_0'\]"):
        QPolicy.load(_rewrite(path, tmp_path / "missing.npz", n_0=None), cfg)


def test_load_refuses_files_that_are_not_policies(tmp_path):
    cfg = tiny()
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a policy")
    with pytest.raises(ValueError, match=r"junk\.npz.*truncated or not a \.npz.*allowed: a \.npz written by QPolicy\.save"):
        QPolicy.load(junk, cfg)
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        QPolicy.load(tmp_path / "one.npy", cfg)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match=r"other\.npz.*missing arrays = \['meta'\]"):
        QPolicy.load(tmp_path / "other.npz", cfg)


def test_save_is_atomic(saved_policy, tmp_path, monkeypatch):
    cfg, pol, _ = saved_policy
    target = pol.save(tmp_path / "policy")  # ".npz" appended, as numpy does
    assert target == tmp_path / "policy.npz" and sorted(p.name for p in tmp_path.iterdir()) == ["policy.npz"]
    good = target.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        pol.save(target)
    monkeypatch.undo()
    assert target.read_bytes() == good  # the good policy is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.npz"]  # no temporary file left behind
    back = QPolicy.load(target, cfg)
    assert np.array_equal(back.tables[0], pol.tables[0])


def _meta(path) -> dict:
    import json

    with np.load(path, allow_pickle=False) as z:
        return json.loads(str(z["meta"]))


def _with_meta(src, dst, meta):
    import json

    return _rewrite(src, dst, meta=np.array(json.dumps(meta)) if not isinstance(meta, np.ndarray) else meta)


@pytest.mark.parametrize("key", ["format", "encoder", "label", "double", "n_learners", "config"])
def test_load_names_a_missing_meta_key(saved_policy, tmp_path, key):
    """A meta without one of its keys used to raise a bare KeyError."""
    cfg, _, path = saved_policy
    meta = _meta(path)
    del meta[key]
    with pytest.raises(ValueError, match=rf"m\.npz.*meta = without \['{key}'\] is not allowed; allowed: .*{key}"):
        QPolicy.load(_with_meta(path, tmp_path / "m.npz", meta), cfg)


@pytest.mark.parametrize("change, problem", [
    (lambda m: np.array("{broken"), r"meta = '\{broken' is not allowed; allowed: a JSON object"),
    (lambda m: np.array("[1, 2]"), r"meta = '\[1, 2\]' is not allowed; allowed: a JSON object"),
    (lambda m: np.arange(2), r"meta = an array of dtype int64"),
    (lambda m: {**m, "encoder": {"bogus": 1}}, r"meta encoder = \{'bogus': 1\} is not allowed"),
    (lambda m: {**m, "encoder": [1]}, r"meta encoder = \[1\] is not allowed"),
    (lambda m: {**m, "encoder": {**m["encoder"], "form": "joint"}}, r"meta encoder = .*'joint'.* is not allowed"),
    (lambda m: {**m, "double": "yes"}, r"meta double = 'yes' is not allowed; allowed: true or false"),
    (lambda m: {**m, "n_learners": "1"}, r"meta n_learners = '1' is not allowed"),
    (lambda m: {**m, "label": 5}, r"meta label = 5 is not allowed; allowed: a string"),
    (lambda m: {**m, "config": "x"}, r"the policy was learned for a different environment"),
])
def test_load_refuses_a_bad_meta(saved_policy, tmp_path, change, problem):
    cfg, _, path = saved_policy
    with pytest.raises(ValueError, match=rf"m\.npz.*{problem}"):
        QPolicy.load(_with_meta(path, tmp_path / "m.npz", change(_meta(path))), cfg)


@pytest.mark.parametrize("cut", [0, 50, -20])
def test_load_refuses_a_truncated_file(saved_policy, tmp_path, cut):
    cfg, _, path = saved_policy
    bad = tmp_path / "cut.npz"
    bad.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ValueError, match=r"cut\.npz.*the file = truncated or not a \.npz"):
        QPolicy.load(bad, cfg)


def test_load_refuses_tables_of_the_wrong_dtype(saved_policy, tmp_path):
    cfg, pol, path = saved_policy
    with pytest.raises(ValueError, match=r"c\.npz.*q_0\.dtype = complex128 is not allowed; allowed: a float array"):
        QPolicy.load(_rewrite(path, tmp_path / "c.npz", q_0=pol.tables[0] + 0j), cfg)
    with pytest.raises(ValueError, match=r"f\.npz.*n_0 = dtype float64"):
        QPolicy.load(_rewrite(path, tmp_path / "f.npz", n_0=pol.visits[0].astype(float)), cfg)


def test_flipped_bytes_load_the_same_policy_or_raise_a_clear_error(saved_policy, tmp_path_factory):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    cfg, pol, path = saved_policy
    raw0 = path.read_bytes()

    @given(flips=st.lists(st.tuples(st.integers(0, len(raw0) - 1), st.integers(1, 255)), min_size=1, max_size=3))
    @settings(max_examples=60, deadline=None)
    def check(flips):
        raw = bytearray(raw0)
        for at, x in flips:
            raw[at] ^= x
        bad = tmp_path_factory.mktemp("flip") / "f.npz"
        bad.write_bytes(bytes(raw))
        try:
            back = QPolicy.load(bad, cfg)
        except ValueError as err:
            assert "f.npz" in str(err)
        else:
            for a, b in zip(back.tables, pol.tables, strict=True):
                np.testing.assert_array_equal(a, b)

    check()


def test_state_counts_are_exact_and_a_space_no_table_can_index_is_refused():
    """Six 1,000,001-level features give 1e36 states: an int64 product wrapped (negative or
    arbitrary counts). Counts are exact Python integers, and a count beyond the largest array
    index is refused naming the learner, the count and the limit."""
    import math

    ws = tuple(WarehouseConfig(n, capacity=10**6, initial_inventory=0, lead_time=3, max_order=10**6) for n in "AB")
    cfg = EnvConfig(warehouses=ws, links=(LinkConfig("A", "B"),), demand=PoissonDemand([1.0, 1.0]),
                    order_grid=(0, 1), transfer_grid=(0, 1))
    independent = StateEncoder(cfg, unit=1, form="independent")
    assert independent.sizes == [(10**6 + 1) ** 3] * 2  # stock and two pipeline slots: fits in int64
    with pytest.raises(ConfigError, match=rf"StateEncoder states of learner 0 = {(10**6 + 1) ** 6} is not "
                       rf"allowed; allowed: at most {np.iinfo(np.intp).max}"):
        StateEncoder(cfg, unit=1, form="central")
    chain = EnvConfig(  # 16 warehouses in a chain, 16 order x 2 transfer levels: 32 * 64**14 * 32 joint actions
        warehouses=tuple(WarehouseConfig(f"W{i}", capacity=20, initial_inventory=0) for i in range(16)),
        links=tuple(LinkConfig(f"W{i}", f"W{i + 1}") for i in range(15)), demand=PoissonDemand([1.0] * 16),
        order_grid=tuple(range(16)), transfer_grid=(0, 1))
    table = ActionTable(chain)
    assert table.learner_sizes("central") == [math.prod(table.sizes)] == [2**94]
    assert table.learner_sizes("independent") == table.sizes == [32] + [64] * 14 + [32]


def test_one_schedule_type_serves_every_learner():
    """Q-learning's epsilon, DQN's epsilon and PPO's annealed settings are one Schedule."""
    from mas_lib.decide import Schedule
    from mas_lib.decide.deep import linear_schedule
    from mas_lib.decide.tabular import exploration_schedule
    from mas_lib.validation import ConfigError

    lin = Schedule(1.0, 0.1, "linear", over=0.8)
    assert [lin(p) for p in (-1.0, 0.0, 0.4, 0.8, 1.0)] == pytest.approx([1.0, 1.0, 0.55, 0.1, 0.1])
    assert lin(0.8) == lin(1.0) == lin(5.0)          # held at the end after `over`
    assert Schedule(0.3, 0.01, "constant")(0.9) == 0.3
    assert Schedule(1.0, 0.01, "exponential")(0.5) == pytest.approx(0.1)
    assert linear_schedule(0.03, 0.0, 50, 100) == Schedule(0.03, 0.0)(0.5)
    q = QLearningConfig(epsilon="exponential", epsilon_start=1.0, epsilon_end=0.01, epsilon_decay=1.0)
    assert exploration_schedule(q) == Schedule(1.0, 0.01, "exponential", 1.0)
    with pytest.raises(ConfigError, match=r"Schedule.shape = 'cosine' is not allowed"):
        Schedule(1.0, 0.0, "cosine")
    with pytest.raises(ConfigError, match=r"Schedule\(exponential\).end = 0.0 is not allowed"):
        Schedule(1.0, 0.0, "exponential")
    with pytest.raises(ConfigError, match=r"Schedule.over = 0.0 is not allowed"):
        Schedule(1.0, 0.0, over=0.0)
