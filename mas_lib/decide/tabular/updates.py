"""The Q-learning update and epsilon-greedy choice (paper 3.1.2, 4.4; notebook 05).

After every day a learner moves its table entry for the pair it tried towards the one-day target:

.. math:: Q(s,a) \\leftarrow Q(s,a) + \\alpha \\big(r + \\gamma \\max_{a'} Q(s',a') - Q(s,a)\\big).

:func:`q_update` is that line for one pair (for reading); :func:`batch_q_update` applies many
at once (the vectorised learner's core); :func:`epsilon_greedy` picks an action for one state.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["q_update", "batch_q_update", "epsilon_greedy"]


def q_update(q: float, reward: float, next_values, gamma: float, alpha: float) -> float:
    """One textbook Q-learning update (Watkins & Dayan 1992; paper 4.4; notebook 05):
    ``q + alpha * (reward + gamma * max(next_values) - q)``. ``q``, ``reward`` and
    ``next_values`` share one unit (money, or the paper's reward); ``gamma`` and ``alpha`` are
    dimensionless."""
    target = reward + gamma * float(np.max(next_values))
    return q + alpha * (target - q)


def epsilon_greedy(
    q_row: np.ndarray, epsilon: float, rng: np.random.Generator, feasible: np.ndarray | None = None
) -> int:
    """Pick an action index for one state (paper 4.4; notebook 05): with probability ``epsilon``
    a uniformly random feasible action, otherwise the greedy one (the first maximiser).
    ``feasible`` defaults to the finite entries of ``q_row`` (infeasible actions hold ``-inf``).
    Consumes two uniforms from ``rng``."""
    q_row = np.asarray(q_row, dtype=float)
    ok = np.isfinite(q_row) if feasible is None else np.asarray(feasible, dtype=bool)
    explore, pick = rng.random(2)
    if explore < epsilon:
        idx = np.flatnonzero(ok)
        return int(idx[int(pick * idx.size)])
    return int(np.argmax(np.where(ok, q_row, -np.inf)))


def batch_q_update(
    table: np.ndarray,
    visits: np.ndarray,
    states: np.ndarray,
    actions: np.ndarray,
    targets: np.ndarray,
    alpha_fn: Callable[[np.ndarray], np.ndarray],
) -> None:
    """Apply many Q-learning updates at once, in place (paper 4.4; notebook 05; the core of
    :func:`~mas_lib.decide.tabular.training.train`).

    ``table`` is ``(states, actions)``; ``visits`` the same shape, counting samples per pair.
    ``targets`` (one per transition, ``r + gamma * max Q(s', .)``, in the table's unit) are
    computed from the table *before* this batch. Transitions that hit the same pair ``(s, a)``
    are merged: the pair moves towards the **mean** of their targets with the step
    ``1 - prod_j (1 - alpha(n + j))``, which is exactly what ``k`` one-at-a-time updates would do
    if the ``k`` targets were equal (for ``alpha = 1/n`` it is the running average over all
    samples, ``k / (n + k)``). A pair hit once gets the textbook update bit for bit.
    ``alpha_fn`` maps visit counts (this visit included) to learning rates.
    """
    A = table.shape[1]
    key = states.astype(np.int64) * A + actions.astype(np.int64)
    if key.size == 0:
        return
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first = np.empty(ks.size, dtype=bool)
    first[0] = True
    np.not_equal(ks[1:], ks[:-1], out=first[1:])
    gid = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    uniq = ks[first]
    counts = np.diff(np.append(starts, ks.size))
    flat_q = table.reshape(-1)
    flat_n = visits.reshape(-1)
    rank = np.arange(ks.size) - starts[gid] + 1
    alphas = alpha_fn(flat_n[uniq][gid] + rank)
    mean_target = np.bincount(gid, weights=targets[order], minlength=uniq.size) / counts
    if np.all(counts == 1):
        step = alphas
    else:
        with np.errstate(divide="ignore"):
            logs = np.log1p(-np.minimum(alphas, 1.0))
        step = np.where(counts == 1, alphas[starts], 1.0 - np.exp(np.bincount(gid, weights=logs, minlength=uniq.size)))
    q = flat_q[uniq]
    flat_q[uniq] = q + step * (mean_target - q)
    flat_n[uniq] += counts
