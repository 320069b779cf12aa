"""Training the tabular learners (paper 4.4, 4.5; notebooks 05, 06): two loops, one result.

* :func:`train` -- vectorised: ``B`` environment copies stepped together through the one
  :func:`~mas_lib.decide.rollout.rollout` loop on :class:`mas_lib.sim.core.BatchCore`, one numpy
  update for all ``B`` transitions of a day;
* :func:`train_loop` -- the textbook loop through :class:`mas_lib.sim.env.MultiWarehouseEnv`, one
  transition at a time (for reading, notebook 05). With ``batch=1`` and the same seed both give
  *identical* tables (tested).

Both bootstrap on truncation: on the last day of an episode the target uses the final
observation, so every simulated transition is learned from (``steps * batch`` updates).
Both return a :class:`TrainingResult` (``to_frame()`` the learning curve, ``summary()`` the totals).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...sim.config import EnvConfig
from ...sim.core import BatchCore
from ...sim.env import MultiWarehouseEnv
from ...sim.state import StepResult, SystemState
from ..rollout import Step, rollout
from .config import QLearningConfig, exploration_schedule, learning_rate
from .learner import TabularLearner
from .policy import QPolicy

__all__ = ["TrainingResult", "train", "train_loop"]

CURVE_COLUMNS = ["step", "day", "mean_daily_cost", "mean_daily_reward", "epsilon"]


@dataclass
class TrainingResult:
    """What a training run returns (paper 4.4-4.5; the benchmarks).

    Attributes:
        policy: the learned greedy :class:`~mas_lib.decide.tabular.policy.QPolicy`.
        curve: tidy frame, one row per logging interval: ``step`` (transitions so far),
            ``day`` (days per copy so far), ``mean_daily_cost`` [money/day, all warehouses,
            while exploring], ``mean_daily_reward`` (the training reward summed over
            warehouses, per day), ``epsilon``.
        steps: environment transitions simulated (days x copies); each is one update.
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
        """Transitions per second [1/s] (a speed; it depends on the machine)."""
        return self.steps / self.seconds if self.seconds > 0 else float("inf")

    def to_frame(self) -> pd.DataFrame:
        """The learning curve, a copy (the library's results convention)."""
        return self.curve.copy()

    def summary(self) -> pd.Series:
        """The run in one labelled series (the library's results convention): ``transitions``,
        ``days per copy`` [days], ``copies``, ``seconds`` [s], ``throughput`` [transitions/s]
        and the last curve row's ``final mean daily cost`` [money/day, while exploring],
        ``final mean daily reward`` and ``final epsilon``. Named after the policy."""
        last = self.curve.iloc[-1]
        return pd.Series({
            "transitions": self.steps, "days per copy": self.qcfg.steps, "copies": self.qcfg.batch,
            "seconds": self.seconds, "throughput": self.throughput,
            "final mean daily cost": float(last["mean_daily_cost"]),
            "final mean daily reward": float(last["mean_daily_reward"]), "final epsilon": float(last["epsilon"]),
        }, name=self.policy.describe())


class _CurveRecorder:
    """Learning-curve bookkeeping: one row every ``log_every`` days, averaging the cost and reward
    per day over the ``batch`` copies and the days since the last row."""

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
        return pd.DataFrame(self.rows, columns=CURVE_COLUMNS)


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
    state-action pair are merged as described in
    :func:`~mas_lib.decide.tabular.updates.batch_q_update`). Episodes are truncated,
    not terminated: on the last day of an episode the learner bootstraps from the final
    observation, then the copies are reset with fresh demand (episode ``e`` seeded
    ``(seed, e)``, copy ``b`` drawing from ``SeedSequence(seed, spawn_key=(e, b))``).

    Args:
        config: the environment (needs ``order_grid``/``transfer_grid``).
        qcfg: the learner's settings.
        seed: overrides ``qcfg.seed`` if given.
        progress: called as ``progress(days_done, days_total)`` every ``log_every`` days.
        on_step: called with every :class:`~mas_lib.decide.rollout.Step` of the stream (the
            widgets' progress bars and any custom bookkeeping listen here).

    Returns:
        :class:`TrainingResult` (policy, learning curve, ``qcfg.steps * qcfg.batch`` transitions,
        seconds). Notebooks 05 and 06 and the benchmarks compare its policy with the exact optimum.
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
    epsilon = exploration_schedule(qcfg)

    def behave(state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        now["eps"] = epsilon(now["day"] / n_days)
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
    """The textbook loop (paper 4.4; notebook 05): one :class:`mas_lib.sim.env.MultiWarehouseEnv`,
    one day at a time through the PettingZoo API, each learner choosing epsilon-greedily and
    updating one table entry per day with ``Q[s, a] += alpha * (target - Q[s, a])``; on the last
    day of an episode the target uses the final observation (truncation, not termination).

    Runs ``qcfg.steps * qcfg.batch`` days on a single environment, so it simulates as many
    transitions as :func:`train`. With ``qcfg.batch == 1`` and the same seed it produces exactly
    the same tables as :func:`train` (same random stream, same episode seeds); with larger
    batches the two are statistically equivalent. States are read with
    ``encoder.encode(env.core.state())`` -- the same numbers the agents observe. Arguments and
    result as for :func:`train` (``progress`` counts single days here).
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
    epsilon = exploration_schedule(qcfg)
    for day in range(n_days):
        eps = epsilon((day // qcfg.batch) / qcfg.steps)
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
