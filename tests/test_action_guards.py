"""What the simulator does with an action a careless or hostile user gives: strings, booleans, NaN,
fractions, numbers too large for int64 (1e30, inf, Python ints like 2**70) and int64 transfers whose
sum would wrap around. The batch step (``BatchCore.step``), the per-step API (``MultiWarehouseEnv``)
and its lean one-copy path must give the same clear error, or the same documented trim."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
from factories import three_warehouses, two_warehouses
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import BatchCore, InvalidActionError, MultiWarehouseEnv
from mas_lib.sim.state import StepResult

HUGE_UP = [1e30, math.inf, np.float64(1e30), 2**70, 2**63, 10**400]
HUGE_DOWN = [-1e30, -math.inf, -(2**70)]
NOT_NUMBERS = ["5", True, np.True_, None, b"5", 5 + 0j, [5]]


def _env(mode: str) -> MultiWarehouseEnv:
    env = MultiWarehouseEnv(two_warehouses(invalid=mode))
    env.reset(seed=0)
    return env


def _form(form: str, field: str, value) -> dict:
    """Warehouse A's action with ``value`` as its replenishment or its transfer to B."""
    if form == "dict":
        return {"replenish": value} if field == "replenish" else {"transfer": {"B": value}}
    return [value, 0] if field == "replenish" else [0, value]


def _same_day(res: StepResult, ref: StepResult) -> None:
    for f in StepResult.field_names():
        a, b = np.asarray(getattr(res, f)), np.asarray(getattr(ref, f))
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f


# ------------------------------------------------------------------ not a whole number: an error in both modes
@pytest.mark.parametrize("mode", ["raise", "clip"])
@pytest.mark.parametrize("form", ["dict", "list"])
@pytest.mark.parametrize("field", ["replenish", "transfer"])
@pytest.mark.parametrize("value", NOT_NUMBERS + [math.nan, np.float64("nan"), 2.5])
def test_env_rejects_what_is_not_a_whole_number_naming_agent_field_and_allowed(mode, form, field, value):
    if form == "list" and isinstance(value, list):
        pytest.skip("a nested list is a wrong-length action (tested elsewhere)")
    env = _env(mode)
    where = "replenish" if field == "replenish" else "transfer to 'B'"
    with pytest.raises(InvalidActionError,
                       match=rf"warehouse 'A': {re.escape(where)} = .* is not allowed; allowed: a whole number"):
        env.step({"A": _form(form, field, value), "B": {}})
    assert env.core.t == 0 and env.core.on_hand.tolist() == [[100, 150]]  # nothing happened


@pytest.mark.parametrize("mode", ["raise", "clip"])
@pytest.mark.parametrize("value", [math.nan, 2.5])
@pytest.mark.parametrize("field", ["replenish", "transfer"])
def test_batch_step_rejects_nan_and_fractions_naming_the_warehouse(mode, value, field):
    core = BatchCore(two_warehouses(invalid=mode), 2)
    core.reset(seed=0)
    q, x = np.zeros((2, 2)), np.zeros((2, 2, 2))
    if field == "replenish":
        q[1, 1] = value
        where = "warehouse 'B' (copy 1): replenish"
    else:
        x[1, 1, 0] = value
        where = "warehouse 'B' (copy 1): transfer to 'A'"
    with pytest.raises(InvalidActionError, match=rf"{re.escape(where)} = {value} is not allowed; allowed: a whole"):
        core.step(q, x)
    assert core.t == 0


@pytest.mark.parametrize("value", ["5", True, 2.7, 1e30, None])
def test_discrete_actions_must_be_whole_indices(value):
    env = MultiWarehouseEnv(two_warehouses(invalid="clip", order_grid=(0, 50, 100), transfer_grid=(0, 20)))
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"warehouse 'A': discrete action = .* is not allowed; allowed: a whole"):
        env.step({"A": value, "B": 0})
    assert env.core.t == 0


# ------------------------------------------------------------------ too large: the message shows the value given
def _shown(value) -> str:
    """The value as the message may show it: as given, or -- a whole float that fits int64, which the
    per-step API parses into an int64 array -- as that int (9007199254740992.0 or 9007199254740992)."""
    if isinstance(value, float) and math.isfinite(value) and abs(value) < 2.0**63:
        return f"(?:{re.escape(str(value))}|{int(value)})"
    return re.escape(str(float(value)) if isinstance(value, float) else str(value))


@pytest.mark.parametrize("form", ["dict", "list"])
@pytest.mark.parametrize("value", HUGE_UP + HUGE_DOWN)
def test_raise_mode_rejects_a_huge_order_showing_the_value_given(form, value):
    env = _env("raise")
    with pytest.raises(InvalidActionError, match=rf"warehouse 'A': replenish = {_shown(value)} is not allowed"):
        env.step({"A": _form(form, "replenish", value), "B": {}})
    assert env.core.t == 0


@pytest.mark.parametrize("q", [np.array([[1e30, 0.0]]), np.array([[np.inf, 0.0]]),
                               np.array([[2**70, 0]], dtype=object), np.array([[2**64 - 1, 0]], dtype=np.uint64)])
def test_raise_mode_batch_message_shows_the_value_given(q):
    core = BatchCore(two_warehouses(), 1)
    core.reset(seed=0)
    with pytest.raises(InvalidActionError, match=rf"warehouse 'A': replenish = {re.escape(str(q[0, 0]))} is not allowed"):
        core.step(q, np.zeros((1, 2, 2), dtype=np.int64))


@pytest.mark.parametrize("value", [1e30, math.inf, 2**70])
def test_raise_mode_rejects_a_huge_transfer_showing_the_value_given(value):
    env = _env("raise")
    with pytest.raises(InvalidActionError, match=rf"total transfer out = {_shown(value)} is not allowed"):
        env.step({"A": {"transfer": {"B": value}}, "B": {}})


# ------------------------------------------------------------------ clip mode: too large becomes the maximum
@pytest.mark.parametrize("form", ["dict", "list", "batch"])
@pytest.mark.parametrize("value", HUGE_UP + HUGE_DOWN)
def test_clip_mode_caps_a_huge_order_at_max_order_on_every_path(form, value):
    """1e30, inf or 2**70 units ordered become max_order (300), -1e30 or -inf become 0; the env (lean
    path or not) and the batch step play the same day."""
    cfg = two_warehouses(invalid="clip")
    ref = BatchCore(cfg, 1)
    ref.reset(seed=0)
    want = 300 if value > 0 else 0
    res = ref.step(np.array([[value, 7]], dtype=object), np.zeros((1, 2, 2), dtype=np.int64))
    assert res.ordered.tolist() == [[want, 7]] and res.clipped.tolist() == [[True, False]]
    if form == "batch":
        dtype = float if isinstance(value, float) else object
        other = BatchCore(cfg, 1)
        other.reset(seed=0)
        _same_day(other.step(np.array([[value, 7]], dtype=dtype), np.zeros((1, 2, 2))), res)
        return
    env = _env("clip")
    _, _, _, _, info = env.step({"A": _form(form, "replenish", value), "B": {"replenish": 7}})
    assert info["A"]["ordered"] == want and info["A"]["clipped"] is True
    _same_day(env.last_result, res)
    assert env.core.conservation_gap().tolist() == [0]


@pytest.mark.parametrize("value", [1e30, math.inf, 2**70, 2**64 - 1])
def test_clip_mode_ships_what_is_on_hand_for_a_huge_transfer(value):
    cfg = two_warehouses(invalid="clip")
    env = _env("clip")
    _, _, _, _, info = env.step({"A": {"transfer": {"B": value}}, "B": {}})
    assert info["A"]["shipped_out"] == 100 and info["A"]["clipped"] is True
    ref = BatchCore(cfg, 1)
    ref.reset(seed=0)
    _same_day(env.last_result, ref.step(np.zeros((1, 2)), np.array([[[0, value], [0, 0]]], dtype=object)))
    assert env.core.conservation_gap().tolist() == [0]


@settings(max_examples=150, deadline=None)
@given(value=st.one_of(st.integers(-(2**80), 2**80), st.floats(min_value=2.0**53, allow_infinity=True),
                       st.floats(max_value=-(2.0**53), allow_infinity=True), st.integers(-50, 400).map(float)),
       mode=st.sampled_from(["raise", "clip"]), batch=st.booleans())
def test_any_whole_order_is_clipped_or_rejected_as_documented(value, mode, batch):
    """Whatever whole number (or infinity) is ordered: with "clip" the day orders
    ``min(max(value, 0), max_order)``; with "raise" an order outside [0, max_order] is an error whose
    message shows the value, and one inside is played as given."""
    cfg = two_warehouses(invalid=mode)
    if batch:
        core = BatchCore(cfg, 1)
        core.reset(seed=1)
        step = lambda: core.step(np.array([[value, 0]], dtype=object), np.zeros((1, 2, 2), dtype=np.int64))  # noqa: E731
    else:
        env = MultiWarehouseEnv(cfg)
        env.reset(seed=1)
        core = env.core
        step = lambda: env.step({"A": {"replenish": value}, "B": {}}) and env.last_result  # noqa: E731
    inside = 0 <= value <= 300
    if mode == "raise" and not inside:
        with pytest.raises(InvalidActionError, match=rf"replenish = {_shown(value)} is not allowed"):
            step()
        assert core.t == 0
        return
    res = step()
    assert res.ordered[0, 0] == min(max(value, 0), 300)
    assert bool(res.clipped[0, 0]) is (not inside)
    assert core.conservation_gap().tolist() == [0]


# ------------------------------------------------------------------ int64 transfers whose sum wraps around
@pytest.mark.parametrize("mode", ["raise", "clip"])
def test_transfers_whose_int64_sum_wraps_are_not_let_through(mode):
    """B (two neighbours) ships 2**62 units to A and to C: the int64 row sum wraps to -2**63, which the
    earlier check took for 'less than on hand'. Now raise mode rejects it and clip mode ships what B has."""
    cfg = dataclasses.replace(three_warehouses(grids=False), invalid_action=mode)
    core = BatchCore(cfg, 1)
    core.reset(seed=0)
    x = np.zeros((1, 3, 3), dtype=np.int64)
    x[0, 1, 0] = x[0, 1, 2] = 2**62
    q = np.zeros((1, 3), dtype=np.int64)
    if mode == "raise":
        with pytest.raises(InvalidActionError, match=r"warehouse 'B': total transfer out = 9223372036854775808 is not"):
            core.step(q, x)
        return
    res = core.step(q, x)
    assert res.shipped_out[0].tolist() == [0, 60, 0] and res.clipped[0].tolist() == [False, True, False]
    assert res.overflow.sum() == 0 and core.conservation_gap().tolist() == [0]
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    env.step({"A": np.array([0, 0]), "B": np.array([0, 2**62, 2**62]), "C": np.array([0, 0])})
    _same_day(env.last_result, res)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint8, np.uint16, np.uint64, np.float16, np.float32, object])
def test_every_numeric_dtype_plays_the_same_day(dtype):
    """Small and unsigned integer arrays, float arrays and object arrays of whole numbers (also a
    broadcast, non-contiguous view) play exactly the day the int64 action plays."""
    cfg = three_warehouses(grids=False)
    q = np.array([[5, 7, 0], [0, 3, 9]])
    x = np.zeros((2, 3, 3), dtype=np.int64)
    x[:, 1, 0], x[:, 1, 2], x[1, 2, 1] = 4, 6, 2
    days = []
    for qq, xx in ((q, x), (q.astype(dtype), x.astype(dtype)),
                   (np.broadcast_to(q.astype(dtype)[:, None], (2, 2, 3))[:, 0], x.astype(dtype)[:, :, ::-1][:, :, ::-1])):
        core = BatchCore(cfg, 2)
        core.reset(seed=5)
        days.append(core.step(qq, xx))
    _same_day(days[1], days[0])
    _same_day(days[2], days[0])
