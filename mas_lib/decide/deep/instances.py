"""A larger, still exactly solvable instance: where tables run out (paper 3.1.2(4); notebook 09).

``long_lead`` is the paper's two warehouses (:mod:`mas_lib.decide.instances`, same costs, demand
and action grids) with overseas replenishment taking **2 days** and a transfer A <-> B taking
**1 day**. An order placed today is still on the water tomorrow, so the decision-time state holds
one live pipeline slot per warehouse (11 order levels each) besides the on-hand stock:
``21 * 11 * 26 * 11 = 66,066`` states, 121 times the 546 of ``paper``; with 1,936 joint actions a
central Q-table has 128 million entries -- each visited about once in the 20 million transitions
that bring the tabular learner within 1.5% on the small instances. The exact planner still solves
it (``benchmarks/bench_deep_rl.py`` reports the time; it needs about 4 GiB, so pass
``max_memory_gib=8`` to :func:`mas_lib.decide.planning.model_for`). The network is
:func:`mas_lib.sim.scenarios.long_lead_config`; this module wraps it as an :class:`Instance`.
"""

from __future__ import annotations

from dataclasses import replace

from ...sim.scenarios import long_lead_config
from ..instances import Instance, cross_border_instance

__all__ = ["long_lead_instance", "LARGE_MEMORY_GIB"]

#: ``max_memory_gib`` to pass to ``model_for`` for :func:`long_lead_instance` (its estimate is ~4 GiB).
LARGE_MEMORY_GIB = 8.0


def long_lead_instance(replenish_lead: int = 2, transfer_lead: int = 1, episode_length: int = 100) -> Instance:
    """The ``long_lead`` instance: like ``cross_border`` but replenishment takes ``replenish_lead``
    days (default 2) and a transfer ``transfer_lead`` days (default 1). Lead times in [days];
    66,066 states with the defaults (paper 3.1.2(4): a state space too large for a table;
    notebook 09, ``benchmarks/bench_deep_rl.py``)."""
    cfg = long_lead_config(replenish_lead, transfer_lead, episode_length)
    base = cross_border_instance(episode_length=episode_length)
    return replace(
        base, name="long_lead", config=cfg,
        description=(
            f"As 'cross_border', but overseas replenishment arrives after {replenish_lead} days and a "
            f"transfer A <-> B after {transfer_lead} day(s): the state holds the orders still on the "
            "water, so a Q-table no longer fits the data a learner can collect."
        ),
    )
