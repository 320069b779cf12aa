r"""Exact value of any policy on an :class:`~.model.MDPModel`, and its gap to the optimum (notebooks 05, 06).

A simulation estimates a policy's cost with noise; on the exact model a stationary policy's
expected discounted cost from every state solves one sparse linear system
:math:`(I - \gamma P_\pi) v = c_\pi`, so every policy gets a number without simulation noise.

**Criterion.** ``cost`` everywhere means the expected *discounted* total cost from the
instance's start state, :math:`v^\pi(s_0) = E[\sum_t \gamma^t c_t]`, reported per day as
:math:`(1-\gamma)\, v^\pi(s_0)` [money/day]. The **gap** of a policy is
:math:`100\,(v^\pi(s_0) - v^*(s_0)) / v^*(s_0)` percent, never negative for a policy on the
model's action grids (:math:`v^*` is optimal in every state). The long-run average cost per day
is reported alongside. Paper sections 4.4-4.5 (the paper reports simulated costs only).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...validation import check_bool, check_whole, not_allowed
from ..policies import Policy
from .dynamics import day_before_demand, grid_index, rows_for_actions, stage_cost, transition_matrix
from .model import MDPModel, NotRepresentableError

__all__ = [
    "PolicyValue",
    "TabularPolicy",
    "evaluate_policy",
    "evaluate_actions",
    "expected_episode_cost",
    "gap",
]

AVERAGE_GAMMA = 1.0 - 1e-5  # discount used for the Abel limit of the long-run average cost


@dataclass
class PolicyValue:
    """Exact value of a policy on a model (returned by :func:`evaluate_policy`).

    ``values (S,)``: expected discounted cost from every state [money]; ``start_value`` from the
    start state [money]; ``daily_cost = (1 - gamma) * start_value`` [money/day] (the criterion of
    the whole library); ``average_cost``: long-run average cost per day from the start state
    [money/day]; ``actions (S,)``: the joint action index per state (-1 if off the grid);
    ``seconds``: time taken [s].
    """

    name: str
    values: np.ndarray
    start_value: float
    daily_cost: float
    average_cost: float
    actions: np.ndarray
    seconds: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        """One row per state: ``state`` (index), ``value`` (expected discounted cost from it
        [money]) and ``action`` (the joint action index played there, -1 off the grid)."""
        return pd.DataFrame({"state": np.arange(len(self.values)), "value": np.asarray(self.values),
                             "action": np.asarray(self.actions)})

    def summary(self) -> pd.Series:
        """The policy's headline numbers as a labelled series named after the policy: the value
        from the start state [money], the discounted and the long-run average cost per day
        [money/day], the number of states and the seconds taken."""
        return pd.Series({"start_value": float(self.start_value), "daily_cost": float(self.daily_cost),
                          "average_cost": float(self.average_cost), "states": len(self.values),
                          "seconds": float(self.seconds)}, name=self.name)


class TabularPolicy(Policy):
    """Plays a table ``actions[state]`` of joint action indices of an :class:`MDPModel`.

    Works on any :class:`SystemState` whose rows are states of the model (the simulator's states
    of the same instance always are). ``Solution.policy_object`` returns one to replay the
    optimum in the simulator (``tests/test_planning.py`` checks the model against it; paper
    section 4.5).
    """

    def __init__(self, model: MDPModel, actions: np.ndarray, name: str = "tabular"):
        super().__init__(model.config, round_to=model.unit)
        self.model = model
        self.table = _checked_actions(model, actions, "TabularPolicy.actions")
        self.name = name
        self._q, self._x = model.decode_actions(self.table)

    def act(self, state):
        s = self.model.state_index(state)
        return self._q[s].copy(), self._x[s].copy()


# --------------------------------------------------------------------------- linear algebra
def solve_linear(model: MDPModel, P: sp.csr_matrix, cost: np.ndarray, gamma: float) -> np.ndarray:
    """Solve ``(I - gamma P) v = cost`` by sparse LU (SuperLU; exact up to rounding)."""
    A = sp.identity(model.n_states, format="csc") - gamma * P.tocsc()
    return spla.spsolve(A, cost)


def value_from_rows(model: MDPModel, name: str, P, cost, actions, t0: float) -> PolicyValue:
    """The :class:`PolicyValue` of a policy given its transition matrix and one-day costs."""
    v = solve_linear(model, P, cost, model.gamma)
    avg = solve_linear(model, P, cost, AVERAGE_GAMMA)[model.start_state] * (1 - AVERAGE_GAMMA)
    s0 = model.start_state
    return PolicyValue(
        name=name, values=v, start_value=float(v[s0]), daily_cost=float((1 - model.gamma) * v[s0]),
        average_cost=float(avg), actions=np.asarray(actions), seconds=time.perf_counter() - t0,
    )


# --------------------------------------------------------------------------- tables of actions
def _checked_actions(model: MDPModel, actions, field: str) -> np.ndarray:
    """``actions`` as an int array of shape ``(S,)`` with entries in ``[0, A)``, else a ValueError
    naming the expected and received shapes (or the first bad entry)."""
    a = np.asarray(actions)
    S, A = model.n_states, model.n_actions
    if a.shape != (S,):
        raise not_allowed(f"{field} shape", a.shape, f"({S},): one joint action index per state of the model",
                          ValueError)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise not_allowed(f"{field} dtype", str(a.dtype), "whole numbers (joint action indices)", ValueError)
    bad = (a < 0) | (a >= A)
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        raise not_allowed(f"{field}[{s}]", int(a[s]), f"a joint action index from 0 to {A - 1}", ValueError)
    return a.astype(np.int64)


def evaluate_actions(model: MDPModel, actions: np.ndarray, name: str = "tabular") -> PolicyValue:
    """Exact value of a table of joint action indices ``(S,)`` -- one per state, e.g. a learner's
    greedy table -- as a :class:`PolicyValue` [money, money/day]. A table of the wrong shape or
    with an index out of range raises a ValueError naming the expected and received values; an
    infeasible action raises :class:`NotRepresentableError` naming the state. Paper section 4.5."""
    t0 = time.perf_counter()
    actions = _checked_actions(model, actions, "evaluate_actions.actions")
    feas, cost, y, r, pn = rows_for_actions(model, actions)
    if not feas.all():
        s = int(np.flatnonzero(~feas)[0])
        raise NotRepresentableError(f"action {actions[s]} is infeasible in state {model.decode_states([s])[0][0].tolist()}")
    return value_from_rows(model, name, transition_matrix(model, y, r, pn), cost, actions, t0)


# --------------------------------------------------------------------------- any policy
def _where(model: MDPModel, on_hand: np.ndarray, mask: np.ndarray) -> tuple[int, str]:
    """The first state in ``mask`` and a description of it for error messages."""
    s = int(np.flatnonzero(mask)[0])
    return s, f"state {s} (on hand {dict(zip(model.config.names, on_hand[s].tolist(), strict=True))})"


def _act_everywhere(model: MDPModel, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: the policy's action in every state (checked for shape and stationarity)."""
    q, x = policy.act(model.states_as_system_state())
    q, x = np.asarray(q), np.asarray(x)
    S, N = model.n_states, model.net.N
    if q.shape != (S, N) or x.shape != (S, N, N):
        raise NotRepresentableError(f"policy {policy.name!r} returned shapes {q.shape}, {x.shape}; expected {(S, N)}, {(S, N, N)}")
    later = model.states_as_system_state()
    later.t = 1
    q1, x1 = policy.act(later)
    if not (np.array_equal(q, q1) and np.array_equal(x, x1)):
        raise NotRepresentableError(
            f"policy {policy.name!r} acts differently on day 0 and day 1 from the same state: exact "
            "evaluation needs a stationary policy (e.g. FixedOrderQuantity with every=1)"
        )
    return q, x


def _on_unit(model: MDPModel, policy: Policy, q, x, on_hand) -> tuple[np.ndarray, np.ndarray]:
    """Phase 2: quantities must be whole multiples of the model's unit; returned as int arrays."""
    S = model.n_states
    for label, arr in (("replenish", q), ("transfer", x)):
        bad = (arr != np.round(arr)) | (np.round(arr).astype(np.int64) % model.unit != 0)
        if np.any(bad):
            s, txt = _where(model, on_hand, bad.reshape(S, -1).any(axis=1))
            raise NotRepresentableError(
                f"policy {policy.name!r} in {txt}: {label} {arr[s].tolist()} is not a multiple of the "
                f"model's unit ({model.unit}); build the policy with round_to a multiple of {model.unit}"
            )
    return np.round(q).astype(np.int64), np.round(x).astype(np.int64)


def _play(model: MDPModel, policy: Policy, q, x, on_hand, pipe):
    """Phase 3: clip like ``BatchCore`` (if the config says so), check feasibility and run the day."""
    if model.config.invalid_action == "clip":
        q, x = model.net.clip_actions(q, x, on_hand)
        if np.any(x % model.unit):
            s, txt = _where(model, on_hand, (x % model.unit != 0).reshape(model.n_states, -1).any(axis=1))
            raise NotRepresentableError(f"policy {policy.name!r} in {txt}: clipped transfer {x[s].tolist()} is off the unit grid")
    feas, det, y, r, pn = day_before_demand(model, on_hand, pipe, q, x)
    if not feas.all():
        s, txt = _where(model, on_hand, ~feas)
        raise NotRepresentableError(
            f"policy {policy.name!r} in {txt}: action replenish={q[s].tolist()}, transfer={x[s].tolist()} "
            "is infeasible (order above max_order, transfer without a link, or shipping more than on hand)"
        )
    for i, name in enumerate(model.config.names):
        off = grid_index(model.order_grid, q[:, i]) < 0
        if model.slots[i] and np.any(off):
            s, txt = _where(model, on_hand, off)
            raise NotRepresentableError(
                f"policy {policy.name!r} in {txt}: order {q[s, i]} of {name!r} enters the pipeline but is "
                f"not on the order grid {model.order_grid.tolist()}"
            )
    return q, x, det + stage_cost(model, y), y, r, pn


def _joint_indices(model: MDPModel, policy: Policy, q, x, on_hand, on_grid: bool) -> np.ndarray:
    """Phase 4: the joint action index of each state's action (-1 off the grids; an error if
    ``on_grid``)."""
    per = []
    for i in range(model.net.N):
        idx = grid_index(model.order_grid, q[:, i])
        for j in model.net.neighbours[i]:
            t = grid_index(model.transfer_grid, x[:, i, j])
            idx = np.where((idx < 0) | (t < 0), -1, idx * len(model.transfer_grid) + t)
        per.append(idx)
    per = np.stack(per, axis=1)
    ok = np.all(per >= 0, axis=1)
    if on_grid and not ok.all():
        s, txt = _where(model, on_hand, ~ok)
        raise NotRepresentableError(
            f"policy {policy.name!r} in {txt}: action replenish={q[s].tolist()}, transfer={x[s].tolist()} is off "
            f"the action grids (orders {model.order_grid.tolist()}, transfers {model.transfer_grid.tolist()}); "
            "wrap it in SnapToGrid or pass on_grid=False (then it may beat the grid-restricted optimum)"
        )
    return np.where(ok, np.ravel_multi_index(tuple(np.maximum(per, 0).T), model.action_sizes), -1)


def _policy_rows(model: MDPModel, policy: Policy, on_grid: bool = True):
    """Cost, next-state ingredients and joint actions of ``policy`` in every state, checked and
    clipped like ``BatchCore._validate``."""
    on_hand, pipe = model.decode_states()
    q, x = _act_everywhere(model, policy)
    q, x = _on_unit(model, policy, q, x, on_hand)
    q, x, cost, y, r, pn = _play(model, policy, q, x, on_hand, pipe)
    return cost, y, r, pn, _joint_indices(model, policy, q, x, on_hand, on_grid)


def evaluate_policy(model: MDPModel, policy: Policy, on_grid: bool = True) -> PolicyValue:
    """Exact value of any stationary :class:`mas_lib.decide.policies.Policy` [money, money/day]
    (notebooks 05 and 06, ``benchmarks/bench_policies.py``; paper section 4.5).

    Builds all ``S`` states as one :class:`SystemState` batch, calls ``policy.act`` once (and once
    more with ``t = 1`` to check the policy is stationary), maps the actions onto the model (they
    must be multiples of the unit; infeasible actions raise :class:`NotRepresentableError` naming
    the state, unless the config clips them as ``BatchCore`` does), then solves
    ``(I - gamma P_pi) v = c_pi``. Returns a :class:`PolicyValue`.

    ``on_grid=True`` (default) also requires every action to lie on the model's action grids, so
    that the policy plays in the same action set as the optimum (and can never beat it); with
    ``False`` any multiple of the unit is evaluated (the model dynamics do not need the grids
    unless a lead time >= 2 puts the order in the state).
    """
    t0 = time.perf_counter()
    on_grid = check_bool(on_grid, "evaluate_policy.on_grid")
    cost, y, r, pn, actions = _policy_rows(model, policy, on_grid)
    P = transition_matrix(model, y, r, pn)
    label = f"{policy.name} ({policy.describe()})" if policy.describe() else policy.name
    return value_from_rows(model, label, P, cost, actions, t0)


def expected_episode_cost(
    model: MDPModel, policy: Policy | np.ndarray, days: int | None = None, on_grid: bool = True
) -> float:
    """Exact expected mean total cost per day [money/day] over the first ``days`` days (default:
    the episode length) from the start state, undiscounted -- what
    :func:`mas_lib.decide.rollout.simulate` estimates with noise. ``policy`` is a
    :class:`Policy` or a table of joint action indices ``(S,)``. Notebook 06 (checking the model
    against the simulator); paper section 4.4."""
    days = model.config.episode_length if days is None else check_whole(days, "expected_episode_cost.days", low=1,
                                                                           unit="days")
    if isinstance(policy, Policy):
        cost, y, r, pn, _ = _policy_rows(model, policy, check_bool(on_grid, "expected_episode_cost.on_grid"))
    else:
        _, cost, y, r, pn = rows_for_actions(model, _checked_actions(model, policy, "expected_episode_cost.policy"))
    P = transition_matrix(model, y, r, pn).T.tocsr()
    mu = np.zeros(model.n_states)
    mu[model.start_state] = 1.0
    total = 0.0
    for _ in range(days):
        total += float(mu @ cost)
        mu = P @ mu
    return total / days


def gap(policy_value: PolicyValue | float, optimum_value: PolicyValue | float) -> float:
    """Gap of a policy to the optimum in percent of the optimal discounted cost from the start
    state: ``100 (v_pi(s0) - v*(s0)) / |v*(s0)|`` (the library's criterion). Takes two
    :class:`PolicyValue` objects (a :class:`~.solve.Solution` is one) or two start values
    [money]. Notebooks 05 and 06; paper section 4.5."""
    vp = policy_value.start_value if isinstance(policy_value, PolicyValue) else float(policy_value)
    vo = optimum_value.start_value if isinstance(optimum_value, PolicyValue) else float(optimum_value)
    if vo == 0 or not np.isfinite(vo):
        raise not_allowed("gap.optimum_value", vo, "a finite, non-zero cost [money]", ValueError)
    return 100.0 * (vp - vo) / abs(vo)
