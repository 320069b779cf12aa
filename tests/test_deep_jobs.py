"""Sweep jobs of the deep-RL benchmark (mas_lib.scale.deep_jobs) and the learners' recipes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mas_lib.decide import planning as pl
from mas_lib.decide.deep import RECIPES, recipe
from mas_lib.scale import run_sweep
from mas_lib.scale.deep_jobs import deep_instance, exact_reference, optimum_path, train_deep


def test_recipes_are_the_documented_budgets():
    assert RECIPES["PPO"].transitions == 6000 * 256
    assert RECIPES["PPO"].entropy_end == 0.0 and RECIPES["PPO"].anneal_lr
    assert RECIPES["DQN"].transitions == 64_000
    assert recipe("PPO", seed=3).seed == 3
    small = recipe("PPO", scale=0.01)
    assert small.days == 60 and small.log_every <= small.days
    with pytest.raises(ValueError, match="learner = 'A3C' is not allowed"):
        recipe("A3C")


def test_train_deep_reports_an_exact_gap_and_its_curve():
    row = train_deep("paper", "PPO", seed=1, scale=0.002)
    assert row["transitions"] == 12 * 256
    curve = json.loads(row["curve"])
    assert [t for t, _ in curve] == sorted(t for t, _ in curve) and curve[-1][0] == row["transitions"]
    assert row["gap_pct"] > 0 and row["daily_cost"] > row["optimum_daily_cost"]
    assert curve[-1][1] == pytest.approx(row["gap_pct"], abs=1e-4)
    again = train_deep("paper", "PPO", seed=1, scale=0.002)
    assert again["gap_pct"] == row["gap_pct"]


def test_train_deep_through_the_runner_and_bad_input():
    frame = run_sweep(train_deep, {"instance": ["paper"], "learner": ["DQN", "BAD"]}, seeds=[0],
                      fixed={"scale": 0.01, "checkpoints": 1})
    assert list(frame["status"]) == ["ok", "error"]
    assert "learner = 'BAD' is not allowed" in frame["error"].iloc[1]
    with pytest.raises(ValueError, match="instance"):
        deep_instance("huge")


def test_saved_optimum_is_loaded_instead_of_solved(tmp_path):
    inst = deep_instance("cross_border")
    full = pl.model_for(inst)
    sol = pl.policy_iteration(full)
    pl.save_policy_table(optimum_path(tmp_path, "cross_border"), full, sol.policy)
    model, value = exact_reference("cross_border", str(tmp_path))
    assert model.cost_sa is None  # evaluation-only: loaded, not solved
    assert value.daily_cost == pytest.approx(sol.daily_cost, rel=1e-12)
    solved_model, solved = exact_reference("cross_border", None)
    assert solved_model.cost_sa is not None and solved.daily_cost == pytest.approx(sol.daily_cost, rel=1e-12)


def test_exact_reference_hands_out_read_only_arrays_and_keeps_its_cache_right():
    """The cached model and optimum are shared by every job of a process: writing into a handed-out
    array raises, and changing a handed-out object's attributes does not reach the cache."""
    model, opt = exact_reference("paper")
    daily, gamma = opt.daily_cost, model.gamma
    arrays = {"cost_sa": model.cost_sa, "z_sa": model.z_sa, "values": opt.values, "actions": opt.actions,
              "order_grid": model.order_grid, "levels": model.levels, "arrival_levels": model.arrival_levels,
              "demand_pmf[0]": model.demand_pmf[0], "demand_support[1]": model.demand_support[1],
              "next_matrices[0].data": model.next_matrices[0].data, "solution.model.cost_sa": opt.model.cost_sa}
    for a in arrays.values():
        with pytest.raises(ValueError, match="read-only"):
            a.flat[0] = a.flat[0] + 1
    model.gamma, opt.daily_cost = 0.5, 0.0
    model.demand_pmf.append(np.ones(3))
    model.next_matrices[0] = None
    again_model, again = exact_reference("paper")
    assert again_model is not model and again is not opt
    assert again_model.gamma == gamma and again.daily_cost == daily
    assert len(again_model.demand_pmf) == 2 and again_model.next_matrices[0] is not None
    assert pl.evaluate_actions(again_model, again.policy).daily_cost == pytest.approx(daily, rel=1e-12)
