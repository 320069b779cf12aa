"""The exact optimum by dynamic programming and exact policy evaluation (notebooks 05 and 06).

* :mod:`.model` -- the exact MDP of a discretised instance (:func:`build_model`, :func:`model_for`,
  the memory guard :func:`estimate_memory`);
* :mod:`.dynamics` -- one day of the simulator's dynamics on state-action rows (private);
* :mod:`.evaluate` -- exact value of any policy and its gap to the optimum;
* :mod:`.solve` -- value iteration and policy iteration;
* :mod:`.tuning` -- tuned classical baselines and policy tables;
* :mod:`.store` -- an optimum saved once (``.npz``) and loaded onto an evaluation-only model;
* :mod:`.reference_cache` -- :func:`reference`, the one cache of (model, optimum) every caller shares.
"""

from .evaluate import (
    PolicyValue,
    TabularPolicy,
    evaluate_actions,
    evaluate_policy,
    expected_episode_cost,
    gap,
)
from .model import (
    MDPModel,
    MemoryEstimate,
    NotRepresentableError,
    UnsupportedConfigError,
    build_model,
    estimate_memory,
    model_for,
)
from .reference_cache import clear_reference_cache, reference
from .solve import Solution, policy_iteration, value_iteration
from .store import load_policy_table, model_fingerprint, save_policy_table
from .tuning import (
    SnapToGrid,
    TuningResult,
    coordinate_search,
    policy_table,
    scorer,
    tune_baselines,
)

__all__ = [
    "reference",
    "clear_reference_cache",
    "UnsupportedConfigError",
    "NotRepresentableError",
    "MDPModel",
    "MemoryEstimate",
    "estimate_memory",
    "Solution",
    "PolicyValue",
    "TabularPolicy",
    "build_model",
    "model_for",
    "value_iteration",
    "policy_iteration",
    "evaluate_policy",
    "evaluate_actions",
    "expected_episode_cost",
    "gap",
    "SnapToGrid",
    "coordinate_search",
    "scorer",
    "tune_baselines",
    "TuningResult",
    "policy_table",
    "save_policy_table",
    "load_policy_table",
    "model_fingerprint",
]
