"""The section-2 experiments of notebook 01 and the shared plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mas_lib.decide import ForecastBaseStock, trajectory  # noqa: E402
from mas_lib.teach import problems  # noqa: E402
from mas_lib.teach.paper import paper_config  # noqa: E402
from mas_lib.teach.plotting import plot_by_policy, plot_daily_costs, plot_tradeoff, plot_trajectory  # noqa: E402


def test_flexibility_fixed_rule_fails_after_shift():
    cfg, traj, kpis = problems.flexibility(shift_day=10, seed=1)
    fixed, flexible = kpis.index
    assert kpis.loc[flexible, "daily_cost"] < kpis.loc[fixed, "daily_cost"]
    late = traj[(traj["day"] >= 15) & (traj["warehouse"] == "A")]
    assert late[late["policy"] == fixed]["lost"].sum() > late[late["policy"] == flexible]["lost"].sum()


def test_information_and_joint_decisions_pay():
    _, kpis = problems.information(seed=2)
    assert kpis["daily_cost"].iloc[1] < kpis["daily_cost"].iloc[0]
    _, traj, kpis = problems.single_vs_joint(seed=2)
    assert kpis["daily_cost"].iloc[1] < kpis["daily_cost"].iloc[0]
    assert set(traj["policy"]) == set(kpis.index)


def test_risk_tradeoff_is_monotone_with_interior_minimum():
    curve = problems.risk_tradeoff(seed=3, episodes=60)
    assert curve["fill_rate"].is_monotonic_increasing
    assert 0 < curve["daily_cost"].idxmin() < len(curve) - 1


def test_plots_label_their_axes():
    cfg = paper_config(episode_length=10, noise_sd=5.0, reward="cost")
    traj = trajectory(cfg, ForecastBaseStock(cfg, safety=10.0)).assign(policy="p")
    axes = plot_trajectory(traj)
    assert axes[0].get_xlabel() == "day" and axes[0].get_ylabel() == "units"
    assert plot_by_policy(traj)[0].get_ylabel() == "closing stock [units]"
    assert "money" in plot_daily_costs(traj).get_ylabel()
    assert "units" in plot_tradeoff(problems.risk_tradeoff(safety=[0, 20], episodes=10)).get_xlabel()
    plt.close("all")
