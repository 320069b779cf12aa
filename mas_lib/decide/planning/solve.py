r"""The exact optimum of an :class:`~.model.MDPModel`: value iteration and policy iteration (notebooks 05, 06).

Both minimise the expected discounted cost :math:`v(s) = \min_a [c(s,a) + \gamma\, E\, v(s')]`
[money]. Policy iteration (Howard) evaluates each policy exactly and stops when the greedy
improvement no longer changes it -- an exactly optimal policy in a few iterations; value
iteration repeats the Bellman update until the values are within a tolerance of optimal. The
expectation runs through the post-decision state (:meth:`MDPModel.continuation`), one sparse
product per warehouse. Paper sections 3.1.2 and 4.5: the optimum is the yardstick the paper's
Q-learning lacks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...validation import check_number, check_whole
from .dynamics import rows_for_actions, transition_matrix
from .evaluate import PolicyValue, TabularPolicy, evaluate_actions, solve_linear
from .model import MDPModel

__all__ = ["Solution", "value_iteration", "policy_iteration"]


@dataclass
class Solution(PolicyValue):
    """An optimal policy (a :class:`~.evaluate.PolicyValue` [money, money/day]) plus how it was
    found: ``policy`` (= ``actions``, the joint action index per state), ``iterations``,
    ``seconds`` [s], ``method`` (``"value iteration"`` / ``"policy iteration"``).
    """

    iterations: int = 0
    method: str = ""
    model: MDPModel | None = field(default=None, repr=False)

    @property
    def policy(self) -> np.ndarray:
        """The optimal joint action index of every state."""
        return self.actions

    def summary(self) -> pd.Series:
        """:meth:`PolicyValue.summary` plus how the optimum was found (``iterations``; the method is
        the series' name, e.g. ``"optimal (policy iteration)"``)."""
        out = super().summary()
        out["iterations"] = self.iterations
        out.name = f"optimal ({self.method})" if self.method else self.name
        return out

    def policy_object(self) -> TabularPolicy:
        """A :class:`mas_lib.decide.policies.Policy` (a :class:`~.evaluate.TabularPolicy`) that
        plays this solution in the simulator."""
        return TabularPolicy(self.model, self.actions, name=f"optimal ({self.method})")


def _needs_pairs(model: MDPModel, solver: str) -> None:
    """A clear error for a solver called on an evaluation-only model."""
    if model.cost_sa is None:
        raise ValueError(f"{solver}: this model was built with with_pairs=False (evaluation only); allowed: a model "
                         "built with with_pairs=True (the default), which holds every state-action pair")


def _greedy(model: MDPModel, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The greedy action of every state for ``values`` and its Q-value [money]."""
    W = model.continuation(values)
    Q = model.cost_sa + model.gamma * W[model.z_sa]
    a = Q.argmin(axis=1)
    return a, Q[np.arange(model.n_states), a]


def _solution(model: MDPModel, actions: np.ndarray, method: str, iterations: int, t0: float) -> Solution:
    pv = evaluate_actions(model, actions, name=f"optimal ({method})")
    return Solution(**{**pv.__dict__, "seconds": time.perf_counter() - t0}, iterations=iterations,
                    method=method, model=model)


def value_iteration(model: MDPModel, tol: float = 1e-6, max_iter: int = 100_000) -> Solution:
    """Value iteration ``v <- min_a [c(s,a) + gamma E v(s')]`` until the sup-norm change times
    ``gamma / (1 - gamma)`` is below ``tol`` [money], so the values are within ``tol`` of optimal
    (at most ``max_iter`` sweeps). The returned policy is greedy with respect to the last values
    and is evaluated exactly. Notebook 06 (compared with policy iteration); paper section 4.5."""
    tol = check_number(tol, "value_iteration.tol", low=0.0, low_inclusive=False, unit="money")
    max_iter = check_whole(max_iter, "value_iteration.max_iter", low=1)
    _needs_pairs(model, "value_iteration")
    t0 = time.perf_counter()
    v = np.zeros(model.n_states)
    g = model.gamma
    it = 0
    while it < max_iter:
        it += 1
        _, new = _greedy(model, v)
        delta = np.max(np.abs(new - v))
        v = new
        if delta * g / (1 - g) < tol:
            break
    actions, _ = _greedy(model, v)
    return _solution(model, actions, "value iteration", it, t0)


def policy_iteration(model: MDPModel, max_iter: int = 1000) -> Solution:
    """Howard's policy iteration: evaluate the policy exactly (a sparse linear solve), improve it
    greedily (keeping the current action unless another is better by more than 1e-9 relative),
    stop when it no longer changes (at most ``max_iter`` rounds) -- an exactly optimal policy in a
    few iterations. Values in money, ``daily_cost`` in money/day. Notebooks 05 and 06,
    ``benchmarks/bench_policies.py``; paper section 4.5."""
    max_iter = check_whole(max_iter, "policy_iteration.max_iter", low=1)
    _needs_pairs(model, "policy_iteration")
    t0 = time.perf_counter()
    actions, _ = _greedy(model, np.zeros(model.n_states))
    it = 0
    while it < max_iter:
        it += 1
        _, cost, y, r, pn = rows_for_actions(model, actions)
        v = solve_linear(model, transition_matrix(model, y, r, pn), cost, model.gamma)
        best, qbest = _greedy(model, v)
        qcur = (model.cost_sa + model.gamma * model.continuation(v)[model.z_sa])[np.arange(model.n_states), actions]
        better = qbest < qcur - 1e-9 * np.maximum(1.0, np.abs(qcur))
        if not better.any():
            break
        actions = np.where(better, best, actions)
    return _solution(model, actions, "policy iteration", it, t0)
