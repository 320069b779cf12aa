"""The numpy network layer of mas_lib.decide.deep (issue 10): gradients checked against finite
differences, softmax and its masks, Adam, clipping, NaN detection and checked .npz files."""

from __future__ import annotations

import numpy as np
import pytest

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
