"""A five-warehouse network for comparing protocols in simulation (notebook 07, ``bench_coordination.py``).

The planner's instances have two warehouses; coordination matters more with more of them.
:func:`regional_network` -- five warehouses on a ring with two cross links, Poisson demand of
20-60 units/day, a replenishment lead time of 4 days by default -- is built in
:mod:`mas_lib.sim.scenarios`, the home of every scenario network (its costs are listed there), and
re-exported here; :func:`regional_replenishment` is the ordering rule every protocol uses on it.
Paper 3.2.1 (the multi-warehouse system).
"""

from __future__ import annotations

from ..sim.config import EnvConfig
from ..sim.scenarios import REGIONAL_MEANS, regional_network

__all__ = ["regional_network", "REGIONAL_MEANS", "regional_replenishment"]


def regional_replenishment(config: EnvConfig, z: float = 1.0):
    """The (s, S) ordering rule every protocol uses on :func:`regional_network` [units]:
    ``s = mu (L + 1) + z sqrt(mu (L + 1))`` (mean demand over lead time plus a day, plus ``z``
    standard deviations of Poisson demand) and ``S = s + EOQ`` with ``EOQ = sqrt(2 K mu / h)``
    (K the fixed order cost, h the holding cost). Notebook 07."""
    import numpy as np

    from ..decide.policies import SsPolicy
    from ..validation import check_number

    z = check_number(z, "regional_replenishment.z", low=-3, high=5, error=ValueError)
    net = config.network
    mu = np.asarray(config.demand.expected(1), dtype=float).reshape(-1)
    horizon = mu * (net.lead_time + 1)
    s = horizon + z * np.sqrt(horizon)
    eoq = np.sqrt(2 * np.maximum(net.order_fixed_cost, 1.0) * mu / np.maximum(net.holding_cost, 1e-9))
    return SsPolicy(config, s=np.round(s), S=np.minimum(np.round(s + eoq), net.capacity))
