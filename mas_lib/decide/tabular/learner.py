"""The tabular Q-learner itself (paper 3.1.2, 4.4): tables, visit counts, behaviour and update.

:class:`TabularLearner` holds everything the two training loops of
:mod:`~mas_lib.decide.tabular.training` share: the training config (the learner's reward and
episode length), the :class:`~mas_lib.decide.tabular.encoding.StateEncoder` and
:class:`~mas_lib.decide.tabular.encoding.ActionTable`, the feasible actions of every state, the
Q-table(s) and visit counts, the epsilon-greedy behaviour of ``B`` copies at once and the
vectorised update.
"""

from __future__ import annotations

import numpy as np

from ...sim.config import EnvConfig, RewardConfig
from ...sim.state import SystemState
from ..rollout import Step, play, rollout
from .config import QLearningConfig, learning_rate
from .encoding import ActionTable, StateEncoder
from .policy import QPolicy
from .updates import batch_q_update

__all__ = ["TabularLearner"]


class TabularLearner:
    """The tabular Q-learner of one run (paper 3.1.2, 4.4): its training config, state encoder,
    action table, Q-tables (one per learner, ``(states, actions)``, in the unit of the training
    reward; ``-inf`` on infeasible actions), visit counts, epsilon-greedy behaviour and vectorised
    update -- everything :func:`~mas_lib.decide.tabular.training.train` and
    :func:`~mas_lib.decide.tabular.training.train_loop` share. No notebook builds one directly
    (:func:`train` and :func:`train_loop` drive it).

    Args:
        config: the environment (needs ``order_grid``/``transfer_grid``).
        qcfg: the learner's settings.
        seed: seed of the ``q_init="auto"`` estimate (the loops own the exploration stream).
    """

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
            config, qcfg.unit, qcfg.form, qcfg.share_levels
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
        """Learner actions ``(B, n_learners)`` -> per-warehouse ``Discrete`` indices ``(B, N)``
        (:meth:`~mas_lib.decide.tabular.encoding.ActionTable.to_warehouse`)."""
        return self.actions.to_warehouse(learner_actions, self.qcfg.form)

    def policy(self) -> QPolicy:
        """The greedy :class:`~mas_lib.decide.tabular.policy.QPolicy` of the current tables (shared,
        not copied; visit counts of both tables summed for double Q-learning)."""
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

    def learn(self, s: np.ndarray, a: np.ndarray, r: np.ndarray, s2: np.ndarray, rng: np.random.Generator) -> None:
        """Vectorised update for every learner from the ``B`` transitions ``(s, a, r, s2)`` (state
        and action indices ``(B, n_learners)``, rewards ``(B, n_learners)``, next-state indices;
        on truncation ``s2`` is the final observation, so no transition is dropped)."""
        gamma = self.qcfg.gamma
        coin = rng.random(s.shape) < 0.5 if self.tables2 is not None else None
        for k in range(self.n_learners):
            sk, ak, rk, s2k = s[:, k], a[:, k], r[:, k], s2[:, k]
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
