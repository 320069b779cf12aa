"""The exact planner's tables (mas_lib/decide/planning) agree with the simulator's one implementation of a
day (mas_lib.sim.day.run_day, which BatchCore.step and the per-step API run) over EVERY state, action and
demand value of the small instances: which actions are allowed, the expected one-day cost of every
state-action pair, and tomorrow's state for every demand (docs/dynamics.md, "One day, written once")."""

from __future__ import annotations

import numpy as np
import pytest
from test_planning import _small

from mas_lib.decide.instances import INSTANCES
from mas_lib.decide.planning import build_model, model_for
from mas_lib.sim.day import ARRAYS, DayRules, available, run_day
from mas_lib.sim.state import StepResult

CHUNK = 60_000  # state-action pairs per call of run_day (each warehouse's arrays are CHUNK x demand values)
TOTAL = 15  # position of total_cost in a run_day row


def _models():
    yield "paper", model_for(INSTANCES["paper"])
    yield "cross_border", model_for(INSTANCES["cross_border"])
    yield "lead2_link1", build_model(_small(lead=2, transfer_lead=1), 10, 0.9)
    yield "lead3_link0", build_model(_small(lead=3, transfer_lead=0), 10, 0.9)


@pytest.mark.parametrize("name,model", list(_models()), ids=lambda v: v if isinstance(v, str) else "")
def test_planner_tables_follow_run_day_for_every_state_action_and_demand(name, model):
    assert StepResult.field_names()[TOTAL] == "total_cost"
    net, N, unit = model.net, model.net.N, model.unit
    rules = DayRules(net)  # lost sales, the cost reward (what the planner minimises)
    on_hand_all, pipe_all = model.decode_states()
    q_all, x_all = model.decode_actions()
    S, A = model.n_states, model.n_actions
    pairs = np.arange(S * A)
    # post-decision coordinates, in post_index's order: per warehouse (y, r, pipeline slots...)
    post_shape = []
    for i in range(N):
        post_shape += [int(model.levels[i]), int(model.arrival_levels[i])] + [len(model.order_grid)] * int(model.slots[i])
    checked = 0
    for p0 in range(0, S * A, CHUNK):
        p = pairs[p0:p0 + CHUNK]
        s, a = p // A, p % A
        col = lambda v: v[:, None]  # noqa: E731 -- (M, 1) columns, broadcast against a demand axis
        on_hand = [col(on_hand_all[s, i]) for i in range(N)]
        pipeline = [[col(pipe_all[s, i, k]) for k in range(net.Lmax)] for i in range(N)]
        q = [col(q_all[a, i]) for i in range(N)]
        x = [[col(x_all[a, i, j]) for j in range(N)] for i in range(N)]
        # allowed: the simulator's rule (at most what is available is shipped; the grids are in range)
        allowed = np.ones(p.size, dtype=bool)
        for i in range(N):
            allowed &= (sum(x[i]) <= available(on_hand[i], q[i], rules.lead[i], rules.capacity[i]))[:, 0]
        np.testing.assert_array_equal(np.isfinite(model.cost_sa[s, a]), allowed, err_msg=name)
        keep = np.flatnonzero(allowed)
        s, a = s[keep], a[keep]
        pick = lambda cols, keep=keep: [c[keep] for c in cols]  # noqa: E731
        zero = col(np.zeros(keep.size, dtype=np.int64))
        stock, pipe = pick(on_hand), [pick(r) for r in pipeline]  # (run_day fills in tomorrow's)
        rows = run_day(rules, ARRAYS, stock, [zero] * N, pipe, [[zero] * net.Tmax for _ in range(N)],
                       [[zero] * N for _ in range(N)], [zero * 0.0] * N, pick(q), [pick(r) for r in x],
                       list(model.demand_support), [False] * N)
        M = keep.size
        # the expected one-day cost: each warehouse's cost over its own demand distribution
        expected = sum(np.broadcast_to(rows[i][TOTAL], (M, model.demand_pmf[i].size)) @ model.demand_pmf[i]
                       for i in range(N))
        np.testing.assert_allclose(model.cost_sa[s, a], expected, rtol=1e-12, atol=1e-9, err_msg=name)
        # tomorrow's state: the planner's post-decision state z, then each warehouse's demand draw
        z = np.unravel_index(model.z_sa[s, a], post_shape)
        k = 0
        for i in range(N):
            planner = model.next_matrices[i][z[k] * int(model.arrival_levels[i]) + z[k + 1]].toarray()
            levels = np.broadcast_to(stock[i], (M, model.demand_pmf[i].size))
            assert not (levels % unit).any()
            simulator = np.zeros_like(planner)
            np.add.at(simulator, (np.repeat(np.arange(M), levels.shape[1]), (levels // unit).ravel()),
                      np.tile(model.demand_pmf[i], M))
            np.testing.assert_allclose(planner, simulator, rtol=0, atol=1e-12, err_msg=f"{name}: stock {i}")
            k += 2
            for j in range(int(model.slots[i])):
                slot = np.broadcast_to(pipe[i][j], (M, 1))[:, 0]
                np.testing.assert_array_equal(model.order_grid[z[k]], slot, err_msg=f"{name}: pipeline {i},{j}")
                k += 1
        checked += keep.size
    assert checked == np.isfinite(model.cost_sa).sum()

