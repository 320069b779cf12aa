"""The benchmark's settings of each deep learner, in one place (paper 3.1.2(4); notebook 09,
``benchmarks/bench_deep_rl.py``).

A *recipe* is the full-budget configuration the benchmark trains with; notebook 09 trains the
same learners with small budgets and says how far these go. What each recipe is and why:

* ``"PPO"`` -- per-warehouse actors with a centralised critic, 6,000 days x 256 copies = 1.5 M
  transitions. A large entropy bonus (0.03) falling linearly to 0 and step sizes annealed to 0:
  with a small constant bonus (0.005, 128 copies), one seed in three of ``cross_border`` settled
  on both warehouses ordering (8.7-10.5% above the optimum) instead of one ordering and a transfer
  feeding the other; with this schedule the three seeds end within about 2%.
* ``"PPO, constant bonus"`` -- the ablation: the earlier setting (a constant bonus of 0.005,
  128 copies, no annealing, 4,000 days = 512,000 transitions) that left a seed stuck.
* ``"REINFORCE"`` -- the same actors and critic, Monte Carlo returns over 25-day episodes, one
  gradient step per batch: the textbook baseline PPO improves on.
* ``"DQN"`` -- one Q-network over the joint actions (double DQN, replay, target network,
  masking), 2,000 days x 256 copies with four updates a day = 512,000 transitions, Q started at
  the (pessimistic) value of random play and Adam's step size annealed to 0. The earlier recipe
  (64,000 transitions, Q starting near 0, a constant step) landed 47-204 % above the optimum and
  its greedy policy flipped between good and bad ones along a run; :data:`DQN_ABLATION` removes
  each fix in turn (``benchmarks/bench_suite.py --ablation``).

A recipe is meant for two-warehouse instances with at most :data:`MAX_JOINT_ACTIONS` joint
actions (the published instances and :mod:`mas_lib.decide.suite`); :func:`recipe_for` refuses
others with an error naming what differs.
"""

from __future__ import annotations

from ...sim.config import EnvConfig
from ...validation import ConfigError, not_allowed
from .dqn import DQNConfig
from .pg import PGConfig

__all__ = ["RECIPES", "recipe", "DQN_ABLATION", "MAX_JOINT_ACTIONS", "WAREHOUSES", "recipe_for"]

#: The instances the recipes were set for: this many warehouses ...
WAREHOUSES = 2
#: ... and at most this many joint actions (the benchmark grids: 11 orders x 4 transfers each way).
MAX_JOINT_ACTIONS = 1936

#: Full-budget settings by learner name (transitions = days x copies).
RECIPES: dict[str, PGConfig | DQNConfig] = {
    "PPO": PGConfig(days=6000, copies=256, horizon=50, entropy=0.03, entropy_end=0.0, anneal_lr=True,
                    minibatch=1024, log_every=750),
    "PPO, constant bonus": PGConfig(days=4000, copies=128, horizon=50, entropy=0.005, minibatch=1024, log_every=500),
    "REINFORCE": PGConfig(method="reinforce", days=4000, copies=128, horizon=25, entropy=0.005, log_every=500),
    "DQN": DQNConfig(days=2000, copies=256, updates_per_day=4, q_init="auto", anneal_lr=True, log_every=250),
}

#: The DQN recipe with each fix removed in turn (the ablation of ``benchmarks/bench_suite.py``).
DQN_ABLATION: dict[str, DQNConfig] = {
    "DQN": RECIPES["DQN"],
    "DQN, 64k transitions": RECIPES["DQN"].replace(copies=32, updates_per_day=2),
    "DQN, optimistic start": RECIPES["DQN"].replace(q_init=0.0),
    "DQN, constant step": RECIPES["DQN"].replace(anneal_lr=False),
}


def recipe(learner: str, seed: int = 0, scale: float = 1.0) -> PGConfig | DQNConfig:
    """The recipe of ``learner`` (a key of :data:`RECIPES`) with ``seed``; ``scale`` < 1 shrinks
    the training days (at least 10) and the logging interval alike, for quick runs. A clear error
    names an unknown learner."""
    known = {**RECIPES, **DQN_ABLATION}
    if learner not in known:
        raise ValueError(f"learner = {learner!r} is not allowed; allowed: {', '.join(known)}")
    base = known[learner]
    days = max(10, int(round(base.days * scale)))
    return base.replace(seed=seed, days=days, log_every=max(1, min(days, int(round(base.log_every * scale)))))


def recipe_for(learner: str, config: EnvConfig, seed: int = 0, scale: float = 1.0) -> PGConfig | DQNConfig:
    """:func:`recipe` after checking that ``config`` has the shape the recipes were set for
    (:data:`WAREHOUSES` warehouses, at most :data:`MAX_JOINT_ACTIONS` joint actions): the same
    settings on every such instance (``benchmarks/bench_suite.py``). Another shape raises a
    :class:`~mas_lib.validation.ConfigError` naming the count and what is allowed."""
    if config.network.N != WAREHOUSES:
        raise not_allowed(f"recipe_for({learner!r}).config warehouses", config.network.N,
                          f"{WAREHOUSES} (the recipes were set for two-warehouse instances)", ConfigError)
    n = config.network.n_joint_actions
    if n > MAX_JOINT_ACTIONS:
        raise not_allowed(f"recipe_for({learner!r}).config joint actions", n,
                          f"at most {MAX_JOINT_ACTIONS} (the benchmark's order and transfer grids)", ConfigError)
    return recipe(learner, seed=seed, scale=scale)
