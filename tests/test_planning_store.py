"""Evaluation-only models and optima saved once and loaded later (mas_lib.decide.planning.store)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from factories import npz_damages
from hypothesis import given, settings
from hypothesis import strategies as st

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
    with pytest.raises(ValueError, match="junk.npz.*allowed: a .npz written by save_policy_table"):
        load_policy_table(tmp_path / "junk.npz", light)
    np.savez(tmp_path / "other.npz", actions=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz.*allowed: a .npz written by save_policy_table"):
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


# ------------------------------------------------------------------ damaged or hostile files
def _table_file(path, header=None, actions=None, drop=()):
    """A policy-table file with its ``header`` (a dict, or any array) and ``actions`` replaced."""
    import json

    arrays = {"header": header if isinstance(header, np.ndarray) else np.array(json.dumps(header)),
              "actions": actions}
    for key in drop:
        arrays.pop(key)
    np.savez_compressed(path, **arrays)
    return path


@pytest.fixture(scope="module")
def saved_table(cross, tmp_path_factory):
    full, light, sol = cross[1], cross[2], cross[3]
    path = save_policy_table(tmp_path_factory.mktemp("opt") / "opt.npz", full, sol.policy)
    with np.load(path, allow_pickle=False) as z:
        header = json.loads(str(z["header"]))
    return path, header, light, sol


@pytest.mark.parametrize("corrupt, problem", npz_damages(200, 40, b"PK\x03\x04 not really a zip"))
def test_load_refuses_damaged_files_naming_the_problem(saved_table, tmp_path, corrupt, problem):
    src, _, light, _ = saved_table
    path = tmp_path / "t.npz"
    path.write_bytes(src.read_bytes())
    corrupt(path)
    with pytest.raises(ValueError, match=rf"policy table file '.*t\.npz': the file = {problem}"):
        load_policy_table(path, light)


def test_load_refuses_missing_arrays_and_bad_headers(saved_table, tmp_path):
    _, header, light, sol = saved_table
    cases = [
        (dict(header=header, drop=["actions"]), r"missing arrays = \['actions'\]"),
        (dict(header=header, actions=sol.policy, drop=["header"]), r"missing arrays = \['header'\]"),
        (dict(header=np.array("{oops"), actions=sol.policy), r"header = '\{oops' is not allowed; allowed: a JSON object"),
        (dict(header=np.array("[1]"), actions=sol.policy), r"header = '\[1\]' is not allowed; allowed: a JSON object"),
        (dict(header=np.zeros(2), actions=sol.policy), r"header = an array of dtype float64"),
        (dict(header={**header, "meta": [1]}, actions=sol.policy), r"header meta = \[1\] is not allowed"),
    ]
    for k, (kwargs, problem) in enumerate(cases):
        path = _table_file(tmp_path / f"h{k}.npz", **kwargs)
        with pytest.raises(ValueError, match=rf"h{k}\.npz.*{problem}"):
            load_policy_table(path, light)


@pytest.mark.parametrize("change, problem", [
    (lambda a: a.astype(float) + 0.7, r"dtype = 'float64' is not allowed; allowed: whole numbers"),
    (lambda a: a.astype(float), r"dtype = 'float64' is not allowed; allowed: whole numbers"),
    (lambda a: a[:-1], r"shape = \(545,\) is not allowed; allowed: \(546,\)"),
    (lambda a: a.reshape(2, -1), r"shape = \(2, 273\) is not allowed"),
    (lambda a: np.where(np.arange(a.size) == 9, 1936, a), r"actions\[9\] = 1936 is not allowed"),
    (lambda a: np.where(np.arange(a.size) == 3, -1, a), r"actions\[3\] = -1 is not allowed"),
    (lambda a: a.astype(bool), r"dtype = 'bool' is not allowed"),
])
def test_load_refuses_action_tables_that_are_not_joint_action_indices(saved_table, tmp_path, change, problem):
    """A float table used to be truncated silently (3.7 -> 3); every bad table names the file."""
    _, header, light, sol = saved_table
    path = _table_file(tmp_path / "a.npz", header=header, actions=change(sol.policy.astype(np.int64)))
    with pytest.raises(ValueError, match=rf"a\.npz.*{problem}"):
        load_policy_table(path, light)


@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_flipped_bytes_load_the_same_table_or_raise_a_clear_error(saved_table, tmp_path_factory, data):
    src, _, light, sol = saved_table
    raw = bytearray(src.read_bytes())
    for at in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=3)):
        raw[at] ^= data.draw(st.integers(1, 255))
    path = tmp_path_factory.mktemp("flip") / "f.npz"
    path.write_bytes(bytes(raw))
    try:
        value, _ = load_policy_table(path, light)
    except ValueError as err:
        assert "f.npz" in str(err)
    else:
        assert value.daily_cost == pytest.approx(sol.daily_cost, rel=1e-12)


@pytest.mark.parametrize("bad, problem", [
    (2**32 + 1, r"actions\[5\] = 4294967297 is not allowed; allowed: a joint action index from 0 to 1935"),
    (1936, r"actions\[5\] = 1936 is not allowed"),
    (-1, r"actions\[5\] = -1 is not allowed"),
])
def test_save_refuses_action_indices_out_of_range(cross, tmp_path, bad, problem):
    """2**32 + 1 used to be written as 1 (int32 wrap-around) without a word."""
    full, sol = cross[1], cross[3]
    a = sol.policy.astype(np.int64)
    a[5] = bad
    with pytest.raises(ValueError, match=rf"save_policy_table\.{problem}"):
        save_policy_table(tmp_path / "x.npz", full, a)
    assert not (tmp_path / "x.npz").exists()
