"""Reward functions (paper section 4.3) and our precise reading of each term.

The paper writes the reward of a warehouse as a weighted sum

.. math::  r = c_1 \\cdot \\text{satisfaction} + c_2 \\cdot \\text{inventory-cost reduction}
              - c_3 \\cdot \\text{transport cost}

without defining the three terms. This library reads them as follows (all per warehouse, per day):

* **satisfaction** = fill rate = units of *today's* demand served from stock / today's demand
  (dimensionless, in [0, 1]; 1 on a day with no demand). This matches the paper's
  ``80/80`` -- "demand met over demand".
* **inventory-cost reduction** = holding cost of yesterday's closing stock minus holding cost of
  today's closing stock, ``h * (I_{t-1} - I_t)`` [money]; positive when the warehouse holds less
  than yesterday. (On day 1, "yesterday" is the initial inventory.)
* **transport cost** = what the warehouse paid today to ship transfers to its neighbours [money].

The paper's own worked numbers do not follow from any single reading (see :mod:`mas_lib.teach.paper`,
the errata). For learning and for the exact optimum we use the **cost reward**: minus the
warehouse's total daily cost (holding + shortage + ordering + transport) [money], whose sum over
warehouses and days is the quantity an operator actually pays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["paper_reward_terms", "paper_reward", "cost_reward"]


def paper_reward_terms(
    served_today: np.ndarray,
    demand: np.ndarray,
    holding_cost_rate: np.ndarray,
    previous_end_inventory: np.ndarray,
    end_inventory: np.ndarray,
    transport_cost: np.ndarray,
) -> dict[str, np.ndarray]:
    """The three terms of the paper's reward, element-wise over any array shape.

    Args:
        served_today: units of today's demand served [units].
        demand: today's demand [units].
        holding_cost_rate: holding cost h [money / unit-day] (broadcastable).
        previous_end_inventory, end_inventory: closing stock yesterday and today [units].
        transport_cost: transfer cost paid today [money].

    Returns:
        dict with ``satisfaction`` [-], ``inventory_cost_reduction`` [money] and
        ``transport_cost`` [money]. The core computes the paper reward with it.
    """
    demand = np.asarray(demand, dtype=float)
    served = np.asarray(served_today, dtype=float)
    satisfaction = np.divide(served, demand, out=np.ones(np.broadcast_shapes(served.shape, demand.shape)),
                             where=demand > 0)
    reduction = np.asarray(holding_cost_rate, dtype=float) * (
        np.asarray(previous_end_inventory, dtype=float) - np.asarray(end_inventory, dtype=float)
    )
    return {
        "satisfaction": satisfaction,
        "inventory_cost_reduction": reduction,
        "transport_cost": np.asarray(transport_cost, dtype=float),
    }


def paper_reward(terms: dict[str, np.ndarray], c1: float = 1.0, c2: float = 0.5, c3: float = 0.2) -> np.ndarray:
    """``c1 * satisfaction + c2 * inventory_cost_reduction - c3 * transport_cost`` (paper 4.3)."""
    return c1 * terms["satisfaction"] + c2 * terms["inventory_cost_reduction"] - c3 * terms["transport_cost"]


def cost_reward(total_cost: np.ndarray) -> np.ndarray:
    """Minus the total daily cost [money]: the reward RL agents and the DP optimum maximise."""
    return -np.asarray(total_cost, dtype=float)
