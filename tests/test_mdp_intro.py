"""The three-state chain of notebook 05's section 0 (mas_lib.teach.mdp_intro): the value of a fixed
policy solves its Bellman equation, agrees with a long simulation of discounted costs, and bad
inputs are refused with the field named."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib.teach.mdp_intro import policy_values, stock_chain
from mas_lib.validation import ConfigError

DEMAND = {0: 0.25, 10: 0.5, 20: 0.25}


def test_the_chain_of_refill_to_20():
    chain = stock_chain({0: 20, 10: 10, 20: 20}, DEMAND)
    # from 0 or 20: 20 available, closing 20/10/0 with 1/4, 1/2, 1/4; from 10: closing 10/0/0, 10 lost w.p. 1/4
    assert np.allclose(chain.P, [[0.25, 0.5, 0.25], [0.75, 0.25, 0.0], [0.25, 0.5, 0.25]])
    assert np.allclose(chain.cost, [10.0, 0.25 * 10 + 0.25 * 10 * 20, 10.0])


def test_the_value_matches_a_simulated_discounted_cost():
    chain = stock_chain({0: 10, 10: 10, 20: 20}, DEMAND)
    v = policy_values(chain.P, chain.cost, 0.9)
    rng = np.random.default_rng(0)
    n, days = 20_000, 120
    state = np.zeros(n, dtype=int)
    total = np.zeros(n)
    for t in range(days):
        total += 0.9 ** t * chain.cost[state]
        u = rng.random(n)
        state = (u[:, None] > np.cumsum(chain.P[state], axis=1)).sum(axis=1)
    assert abs(total.mean() - v[0]) < 0.02 * v[0]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3), st.floats(0.0, 0.99),
       st.lists(st.floats(0.0, 100.0), min_size=3, max_size=3))
def test_policy_values_solve_the_bellman_equation(weights, gamma, cost):
    P = np.tile(np.array(weights) / sum(weights), (3, 1))
    v = policy_values(P, np.array(cost), gamma)
    assert np.allclose(v, np.array(cost) + gamma * P @ v, atol=1e-6)


def test_bad_inputs_name_the_field():
    P = np.eye(3)
    with pytest.raises(ConfigError, match=r"gamma = 1\.0 is not allowed; allowed: a finite number in \[0, 1\)"):
        policy_values(P, np.ones(3), 1.0)
    with pytest.raises(ConfigError, match="P row sums"):
        policy_values(P * 0.5, np.ones(3), 0.9)
    with pytest.raises(ConfigError, match=r"P\.shape"):
        policy_values(np.eye(2), np.ones(3), 0.9)
    with pytest.raises(ConfigError, match="demand probabilities"):
        stock_chain({0: 20, 10: 10, 20: 20}, {0: 0.5, 10: 0.6})
    with pytest.raises(ConfigError, match=r"order_up_to\[10\]"):
        stock_chain({0: 20, 20: 20}, DEMAND)
