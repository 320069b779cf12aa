"""The lean one-copy path of the per-step API (mas_lib/sim/onecopy.py: mas_lib.sim.day.run_day on Python
numbers) gives, bit for bit, what the batch step (run_day on numpy columns) gives: every StepResult field,
every observation, every state array. The day's sums are written out left to right, so this does not
rest on numpy's summation order (ring9: nine warehouses, where numpy's pairwise sum would differ)."""

from __future__ import annotations

import numpy as np
import pytest
from factories import lead_one_pair, three_warehouses, two_warehouses

from mas_lib import (
    BatchCore,
    EnvConfig,
    LinkConfig,
    MultiWarehouseEnv,
    PoissonDemand,
    RewardConfig,
    WarehouseConfig,
)
from mas_lib.sim import day, onecopy
from mas_lib.sim.config import InTransit, Request
from mas_lib.sim.observe import ObservationSpec
from mas_lib.sim.state import InvalidActionError, StepResult


def ring(n: int, backorders: bool = False, reward: RewardConfig | None = None) -> EnvConfig:
    """``n`` warehouses on a ring of two-way links with mixed lead times, fixed link costs, goods on
    the road and an open request at the start (non-round costs, so float sums are tested)."""
    ws = tuple(WarehouseConfig(f"W{i}", capacity=90 + 7 * i, initial_inventory=30 + i, lead_time=i % 4,
                               holding_cost=0.37 + 0.11 * i, shortage_cost=3.3 + i, order_fixed_cost=1.7 * i,
                               order_unit_cost=0.3 * i + 0.13) for i in range(n))
    links = tuple(LinkConfig(f"W{i}", f"W{(i + 1) % n}", unit_cost=0.123 * (i + 1), fixed_cost=0.71 * i,
                             lead_time=i % 3) for i in range(n))
    return EnvConfig(warehouses=ws, links=links, demand=PoissonDemand([20 + 3 * i for i in range(n)]),
                     episode_length=25, backorders=backorders, invalid_action="clip",
                     reward=reward or RewardConfig(kind="paper", c1=1.3, c2=0.37, c3=0.29, shared=True),
                     in_transit=(InTransit("W0", "W1", units=5, days=1),), requests=(Request("W1", "W0", 7),))


CONFIGS = {
    "lead0": two_warehouses(0, 0, False, invalid="clip"),
    "lead3_link1": two_warehouses(3, 1, False, invalid="clip"),
    "backorders": two_warehouses(2, 0, True, invalid="clip"),
    "paper_shared": two_warehouses(1, 1, False, invalid="clip", reward=RewardConfig(kind="paper", shared=True)),
    "raise": two_warehouses(1, 1, False),
    "three": three_warehouses(grids=False),
    "three_oneway_bo": three_warehouses(one_way=True, backorders=True, share=False, grids=False),
    "lead1": lead_one_pair(),
    "ring7": ring(7),
    "ring7_bo_cost": ring(7, backorders=True, reward=RewardConfig(shared=True)),
    "ring9": ring(9),  # 9 > 7: numpy would sum its rows pairwise (the lean path does not depend on it)
}


def _same(a, b) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_lean_step_matches_the_batch_step_bit_for_bit(name):
    cfg = CONFIGS[name]
    env = MultiWarehouseEnv(cfg)
    ref = BatchCore(cfg, batch_size=1, lean=False)
    spec = ObservationSpec(cfg)
    rng = np.random.default_rng(11)
    lean = 0
    for ep in range(2):
        obs, _ = env.reset(seed=ep)
        ref.reset(seed=ep)
        for i, a in enumerate(env.possible_agents):
            _same(obs[a], spec.observe(ref.state())[i][0])
        while env.agents:
            q = rng.integers(0, 60, (1, ref.N))
            x = rng.integers(0, 25, (1, ref.N, ref.N)) * ref.net.arc * (rng.random((1, ref.N, ref.N)) < 0.5)
            if cfg.invalid_action == "raise":  # keep it feasible: scale the shipments to the stock
                x = np.minimum(x, (ref.on_hand[0] // ref.N)[None, :, None])
            acts = {a: np.array([q[0, i]] + [x[0, i, j] for j in ref.net.neighbours[i]])
                    for i, a in enumerate(env.possible_agents)}
            obs, rewards, _, _, infos = env.step(acts)
            lean += env._last is None  # the lean path leaves the StepResult to be built on demand
            res = ref.step(q, x)
            got = env.last_result
            for f in StepResult.field_names():
                _same(getattr(got, f), getattr(res, f))
            for i, a in enumerate(env.possible_agents):
                _same(obs[a], spec.observe(ref.state())[i][0])
                assert rewards[a] == res.reward[0, i]
                assert infos[a] == {f: getattr(res, f)[0, i].item() for f in StepResult.field_names()}
                assert [type(v) for v in infos[a].values()] == [type(getattr(res, f)[0, i].item())
                                                                 for f in StepResult.field_names()]
            for attr in ("on_hand", "backlog", "pipeline", "transit", "requests", "prev_end", "total_ordered",
                         "total_sold", "total_overflow"):
                _same(getattr(env.core, attr), getattr(ref, attr))
        assert env.core.conservation_gap().tolist() == [0]
    if cfg.network.N > onecopy.MAX_N:
        assert lean == 0
    else:
        assert lean > 0


@pytest.mark.parametrize("name", ["lead0", "backorders", "raise", "three_oneway_bo", "ring9"])
def test_batch_core_of_one_copy_steps_lean_with_the_array_path_results(name):
    """``BatchCore(cfg, 1)`` steps on Python numbers (lean=True, the default) and gives, bit for bit,
    the array path's results and state (lean=False); an infeasible action under "raise" gets the same
    error from both, and an array of floats goes through the array path."""
    cfg = CONFIGS[name]
    fast, ref = BatchCore(cfg, 1), BatchCore(cfg, 1, lean=False)
    rng = np.random.default_rng(5)
    for ep in range(2):
        fast.reset(seed=ep)
        ref.reset(seed=ep)
        while not ref.done:
            q = rng.integers(0, 60, (1, ref.N))
            x = rng.integers(0, 25, (1, ref.N, ref.N)) * ref.net.arc * (rng.random((1, ref.N, ref.N)) < 0.5)
            if cfg.invalid_action == "raise":
                x = np.minimum(x, (ref.on_hand[0] // ref.N)[None, :, None])
            if ref.t % 3 == 1:
                q = q.astype(float)  # (whole floats: the array path parses them)
            a, b = fast.step(q, x), ref.step(q, x)
            for f in StepResult.field_names():
                _same(getattr(a, f), getattr(b, f))
            for attr in ("on_hand", "backlog", "pipeline", "transit", "requests", "prev_end", "total_ordered"):
                _same(getattr(fast, attr), getattr(ref, attr))
    if cfg.invalid_action == "raise":
        fast.reset(seed=0)
        ref.reset(seed=0)
        too_much = np.zeros((1, ref.N, ref.N), dtype=np.int64)
        too_much[0, 0, 1] = 10**6
        errors = []
        for core in (fast, ref):
            with pytest.raises(InvalidActionError) as caught:
                core.step(np.zeros((1, ref.N), dtype=np.int64), too_much)
            errors.append(str(caught.value))
        assert errors[0] == errors[1]
    with pytest.raises(ValueError, match="BatchCore.lean"):
        BatchCore(cfg, 1, lean="yes")


def test_lean_step_keeps_the_batch_step_aliasing():
    """A state taken before a step sees the pipeline move (a read-only view of the array the step
    updates in place, as BatchCore.step does) but keeps its own on-hand array (a new one each day)."""
    env = MultiWarehouseEnv(two_warehouses(3, 1, False, invalid="clip"))
    env.reset(seed=3)
    s = env.core.state()
    pipe_before = s.pipeline.copy()
    on_hand = s.on_hand
    on_hand_values = on_hand.copy()
    env.step({"A": np.array([40, 0]), "B": np.array([50, 0])})
    assert env._last is None  # went through the lean path
    assert s.pipeline.base is env.core.pipeline and not np.array_equal(s.pipeline, pipe_before)
    assert not np.shares_memory(env.core.on_hand, on_hand) and np.array_equal(on_hand, on_hand_values)


def test_lean_state_is_read_after_an_outside_write():
    """Writing into the state between steps (as tests and notebooks sometimes do) is seen by the next
    lean step exactly as by the batch step."""
    cfg = two_warehouses(1, 1, False, invalid="clip")
    env, ref = MultiWarehouseEnv(cfg), BatchCore(cfg, 1, lean=False)
    env.reset(seed=5)
    ref.reset(seed=5)
    act = {"A": np.array([30, 0]), "B": np.array([20, 3])}
    env.step(act)
    ref.step(np.array([[30, 20]]), np.array([[[0, 0], [3, 0]]]))
    for core in (env.core, ref):
        core.on_hand[:] = [[0, 290]]
    env.step(act)
    res = ref.step(np.array([[30, 20]]), np.array([[[0, 0], [3, 0]]]))
    for f in StepResult.field_names():
        _same(getattr(env.last_result, f), getattr(res, f))
    _same(env.core.on_hand, ref.on_hand)


@pytest.mark.parametrize("layout", ["fortran", "int32", "read_only_then_fresh"])
def test_lean_step_writes_any_pipeline_and_road_array_it_is_given(layout):
    """The lean step packs its pipeline and road straight into a C-ordered int64 array; an array of
    another layout or dtype assigned from outside is written with numpy's assignment instead, and
    the days stay those of the batch step (a read-only array gets numpy's error, as in the batch)."""
    cfg = two_warehouses(3, 1, False, invalid="clip")
    env, ref = MultiWarehouseEnv(cfg), BatchCore(cfg, 1, lean=False)
    env.reset(seed=4)
    ref.reset(seed=4)
    act = {"A": np.array([30, 4]), "B": np.array([20, 3])}
    q, x = np.array([[30, 20]]), np.array([[[0, 4], [3, 0]]])
    for core in (env.core, ref):
        if layout == "fortran":
            core.pipeline, core.transit = np.asfortranarray(core.pipeline), np.asfortranarray(core.transit)
        elif layout == "int32":
            core.pipeline, core.transit = core.pipeline.astype(np.int32), core.transit.astype(np.int32)
        else:
            core.pipeline = core.pipeline.copy()
            core.pipeline.flags.writeable = False
    if layout == "read_only_then_fresh":
        with pytest.raises(ValueError, match="read-only"):
            env.step(act)
        with pytest.raises(ValueError, match="read-only"):
            ref.step(q, x)
        for core in (env.core, ref):
            core.reset(seed=4)
    for _ in range(5):
        env.step(act)
        res = ref.step(q, x)
        assert env._last is None  # the lean path ran
        for f in StepResult.field_names():
            _same(getattr(env.last_result, f), getattr(res, f))
        for name in ("pipeline", "transit", "on_hand"):
            assert np.array_equal(getattr(env.core, name), getattr(ref, name))


def test_lean_step_sees_a_write_through_a_pipeline_reference_taken_days_before():
    """The lean path keeps its pipeline and road lists between steps only while no one outside the
    core holds the arrays: a reference taken earlier and written into later is read by the next day,
    as by the batch step."""
    cfg = two_warehouses(3, 1, False, invalid="clip")
    env, ref = MultiWarehouseEnv(cfg), BatchCore(cfg, 1, lean=False)
    env.reset(seed=6)
    ref.reset(seed=6)
    act = {"A": np.array([30, 4]), "B": np.array([20, 3])}
    q, x = np.array([[30, 20]]), np.array([[[0, 4], [3, 0]]])
    env.step(act)
    ref.step(q, x)
    held = (env.core.pipeline, env.core.transit, ref.pipeline, ref.transit)
    for _ in range(3):  # lean steps after the reference was taken
        env.step(act)
        ref.step(q, x)
    for pipe, road in (held[:2], held[2:]):
        pipe[0, 0, 0] += 11
        road[0, 1, 0] += 2
    for _ in range(3):
        env.step(act)
        res = ref.step(q, x)
        assert env._last is None
        for f in StepResult.field_names():
            _same(getattr(env.last_result, f), getattr(res, f))
        _same(env.core.pipeline, ref.pipeline)
        _same(env.core.transit, ref.transit)


def test_infeasible_and_unusual_actions_take_the_general_path_with_its_messages():
    env = MultiWarehouseEnv(two_warehouses(1, 1, False))
    env.reset(seed=1)
    with pytest.raises(ValueError, match=r"replenish = 1152921504606846976 is not allowed"):
        env.step({"A": np.array([2**60, 0]), "B": np.array([0, 0])})
    with pytest.raises(ValueError, match="total transfer out = 1000"):
        env.step({"A": np.array([5, 1000]), "B": np.array([0, 0])})
    with pytest.raises(ValueError, match=r"actions for unknown warehouse\(s\) \[.C.\]"):
        env.step({"A": np.array([5, 0]), "C": np.array([0, 0])})
    # a float array, a list and a dict give the same day as the integer array
    outs = []
    for form in (np.array([5, 2]), np.array([5.0, 2.0]), [5, 2], {"replenish": 5, "transfer": {"B": 2}}):
        env.reset(seed=2)
        outs.append(env.step({"A": form, "B": np.array([7, 0], dtype=np.int32)}))
    for o in outs[1:]:
        assert o[1] == outs[0][1] and o[4] == outs[0][4]
        for a in o[0]:
            _same(o[0][a], outs[0][0][a])


def test_field_dtypes_follow_the_step_result():
    assert tuple(onecopy._DTYPES) == StepResult.field_names()
    assert day._REWARD == StepResult.field_names().index("reward")
    assert list(onecopy._infos([list(range(20))])[0]) == list(StepResult.field_names())
    assert list(onecopy._infos([list(range(20))])[0].values()) == list(range(20))


STATE = ("on_hand", "backlog", "pipeline", "transit", "requests", "prev_end", "total_ordered", "total_sold",
         "total_overflow")


def _as_actions(env: MultiWarehouseEnv, q: np.ndarray, x: np.ndarray, as_dict: bool) -> dict:
    """The per-step actions of ``(q, x)``: MultiDiscrete int arrays, or dicts (which can also ship
    along no link, to be trimmed)."""
    net = env.net
    if as_dict:
        return {a: {"replenish": int(q[0, i]),
                    "transfer": {net.names[j]: int(x[0, i, j]) for j in range(net.N) if x[0, i, j]}}
                for i, a in enumerate(env.possible_agents)}
    return {a: np.array([q[0, i]] + [x[0, i, j] for j in net.neighbours[i]], dtype=np.int64)
            for i, a in enumerate(env.possible_agents)}


@pytest.mark.parametrize("name", ["lead0", "lead3_link1", "backorders", "paper_shared", "ring7_bo_cost"])
def test_clip_trim_on_the_lean_path_matches_the_batch_step(name):
    """invalid_action="clip": orders below 0 or above max_order, negative transfers, transfers along no
    link or to itself and more than the stock are trimmed on the lean path to exactly the batch
    step's numbers; a number of 2**53 units or more goes through the batch step."""
    cfg = CONFIGS[name]
    env, ref = MultiWarehouseEnv(cfg), BatchCore(cfg, batch_size=1, lean=False)
    net = ref.net
    rng = np.random.default_rng(5)
    lean_clipped = big = 0
    for ep in range(3):
        env.reset(seed=ep)
        ref.reset(seed=ep)
        while env.agents:
            q = rng.integers(-30, 2 * net.max_order.max() + 2, (1, ref.N))
            x = rng.integers(-40, 400, (1, ref.N, ref.N)) * (rng.random((1, ref.N, ref.N)) < 0.6)
            as_dict = rng.random() < 0.3
            if not as_dict:
                x = x * net.arc  # (an array action has entries for the links only)
            if rng.random() < 0.1:
                q[0, rng.integers(ref.N)] = 2**60
            acts = _as_actions(env, q, x, as_dict)
            _, rewards, _, _, infos = env.step(acts)
            res = ref.step(q, x)
            assert res.clipped.dtype == np.bool_
            if (q >= 2**53).any():
                assert env._last is not None  # the batch step
                big += 1
            elif env._last is None and res.clipped.any():
                lean_clipped += 1
            for f in StepResult.field_names():
                _same(getattr(env.last_result, f), getattr(res, f))
            for i, a in enumerate(env.possible_agents):
                assert rewards[a] == res.reward[0, i]
                assert infos[a] == {f: getattr(res, f)[0, i].item() for f in StepResult.field_names()}
                assert type(infos[a]["clipped"]) is bool
            for attr in STATE:
                _same(getattr(env.core, attr), getattr(ref, attr))
    assert lean_clipped > 20 and big > 0


@pytest.mark.parametrize("name", ["lead0", "lead3_link1", "backorders", "ring7", "ring7_bo_cost"])
def test_state_read_after_many_lean_steps_matches_the_batch_core(name):
    """Nothing reads the core's state for many days (the lists and the days' totals pile up on the lean
    path), then everything is read: the same arrays as the batch core's, mid-episode and at the end."""
    cfg = CONFIGS[name]
    env, ref = MultiWarehouseEnv(cfg), BatchCore(cfg, batch_size=1, lean=False)
    rng = np.random.default_rng(9)
    for ep in range(2):
        env.reset(seed=ep)
        ref.reset(seed=ep)
        day = 0
        while env.agents:
            q = rng.integers(0, 60, (1, ref.N))
            x = rng.integers(0, 30, (1, ref.N, ref.N)) * ref.net.arc
            env.step(_as_actions(env, q, x, False))
            ref.step(q, x)
            day += 1
            if day in (11, cfg.episode_length):
                for attr in STATE:
                    _same(getattr(env.core, attr), getattr(ref, attr))
                assert env.core.conservation_gap().tolist() == [0]
        assert day == cfg.episode_length
