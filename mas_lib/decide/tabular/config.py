"""The settings of a tabular Q-learning run, its two presets and its two schedules (paper 3.1.2, 4.4, 4.5).

* :class:`QLearningConfig` -- every setting, validated on construction with :mod:`mas_lib.validation`;
* :func:`paper_preset` / :func:`best_preset` -- the naive learner of the paper and our tuned one;
* :func:`learning_rate` / :func:`exploration_rate` -- the ``alpha`` and ``epsilon`` schedules.

Notebook 05 teaches these; notebook 06 and ``benchmarks/`` train with the presets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...validation import (
    ConfigError,
    Validated,
    check_number,
    checked,
    choice,
    flag,
    not_allowed,
    number,
    optional,
    probability,
    whole,
)
from ..schedule import Schedule

__all__ = ["QLearningConfig", "paper_preset", "best_preset", "learning_rate", "exploration_rate",
           "exploration_schedule"]

FORMS = ("independent", "shared", "central")
ALPHA_SCHEDULES = ("constant", "visits", "polynomial")
EPSILON_SCHEDULES = ("constant", "linear", "exponential")
REWARD_KINDS = ("cost", "paper")


def _q_init(value, field: str, error: type[Exception] = ConfigError) -> float | str:
    """``"auto"`` or a finite number (stored as ``float``)."""
    if isinstance(value, str) and value == "auto":
        return value
    try:
        return check_number(value, field, error=error)
    except ConfigError:
        raise not_allowed(field, value, "a finite number or 'auto'", error) from None


@dataclass(frozen=True)
class QLearningConfig(Validated):
    """Every setting of a tabular Q-learning run, validated on construction (paper 3.1.2, 4.4;
    notebook 05).

    A wrong value raises :class:`mas_lib.validation.ConfigError` (a ``ValueError``) whose message
    names the field, the value and what is allowed, e.g.
    ``QLearningConfig.gamma = 1.5 is not allowed; allowed: a finite number in [0, 1)``.
    Whole numbers, numbers and booleans are stored normalised (``int``, ``float``, ``bool``).

    Attributes:
        form: ``"independent"`` (one learner per warehouse, own state only), ``"shared"`` (plus
            what its neighbours share: their stock, coarsened --
            the paper's information sharing, section 3.1.1(4)) or ``"central"`` (one learner over
            the joint state and joint action).
        gamma: discount factor per day, in [0, 1).
        alpha: learning-rate schedule: ``"constant"`` (``alpha0``), ``"visits"`` (``1/n`` with
            ``n`` the number of visits of the state-action pair, i.e. a running average) or
            ``"polynomial"`` (``1/n**alpha_power``).
        alpha0: the constant learning rate, in (0, 1].
        alpha_power: exponent ``w`` of the polynomial schedule, in (0.5, 1].
        epsilon: exploration schedule: ``"constant"`` (``epsilon_start``), ``"linear"`` or
            ``"exponential"`` decay from ``epsilon_start`` to ``epsilon_end`` over the first
            ``epsilon_decay`` fraction of training (then constant at ``epsilon_end``).
        epsilon_start, epsilon_end: exploration probabilities in [0, 1] (in (0, 1] for the
            exponential schedule).
        epsilon_decay: fraction of training over which epsilon decays, in (0, 1].
        double: double Q-learning (two tables; each transition updates one of them, chosen by a
            fair coin, using the other to value the greedy next action).
        steps: simulated days per environment copy [days]; the learner sees ``steps * batch``
            transitions.
        batch: environment copies ``B`` stepped together (vectorised training).
        episode_length: days per training episode [days], >= 2; ``None`` = the environment's.
            Episodes are truncated, not terminated (the learner bootstraps from the final
            observation), so the length only sets how often copies restart from the initial
            stock; the learned policy is for the discounted infinite-horizon problem either way.
        reward: ``"cost"`` (minus the total daily cost [money/day], what the exact optimum
            minimises) or ``"paper"`` (``c1 * satisfaction + c2 * inventory-cost reduction -
            c3 * transport``, paper 3.1.2(3) and 4.3).
        c1, c2, c3: the paper's reward weights (used when ``reward="paper"``).
        team_reward: independent/shared learners learn from the sum of all warehouses' rewards
            (True) or from their own (False). The central learner always uses the sum.
        seed: seed of the exploration random stream and of the demand of the copies.
        unit: stock unit of the state encoding [units]; ``None`` infers it from the config
            (:func:`~mas_lib.decide.tabular.encoding.infer_unit`).
        share_levels: levels to which a neighbour's stock is coarsened in the ``"shared"`` form;
            ``None`` = full resolution.
        q_init: initial value of every feasible table entry: a finite number (the paper: 0) or
            ``"auto"`` -- the discounted value of always acting at random,
            ``mean daily reward / (1 - gamma)``, estimated from a short simulation before
            training (a sensible, mildly pessimistic start: untried actions are not preferred).
        log_every: days per copy between two rows of the learning curve [days].
    """

    form: str = choice("central", FORMS)
    gamma: float = number(0.95, low=0.0, high=1.0, high_inclusive=False)
    alpha: str = choice("polynomial", ALPHA_SCHEDULES)
    alpha0: float = number(0.1, low=0.0, high=1.0, low_inclusive=False)
    alpha_power: float = number(0.6, low=0.5, high=1.0, low_inclusive=False)
    epsilon: str = choice("linear", EPSILON_SCHEDULES)
    epsilon_start: float = probability(1.0)
    epsilon_end: float = probability(0.05)
    epsilon_decay: float = number(0.8, low=0.0, high=1.0, low_inclusive=False)
    double: bool = flag(False)
    steps: int = whole(2000, low=1)
    batch: int = whole(256, low=1)
    episode_length: int | None = optional(whole(low=2))
    reward: str = choice("cost", REWARD_KINDS)
    c1: float = number(1.0)
    c2: float = number(0.5)
    c3: float = number(0.2)
    team_reward: bool = flag(True)
    seed: int = whole(0, low=0)
    unit: int | None = optional(whole(low=1))
    share_levels: int | None = optional(whole(3, low=1))
    q_init: float | str = checked(_q_init, 0.0)
    log_every: int = whole(50, low=1)

    def _check_together(self) -> None:
        """The exponential exploration schedule needs probabilities in (0, 1]."""
        for name in ("epsilon_start", "epsilon_end"):
            if self.epsilon == "exponential" and getattr(self, name) == 0:
                raise not_allowed(f"QLearningConfig.{name}", getattr(self, name),
                                  "a probability in (0, 1] with the exponential schedule")

    def replace(self, **changes) -> QLearningConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def summary(self) -> pd.Series:
        """Every setting as a labelled series (the library's results convention; for tables)."""
        return pd.Series({f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, name="QLearningConfig",
                         dtype=object)


def paper_preset(gamma: float = 0.95, steps: int = 20000, batch: int = 1024, seed: int = 0, **changes) -> QLearningConfig:
    """The "naive paper-style" learner of section 4.4: one joint (central) table initialised at
    0, a constant learning rate 0.1 and a constant exploration rate 0.1 -- nothing more. The
    default budget (``steps`` days x ``batch`` copies) is the same as :func:`best_preset`'s
    (20 million transitions), so the two differ only in method; ``changes`` override any field.

    Notebooks 05 and 06 and the benchmarks report how far this lands from the exact optimum."""
    base = dict(
        form="central", gamma=gamma, alpha="constant", alpha0=0.1, epsilon="constant", epsilon_start=0.1,
        epsilon_end=0.1, double=False, steps=steps, batch=batch, seed=seed, q_init=0.0,
    )
    base.update(changes)
    return QLearningConfig(**base)


def best_preset(
    gamma: float = 0.95, steps: int = 20000, batch: int = 1024, seed: int = 0, form: str = "central", **changes
) -> QLearningConfig:
    """Our best tabular Q-learner (paper 4.4-4.5; notebooks 05, 06, benchmarks): the same update,
    but a polynomial learning rate ``1/n^0.6`` per state-action pair, exploration decaying
    linearly from 1 to 0.02 over 80% of training, long training episodes (1000 days) and many
    vectorised copies: ``steps * batch`` transitions (default 20 million, about 30-45 s on two
    cores); ``changes`` override any field.

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


def learning_rate(qcfg: QLearningConfig, visits: np.ndarray | int) -> np.ndarray | float:
    """Learning rate ``alpha`` (dimensionless) for a pair visited for the ``n``-th time (``n >= 1``,
    counting this visit): constant ``alpha0``, ``1/n`` or ``1/n**alpha_power`` (paper 4.4). A
    scalar ``visits`` gives a ``float``, an array an array. Used by both training loops; no
    notebook calls it directly."""
    n = np.asarray(visits, dtype=float)
    if qcfg.alpha == "constant":
        out = np.full(n.shape, float(qcfg.alpha0))
    elif qcfg.alpha == "visits":
        out = 1.0 / np.maximum(n, 1.0)
    else:
        out = np.maximum(n, 1.0) ** -qcfg.alpha_power
    return float(out) if out.ndim == 0 else out


def exploration_rate(qcfg: QLearningConfig, progress: float) -> float:
    """Epsilon (a probability) after a fraction ``progress`` in [0, 1] of training: constant,
    or linear or exponential decay from ``epsilon_start`` to ``epsilon_end`` over the first
    ``epsilon_decay`` of training (paper 4.4-4.5: explore early, exploit late; notebook 05)."""
    return exploration_schedule(qcfg)(progress)


def exploration_schedule(qcfg: QLearningConfig) -> Schedule:
    """The epsilon schedule of ``qcfg`` as a :class:`~mas_lib.decide.schedule.Schedule` (the one
    schedule type of the package); the training loops build it once and call it every day."""
    return Schedule(qcfg.epsilon_start, qcfg.epsilon_end, qcfg.epsilon, qcfg.epsilon_decay)
