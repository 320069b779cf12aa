"""The numpy network layer of mas_lib.decide.deep: gradients checked against finite
differences, softmax and its masks, Adam, clipping, NaN detection and checked .npz files."""

from __future__ import annotations

import numpy as np
import pytest
from factories import npz_damages
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib.decide.deep.nn import (
    MLP,
    Adam,
    NonFiniteError,
    WeightsMismatchError,
    check_finite,
    clip_by_norm,
    log_softmax,
    softmax,
)
from mas_lib.decide.deep.pg import gae, policy_gradient_logits


def _numeric_grads(f, params, h=1e-6):
    out = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = f()
            p[idx] = old - h
            down = f()
            p[idx] = old
            g[idx] = (up - down) / (2 * h)
        out.append(g)
    return out


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_backward_matches_finite_differences(activation):
    net = MLP([3, 5, 4, 2], activation, seed=1)
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))

    def loss():
        return float(np.sum(net(x) * w) + 0.5 * np.sum(net(x) ** 2))

    y, cache = net.forward(x)
    analytic = net.backward(w + y, cache)
    numeric = _numeric_grads(loss, net.params)
    for a, n in zip(analytic, numeric, strict=True):
        assert a.shape == n.shape
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)


def test_policy_gradient_of_masked_softmax_matches_finite_differences():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 5))
    mask = np.array([[1, 1, 0, 1, 1], [1, 0, 0, 0, 1], [1, 1, 1, 1, 1], [0, 1, 1, 0, 0]], bool)
    a = np.array([0, 4, 2, 1])
    w = rng.normal(size=4)

    def loss():
        return float(-np.mean(w * log_softmax(z, mask)[np.arange(4), a]))

    g = policy_gradient_logits(z, mask, a, w)
    np.testing.assert_allclose(g, _numeric_grads(loss, [z])[0], atol=1e-7)
    assert np.all(g[~mask] == 0)


def test_softmax_masks_and_is_stable():
    z = np.array([[1000.0, 1001.0, 0.0], [1.0, 2.0, 3.0]])
    p = softmax(z, np.array([[True, True, False], [False, True, True]]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[0, 2] == 0 and p[1, 0] == 0 and np.all(np.isfinite(p))
    np.testing.assert_allclose(p[0, :2], np.exp([0, 1]) / np.exp([0, 1]).sum())
    with pytest.raises(ValueError, match="no allowed action"):
        softmax(z, np.zeros((2, 3), bool))


def test_adam_minimises_a_quadratic_and_clipping_bounds_the_norm():
    w = np.array([5.0, -3.0])
    opt = Adam([w], lr=0.1)
    for _ in range(500):
        opt.step([2 * (w - 1.0)])
    np.testing.assert_allclose(w, 1.0, atol=1e-2)
    grads, norm = clip_by_norm([np.array([3.0]), np.array([4.0])], 1.0)
    assert norm == pytest.approx(5.0)
    assert np.sqrt(sum(float(g @ g) for g in grads)) == pytest.approx(1.0)
    same, _ = clip_by_norm([np.array([0.3])], 1.0)
    assert same[0][0] == 0.3


def test_gae_with_lambda_one_and_no_bootstrap_is_the_discounted_return():
    r = np.array([[1.0], [2.0], [3.0]])
    v = np.zeros((3, 1))
    adv = gae(r, v, np.zeros((3, 1)), np.array([False, False, True]), 0.5, 1.0)
    np.testing.assert_allclose(adv[:, 0], [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])
    # a cut in the middle stops the sum there (truncated episode: bootstrap instead)
    adv = gae(r, v, np.array([[0.0], [10.0], [0.0]]), np.array([False, True, True]), 0.5, 1.0)
    np.testing.assert_allclose(adv[:, 0], [1 + 0.5 * (2 + 5), 2 + 5, 3])


def test_nan_is_reported_with_the_step():
    check_finite([np.ones(3)], "weights", step=4)
    with pytest.raises(NonFiniteError, match=r"rewards has 1 non-finite value.*training step 17"):
        check_finite(np.array([1.0, np.nan]), "rewards", step=17)


def test_wrong_input_shape_is_a_clear_error():
    net = MLP([4, 8, 3])
    with pytest.raises(ValueError, match=r"input shape = \(2, 5\).*\(rows, 4\)"):
        net(np.zeros((2, 5)))


def test_save_load_roundtrip_and_mismatch(tmp_path):
    net = MLP([4, 8, 3], seed=2)
    path = net.save(tmp_path / "q.npz", instance="paper")
    other = MLP([4, 8, 3], seed=9).load(path, instance="paper")
    for a, b in zip(net.params, other.params, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(WeightsMismatchError, match=r"sizes = \[4, 8, 3\].*sizes = \[4, 16, 3\]"):
        MLP([4, 16, 3]).load(path)
    with pytest.raises(WeightsMismatchError, match="activation"):
        MLP([4, 8, 3], activation="tanh").load(path)
    with pytest.raises(WeightsMismatchError, match="instance = 'paper'"):
        MLP([4, 8, 3]).load(path, instance="cross_border")
    net.params[0][0, 0] = np.nan
    bad = net.save(tmp_path / "bad.npz")
    with pytest.raises(NonFiniteError, match="non-finite"):
        MLP([4, 8, 3]).load(bad)
    # no pickle: the file holds plain arrays only
    with np.load(path, allow_pickle=False) as f:
        assert set(f.files) == {"header", "p0", "p1", "p2", "p3"}


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="MLP.activation"):
        MLP([2, 2], activation="sigmoid")
    with pytest.raises(ValueError, match="at least an input and an output"):
        MLP([2])


# ------------------------------------------------------------------ loading checked files
def _saved(tmp_path, name="w.npz", dtype="float64", **changes):
    """A saved [4, 8, 3] network whose arrays ``changes`` replace (``None`` drops one)."""
    import json

    net = MLP([4, 8, 3], seed=2, dtype=dtype)
    arrays = {"header": np.array(json.dumps({**net.signature(), "meta": {}}))}
    arrays |= {f"p{k}": p for k, p in enumerate(net.params)}
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_load_checks_finiteness_after_conversion_to_the_networks_dtype(tmp_path):
    """1e300 is finite in float64 but inf in float32: refused by a float32 network, naming the
    file, the array and the range; a float64 network loads it."""
    net = MLP([4, 8, 3], seed=2)
    net.params[2][1, 2] = 1e300
    path = net.save(tmp_path / "big.npz")
    assert MLP([4, 8, 3]).load(path).params[2][1, 2] == 1e300
    with pytest.raises(NonFiniteError, match=r"big\.npz.*p2.*1e\+300.*float32"):
        MLP([4, 8, 3], dtype="float32").load(path)


@pytest.mark.parametrize("array, dtype_text", [
    (np.ones((4, 8)) * (1 + 1j), "complex128"),
    (np.ones((4, 8), dtype=bool), "bool"),
    (np.array(["a"] * 32).reshape(4, 8), "<U1"),
])
def test_load_refuses_weights_that_are_not_real_numbers(tmp_path, array, dtype_text):
    path = _saved(tmp_path, p0=array)
    with pytest.raises(WeightsMismatchError, match=rf"w\.npz.*p0.*{dtype_text}.*real numbers"):
        MLP([4, 8, 3]).load(path)


def test_load_accepts_whole_number_weights(tmp_path):
    path = _saved(tmp_path, p1=np.arange(8, dtype=np.int64))
    assert MLP([4, 8, 3]).load(path).params[1].tolist() == list(range(8))


@given(value=st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=40, deadline=None)
def test_a_loaded_network_is_finite_or_refused(tmp_path_factory, value):
    """Whatever number a file holds, a float32 network either loads it exactly as float32 and
    stays finite, or refuses it with an error naming the array."""
    net = MLP([4, 8, 3], seed=1)
    net.params[0][0, 0] = value
    path = net.save(tmp_path_factory.mktemp("w") / "v.npz")
    small = MLP([4, 8, 3], dtype="float32")
    try:
        small.load(path)
    except NonFiniteError as err:
        with np.errstate(over="ignore"):
            assert "p0" in str(err) and not np.isfinite(np.float32(value))
    else:
        assert small.params[0][0, 0] == np.float32(value) and all(np.isfinite(p).all() for p in small.params)


@pytest.mark.parametrize("corrupt, problem", npz_damages(100, 30, b"not a zip at all"))
def test_damaged_weight_files_are_clear_errors(tmp_path, corrupt, problem):
    path = MLP([4, 8, 3]).save(tmp_path / "w.npz")
    corrupt(path)
    with pytest.raises(WeightsMismatchError, match=rf"w\.npz.*{problem}"):
        MLP([4, 8, 3]).load(path)


@pytest.mark.parametrize("changes, problem", [
    ({"p1": None}, r"missing arrays = \['p1'\]"),
    ({"header": None}, r"missing arrays = \['header'\]"),
    ({"header": np.array("{not json")}, "header = '{not json' is not allowed; allowed: a JSON object"),
    ({"header": np.array("[1, 2]")}, "header = '.1, 2.' is not allowed; allowed: a JSON object"),
    ({"header": np.arange(3.0)}, r"header = .* is not allowed; allowed: a JSON object"),
    ({"p0": np.zeros((4, 9))}, r"shapes"),
    ({"p0": np.zeros(())}, r"shapes"),
])
def test_weight_files_with_a_missing_or_bad_array_are_clear_errors(tmp_path, changes, problem):
    path = _saved(tmp_path, **changes)
    with pytest.raises(WeightsMismatchError, match=rf"w\.npz.*{problem}"):
        MLP([4, 8, 3]).load(path)


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_flipped_bytes_load_or_raise_a_clear_error(tmp_path_factory, data):
    """Flip a few bytes anywhere: the load either succeeds (a byte the format does not check,
    e.g. a time stamp) with finite weights of the right shapes, or raises an error naming the file."""
    path = MLP([4, 8, 3], seed=3).save(tmp_path_factory.mktemp("f") / "w.npz")
    raw = bytearray(path.read_bytes())
    for at in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=3)):
        raw[at] ^= data.draw(st.integers(1, 255))
    path.write_bytes(bytes(raw))
    net = MLP([4, 8, 3])
    try:
        net.load(path)
    except (WeightsMismatchError, NonFiniteError) as err:
        assert "w.npz" in str(err)
    else:
        assert all(np.isfinite(p).all() for p in net.params)


def test_save_goes_through_atomic_write(tmp_path, monkeypatch):
    """A save that fails half way keeps the previous file and leaves no temporary; the next save
    removes the temporary a killed writer left (mas_lib.files.atomic_write)."""
    import mas_lib.decide.deep.nn as nn_module

    path = MLP([4, 8, 3], seed=2).save(tmp_path / "q.npz")
    good = path.read_bytes()

    def broken_savez(file, **arrays):
        (open(file, "wb") if isinstance(file, (str, bytes)) or hasattr(file, "__fspath__") else file).write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(nn_module.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        MLP([4, 8, 3], seed=5).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["q.npz"]
    dead = tmp_path / f".q.npz.{2**22 + 7}-abcd1234.tmp"  # a killed writer's temporary (no such pid)
    dead.write_bytes(b"x" * 1000)
    MLP([4, 8, 3], seed=5).save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.npz"]
    np.testing.assert_array_equal(MLP([4, 8, 3]).load(path).params[0], MLP([4, 8, 3], seed=5).params[0])
