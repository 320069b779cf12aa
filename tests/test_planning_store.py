"""Evaluation-only models and optima saved once and loaded later (mas_lib.decide.planning.store)."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib.decide.instances import INSTANCES
from mas_lib.decide.planning import (
    build_model,
    evaluate_actions,
    evaluate_policy,
    load_policy_table,
    model_fingerprint,
    model_for,
    policy_iteration,
    save_policy_table,
    value_iteration,
)
from mas_lib.decide.policies import BaseStock


@pytest.fixture(scope="module")
def cross():
    inst = INSTANCES["cross_border"]
    full = model_for(inst)
    light = model_for(inst, with_pairs=False)
    return inst, full, light, policy_iteration(full)


def test_evaluation_only_model_gives_the_same_values(cross):
    inst, full, light, sol = cross
    assert light.cost_sa is None and light.z_sa is None
    assert (light.n_states, light.n_actions, light.start_state) == (full.n_states, full.n_actions, full.start_state)
    a = evaluate_actions(light, sol.policy)
    assert a.daily_cost == pytest.approx(sol.daily_cost, rel=1e-12)
    np.testing.assert_allclose(a.values, sol.values, rtol=1e-12)
    pol = BaseStock(inst.config, level=[100, 140], round_to=inst.round_to)
    assert evaluate_policy(light, pol).daily_cost == pytest.approx(evaluate_policy(full, pol).daily_cost, rel=1e-12)


def test_solvers_refuse_an_evaluation_only_model(cross):
    light = cross[2]
    for solver in (policy_iteration, value_iteration):
        with pytest.raises(ValueError, match="with_pairs=False"):
            solver(light)
    with pytest.raises(Exception, match="with_pairs"):
        build_model(INSTANCES["paper"].config, 10, 0.95, with_pairs=1)


def test_evaluation_only_model_skips_the_memory_guard_it_does_not_need():
    inst = INSTANCES["paper"]
    with pytest.raises(Exception, match="GiB"):
        model_for(inst, max_memory_gib=0.001)
    assert model_for(inst, max_memory_gib=0.001, with_pairs=False).n_states == 546


def test_saved_optimum_loads_and_is_re_evaluated(cross, tmp_path):
    inst, full, light, sol = cross
    path = save_policy_table(tmp_path / "opt.npz", full, sol.policy, solve_seconds=1.5, method="policy iteration")
    value, meta = load_policy_table(path, light)
    assert value.daily_cost == pytest.approx(sol.daily_cost, rel=1e-12)
    assert meta == {"solve_seconds": 1.5, "method": "policy iteration"}
    assert not list(tmp_path.glob(".*tmp"))  # written atomically, nothing left behind


def test_load_refuses_a_table_of_another_model(cross, tmp_path):
    inst, full, light, sol = cross
    path = save_policy_table(tmp_path / "opt.npz", full, sol.policy)
    other = model_for(INSTANCES["paper"], with_pairs=False)
    assert model_fingerprint(other) != model_fingerprint(light)
    with pytest.raises(ValueError, match="fingerprint"):
        load_policy_table(path, other)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a policy table"):
        load_policy_table(tmp_path / "junk.npz", light)
    np.savez(tmp_path / "other.npz", actions=np.zeros(3))
    with pytest.raises(ValueError, match="not a policy table"):
        load_policy_table(tmp_path / "other.npz", light)


def test_save_checks_its_input(cross, tmp_path):
    full, sol = cross[1], cross[3]
    with pytest.raises(ValueError, match="shape"):
        save_policy_table(tmp_path / "x.npz", full, sol.policy[:-1])
    with pytest.raises(ValueError, match="meta|allowed: a number"):
        save_policy_table(tmp_path / "x.npz", full, sol.policy, note=[1, 2])
    assert not (tmp_path / "x.npz").exists()


def test_fingerprint_is_the_same_in_another_process(cross):
    import subprocess
    import sys

    code = ("from mas_lib.decide.instances import INSTANCES; from mas_lib.decide.planning import model_for, "
            "model_fingerprint; print(model_fingerprint(model_for(INSTANCES['cross_border'], with_pairs=False)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == model_fingerprint(cross[2]) == model_fingerprint(cross[1])


def test_ss_tuned_one_warehouse_at_a_time_is_exact(cross):
    from mas_lib.decide.planning import SnapToGrid
    from mas_lib.decide.planning.tuning import single_warehouse_instances, tune_ss_separately
    from mas_lib.decide.policies import SsPolicy

    inst, full, light, sol = cross
    params, pol, n, _ = tune_ss_separately(inst, light)
    joint = evaluate_policy(light, pol)
    parts = []
    for name, single in zip("AB", single_warehouse_instances(inst), strict=True):
        m1 = model_for(single)
        assert m1.n_states in (11, 21, 26)
        parts.append(evaluate_policy(m1, SnapToGrid(SsPolicy(single.config, *params[name], round_to=inst.round_to), m1)))
    assert joint.start_value == pytest.approx(sum(p.start_value for p in parts), rel=1e-12)
    assert n > 200  # every (s, S) pair of the grid, both warehouses
    assert joint.daily_cost > sol.daily_cost
