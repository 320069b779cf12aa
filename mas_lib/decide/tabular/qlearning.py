"""Learning agents: tabular Q-learning for the warehouses (paper sections 3.1.2, 4.4, 4.5).

The paper trains its warehouse agents with tabular Q-learning: a table ``Q(s, a)`` that starts
at 0, actions chosen epsilon-greedily, and after every day the update

.. math:: Q(s,a) \\leftarrow Q(s,a) + \\alpha \\big(r + \\gamma \\max_{a'} Q(s',a') - Q(s,a)\\big).

This module builds exactly that, in three forms (:class:`QLearningConfig` ``form``):

* ``"independent"`` -- one learner per warehouse, seeing only its own stock and pipeline;
* ``"shared"`` -- one learner per warehouse that also sees what its neighbours share (their
  stock, coarsened to a few levels, and optionally their forecast) -- the paper's information
  sharing (section 3.2.1);
* ``"central"`` -- a single learner over the joint state and the joint action of all warehouses.

Options (all in the validated :class:`QLearningConfig`): learning-rate schedules (constant,
``1/n`` visit counts, polynomial ``1/n^w``), epsilon schedules (constant, linear or exponential
decay), double Q-learning (van Hasselt 2010), the reward (the cost reward by default; the paper's
linear reward on request), the batch size and the state encoding.

Two training loops learn the same thing:

* :func:`train` -- vectorised: ``B`` environment copies on :class:`mas_lib.sim.core.BatchCore`, one
  numpy update for all ``B`` transitions of a day;
* :func:`train_loop` -- the textbook loop through :class:`mas_lib.sim.env.MultiWarehouseEnv`, one
  transition at a time (for reading, notebook 05). With ``batch=1`` and the same seed both give
  *identical* tables (tested).

The baselines of :mod:`mas_lib.decide.policies` are re-exported so that every policy is available here.
Notebook 05 teaches this module; notebook 06 and ``benchmarks/`` measure it against the exact
optimum of :mod:`mas_lib.decide.planning`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd

from ...sim.config import ConfigError, EnvConfig, RewardConfig
from ...sim.core import BatchCore
from ...sim.demand import DiscreteIIDDemand
from ...sim.env import MultiWarehouseEnv
from ...sim.state import StepResult, SystemState
from ..policies import Policy
from ..rollout import Step, play, rollout

__all__ = [
    "QLearningConfig",
    "StateEncoder",
    "ActionTable",
    "QPolicy",
    "TrainingResult",
    "train",
    "train_loop",
    "paper_preset",
    "best_preset",
    "learning_rate",
    "exploration_rate",
    "q_update",
    "batch_q_update",
    "epsilon_greedy",
    "infer_unit",
    "TabularLearner",
]

FORMS = ("independent", "shared", "central")
ALPHA_SCHEDULES = ("constant", "visits", "polynomial")
EPSILON_SCHEDULES = ("constant", "linear", "exponential")
REWARD_KINDS = ("cost", "paper")


def _bad(field: str, value, allowed: str) -> ConfigError:
    return ConfigError(f"QLearningConfig.{field} = {value!r} is not allowed; allowed: {allowed}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


def _is_whole(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


# ---------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class QLearningConfig:
    """Every setting of a tabular Q-learning run, validated on construction (paper 3.1.2, 4.4).

    A wrong value raises :class:`mas_lib.sim.config.ConfigError` (a ``ValueError``) whose message
    names the field, the value and what is allowed.

    Attributes:
        form: ``"independent"``, ``"shared"`` or ``"central"`` (see the module docstring).
        gamma: discount factor per day, in [0, 1).
        alpha: learning-rate schedule: ``"constant"`` (``alpha0``), ``"visits"`` (``1/n`` with
            ``n`` the number of visits of the state-action pair, i.e. a running average) or
            ``"polynomial"`` (``1/n**alpha_power``).
        alpha0: the constant learning rate, in (0, 1].
        alpha_power: exponent ``w`` of the polynomial schedule, in (0.5, 1].
        epsilon: exploration schedule: ``"constant"`` (``epsilon_start``), ``"linear"`` or
            ``"exponential"`` decay from ``epsilon_start`` to ``epsilon_end`` over the first
            ``epsilon_decay`` fraction of training (then constant at ``epsilon_end``).
        epsilon_start, epsilon_end: exploration probabilities in [0, 1].
        epsilon_decay: fraction of training over which epsilon decays, in (0, 1].
        double: double Q-learning (two tables; each transition updates one of them, chosen by a
            fair coin, using the other to value the greedy next action).
        steps: simulated days per environment copy; the learner sees ``steps * batch``
            transitions.
        batch: environment copies ``B`` stepped together (vectorised training).
        episode_length: days per training episode [days]; ``None`` = the environment's. Longer
            episodes waste fewer transitions (the last day of an episode is not learned from, see
            :func:`train`) and fewer resets; the learned policy is for the discounted
            infinite-horizon problem either way.
        reward: ``"cost"`` (minus the total daily cost, what the exact optimum minimises) or
            ``"paper"`` (``c1 * satisfaction + c2 * inventory-cost reduction - c3 * transport``).
        c1, c2, c3: the paper's reward weights (used when ``reward="paper"``).
        team_reward: independent/shared learners learn from the sum of all warehouses' rewards
            (True) or from their own (False). The central learner always uses the sum.
        seed: seed of the exploration random stream and of the demand of the copies.
        unit: stock unit of the state encoding [units]; ``None`` infers it from the config
            (:func:`infer_unit`).
        share_levels: levels to which a neighbour's stock is coarsened in the ``"shared"`` form;
            ``None`` = full resolution.
        use_forecast: add today's forecast (coarsened to ``forecast_step`` units) to the state.
        forecast_step: bin width of the forecast [units]; ``None`` = ``unit``.
        q_init: initial value of every feasible table entry: a number (the paper: 0) or
            ``"auto"`` -- the discounted value of always acting at random,
            ``mean daily reward / (1 - gamma)``, estimated from a short simulation before
            training (a sensible, mildly pessimistic start: untried actions are not preferred).
        log_every: batch steps between two rows of the learning curve.
    """

    form: str = "central"
    gamma: float = 0.95
    alpha: str = "polynomial"
    alpha0: float = 0.1
    alpha_power: float = 0.6
    epsilon: str = "linear"
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay: float = 0.8
    double: bool = False
    steps: int = 2000
    batch: int = 256
    episode_length: int | None = None
    reward: str = "cost"
    c1: float = 1.0
    c2: float = 0.5
    c3: float = 0.2
    team_reward: bool = True
    seed: int = 0
    unit: int | None = None
    share_levels: int | None = 3
    use_forecast: bool = False
    forecast_step: int | None = None
    q_init: float | str = 0.0
    log_every: int = 50

    def __post_init__(self):
        choices = {"form": FORMS, "alpha": ALPHA_SCHEDULES, "epsilon": EPSILON_SCHEDULES, "reward": REWARD_KINDS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise _bad(name, getattr(self, name), " | ".join(repr(a) for a in allowed))
        g = self.gamma
        if not _is_number(g) or not 0 <= g < 1:
            raise _bad("gamma", g, "a number in [0, 1)")
        if not _is_number(self.alpha0) or not 0 < self.alpha0 <= 1:
            raise _bad("alpha0", self.alpha0, "a number in (0, 1]")
        if not _is_number(self.alpha_power) or not 0.5 < self.alpha_power <= 1:
            raise _bad("alpha_power", self.alpha_power, "a number in (0.5, 1]")
        for name in ("epsilon_start", "epsilon_end"):
            v = getattr(self, name)
            if not _is_number(v) or not 0 <= v <= 1:
                raise _bad(name, v, "a probability in [0, 1]")
        if self.epsilon == "exponential" and (self.epsilon_end <= 0 or self.epsilon_start <= 0):
            raise _bad("epsilon_end", self.epsilon_end, "> 0 with the exponential schedule (and epsilon_start > 0)")
        if not _is_number(self.epsilon_decay) or not 0 < self.epsilon_decay <= 1:
            raise _bad("epsilon_decay", self.epsilon_decay, "a fraction of training in (0, 1]")
        for name in ("double", "team_reward", "use_forecast"):
            if not isinstance(getattr(self, name), bool):
                raise _bad(name, getattr(self, name), "True or False")
        for name, low in (("steps", 1), ("batch", 1), ("log_every", 1), ("seed", 0)):
            v = getattr(self, name)
            if not _is_whole(v) or v < low:
                raise _bad(name, v, f"a whole number >= {low}")
        for name, low in (("episode_length", 2), ("unit", 1), ("share_levels", 1), ("forecast_step", 1)):
            v = getattr(self, name)
            if v is not None and (not _is_whole(v) or v < low):
                raise _bad(name, v, f"None or a whole number >= {low}")
        for name in ("c1", "c2", "c3"):
            if not _is_number(getattr(self, name)):
                raise _bad(name, getattr(self, name), "a finite number")
        if not (_is_number(self.q_init) or self.q_init == "auto"):
            raise _bad("q_init", self.q_init, "a finite number or 'auto'")

    def replace(self, **changes) -> QLearningConfig:
        """A copy with some fields changed (validated again)."""
        from dataclasses import replace

        return replace(self, **changes)

    def as_dict(self) -> dict:
        """The settings as a plain dict (for tables and ``.npz`` metadata)."""
        return asdict(self)


def paper_preset(gamma: float = 0.95, steps: int = 20000, batch: int = 1024, seed: int = 0, **changes) -> QLearningConfig:
    """The "naive paper-style" learner of section 4.4: one joint (central) table initialised at
    0, a constant learning rate 0.1 and a constant exploration rate 0.1 -- nothing more. The
    default budget is the same as :func:`best_preset`'s (20 million transitions), so the two
    differ only in method.

    Notebook 05 and the benchmarks report how far this lands from the exact optimum."""
    base = dict(
        form="central", gamma=gamma, alpha="constant", alpha0=0.1, epsilon="constant", epsilon_start=0.1,
        epsilon_end=0.1, double=False, steps=steps, batch=batch, seed=seed, q_init=0.0,
    )
    base.update(changes)
    return QLearningConfig(**base)


def best_preset(
    gamma: float = 0.95, steps: int = 20000, batch: int = 1024, seed: int = 0, form: str = "central", **changes
) -> QLearningConfig:
    """Our best tabular Q-learner (notebook 05, benchmarks): the same update, but a polynomial
    learning rate ``1/n^0.6`` per state-action pair, exploration decaying linearly from 1 to
    0.02 over 80% of training, long training episodes (1000 days) and many vectorised copies:
    ``steps * batch`` transitions (default 20 million, about 30-45 s on two cores).

    The start of the table depends on the form. The central learner starts at the value of
    random play (``q_init="auto"``): with 1,936 joint actions an all-zero (optimistic) table
    would make the greedy policy try every untried action, and zeros in ``max Q(s', .)`` inflate
    every target. The per-warehouse learners (44 actions each) keep the paper's 0: there the
    optimism is cheap, and starting them at the value of random play did not help them in our
    runs (paper instance, 20 M transitions: independent 15% either way, shared 16% vs 22%)."""
    base = dict(
        form=form, gamma=gamma, alpha="polynomial", alpha_power=0.6, epsilon="linear", epsilon_start=1.0,
        epsilon_end=0.02, epsilon_decay=0.8, double=False, steps=steps, batch=batch, seed=seed,
        episode_length=1000, share_levels=None, q_init="auto" if form == "central" else 0.0,
        log_every=max(1, steps // 100),
    )
    base.update(changes)
    return QLearningConfig(**base)


# ---------------------------------------------------------------------------- schedules
def learning_rate(qcfg: QLearningConfig, visits: np.ndarray | int) -> np.ndarray | float:
    """Learning rate ``alpha`` for a pair visited for the ``n``-th time (``n >= 1``, counting
    this visit): constant ``alpha0``, ``1/n`` or ``1/n**alpha_power``. Dimensionless."""
    n = np.asarray(visits, dtype=float)
    if qcfg.alpha == "constant":
        out = np.full(n.shape, float(qcfg.alpha0))
    elif qcfg.alpha == "visits":
        out = 1.0 / np.maximum(n, 1.0)
    else:
        out = np.maximum(n, 1.0) ** -qcfg.alpha_power
    return float(out) if out.ndim == 0 else out


def exploration_rate(qcfg: QLearningConfig, progress: float) -> float:
    """Epsilon after a fraction ``progress`` in [0, 1] of training (constant, linear or
    exponential decay from ``epsilon_start`` to ``epsilon_end`` over ``epsilon_decay``)."""
    e0, e1 = qcfg.epsilon_start, qcfg.epsilon_end
    if qcfg.epsilon == "constant":
        return float(e0)
    x = min(max(progress / qcfg.epsilon_decay, 0.0), 1.0)
    if qcfg.epsilon == "linear":
        return float(e0 + (e1 - e0) * x)
    return float(e0 * (e1 / e0) ** x)


def q_update(q: float, reward: float, next_values, gamma: float, alpha: float) -> float:
    """One textbook Q-learning update (Watkins & Dayan 1992), for teaching and tests:
    ``q + alpha * (reward + gamma * max(next_values) - q)``."""
    target = reward + gamma * float(np.max(next_values))
    return q + alpha * (target - q)


def epsilon_greedy(
    q_row: np.ndarray, epsilon: float, rng: np.random.Generator, feasible: np.ndarray | None = None
) -> int:
    """Pick an action for one state: with probability ``epsilon`` a uniformly random feasible
    action, otherwise the greedy one (the first maximiser). ``feasible`` defaults to the finite
    entries of ``q_row`` (infeasible actions hold ``-inf``). Consumes two uniforms from ``rng``."""
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
    """Apply many Q-learning updates at once, in place (the vectorised learner's core).

    ``targets`` (one per transition, ``r + gamma * max Q(s', .)``) are computed from the table
    *before* this batch. Transitions that hit the same pair ``(s, a)`` are merged: the pair moves
    towards the **mean** of their targets with the step ``1 - prod_j (1 - alpha(n + j))``, which is
    exactly what ``k`` one-at-a-time updates would do if the ``k`` targets were equal (for
    ``alpha = 1/n`` it is the running average over all samples, ``k / (n + k)``). A pair hit once
    gets the textbook update bit for bit. ``visits`` counts the samples per pair.
    """
    S, A = table.shape
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


def infer_unit(config: EnvConfig) -> int:
    """The stock unit of a discretised instance [units]: the greatest common divisor of the
    order and transfer grids, capacities, initial stocks and (for :class:`DiscreteIIDDemand`)
    the demand support. 1 for an instance that is not discretised."""
    values = [w.capacity for w in config.warehouses] + [w.initial_inventory for w in config.warehouses]
    values += list(config.order_grid or ()) + list(config.transfer_grid or ())
    if isinstance(config.demand, DiscreteIIDDemand):
        for s in config.demand.support:
            values += [int(v) for v in s]
    g = reduce(math.gcd, [int(v) for v in values if v], 0)
    return max(int(g), 1)


# ---------------------------------------------------------------------------- actions
class ActionTable:
    """The discrete actions of every warehouse in units (the layout of
    :meth:`mas_lib.sim.core.BatchCore.decode_discrete`), with their feasibility.

    ``order[i][a]`` is the replenishment of action ``a`` of warehouse ``i`` and
    ``transfer[i][a, j]`` the units it ships to ``j`` [units]; ``sizes[i]`` the number of actions.
    """

    def __init__(self, config: EnvConfig):
        if config.order_grid is None:
            raise ConfigError(
                "Q-learning needs a discrete action grid: give the EnvConfig an order_grid and a "
                "transfer_grid (see mas_lib.decide.instances)"
            )
        self.config = config
        self.net = net = config.network
        self.N = net.N
        self.neighbours = net.neighbours
        self.sizes = list(net.discrete_sizes)
        tables = net.action_tables()
        self.order: list[np.ndarray] = [order for order, _ in tables]
        self.transfer: list[np.ndarray] = [transfer for _, transfer in tables]

    def decode(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Action indices ``(B, N)`` -> ``(replenish (B,N), transfer (B,N,N))`` [units]
        (:meth:`mas_lib.sim.network.Network.decode_discrete`)."""
        return self.net.decode_discrete(actions)

    def feasible(self, i: int, stock: np.ndarray) -> np.ndarray:
        """``(len(stock), sizes[i])`` bool: may warehouse ``i`` take each action with ``stock``
        units on hand? (order <= max_order; shipped <= stock + same-day order, <= capacity)."""
        stock = np.asarray(stock, dtype=np.int64)[:, None]
        q = self.order[i][None, :]
        out = self.transfer[i].sum(axis=1)[None, :]
        net = self.net
        same_day = q if net.lead_time[i] == 0 else 0
        available = np.minimum(stock + same_day, net.capacity[i])
        return (q <= net.max_order[i]) & (out <= available)


# ---------------------------------------------------------------------------- states
@dataclass(frozen=True)
class _Feature:
    name: str
    warehouse: int
    kind: str  # stock | backlog | pipeline | transit | forecast | shared_stock | shared_forecast
    slot: int
    levels: int


class StateEncoder:
    """Maps a :class:`mas_lib.sim.core.SystemState` of ``B`` copies to integer state indices, one per
    learner, fully vectorised (paper 3.1.2(1): the state of each warehouse).

    Each warehouse's own features are discretised in stock units of ``unit`` [units]: on-hand
    stock (capped at capacity), the backlog if backorders are on, the live slots of its
    replenishment pipeline (an order with lead time ``L`` sits in the pipeline for ``L - 1``
    decision days; capped at ``max_order``), inbound transfers still on the road, and optionally
    today's forecast (``forecast_step`` units per level). The form decides who sees what:

    * ``"independent"`` -- learner ``i`` sees warehouse ``i``'s own features;
    * ``"shared"`` -- plus each neighbour's stock coarsened to ``share_levels`` levels (and its
      forecast if ``use_forecast``);
    * ``"central"`` -- one learner sees every warehouse's own features.

    The index is a mixed-radix number of the feature levels (first feature most significant);
    :meth:`decode` inverts it. ``sizes[k]`` is the number of states of learner ``k``.
    """

    def __init__(
        self,
        config: EnvConfig,
        unit: int | None = None,
        form: str = "central",
        share_levels: int | None = 3,
        use_forecast: bool = False,
        forecast_step: int | None = None,
    ):
        if form not in FORMS:
            raise _bad("form", form, " | ".join(repr(a) for a in FORMS))
        self.config = config
        self.form = form
        self.unit = int(unit) if unit is not None else infer_unit(config)
        self.share_levels = share_levels
        self.use_forecast = use_forecast
        self.forecast_step = int(forecast_step) if forecast_step is not None else self.unit
        net = config.network
        self.N = net.N
        self.neighbours = net.neighbours
        u = self.unit
        self.cap_levels = net.capacity // u + 1
        inbound_lead = [int(net.arc_lead_time[:, i][net.arc[:, i]].max()) if net.arc[:, i].any() else 0
                        for i in range(self.N)]
        own: list[list[_Feature]] = []
        for i, w in enumerate(config.warehouses):
            f = [_Feature(f"{w.name}.stock", i, "stock", 0, int(self.cap_levels[i]))]
            if config.backorders:
                f.append(_Feature(f"{w.name}.backlog", i, "backlog", 0, int(self.cap_levels[i])))
            for k in range(max(w.lead_time - 1, 0)):
                f.append(_Feature(f"{w.name}.pipeline[{k}]", i, "pipeline", k, int(w.max_order // u + 1)))
            for k in range(max(inbound_lead[i] - 1, 0)):
                f.append(_Feature(f"{w.name}.transit[{k}]", i, "transit", k, int(self.cap_levels[i])))
            if use_forecast:
                f.append(_Feature(f"{w.name}.forecast", i, "forecast", 0, int(w.capacity // self.forecast_step + 1)))
            own.append(f)
        if form == "central":
            self.features = [[f for fs in own for f in fs]]
        elif form == "independent":
            self.features = own
        else:
            self.features = []
            for i in range(self.N):
                fs = list(own[i])
                for j in self.neighbours[i]:
                    n = config.warehouses[j].name
                    lv = int(self.cap_levels[j]) if share_levels is None else int(min(share_levels, self.cap_levels[j]))
                    fs.append(_Feature(f"{n}.stock (shared)", j, "shared_stock", 0, lv))
                    if use_forecast:
                        fc = int(config.warehouses[j].capacity // self.forecast_step + 1)
                        fs.append(_Feature(f"{n}.forecast (shared)", j, "shared_forecast", 0, fc))
                self.features.append(fs)
        self.shapes = [tuple(f.levels for f in fs) for fs in self.features]
        self.sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.shapes]
        self.n_learners = len(self.features)

    def _level(self, f: _Feature, state: SystemState) -> np.ndarray:
        u, i = self.unit, f.warehouse
        if f.kind in ("stock", "shared_stock"):
            lv = np.clip(state.on_hand[:, i] // u, 0, self.cap_levels[i] - 1)
            if f.kind == "shared_stock" and f.levels < self.cap_levels[i]:
                lv = np.minimum(lv * f.levels // self.cap_levels[i], f.levels - 1)
            return lv
        if f.kind == "backlog":
            return np.clip(state.backlog[:, i] // u, 0, f.levels - 1)
        if f.kind == "pipeline":
            return np.clip(state.pipeline[:, i, f.slot] // u, 0, f.levels - 1)
        if f.kind == "transit":
            return np.clip(state.transit[:, i, f.slot] // u, 0, f.levels - 1)
        return np.clip(np.rint(state.forecast[:, 0, i] / self.forecast_step), 0, f.levels - 1).astype(np.int64)

    def levels(self, state: SystemState, learner: int = 0) -> np.ndarray:
        """Feature levels ``(B, n_features)`` of one learner (in the order of ``feature_names``)."""
        return np.stack([self._level(f, state) for f in self.features[learner]], axis=1).astype(np.int64)

    def encode(self, state: SystemState) -> np.ndarray:
        """State indices ``(B, n_learners)`` int64, each in ``[0, sizes[k])``."""
        cache: dict[tuple, np.ndarray] = {}
        out = np.empty((state.batch_size, self.n_learners), dtype=np.int64)
        for k, fs in enumerate(self.features):
            coords = []
            for f in fs:
                key = (f.kind, f.warehouse, f.slot, f.levels)
                if key not in cache:
                    cache[key] = self._level(f, state).astype(np.int64)
                coords.append(cache[key])
            out[:, k] = np.ravel_multi_index(tuple(coords), self.shapes[k])
        return out

    def decode(self, index: np.ndarray | int, learner: int = 0) -> np.ndarray:
        """Feature levels ``(..., n_features)`` of state index(es) ``index`` of ``learner``."""
        idx = np.asarray(index, dtype=np.int64)
        return np.stack(np.unravel_index(idx, self.shapes[learner]), axis=-1).astype(np.int64)

    def feature_names(self, learner: int = 0) -> list[str]:
        """Names of the features of ``learner`` (units: stock units of ``unit``)."""
        return [f.name for f in self.features[learner]]

    def own_stock(self, learner: int, warehouse: int) -> np.ndarray:
        """On-hand stock [units] of ``warehouse`` in every state of ``learner`` ``(sizes[k],)``
        (the lower edge of its level), used for the feasibility of actions."""
        names = [(f.kind, f.warehouse) for f in self.features[learner]]
        col = names.index(("stock", warehouse))
        return self.decode(np.arange(self.sizes[learner]), learner)[:, col] * self.unit

    def settings(self) -> dict:
        """The constructor arguments (stored with a saved policy)."""
        return {
            "unit": self.unit, "form": self.form, "share_levels": self.share_levels,
            "use_forecast": self.use_forecast, "forecast_step": self.forecast_step,
        }


# ---------------------------------------------------------------------------- the policy
def _config_fingerprint(config: EnvConfig) -> dict:
    return {
        "names": config.names,
        "capacity": [w.capacity for w in config.warehouses],
        "lead_time": [w.lead_time for w in config.warehouses],
        "order_grid": list(config.order_grid or ()),
        "transfer_grid": list(config.transfer_grid or ()),
        "links": [[lk.source, lk.target, lk.lead_time, lk.bidirectional] for lk in config.links],
    }


class QPolicy(Policy):
    """The greedy policy of learned Q-tables: a :class:`mas_lib.decide.policies.Policy`, so it runs in
    :func:`mas_lib.decide.policies.simulate`, :class:`mas_lib.sim.env.MultiWarehouseEnv` and the exact
    evaluator of :mod:`mas_lib.decide.planning` like any baseline (notebooks 05, 06).

    ``tables[k]`` is learner ``k``'s table ``(encoder.sizes[k], n_actions_k)`` (infeasible
    actions hold ``-inf``); with double Q-learning ``tables2`` holds the second tables and the
    policy is greedy with respect to their sum. ``visits`` counts the updates per entry.
    """

    name = "Q-learning"

    def __init__(
        self,
        config: EnvConfig,
        encoder: StateEncoder,
        tables: list[np.ndarray],
        tables2: list[np.ndarray] | None = None,
        visits: list[np.ndarray] | None = None,
        label: str = "",
    ):
        super().__init__(config, round_to=1)
        self.encoder = encoder
        self.actions = ActionTable(config)
        self.tables = tables
        self.tables2 = tables2
        self.visits = visits if visits is not None else [np.zeros(t.shape, dtype=np.int64) for t in tables]
        self.label = label
        self.form = encoder.form

    def values(self, learner: int = 0) -> np.ndarray:
        """The table the policy is greedy on (the sum of both tables for double Q-learning)."""
        if self.tables2 is None:
            return self.tables[learner]
        return self.tables[learner] + self.tables2[learner]

    def split_joint(self, joint: np.ndarray) -> np.ndarray:
        """Central form: joint action indices ``(B,)`` -> per-warehouse indices ``(B, N)``."""
        return self.net.joint_to_agents(joint)

    def greedy_actions(self, states: np.ndarray) -> np.ndarray:
        """Per-learner greedy action indices ``(B, n_learners)`` for state indices ``(B, n_learners)``."""
        return np.stack([np.argmax(self.values(k)[states[:, k]], axis=1) for k in range(states.shape[1])], axis=1)

    def warehouse_actions(self, learner_actions: np.ndarray) -> np.ndarray:
        """Learner actions ``(B, n_learners)`` -> per-warehouse action indices ``(B, N)``."""
        if self.form == "central":
            return self.split_joint(learner_actions[:, 0])
        return learner_actions

    def act(self, state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        """Greedy batch action: ``(replenish (B,N), transfer (B,N,N))`` [units]."""
        s = self.encoder.encode(state)
        return self.actions.decode(self.warehouse_actions(self.greedy_actions(s)))

    def describe(self) -> str:
        return self.label or f"form={self.form}"

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the tables, visit counts and settings to a ``.npz`` file (no pickle)."""
        path = Path(path)
        meta = {
            "format": "mas_lib.QPolicy/1", "encoder": self.encoder.settings(), "label": self.label,
            "double": self.tables2 is not None, "n_learners": len(self.tables),
            "config": _config_fingerprint(self.config),
        }
        arrays = {"meta": np.array(json.dumps(meta))}
        for k, t in enumerate(self.tables):
            arrays[f"q_{k}"] = t
            arrays[f"n_{k}"] = self.visits[k]
            if self.tables2 is not None:
                arrays[f"q2_{k}"] = self.tables2[k]
        np.savez_compressed(path, **arrays)
        return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")

    @classmethod
    def load(cls, path: str | Path, config: EnvConfig) -> QPolicy:
        """Read a policy written by :meth:`save` for the same ``config`` (checked: warehouses,
        capacities, lead times, action grids and links must match)."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != "mas_lib.QPolicy/1":
                raise ValueError(f"{path}: not a saved QPolicy (format {meta.get('format')!r})")
            if meta["config"] != _config_fingerprint(config):
                raise ValueError(
                    f"{path}: the policy was learned for a different environment: "
                    f"{meta['config']} != {_config_fingerprint(config)}"
                )
            n = meta["n_learners"]
            tables = [z[f"q_{k}"].copy() for k in range(n)]
            visits = [z[f"n_{k}"].copy() for k in range(n)]
            tables2 = [z[f"q2_{k}"].copy() for k in range(n)] if meta["double"] else None
        encoder = StateEncoder(config, **meta["encoder"])
        return cls(config, encoder, tables, tables2, visits, label=meta["label"])


# ---------------------------------------------------------------------------- training
@dataclass
class TrainingResult:
    """What a training run returns (notebook 05, benchmarks).

    Attributes:
        policy: the learned greedy :class:`QPolicy`.
        curve: tidy frame, one row per logging interval: ``step`` (transitions so far),
            ``day`` (days per copy so far), ``mean_daily_cost`` [money/day, all warehouses,
            while exploring], ``mean_daily_reward`` (the training reward summed over
            warehouses), ``epsilon``.
        steps: environment transitions simulated (days x copies).
        seconds: wall-clock training time [s].
        qcfg: the settings used.
    """

    policy: QPolicy
    curve: pd.DataFrame
    steps: int
    seconds: float
    qcfg: QLearningConfig

    @property
    def throughput(self) -> float:
        """Transitions per second."""
        return self.steps / self.seconds if self.seconds > 0 else float("inf")


class TabularLearner:
    """The tabular Q-learner itself: its training config, state encoder, action table, Q-tables,
    visit counts, epsilon-greedy behaviour and vectorised update -- everything :func:`train` and
    :func:`train_loop` share (notebook 05)."""

    def __init__(self, config: EnvConfig, qcfg: QLearningConfig, seed: int):
        if not isinstance(qcfg, QLearningConfig):
            raise TypeError(f"qcfg must be a QLearningConfig; got {type(qcfg).__name__}")
        reward = RewardConfig(kind=qcfg.reward, c1=qcfg.c1, c2=qcfg.c2, c3=qcfg.c3, shared=False)
        changes = {"reward": reward}
        if qcfg.episode_length is not None:
            changes["episode_length"] = qcfg.episode_length
        self.config = config
        self.train_config = config.replace(**changes)
        self.qcfg = qcfg
        self.seed = int(seed)
        self.encoder = StateEncoder(
            config, qcfg.unit, qcfg.form, qcfg.share_levels, qcfg.use_forecast, qcfg.forecast_step
        )
        self.actions = ActionTable(config)
        enc, act = self.encoder, self.actions
        if qcfg.form == "central":
            feas = None
            for i in range(act.N):
                f = act.feasible(i, enc.own_stock(0, i))  # (S, A_i)
                feas = f if feas is None else (feas[:, :, None] & f[:, None, :]).reshape(f.shape[0], -1)
            self.feasible = [feas]
        else:
            self.feasible = [act.feasible(i, enc.own_stock(i, i)) for i in range(act.N)]
        self.n_learners = enc.n_learners
        self.q_start = self._initial_values() if qcfg.q_init == "auto" else np.full(self.n_learners, float(qcfg.q_init))
        self.tables = [np.where(f, q0, -np.inf) for f, q0 in zip(self.feasible, self.q_start, strict=True)]
        self.tables2 = [t.copy() for t in self.tables] if qcfg.double else None
        self.visits = [np.zeros(t.shape, dtype=np.int64) for t in self.tables]
        self.visits2 = [np.zeros(t.shape, dtype=np.int64) for t in self.tables] if qcfg.double else None
        self.alpha_fn = lambda n: learning_rate(qcfg, n)
        # feasible actions of every state, padded: a random action is feasible_idx[s, nth]
        self.n_feasible = [f.sum(axis=1) for f in self.feasible]
        self.feasible_idx = [np.argsort(~f, axis=1, kind="stable") for f in self.feasible]
        # caches of each row's greedy action and maximum, refreshed for the rows that change
        self.greedy = [np.argmax(self._values(k), axis=1) for k in range(self.n_learners)]
        self.row_max = [t.max(axis=1) for t in self.tables]
        if self.tables2 is not None:
            self.argmax1 = [np.argmax(t, axis=1) for t in self.tables]
            self.argmax2 = [np.argmax(t, axis=1) for t in self.tables2]

    def _initial_values(self, days: int = 200, copies: int = 256) -> np.ndarray:
        """``q_init="auto"``: per learner, the mean daily training reward of uniformly random
        feasible actions over ``days`` days of ``copies`` copies (one :func:`rollout`), divided by
        ``1 - gamma``. Uses its own random stream and demand seed ``(seed, 999_983)``, so the
        training streams are unchanged."""
        rng = np.random.default_rng([self.seed, 1])
        cfg = self.train_config.replace(episode_length=days)

        def random_play(state: SystemState) -> tuple[np.ndarray, np.ndarray]:
            s = self.encoder.encode(state)
            a = np.empty(s.shape, dtype=np.int64)
            for k in range(self.n_learners):
                f = self.feasible[k][s[:, k]]
                nth = np.floor(rng.random(s.shape[0]) * f.sum(axis=1)).astype(np.int64)
                a[:, k] = np.argmax(np.cumsum(f, axis=1) > nth[:, None], axis=1)
            return self.actions.decode(self.to_warehouse(a))

        total = np.zeros(self.n_learners)

        def add(step: Step) -> None:
            nonlocal total
            total = total + self.rewards(step.result.reward).mean(axis=0)

        play(rollout(cfg, random_play, copies=copies, seed=(self.seed, 999_983)), add)
        return total / days / (1.0 - self.qcfg.gamma)

    def _values(self, k: int) -> np.ndarray:
        return self.tables[k] if self.tables2 is None else self.tables[k] + self.tables2[k]

    def to_warehouse(self, learner_actions: np.ndarray) -> np.ndarray:
        """Learner actions ``(B, n_learners)`` -> per-warehouse ``Discrete`` indices ``(B, N)`` (the
        central learner's joint index is split with ``config.network.joint_to_agents``)."""
        if self.qcfg.form != "central":
            return learner_actions
        return self.config.network.joint_to_agents(learner_actions[:, 0])

    def policy(self) -> QPolicy:
        q = self.qcfg
        label = f"{q.form}, alpha={q.alpha}, epsilon={q.epsilon}{', double' if q.double else ''}"
        visits = self.visits if self.visits2 is None else [a + b for a, b in zip(self.visits, self.visits2, strict=True)]
        return QPolicy(self.config, self.encoder, self.tables, self.tables2, visits, label=label)

    def rewards(self, reward: np.ndarray) -> np.ndarray:
        """Per-learner rewards ``(B, n_learners)`` from the per-warehouse rewards ``(B, N)``."""
        team = reward.sum(axis=1, keepdims=True)
        if self.qcfg.form == "central":
            return team
        if self.qcfg.team_reward:
            return np.repeat(team, self.n_learners, axis=1)
        return reward

    def behave(self, s: np.ndarray, eps: float, rng: np.random.Generator) -> np.ndarray:
        """Epsilon-greedy learner actions ``(B, n_learners)`` for state indices ``s``.

        Draws ``explore`` then ``pick`` uniforms of shape ``(B, n_learners)`` from ``rng``; a
        random action is the ``floor(pick * count)``-th feasible one (in index order)."""
        B, L = s.shape
        explore = rng.random((B, L)) < eps
        pick = rng.random((B, L))
        out = np.empty((B, L), dtype=np.int64)
        for k in range(L):
            sk = s[:, k]
            nth = np.floor(pick[:, k] * self.n_feasible[k][sk]).astype(np.int64)
            out[:, k] = np.where(explore[:, k], self.feasible_idx[k][sk, nth], self.greedy[k][sk])
        return out

    def _refresh(self, k: int, rows: np.ndarray) -> None:
        rows = np.unique(rows)
        self.greedy[k][rows] = np.argmax(self._values(k)[rows], axis=1)
        if self.tables2 is None:
            self.row_max[k][rows] = self.tables[k][rows].max(axis=1)

    def learn(self, s, a, r, s2, rng) -> None:
        """Vectorised update for every learner from the ``B`` transitions ``(s, a, r, s2)`` (state
        and action indices ``(B, n_learners)``, rewards ``(B, n_learners)``, next-state indices;
        on truncation ``s2`` is the final observation, so no transition is dropped)."""
        gamma = self.qcfg.gamma
        coin = rng.random(s.shape) < 0.5 if self.tables2 is not None else None
        for k in range(self.n_learners):
            sk, ak, rk, s2k = s[:, k], a[:, k], r[:, k], s2[:, k]
            if sk.size == 0:
                continue
            if self.tables2 is None:
                target = rk + gamma * self.row_max[k][s2k]
                batch_q_update(self.tables[k], self.visits[k], sk, ak, target, self.alpha_fn)
                self._refresh(k, sk)
                continue
            c = coin[:, k]
            qa, qb = self.tables[k], self.tables2[k]
            target_a = rk + gamma * qb[s2k, self.argmax1[k][s2k]]
            target_b = rk + gamma * qa[s2k, self.argmax2[k][s2k]]
            batch_q_update(qa, self.visits[k], sk[c], ak[c], target_a[c], self.alpha_fn)
            batch_q_update(qb, self.visits2[k], sk[~c], ak[~c], target_b[~c], self.alpha_fn)
            ra, rb = np.unique(sk[c]), np.unique(sk[~c])
            self.argmax1[k][ra] = np.argmax(qa[ra], axis=1)
            self.argmax2[k][rb] = np.argmax(qb[rb], axis=1)
            self._refresh(k, sk)


class _CurveRecorder:
    """Learning-curve bookkeeping: one row every ``log_every`` days (fed by the rollout stream)."""

    def __init__(self, log_every: int, n_days: int, batch: int, progress: Callable[[int, int], None] | None):
        self.log_every, self.n_days, self.batch, self.progress = log_every, n_days, batch, progress
        self.rows: list[dict] = []
        self.cost = self.reward = 0.0
        self.days = 0
        self.done = 0

    def __call__(self, result: StepResult, epsilon: float) -> None:
        self.cost += float(result.total_cost.sum()) / self.batch
        self.reward += float(result.reward.sum()) / self.batch
        self.days += 1
        self.done += 1
        if self.done % self.log_every == 0 or self.done == self.n_days:
            self.rows.append({"step": self.done * self.batch, "day": self.done,
                              "mean_daily_cost": self.cost / self.days,
                              "mean_daily_reward": self.reward / self.days, "epsilon": epsilon})
            self.cost = self.reward = 0.0
            self.days = 0
            if self.progress is not None:
                self.progress(self.done, self.n_days)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["step", "day", "mean_daily_cost", "mean_daily_reward", "epsilon"])


def train(
    config: EnvConfig,
    qcfg: QLearningConfig,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> TrainingResult:
    """Vectorised tabular Q-learning on ``qcfg.batch`` copies of ``config`` (paper 4.4, 4.5).

    A CleanRL-style loop over the one :func:`~mas_lib.decide.rollout.rollout` stream: every
    simulated day all ``B`` copies act epsilon-greedily at once, the batch core steps them, and
    one numpy call updates the table(s) with all ``B`` transitions (duplicates of the same
    state-action pair are merged as described in :func:`batch_q_update`). Episodes are truncated,
    not terminated: on the last day of an episode the learner bootstraps from the final
    observation, then the copies are reset with fresh demand (episode ``e`` seeded
    ``(seed, e)``, copy ``b`` drawing from ``default_rng([seed, e, b])``).

    Args:
        config: the environment (needs ``order_grid``/``transfer_grid``).
        qcfg: the learner's settings.
        seed: overrides ``qcfg.seed`` if given.
        progress: called as ``progress(days_done, days_total)`` every ``log_every`` days.
        on_step: called with every :class:`~mas_lib.decide.rollout.Step` of the stream (the
            widgets' progress bars and any custom bookkeeping listen here).

    Returns:
        :class:`TrainingResult` (policy, learning curve, transitions, seconds). Notebook 05;
        the benchmarks compare it with the exact optimum.
    """
    t0 = time.perf_counter()
    if seed is not None:
        qcfg = qcfg.replace(seed=seed)  # validated like every other setting
    seed = qcfg.seed
    learner = TabularLearner(config, qcfg, seed)
    B, n_days = qcfg.batch, qcfg.steps
    rng = np.random.default_rng(seed)
    core = BatchCore(learner.train_config, batch_size=B)
    curve = _CurveRecorder(qcfg.log_every, n_days, B, progress)
    now = {"day": 0}

    def behave(state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        now["eps"] = exploration_rate(qcfg, now["day"] / n_days)
        now["s"] = learner.encoder.encode(state)
        now["a"] = learner.behave(now["s"], now["eps"], rng)
        return learner.actions.decode(learner.to_warehouse(now["a"]))

    for step in rollout(core, behave, seed=seed, days=n_days):
        s2 = learner.encoder.encode(step.next_state)
        learner.learn(now["s"], now["a"], learner.rewards(step.result.reward), s2, rng)
        curve(step.result, now["eps"])
        if on_step is not None:
            on_step(step)
        now["day"] += 1
    return TrainingResult(learner.policy(), curve.frame(), n_days * B, time.perf_counter() - t0, qcfg)


def train_loop(
    config: EnvConfig,
    qcfg: QLearningConfig,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrainingResult:
    """The textbook loop (notebook 05): one :class:`mas_lib.sim.env.MultiWarehouseEnv`, one day at a
    time, each learner choosing epsilon-greedily and updating one table entry per day with
    ``Q[s, a] += alpha * (target - Q[s, a])``.

    Runs ``qcfg.steps * qcfg.batch`` days on a single environment, so it simulates as many
    transitions as :func:`train`. With ``qcfg.batch == 1`` and the same seed it produces exactly
    the same tables as :func:`train` (same random stream, same episode seeds); with larger
    batches the two are statistically equivalent. States are read with
    ``encoder.encode(env.core.state())`` -- the same numbers the agents observe.
    """
    t0 = time.perf_counter()
    if seed is not None:
        qcfg = qcfg.replace(seed=seed)  # validated like every other setting
    seed = qcfg.seed
    learner = TabularLearner(config, qcfg, seed)
    n_days = qcfg.steps * qcfg.batch
    rng = np.random.default_rng(seed)
    env = MultiWarehouseEnv(learner.train_config)
    names = env.possible_agents
    episode = 0
    env.reset(seed=seed, options={"stream": (episode,)})
    gamma = qcfg.gamma
    curve = _CurveRecorder(qcfg.log_every * qcfg.batch, n_days, 1, progress)
    for day in range(n_days):
        eps = exploration_rate(qcfg, (day // qcfg.batch) / qcfg.steps)
        s = learner.encoder.encode(env.core.state())[0]  # one state index per learner
        # epsilon-greedy, learner by learner (the same draws as the vectorised learner)
        explore, pick = rng.random(learner.n_learners) < eps, rng.random(learner.n_learners)
        a = np.empty(learner.n_learners, dtype=np.int64)
        for k in range(learner.n_learners):
            row = learner.tables[k][s[k]] if learner.tables2 is None else learner.tables[k][s[k]] + learner.tables2[k][s[k]]
            ok = np.flatnonzero(learner.feasible[k][s[k]])
            a[k] = ok[int(np.floor(pick[k] * ok.size))] if explore[k] else np.argmax(row)
        per_wh = learner.to_warehouse(a[None, :])[0]
        _, rewards, _, truncations, _ = env.step({n: int(per_wh[i]) for i, n in enumerate(names)})
        r = learner.rewards(np.array([[rewards[n] for n in names]]))[0]
        # on the episode's last day this is the final observation: bootstrap from it all the same
        s2 = learner.encoder.encode(env.core.state())[0]
        coin = rng.random(learner.n_learners) < 0.5 if learner.tables2 is not None else None
        for k in range(learner.n_learners):
            if learner.tables2 is None:
                Q, n_visits = learner.tables[k], learner.visits[k]
                target = r[k] + gamma * np.max(Q[s2[k]])
                n_visits[s[k], a[k]] += 1
                alpha = learning_rate(qcfg, n_visits[s[k], a[k]])
                Q[s[k], a[k]] += alpha * (target - Q[s[k], a[k]])
            else:  # double Q-learning: update one table, value with the other
                upd, other, n_visits = (
                    (learner.tables[k], learner.tables2[k], learner.visits[k]) if coin[k]
                    else (learner.tables2[k], learner.tables[k], learner.visits2[k])
                )
                target = r[k] + gamma * other[s2[k], np.argmax(upd[s2[k]])]
                n_visits[s[k], a[k]] += 1
                alpha = learning_rate(qcfg, n_visits[s[k], a[k]])
                upd[s[k], a[k]] += alpha * (target - upd[s[k], a[k]])
        curve(env.last_result, eps)
        if all(truncations.values()):
            episode += 1
            env.reset(seed=seed, options={"stream": (episode,)})
    return TrainingResult(learner.policy(), curve.frame(), n_days, time.perf_counter() - t0, qcfg)
