"""Decisions (paper sections 3.1.1-3.1.2, 4.4-4.5): the policy interface and classical baselines
(:mod:`~mas_lib.decide.policies`), the one rollout loop that runs every policy and learner
(:mod:`~mas_lib.decide.rollout`), parameter search (:mod:`~mas_lib.decide.search`), the benchmark
instances (:mod:`~mas_lib.decide.instances`) and the seeded suite of planner-solvable ones
(:mod:`~mas_lib.decide.suite`, imported on demand, scored by :mod:`~mas_lib.decide.suite_runs`), tabular Q-learning (:mod:`mas_lib.decide.tabular`) and
the exact optimum (:mod:`mas_lib.decide.planning`, imported on demand).

Layering: ``mas_lib.decide`` builds on :mod:`mas_lib.sim`; the simulation never imports it.
"""

from .instances import (
    COSTS,
    Instance,
    cross_border_instance,
    get_instance,
    paper_instance,
    with_costs,
)
from .policies import *
from .policies import __all__ as _policies_all
from .rollout import *
from .rollout import __all__ as _rollout_all
from .schedule import Schedule
from .search import SearchResult, grid_search
from .tabular import *
from .tabular import __all__ as _tabular_all

__all__ = sorted(set(_policies_all) | set(_rollout_all) | set(_tabular_all) | {
    "COSTS", "Instance", "Schedule", "SearchResult", "cross_border_instance", "get_instance", "grid_search",
    "paper_instance", "with_costs"})
