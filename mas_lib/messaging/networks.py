"""A five-warehouse network for comparing protocols in simulation (notebook 07, ``bench_coordination.py``).

The planner's instances have two warehouses; coordination matters more with more of them. This
network has five warehouses on a ring with two cross links (every warehouse has two or three
neighbours, transport 0.5-2 money/unit, transfers arrive the same day), Poisson demand of
20-60 units/day, holding 1 money/unit-day, lost sales at 15 money/unit, ordering 100 money/order +
1 money/unit and a replenishment lead time of ``lead_time`` days (default 4, cross-border sea or
air freight). Paper 3.2.1 (the multi-warehouse system).
"""

from __future__ import annotations

from ..sim.config import EnvConfig, LinkConfig, WarehouseConfig
from ..sim.demand import PoissonDemand
from ..validation import check_whole

__all__ = ["regional_network", "REGIONAL_MEANS"]

#: mean daily demand of the five warehouses [units/day]
REGIONAL_MEANS = (20.0, 35.0, 50.0, 60.0, 30.0)


def regional_network(lead_time: int = 4, episode_length: int = 120, transfer_lead: int = 0) -> EnvConfig:
    """The five-warehouse network described in the module docstring, with replenishment lead time
    ``lead_time`` [days] and transfer lead time ``transfer_lead`` [days]. Notebook 07."""
    lead_time = check_whole(lead_time, "regional_network.lead_time", unit="days", error=ValueError)
    transfer_lead = check_whole(transfer_lead, "regional_network.transfer_lead", unit="days", error=ValueError)
    names = ("W1", "W2", "W3", "W4", "W5")
    ws = tuple(
        WarehouseConfig(n, capacity=int(12 * m) + 100, initial_inventory=int(m * (lead_time + 2)), holding_cost=1.0,
                        shortage_cost=15.0, order_fixed_cost=100.0, order_unit_cost=1.0, lead_time=lead_time,
                        max_order=int(12 * m) + 100)
        for n, m in zip(names, REGIONAL_MEANS, strict=True)
    )
    pairs = [("W1", "W2", 0.5), ("W2", "W3", 1.0), ("W3", "W4", 0.5), ("W4", "W5", 1.0), ("W5", "W1", 1.5),
             ("W1", "W3", 2.0), ("W2", "W4", 2.0)]
    links = tuple(LinkConfig(a, b, unit_cost=c, fixed_cost=5.0, lead_time=transfer_lead) for a, b, c in pairs)
    return EnvConfig(warehouses=ws, links=links, demand=PoissonDemand(list(REGIONAL_MEANS)),
                     episode_length=episode_length)


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
