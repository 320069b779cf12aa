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


def test_information_tunes_and_evaluates_on_different_demand_paths(monkeypatch):
    """information() tunes on seed (seed, *TUNING_STREAM) and evaluates on seed: no path is shared."""
    import numpy as np

    from mas_lib.sim.core import BatchCore

    seeds = {"tune": set(), "tune_episodes": set(), "eval": []}
    real_simulate, real_compare = problems.simulate, problems.compare

    def spy_simulate(cfg, policy, episodes=256, seed=0, warmup=0):
        seeds["tune"].add(seed)
        seeds["tune_episodes"].add(episodes)
        return real_simulate(cfg, policy, episodes=episodes, seed=seed, warmup=warmup)

    def spy_compare(cfg, policies, episodes=200, seed=0):
        seeds["eval"].append((seed, episodes))
        return real_compare(cfg, policies, episodes=episodes, seed=seed)

    monkeypatch.setattr(problems, "simulate", spy_simulate)
    monkeypatch.setattr(problems, "compare", spy_compare)
    cfg, _ = problems.information(seed=4)
    assert seeds["tune"] == {(4, *problems.TUNING_STREAM)} and seeds["tune_episodes"] == {100}
    assert seeds["eval"] == [(4, 200)]
    tune, evaluate = BatchCore(cfg, batch_size=100), BatchCore(cfg, batch_size=200)
    tune.reset(seed=(4, *problems.TUNING_STREAM))
    evaluate.reset(seed=4)
    t = tune.demand.reshape(100, -1)
    e = evaluate.demand.reshape(200, -1)
    shared = (t[:, None, :] == e[None, :, :]).all(axis=2)
    assert not shared.any()
    # the paths really are random (a check that could fail): the tuning paths differ among themselves
    assert len({row.tobytes() for row in t}) == 100
    assert np.unique(t).size > 10
