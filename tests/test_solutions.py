"""Tests of mas_lib.teach.solutions: the worked solutions of the notebooks' exercises.

The notebooks assert the quoted numbers themselves; here each solution is checked for what must
hold whatever the seed (an invariant of the model, a direction an argument must move), on small,
cheap versions where the notebook's own run is expensive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mas_lib import forecast as fc
from mas_lib.data.synthetic import SyntheticDemandConfig, generate_demand
from mas_lib.decide.deep import MLP
from mas_lib.teach import solutions as sol


def test_solutions_table_is_tidy_and_rounded():
    t = sol.solutions_table({"1": pd.Series({"a": 1 / 3, "b": 123_456.789, "c": "x"}),
                             "2": pd.DataFrame({"cost": [1.0, 2.0]}, index=["r1", "r2"])})
    assert list(t.index) == [("1", "a"), ("1", "b"), ("1", "c"), ("2", "r1: cost"), ("2", "r2: cost")]
    assert t["value"].tolist() == ["0.3333", "123,456.8", "x", "1", "2"]


# ----------------------------------------------------------------------------- 00 and 02
def test_00_a_day_without_orders_loses_what_stock_cannot_serve():
    s = sol.solution_00_1()
    for w in "AB":
        assert s[f"lost_{w}"] == max(s[f"demand_{w}"] - s[f"stock_{w}"], 0) > 0
    assert sol.solution_00_2()["requested_of_B"] == 50  # the paper's open order, section 4.1


def test_02_units_in_transit_arrive_at_b_on_day_2():
    base = sol.paper.replay()
    s = sol.solution_02_1()
    b_day2 = base.loc[(base["day"] == 2) & (base["warehouse"] == "B"), "env_stock_before"].iloc[0]
    assert s["stock_day2_B"] == b_day2 + 50
    assert sol.solution_02_2()["max_abs_residual"] < 1e-9  # c2 = 0: satisfaction - c3 * transport only


def test_02_grid_search_minimum_is_no_worse_than_25_units():
    s = sol.solution_02_3(episodes=50)
    assert s["best_daily_cost"] <= s["daily_cost_at_25"] and 0 <= s["best_safety"] <= 80


# ----------------------------------------------------------------------------- 01
def test_01_a_larger_fixed_order_holds_more_and_runs_dry_later():
    small, large = sol.solution_01_1(quantity=90), sol.solution_01_1(quantity=100)
    assert large["mean_on_hand_both"] > small["mean_on_hand_both"]
    assert large["fill_rate"] > small["fill_rate"]
    assert large["first_empty_day_A"] >= small["first_empty_day_A"]


def test_01_the_cost_blind_rule_ships_the_same_at_any_price():
    cheap, dear = sol.solution_01_2(transfer_cost=0.5), sol.solution_01_2(transfer_cost=8.0)
    assert np.isclose(cheap["shipped_per_day_transfer_rule"], dear["shipped_per_day_transfer_rule"])
    assert dear["shipped_per_day_keep5"] < dear["shipped_per_day_transfer_rule"]
    assert cheap["daily_cost_alone"] == dear["daily_cost_alone"]  # no transfers, no transfer cost


def test_01_a_dearer_lost_sale_moves_the_best_safety_stock_up():
    s = sol.solution_01_3()
    assert s["best_safety_p20"] >= s["best_safety_p10"] and s["best_cost_p20"] >= s["best_cost_p10"]


# ----------------------------------------------------------------------------- 03 (real data)
def test_03_solutions_on_the_real_data(retail_raw, retail_clean):
    s1 = sol.solution_03_1(retail_raw, retail_clean)
    assert s1["units_back"] == s1["outlier_units"] > 0  # keeping the outliers brings back exactly their units
    s2 = sol.solution_03_2(retail_clean)
    assert 0 < s2["anonymous_share"] < 1
    # anonymous units are mostly domestic, so dropping them raises the overseas share
    assert s2["uk_share_of_anonymous"] > 0.5 and s2["cross_border_share_named_only"] > s2["cross_border_share"]
    s3 = sol.solution_03_3(retail_clean)
    assert len(s3) == 3 and "United Kingdom" not in s3.index and s3.is_monotonic_decreasing


# ----------------------------------------------------------------------------- 04
@pytest.fixture(scope="module")
def small_backtest() -> pd.DataFrame:
    d = generate_demand(SyntheticDemandConfig(intermittent_fraction=0.5), "2011-01-03", 200, n_products=3, seed=1)
    series, calendars = fc.series_from_tidy(d)
    models = {"Naive": fc.Naive(), "MovingAverage(28)": fc.MovingAverage(28), "Croston": fc.Croston()}
    return fc.backtest(series, models, horizon=7, origins=fc.weekly_origins("2011-07-18", 2), calendar=calendars)


def test_04_closed_days_only_flatter_the_scores(small_backtest):
    t = sol.solution_04_2(small_backtest)
    assert (t["mae_all_days"] < t["mae_open"]).all() and (t["mean_mase_all_days"] < t["mean_mase_open"]).all()
    assert (t["coverage_90_all_days"] >= t["coverage_90_open"]).all()


def test_04_mean_point_table_is_consistent(small_backtest):
    t = sol.solution_04_1(small_backtest)
    assert np.allclose(t["change"], t["mean_point"] - t["median_point"])
    assert sorted(t["rank_mean"]) == sorted(t["rank_median"]) == [1.0, 2.0, 3.0]
    assert (t["change"].abs() > 1e-6).any()  # the point forecast matters for at least one model


def test_04_sba_always_lies_below_croston():
    e = sol.solution_04_3()
    assert e["SBA"] < e["Croston"]  # SBA is Croston times (1 - alpha/2) < 1, on positive forecasts
    s = sol.solution_04_4()
    assert s["perfect_all_days"] > 0 and {"Croston", "SBA", "MovingAverage(28)"} <= set(s.index)


# ----------------------------------------------------------------------------- 05
def test_05_double_q_learning_is_further_off_with_half_the_data_per_table():
    s = sol.solution_05_1(steps=600, batch=256)
    assert s["gap_double"] > s["gap_single"] > 0 and 0 < s["visited_share_per_table"] < 1


def test_05_action_counts_and_expensive_transport():
    s = sol.solution_05_2()
    assert s["joint_actions"] == s["actions_per_warehouse"] ** 2 == 1936
    k = sol.solution_05_3()
    assert k.loc["c3 = 5", "transport cost [money/day]"] < k.loc["c3 = 0.2", "transport cost [money/day]"]


# ----------------------------------------------------------------------------- 06
def test_06_the_dp_orders_up_to_the_newsvendor_level_and_it_rises_with_the_penalty():
    low, high = sol.solution_06_1(10.0), sol.solution_06_1(40.0)
    for s in (low, high):
        assert s["dp_order_up_to"] == s["newsvendor_S"]
    assert high["fractile"] > low["fractile"] and high["newsvendor_S"] > low["newsvendor_S"]


def test_06_doing_nothing_loses_every_sale_in_the_long_run_and_stays_bounded():
    s = sol.solution_06_2()
    assert np.isclose(s["average_cost"], 20 * s["mean_demand"], rtol=1e-3)  # 20 money per lost unit
    assert s["max_value"] <= s["bound"] * (1 + 1e-9) and s["gap"] > 0


def test_06_value_iteration_sweeps_follow_the_contraction_rate():
    s = sol.solution_06_3()
    assert abs(s["measured_sweeps"] - s["formula_largest_value"]) <= 0.05 * s["measured_sweeps"]


def test_06_slower_transfers_are_worth_less_with_the_same_states():
    s = sol.solution_06_4()
    assert s["states_lead0"] == s["states_lead1"] and 0 < s["saving_lead1"] < s["saving_lead0"]


def test_06_a_finer_grid_never_costs_more():
    s = sol.solution_06_5(order_step=20, transfer_step=10)  # the cheap half of exercise 5
    assert s["actions"] == (11 * 7) ** 2 and s["daily_cost_fine"] <= s["daily_cost_coarse"] + 1e-9


# ----------------------------------------------------------------------------- 07
def test_07_more_cover_means_more_talk_and_transport():
    t = sol.solution_07_1()
    more, base = t.loc["cover 2, keep 1"], t.loc["default"]
    assert more["messages_per_day"] > base["messages_per_day"] and more["transport"] > base["transport"]


def test_07_dropped_plans_push_the_coordinator_towards_isolation():
    t = sol.solution_07_2()
    assert t.loc["central, half dropped", "dropped_per_day"] > 0 == t.loc["central", "dropped_per_day"]
    assert t.loc["central", "daily_cost"] < t.loc["central, half dropped", "daily_cost"] < t.loc["isolated", "daily_cost"]


def test_07_optimal_allocation_has_no_gap():
    t = sol.solution_07_3()
    assert t.loc["optimal", "gap_pct"] < 1e-9 and (t["gap_pct"] >= -1e-9).all()


# ----------------------------------------------------------------------------- 09
def test_09_table_size_multiplies_by_the_order_levels():
    s = sol.solution_09_1()
    assert s["states"] == s["states_lead2"] * 121 and s["entries"] == s["states"] * s["joint_actions"]
    assert s["planner_gib"] > 100


def test_09_the_baseline_cuts_noise_not_the_destination():
    s = sol.solution_09_2()
    assert s["final_p_baseline"] > 0.9 and s["final_p_no_baseline"] > 0.9
    assert s["share_of_falls_no_baseline"] > s["share_of_falls_baseline"]


def test_09_reinforce_and_ppo_use_the_same_budget():
    s = sol.solution_09_3()
    assert s["transitions_ppo"] == s["transitions_reinforce"] and s["gap_reinforce"] > s["gap_ppo"] > 0


def test_09_loading_into_the_wrong_architecture_fails_loudly():
    s = sol.solution_09_4(MLP([4, 64, 64, 44], activation="tanh", seed=0))
    assert s["error"] == "WeightsMismatchError" and "[4, 64, 64, 44]" in s["message"] and "[4, 32, 32, 44]" in s["message"]
