"""Deep reinforcement learning from scratch in numpy: where tables run out (paper 3.1.2(4); notebook 09).

The paper names deep Q-networks and policy-gradient methods for state spaces too large for a
table. This subpackage builds both on the library's own pieces -- the batch core and the one
:func:`~mas_lib.decide.rollout.rollout` loop, :class:`~mas_lib.sim.observe.ObservationSpec`, the
network's action tables -- and every learned network is a
:class:`~mas_lib.decide.policies.Policy`, so :mod:`mas_lib.decide.planning` measures its exact gap
to the optimum. One idea per module:

* :mod:`.nn` -- dense layers, ReLU/tanh, softmax, Adam, clipping, NaN checks, checked ``.npz`` files;
* :mod:`.features` -- :class:`ObservationEncoder` (scaling in one place) and :class:`ActionMasks`;
* :mod:`.policy` -- :class:`NetworkPolicy` (greedy play, env and batch core) and :class:`DeepResult`;
* :mod:`.dqn` -- :func:`train_dqn` (replay, target network, double DQN, epsilon, masking);
* :mod:`.pg` -- :func:`train_pg` (REINFORCE with a baseline, PPO-clip; per-warehouse actors and a
  centralised critic);
* :mod:`.instances` -- :func:`long_lead_instance`, 66,066 states;
* :mod:`.recipes` -- the benchmark's full-budget settings of each learner (:data:`RECIPES`).
"""

from .dqn import DQNConfig, ReplayBuffer, dqn_targets, train_dqn
from .features import ActionMasks, ObservationEncoder
from .instances import LARGE_MEMORY_GIB, long_lead_instance
from .nn import (
    MLP,
    Adam,
    NonFiniteError,
    WeightsMismatchError,
    check_finite,
    clip_by_norm,
    log_softmax,
    single_thread,
    softmax,
)
from .pg import PGConfig, gae, linear_schedule, policy_gradient_logits, train_pg
from .policy import DeepResult, NetworkPolicy
from .recipes import RECIPES, recipe

__all__ = [
    "MLP", "Adam", "softmax", "log_softmax", "clip_by_norm", "check_finite", "single_thread", "NonFiniteError",
    "WeightsMismatchError", "ObservationEncoder", "ActionMasks", "NetworkPolicy", "DeepResult", "DQNConfig",
    "ReplayBuffer", "dqn_targets", "train_dqn", "PGConfig", "train_pg", "gae", "policy_gradient_logits", "linear_schedule",
    "long_lead_instance", "LARGE_MEMORY_GIB", "RECIPES", "recipe",
]
