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
  masking), 2,000 days x 32 copies with two updates a day = 64,000 transitions.
"""

from __future__ import annotations

from .dqn import DQNConfig
from .pg import PGConfig

__all__ = ["RECIPES", "recipe"]

#: Full-budget settings by learner name (transitions = days x copies).
RECIPES: dict[str, PGConfig | DQNConfig] = {
    "PPO": PGConfig(days=6000, copies=256, horizon=50, entropy=0.03, entropy_end=0.0, anneal_lr=True,
                    minibatch=1024, log_every=750),
    "PPO, constant bonus": PGConfig(days=4000, copies=128, horizon=50, entropy=0.005, minibatch=1024, log_every=500),
    "REINFORCE": PGConfig(method="reinforce", days=4000, copies=128, horizon=25, entropy=0.005, log_every=500),
    "DQN": DQNConfig(days=2000, copies=32, updates_per_day=2, log_every=250),
}


def recipe(learner: str, seed: int = 0, scale: float = 1.0) -> PGConfig | DQNConfig:
    """The recipe of ``learner`` (a key of :data:`RECIPES`) with ``seed``; ``scale`` < 1 shrinks
    the training days (at least 10) and the logging interval alike, for quick runs. A clear error
    names an unknown learner."""
    if learner not in RECIPES:
        raise ValueError(f"learner = {learner!r} is not allowed; allowed: {', '.join(RECIPES)}")
    base = RECIPES[learner]
    days = max(10, int(round(base.days * scale)))
    return base.replace(seed=seed, days=days, log_every=max(1, min(days, int(round(base.log_every * scale)))))
