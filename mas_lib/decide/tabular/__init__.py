"""Tabular Q-learning for the warehouse agents (paper sections 3.1.2, 4.4, 4.5).

The paper trains its warehouse agents with tabular Q-learning: a table ``Q(s, a)`` that starts
at 0, actions chosen epsilon-greedily, and after every day the update

.. math:: Q(s,a) \\leftarrow Q(s,a) + \\alpha \\big(r + \\gamma \\max_{a'} Q(s',a') - Q(s,a)\\big).

This subpackage builds exactly that, in three forms (:class:`QLearningConfig` ``form``):
``"independent"`` (one learner per warehouse, own state only), ``"shared"`` (plus what its
neighbours share -- the paper's information sharing, section 3.1.1(4)) and ``"central"`` (one
learner over the joint state and joint action). One idea per module:

* :mod:`.config` -- :class:`QLearningConfig`, :func:`paper_preset`, :func:`best_preset`, the
  schedules :func:`learning_rate` and :func:`exploration_rate`;
* :mod:`.updates` -- :func:`q_update`, :func:`batch_q_update`, :func:`epsilon_greedy`;
* :mod:`.encoding` -- :class:`StateEncoder`, :class:`ActionTable`, :func:`infer_unit`;
* :mod:`.policy` -- :class:`QPolicy` (greedy policy, atomic save, checked load);
* :mod:`.learner` -- :class:`TabularLearner` (tables, behaviour, vectorised update);
* :mod:`.training` -- :func:`train` (vectorised), :func:`train_loop` (textbook loop),
  :class:`TrainingResult`.

Notebook 05 teaches it; the optimal-benchmark notebook and ``benchmarks/`` measure it against the exact optimum of
:mod:`mas_lib.decide.planning`.
"""

from .config import (
    QLearningConfig,
    best_preset,
    exploration_rate,
    exploration_schedule,
    learning_rate,
    paper_preset,
)
from .encoding import ActionTable, StateEncoder, infer_unit
from .learner import TabularLearner
from .policy import QPolicy
from .training import TrainingResult, train, train_loop
from .updates import batch_q_update, epsilon_greedy, q_update

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
    "exploration_schedule",
    "q_update",
    "batch_q_update",
    "epsilon_greedy",
    "infer_unit",
    "TabularLearner",
]
