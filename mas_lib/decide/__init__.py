"""Decisions (paper sections 3.1.1-3.1.2, 4.4-4.5): the policy interface and classical baselines,
the rollout that runs any policy on the batch core, the benchmark instances, tabular Q-learning
(:mod:`mas_lib.decide.tabular`) and the exact optimum (:mod:`mas_lib.decide.planning`).

Layering: ``mas_lib.decide`` builds on :mod:`mas_lib.sim`; the simulation never imports it.
"""

from .instances import COSTS, Instance, cross_border_instance, paper_instance, with_costs
from .policies import *  # noqa: F403
from .policies import __all__ as _policies_all
from .tabular import *  # noqa: F403
from .tabular import __all__ as _tabular_all

__all__ = sorted(set(_policies_all) | set(_tabular_all) | {
    "COSTS", "Instance", "cross_border_instance", "paper_instance", "with_costs"})
