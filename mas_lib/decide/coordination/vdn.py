"""Decentralised learners that coordinate through a team value (paper 3.1.1(4), 3.1.2, 4.4-4.5).

Every warehouse keeps its **own** table ``Q_i(o_i, a_i)`` and picks its **own** action from it.
Its observation ``o_i`` is its own stock plus the stock reports its neighbours sent this morning
(a :class:`~mas_lib.messaging.StockReport` each, latency 0): on the two-warehouse instances that
is the joint stock, so ``o_i`` indexes the same 546 states as the central learner -- but each
agent only ranks its own 44 actions, never the 1,936 joint ones.

Two ways to train such tables (notebook 07):

* ``method="independent"`` -- each agent runs Q-learning on the team reward as if the other
  were part of the environment. Each sees a moving target (the partner keeps changing:
  non-stationarity) and credits its own action with the partner's random exploration
  (miscoordination); this is the 10-16% of today's per-warehouse learners.
* ``method="vdn"`` -- value decomposition (Sunehag et al. 2018): the team value is the **sum**
  ``Q(s, a) = sum_i Q_i(s, a_i)`` and every table moves by the *same* share ``1/N`` of the team
  TD error ``r + gamma max_a' Q(s', a') - Q(s, a)`` (so the sum moves by one step, not ``N``).
  Because feasibility is per warehouse the max of the sum is the sum of the per-agent maxima, so
  every agent can still act alone (greedy in its own table) and the team acts greedily in the
  summed value.

Measured (``benchmarks/bench_coordination.py``, 20.48 M transitions, seed 0, exact gap to the
optimum): VDN 12.8% (paper) and 8.6% (cross-border), independent 15.4% and 10.5%, hysteretic
(``beta = 0.1``) 66% on paper. The sum cannot express how one warehouse's order and the other's
transfer interact; :class:`mas_lib.messaging.CoordinatedPair` keeps that interaction and reaches
1.2-2.6%.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...sim.config import EnvConfig, RewardConfig
from ...sim.state import SystemState
from ...validation import Validated, choice, number, whole
from ..rollout import rollout
from ..tabular.config import QLearningConfig, exploration_schedule, learning_rate
from ..tabular.encoding import ActionTable, StateEncoder
from ..tabular.policy import QPolicy
from ..tabular.updates import batch_q_update

__all__ = ["DecentralisedConfig", "DecentralisedResult", "train_decentralised", "METHODS"]

METHODS = ("vdn", "independent", "hysteretic")


@dataclass(frozen=True)
class DecentralisedConfig(Validated):
    """Settings of a decentralised run (paper 4.4; ``benchmarks/bench_coordination.py``). Validated on construction.

    Attributes:
        method: ``"vdn"`` (team value = sum of the agents' tables, one team TD error),
            ``"independent"`` (each agent's own Q-learning on the team reward) or
            ``"hysteretic"`` (independent, but a negative TD error moves the table with the
            smaller rate ``beta * alpha``: an agent does not blame its own action for the
            partner's exploration; Matignon et al. 2007).
        gamma: discount per day, in [0, 1).
        steps, batch: simulated days per copy and copies stepped together (``steps * batch``
            transitions).
        alpha_power: learning rate ``1 / n^alpha_power`` per (observation, own action) pair.
        epsilon_start, epsilon_end, epsilon_decay: linear exploration decay over the first
            ``epsilon_decay`` of training (each agent explores on its own).
        beta: the hysteretic factor in (0, 1] (1 = independent learners).
        episode_length: days per training episode [days].
        seed: exploration and demand seed.
    """

    method: str = choice("vdn", METHODS)
    gamma: float = number(0.95, low=0.0, high=1.0, high_inclusive=False)
    steps: int = whole(20000, low=1)
    batch: int = whole(1024, low=1)
    alpha_power: float = number(0.6, low=0.5, high=1.0, low_inclusive=False)
    epsilon_start: float = number(1.0, low=0.0, high=1.0)
    epsilon_end: float = number(0.02, low=0.0, high=1.0)
    epsilon_decay: float = number(0.8, low=0.0, high=1.0)
    beta: float = number(0.1, low=0.0, high=1.0)
    episode_length: int = whole(1000, low=2)
    seed: int = whole(0, low=0)

    def _qcfg(self) -> QLearningConfig:
        """The equivalent tabular settings (for the shared learning-rate and exploration schedules)."""
        return QLearningConfig(
            form="shared", gamma=self.gamma, alpha="polynomial", alpha_power=self.alpha_power, epsilon="linear",
            epsilon_start=self.epsilon_start, epsilon_end=self.epsilon_end, epsilon_decay=self.epsilon_decay,
            steps=self.steps, batch=self.batch, episode_length=self.episode_length, seed=self.seed,
            share_levels=None, q_init=0.0,
        )


@dataclass
class DecentralisedResult:
    """A trained decentralised team: ``policy`` (a :class:`~mas_lib.decide.tabular.QPolicy` in
    the ``"shared"`` form: each warehouse greedy in its own table over its own observation and
    the stock reports it received), ``curve`` (mean daily team cost per logged block [money/day]),
    ``transitions`` and ``seconds``."""

    policy: QPolicy
    curve: pd.DataFrame
    transitions: int
    seconds: float
    config: DecentralisedConfig

    def to_frame(self) -> pd.DataFrame:
        """The learning curve (a copy): one row per logged block."""
        return self.curve.copy()

    def summary(self) -> pd.Series:
        """The run as a labelled series named after the method: transitions, seconds [s] and the
        last logged mean daily team cost [money/day]."""
        last = float(self.curve["team_cost"].iloc[-1]) if len(self.curve) else float("nan")
        return pd.Series({"transitions": self.transitions, "seconds": self.seconds,
                          "final mean daily cost": last}, name=self.config.method)


def train_decentralised(config: EnvConfig, dcfg: DecentralisedConfig | None = None, **changes) -> DecentralisedResult:
    """Train one table per warehouse on ``dcfg.batch`` copies of ``config`` (needs action grids).

    Each agent observes its own stock and its neighbours' stock reports (the ``"shared"``
    encoding at full resolution) and acts epsilon-greedily in its own table. The update depends
    on ``dcfg.method`` (see the module docstring). Team reward = minus the total daily cost.
    ``changes`` override fields of ``dcfg``. Notebook 07 and ``benchmarks/bench_coordination.py``
    measure the result with :func:`mas_lib.decide.planning.evaluate_policy`; paper 4.4-4.5.
    """
    t0 = time.perf_counter()
    dcfg = (dcfg or DecentralisedConfig()).__class__(**{**(dcfg or DecentralisedConfig()).__dict__, **changes})
    qcfg = dcfg._qcfg()
    train_cfg = config.replace(reward=RewardConfig(kind="cost"), episode_length=dcfg.episode_length)
    enc = StateEncoder(config, None, "shared", None)
    act = ActionTable(config)
    N = act.N
    feasible = [act.feasible(i, enc.own_stock(i, i)) for i in range(N)]
    tables = [np.where(f, 0.0, -np.inf) for f in feasible]
    visits = [np.zeros(t.shape, dtype=np.int64) for t in tables]
    n_feas = [f.sum(axis=1) for f in feasible]
    feas_idx = [np.argsort(~f, axis=1, kind="stable") for f in feasible]
    rng = np.random.default_rng(dcfg.seed)
    B, n_days = dcfg.batch, dcfg.steps
    gamma = dcfg.gamma
    now = {"day": 0}
    epsilon = exploration_schedule(qcfg)
    rows, block = [], []
    log_every = max(1, n_days // 50)

    def alpha(n):
        return learning_rate(qcfg, n)

    def behave(state: SystemState):
        eps = epsilon(now["day"] / n_days)
        s = enc.encode(state)
        explore = rng.random((B, N)) < eps
        pick = rng.random((B, N))
        a = np.empty((B, N), dtype=np.int64)
        for k in range(N):
            sk = s[:, k]
            nth = np.floor(pick[:, k] * n_feas[k][sk]).astype(np.int64)
            a[:, k] = np.where(explore[:, k], feas_idx[k][sk, nth], np.argmax(tables[k][sk], axis=1))
        now["s"], now["a"] = s, a
        return act.decode(a)

    for step in rollout(train_cfg, behave, copies=B, seed=dcfg.seed, days=n_days):
        s, a = now["s"], now["a"]
        s2 = enc.encode(step.next_state)
        r = step.result.reward.sum(axis=1)
        q_sa = [tables[k][s[:, k], a[:, k]] for k in range(N)]
        q_next = [tables[k][s2[:, k]].max(axis=1) for k in range(N)]
        if dcfg.method == "vdn":
            delta = r + gamma * sum(q_next) - sum(q_sa)
            for k in range(N):
                batch_q_update(tables[k], visits[k], s[:, k], a[:, k], q_sa[k] + delta / N, alpha)
        else:
            for k in range(N):
                target = r + gamma * q_next[k]
                if dcfg.method == "hysteretic":
                    d = target - q_sa[k]
                    target = np.where(d < 0, q_sa[k] + dcfg.beta * d, target)
                batch_q_update(tables[k], visits[k], s[:, k], a[:, k], target, alpha)
        block.append(-r.mean())
        now["day"] += 1
        if now["day"] % log_every == 0:
            rows.append({"day": now["day"], "team_cost": float(np.mean(block))})
            block = []
    policy = QPolicy(config, enc, tables, None, visits, label=f"decentralised {dcfg.method}")
    policy.name = f"decentralised ({dcfg.method})"
    return DecentralisedResult(policy, pd.DataFrame(rows), n_days * B, time.perf_counter() - t0, dcfg)
