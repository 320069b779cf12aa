"""The smallest Markov decision process of the collection: one warehouse whose stock is 0, 10 or 20
units, a fixed ordering rule, and the value of that policy found by solving the linear system
``(I - gamma P) v = c`` (notebook 05's opening section on the MDP; the full two-warehouse model and
its exact solvers are :mod:`mas_lib.decide.planning`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..validation import check_number, not_allowed


@dataclass(frozen=True)
class Chain:
    """A fixed policy's Markov chain: ``states`` [units of stock at the start of a day], transition
    matrix ``P[s, s']`` and expected one-day cost ``cost[s]`` [money]."""

    states: tuple[int, ...]
    P: np.ndarray
    cost: np.ndarray


def policy_values(P: np.ndarray, cost: np.ndarray, gamma: float) -> np.ndarray:
    """The discounted cost ``v`` [money] of a fixed policy from every state: the solution of the
    Bellman equation of that policy, ``v = cost + gamma P v``, i.e. ``(I - gamma P) v = cost``.
    ``P`` must be square with rows summing to 1; ``gamma`` in [0, 1)."""
    gamma = check_number(gamma, "gamma", low=0.0, high=1.0, high_inclusive=False)
    P, cost = np.asarray(P, dtype=float), np.asarray(cost, dtype=float)
    if P.ndim != 2 or P.shape[0] != P.shape[1] or cost.shape != (P.shape[0],):
        raise not_allowed("P.shape", P.shape, f"square and matching cost.shape {cost.shape}")
    if (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0):
        raise not_allowed("P row sums", P.sum(axis=1).round(6).tolist(), "non-negative rows summing to 1")
    return np.linalg.solve(np.eye(len(cost)) - gamma * P, cost)


def stock_chain(order_up_to: Mapping[int, int], demand: Mapping[int, float], holding: float = 1.0,
                lost_sale: float = 20.0, levels: Sequence[int] = (0, 10, 20)) -> Chain:
    """The chain of one warehouse under a fixed rule: in stock ``s`` it orders up to
    ``order_up_to[s]`` units (same-day delivery, as in the paper's section 4), the day's
    ``demand`` (units -> probability) is served from stock, unmet demand is lost at ``lost_sale``
    [money/unit] and the closing stock costs ``holding`` [money/unit-day]; the closing stock is
    the next day's state. Every state must be in ``levels`` and in ``order_up_to``."""
    levels = tuple(int(s) for s in levels)
    probs = np.array(list(demand.values()), dtype=float)
    if (probs < 0).any() or not np.isclose(probs.sum(), 1.0):
        raise not_allowed("demand probabilities", probs.tolist(), "non-negative, summing to 1")
    index = {s: i for i, s in enumerate(levels)}
    P, cost = np.zeros((len(levels), len(levels))), np.zeros(len(levels))
    for s in levels:
        if s not in order_up_to:
            raise not_allowed(f"order_up_to[{s}]", None, "an order-up-to level for every state")
        available = max(s, int(order_up_to[s]))
        for d, p in demand.items():
            closing = max(available - int(d), 0)
            if closing not in index:
                raise not_allowed("closing stock", closing, f"one of the levels {levels}")
            P[index[s], index[closing]] += p
            cost[index[s]] += p * (holding * closing + lost_sale * max(int(d) - available, 0))
    return Chain(levels, P, cost)
