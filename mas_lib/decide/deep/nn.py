"""A small neural-network layer in numpy, every gradient written out (paper 3.1.2(4); notebook 09).

No deep-learning framework: the point is to see each gradient. One idea per class or function:

* :class:`MLP` -- dense layers with ReLU or tanh between them; ``forward`` keeps what ``backward``
  needs, ``backward`` returns the gradient of every weight (checked against finite differences in
  ``tests/test_deep_nn.py``); He/Xavier initialisation from a seed;
* :func:`softmax`, :func:`log_softmax` -- with an optional mask of allowed entries;
* :class:`Adam` and :func:`clip_by_norm` -- the optimiser and global-norm gradient clipping;
* :func:`check_finite` -- NaN/inf detection that names the step where it appeared;
* :meth:`MLP.save` / :meth:`MLP.load` -- ``.npz`` without pickle, written atomically, refusing
  damaged files, weights saved for another network and weights the network's dtype cannot hold.

Shapes: a batch of ``M`` inputs is ``(M, sizes[0])``; outputs are ``(M, sizes[-1])``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ...files import atomic_write, file_refusal, npz_json, read_npz
from ...validation import check_choice, check_number, check_whole

__all__ = [
    "single_thread", "MLP", "Adam", "softmax", "log_softmax", "clip_by_norm", "check_finite", "NonFiniteError",
    "WeightsMismatchError", "ACTIVATIONS",
]

ACTIVATIONS = ("relu", "tanh")
FORMAT = "mas_lib.deep.MLP/1"


def single_thread():
    """A context in which BLAS uses one thread: the networks here are small, and on a shared
    2-core machine BLAS threads only contend (measured: a 128 x 128 by 128 x 1,936 product takes
    1.4 ms of CPU on one thread, 15 ms with the default threads under load). Every trainer runs
    in it; a no-op if ``threadpoolctl`` is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class NonFiniteError(FloatingPointError):
    """A NaN or an infinity appeared in weights, gradients, losses or rewards; the message names
    what and the training step where it was first seen."""


class WeightsMismatchError(ValueError):
    """Weights loaded from a file do not fit the network: the file is damaged or not an MLP file,
    was saved for another network (sizes, activation or format differ) or holds arrays of the
    wrong dtype or shape. The message names the file and what is wrong."""


def check_finite(value, what: str, step: int) -> None:
    """Raise :class:`NonFiniteError` naming ``what`` and ``step`` if ``value`` (an array or a list
    of arrays) holds a NaN or an infinity. Called by the trainers on rewards, losses and weights
    every step (notebook 09)."""
    arrays = value if isinstance(value, (list, tuple)) else [value]
    for k, a in enumerate(arrays):
        a = np.asarray(a)
        if not np.all(np.isfinite(a)):
            bad = int(np.size(a) - np.isfinite(a).sum())
            part = f"{what}[{k}]" if len(arrays) > 1 else what
            raise NonFiniteError(
                f"{part} has {bad} non-finite value(s) (NaN or inf) at training step {step}; "
                "lower the learning rate, clip gradients harder or check the rewards"
            )


def softmax(logits: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Row-wise softmax of ``(M, K)`` logits; entries where ``mask`` is False get probability 0
    (every row needs at least one allowed entry). Notebook 09."""
    return np.exp(log_softmax(logits, mask))


def log_softmax(logits: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Row-wise log-softmax, numerically stable (the max is subtracted first); masked entries get
    ``-inf``. Notebook 09."""
    z = np.asarray(logits, dtype=np.float64)
    if mask is not None:
        if not np.all(np.any(mask, axis=-1)):
            raise ValueError("mask leaves a row with no allowed action; allowed: at least one True per row")
        z = np.where(mask, z, -np.inf)
    m = np.max(z, axis=-1, keepdims=True)
    out = z - m
    return out - np.log(np.sum(np.exp(out), axis=-1, keepdims=True))


def clip_by_norm(grads: list[np.ndarray], max_norm: float | None) -> tuple[list[np.ndarray], float]:
    """Scale all gradients together so that their global L2 norm is at most ``max_norm``
    (``None``: unchanged). Returns ``(grads, norm before clipping)``. Notebook 09."""
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))
    if max_norm is None or norm <= max_norm or norm == 0.0:
        return grads, norm
    s = max_norm / norm
    return [g * s for g in grads], norm


class Adam:
    """Adam (Kingma & Ba 2015) on a list of parameter arrays, updated in place.

    ``lr`` step size, ``betas`` the decay of the first and second moment estimates, ``eps`` added
    to the root of the second moment. Notebook 09.
    """

    def __init__(self, params: list[np.ndarray], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.lr = check_number(lr, "Adam.lr", low=0.0, low_inclusive=False)
        self.b1, self.b2 = (check_number(b, "Adam.betas", low=0.0, high=1.0, high_inclusive=False) for b in betas)
        self.eps = eps
        self.params = params
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[np.ndarray]) -> None:
        """One update ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` of every parameter (in place)."""
        self.t += 1
        c1, c2 = 1.0 - self.b1 ** self.t, 1.0 - self.b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


class MLP:
    """A multi-layer perceptron ``sizes[0] -> ... -> sizes[-1]``: dense layers with ``activation``
    between them and a linear output (paper 3.1.2(4); notebook 09).

    ``dtype`` ``"float64"`` (exact gradient checks) or ``"float32"`` (twice as fast; the trainers).
    Weights ``W_k (sizes[k], sizes[k+1])`` start He-normal for ReLU, Xavier-normal for tanh (the
    last layer scaled by ``out_scale``: small outputs at the start), biases at 0. ``params`` is the
    flat list ``[W_0, b_0, W_1, b_1, ...]`` that :class:`Adam` updates in place.
    """

    def __init__(self, sizes: list[int] | tuple[int, ...], activation: str = "relu", seed: int = 0,
                 out_scale: float = 1.0, dtype: str = "float64"):
        if len(sizes) < 2:
            raise ValueError(f"MLP.sizes = {list(sizes)!r} is not allowed; allowed: at least an input and an output size")
        self.sizes = tuple(check_whole(s, "MLP.sizes", low=1) for s in sizes)
        self.activation = check_choice(activation, "MLP.activation", ACTIVATIONS)
        self.dtype = np.dtype(check_choice(dtype, "MLP.dtype", ("float32", "float64")))
        rng = np.random.default_rng(seed)
        self.params: list[np.ndarray] = []
        n = len(self.sizes) - 1
        for k in range(n):
            fan_in, fan_out = self.sizes[k], self.sizes[k + 1]
            std = np.sqrt(2.0 / fan_in) if activation == "relu" else np.sqrt(2.0 / (fan_in + fan_out))
            if k == n - 1:
                std *= out_scale
            self.params += [rng.normal(0.0, std, (fan_in, fan_out)).astype(self.dtype), np.zeros(fan_out, self.dtype)]

    # ----------------------------------------------------------------- passes
    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(
                f"network input shape = {x.shape} is not allowed; allowed: (rows, {self.sizes[0]}) "
                f"(this network takes {self.sizes[0]} features)"
            )
        return x

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Outputs ``(M, sizes[-1])`` and the cache of layer inputs that :meth:`backward` needs."""
        h = self._check_input(x)
        cache = [h]
        n = len(self.sizes) - 1
        for k in range(n):
            h = h @ self.params[2 * k] + self.params[2 * k + 1]
            if k < n - 1:
                h = np.maximum(h, 0.0) if self.activation == "relu" else np.tanh(h)
                cache.append(h)
        return h, cache

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Outputs only (no cache kept)."""
        return self.forward(x)[0]

    def backward(self, dout: np.ndarray, cache: list[np.ndarray]) -> list[np.ndarray]:
        """Gradients of a scalar loss w.r.t. every parameter, given ``dout = dLoss/dOutputs``
        ``(M, sizes[-1])``; same order as :attr:`params`. Chain rule layer by layer:
        ``dW = h^T d``, ``db = sum_rows d``, ``dh = d W^T`` times the activation's slope."""
        grads: list[np.ndarray] = [np.empty(0)] * len(self.params)
        d = np.asarray(dout, dtype=self.dtype)
        for k in range(len(self.sizes) - 2, -1, -1):
            h = cache[k]
            grads[2 * k] = h.T @ d
            grads[2 * k + 1] = d.sum(axis=0)
            if k > 0:
                d = d @ self.params[2 * k].T
                d = d * (h > 0) if self.activation == "relu" else d * (1.0 - h * h)
        return grads

    # ----------------------------------------------------------------- copies and files
    def copy(self) -> MLP:
        """An independent copy (a target network)."""
        new = MLP.__new__(MLP)
        new.sizes, new.activation, new.dtype = self.sizes, self.activation, self.dtype
        new.params = [p.copy() for p in self.params]
        return new

    def load_params(self, other: MLP) -> None:
        """Copy ``other``'s weights into this network in place (target-network sync)."""
        for p, q in zip(self.params, other.params, strict=True):
            p[...] = q

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return int(sum(p.size for p in self.params))

    def signature(self) -> dict:
        """What a saved file must match: format, sizes, activation."""
        return {"format": FORMAT, "sizes": list(self.sizes), "activation": self.activation}

    def save(self, path: str | os.PathLike, **meta: str) -> Path:
        """Write the weights to ``path`` (``.npz``, no pickle) through
        :func:`mas_lib.files.atomic_write`: a temporary file renamed onto ``path``, so a killed save
        never leaves a half-written file there. ``meta`` strings (e.g. the instance name) are stored
        alongside and checked by :meth:`load`. Returns the path."""
        path = Path(path)
        header = json.dumps({**self.signature(), "meta": {k: str(v) for k, v in meta.items()}})
        arrays = {f"p{k}": p for k, p in enumerate(self.params)}
        with atomic_write(path) as fh:
            np.savez(fh, header=np.array(header), **arrays)
        return path

    def load(self, path: str | os.PathLike, **meta: str) -> MLP:
        """Read weights saved by :meth:`save` into this network (in place; returns ``self``).

        Raises :class:`WeightsMismatchError` naming the file and what is wrong if the file is
        damaged or not an MLP file (truncated, not a ``.npz``, a missing array, a header that is
        not JSON), was saved for another network (format, sizes, activation, parameter shapes or
        any ``meta`` value differ) or holds weights that are not real numbers (complex, bool or
        text arrays; whole numbers are accepted); and :class:`NonFiniteError` naming the array if
        a weight is NaN or infinite *in this network's dtype* (``1e300`` is finite in float64
        but not in float32). Loaded without pickle; nothing is changed unless every check passes."""
        path = Path(path)
        refuse = file_refusal("MLP weights file", path, WeightsMismatchError)
        names = [f"p{k}" for k in range(len(self.params))]
        stored = read_npz(path, refuse, "a .npz written by MLP.save", required=["header"])
        header = npz_json(stored, "header", refuse)
        mine = self.signature()
        for key in ("format", "sizes", "activation"):
            if header.get(key) != mine[key]:
                raise WeightsMismatchError(
                    f"weights in {str(path)!r} were saved for another network: {key} = {header.get(key)!r}; "
                    f"this network has {key} = {mine[key]!r}"
                )
        saved_meta = header.get("meta", {}) if isinstance(header.get("meta", {}), dict) else {}
        for k, v in meta.items():
            if saved_meta.get(k) != str(v):
                raise WeightsMismatchError(
                    f"weights in {str(path)!r} were saved with {k} = {saved_meta.get(k)!r}; "
                    f"expected {k} = {str(v)!r}"
                )
        missing = [n for n in names if n not in stored]
        if missing:
            raise refuse("missing arrays", missing, f"all of {names} (one per weight and bias)")
        arrays = [stored[n] for n in names]
        if any(a.shape != p.shape for a, p in zip(arrays, self.params, strict=True)):
            raise WeightsMismatchError(f"weights in {str(path)!r} have shapes {[a.shape for a in arrays]}; "
                                       f"this network needs {[p.shape for p in self.params]}")
        converted = []
        for name, a in zip(names, arrays, strict=True):
            if a.dtype.kind not in "fiu":
                raise refuse(name, f"an array of dtype {a.dtype}", "real numbers (a float or whole-number array)")
            with np.errstate(over="ignore", invalid="ignore"):
                c = a.astype(self.dtype)
            bad = ~np.isfinite(c)
            if bad.any():
                at = tuple(int(i) for i in np.argwhere(bad)[0])
                raise NonFiniteError(
                    f"MLP weights file {str(path)!r}: {name} = {int(bad.sum())} non-finite value(s) (NaN or inf in "
                    f"{self.dtype}; the first, at {at}: {float(a[at])!r}) is not allowed; allowed: finite numbers "
                    f"within the {self.dtype} range (+-{float(np.finfo(self.dtype).max):.3g})"
                )
            converted.append(c)
        for p, c in zip(self.params, converted, strict=True):
            p[...] = c
        return self
