"""Headless tests of the twin's dashboard (mas_lib.ops.dashboard, notebook 08): the figure, and
the ipywidgets panel that redraws without re-running the simulation."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mas_lib import ops  # noqa: E402
from mas_lib.validation import ConfigError  # noqa: E402


@pytest.fixture(scope="module")
def runs():
    data = ops.synthetic_twin_data(n_products=2, seed=1, n_days=120)
    plan = ops.scheduled_forecasts(data, "4-weekly")
    return {p: ops.run_twin(data, plan, p) for p in ("base-stock", "(s, S)")}


def test_plot_dashboard(runs):
    run = runs["base-stock"]
    fig = ops.plot_dashboard(run, "UK", run.products[0], week=3)
    assert len(fig.axes) == 4 and "UK" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ConfigError, match="warehouse"):
        ops.plot_dashboard(run, "MARS", run.products[0])
    with pytest.raises(ConfigError, match="product"):
        ops.plot_dashboard(run, "UK", "nope")


def test_panel_updates_without_rerunning(runs, monkeypatch):
    dash = ops.TwinDashboard(runs)
    # the figure lives outside pyplot, so the inline backend does not show it a second time
    assert dash._fig.canvas.manager is None and dash._fig not in map(plt.figure, plt.get_fignums())
    calls = []
    monkeypatch.setattr(ops.twin, "rollout", lambda *a, **k: calls.append(1))  # would count re-runs
    n0 = dash.redraws
    first = dash.week_table().iloc[0]
    dash.week.value = 5
    assert dash.redraws == n0 + 1
    row = dash.week_table().iloc[0]
    assert row["week"] > first["week"]
    dash.policy.value = "base-stock"  # the panel opened on (s, S)
    dash.warehouse.value = "EU"
    dash.product.value = runs["base-stock"].products[1]
    assert dash.redraws == n0 + 4 and calls == []
    assert "alert(s) this week" in dash.table.value
    assert dash.week_table()["warehouse"].iloc[0] if "warehouse" in dash.week_table() else True
    sel = dash.kpis["base-stock"]
    assert len(dash.week_table()) == 1 and dash.week_table().index[0] in sel.index
    assert dash.week.max == len(dash.weeks) - 1
    plt.close("all")
    with pytest.raises(ConfigError, match="runs"):
        ops.TwinDashboard({})


def test_panel_refuses_runs_over_different_days(runs):
    """Runs over other days would leave the week table empty: refused, naming each run's days."""
    data = ops.synthetic_twin_data(n_products=2, seed=1, n_days=150)
    longer = ops.run_twin(data, ops.scheduled_forecasts(data, "never"), "base-stock")
    mixed = {"base-stock": runs["base-stock"], "longer": longer}
    first, last = runs["base-stock"].dates[[0, -1]]
    with pytest.raises(ConfigError, match=rf"runs\['longer'\] = .*{longer.dates[-1].date()}.* is not allowed"
                                          rf".*{first.date()} \.\. {last.date()}"):
        ops.TwinDashboard(mixed)
    other = ops.synthetic_twin_data(n_products=2, seed=1, n_days=120).subset([runs["base-stock"].products[0]])
    one = ops.run_twin(other, ops.scheduled_forecasts(other, "never"))
    with pytest.raises(ConfigError, match=r"runs\['one product'\] = .* is not allowed.*products"):
        ops.TwinDashboard({"base-stock": runs["base-stock"], "one product": one})
    plt.close("all")


def test_stock_panel_labels_what_it_draws(runs):
    """(s, S): the recorded level is the reorder point s, drawn and labelled as such, with the
    order-up-to level S = s + a review period of forecast; base-stock draws its order-up-to level."""
    ss, bs = runs["(s, S)"], runs["base-stock"]
    i = 0
    levels = ops.stock_levels(ss, i)
    assert list(levels) == ["reorder point s", "order-up-to level S"]
    np.testing.assert_allclose(levels["reorder point s"], ss.arrays["level"][:, i])
    expected_S = ss.arrays["level"][:, i] + ops.REVIEW_DAYS * ss.plan.mean[:, :, i].mean(axis=1)
    np.testing.assert_allclose(levels["order-up-to level S"], expected_S)
    assert (levels["order-up-to level S"] >= levels["reorder point s"]).all()
    assert list(ops.stock_levels(bs, i)) == ["order-up-to level"]
    fig = ops.plot_dashboard(ss, "UK", ss.products[0])
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    assert "reorder point s" in labels and "order-up-to level S" in labels and "order-up-to level" not in labels
    plt.close(fig)


def test_extra_line_hook(runs):
    run = runs["(s, S)"]
    fig = ops.plot_dashboard(run, "UK", run.products[0],
                             extra_lines={"bound": lambda r, node: r.arrays["demand"][:, node] * 2})
    line = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "bound"]
    assert len(line) == 1
    np.testing.assert_allclose(line[0].get_ydata(), run.arrays["demand"][:, 0] * 2)
    plt.close(fig)
    with pytest.raises(ConfigError, match=r"extra_lines\['short'\] = .*shape \(3,\).* is not allowed"):
        ops.plot_dashboard(run, "UK", run.products[0], extra_lines={"short": lambda r, node: np.zeros(3)})
    dash = ops.TwinDashboard(runs, extra_lines={"bound": lambda r, node: r.arrays["demand"][:, node]})
    assert "bound" in [ln.get_label() for ln in dash._fig.axes[0].get_lines()]
    plt.close("all")


def test_panel_opens_on_discussed_policy_and_a_week_with_demand():
    data = ops.synthetic_twin_data(n_products=1, seed=2, n_days=120)
    # no demand at all in the first three simulated weeks of the first node
    first = data.units.columns[0]
    units = data.units.copy()
    units.loc[(units.index >= data.start) & (units.index < data.start + pd.Timedelta(days=21)), first] = 0.0
    quiet = ops.TwinData(units, data.open, data.start, data.products, data.network, data.source)
    plan = ops.scheduled_forecasts(quiet, "never")
    runs = {p: ops.run_twin(quiet, plan, p) for p in ("base-stock", "(s, S)")}
    dash = ops.TwinDashboard(runs)
    assert dash.policy.value == "(s, S)"
    k = dash.week_table()
    assert k["demand"].iloc[0] > 0 and dash.week.value >= 2
    assert dash.week.value == ops.first_week_with_demand(dash.kpis["(s, S)"], "UK", quiet.products[0])
    assert ops.TwinDashboard(runs, policy="base-stock").policy.value == "base-stock"
    with pytest.raises(ConfigError, match=r"policy = 'nope' is not allowed.*base-stock"):
        ops.TwinDashboard(runs, policy="nope")
    plt.close("all")


def test_panel_shows_the_clairvoyant_plan_and_each_policys_gap():
    data = ops.synthetic_twin_data(n_products=2, seed=1, n_days=120)
    plan = ops.scheduled_forecasts(data, "4-weekly")
    runs = {p: ops.run_twin(data, plan, p) for p in ("base-stock", "(s, S)")}
    bounds = ops.twin_bounds(data, plan)
    plans = ops.clairvoyant_plans(data, plan, bounds)
    dash = ops.TwinDashboard(runs, bounds=bounds, plans=plans)
    labels = [ln.get_label() for ln in dash._fig.axes[0].get_lines()]
    assert ops.CLAIRVOYANT_LINE in labels
    line = next(ln for ln in dash._fig.axes[0].get_lines() if ln.get_label() == ops.CLAIRVOYANT_LINE)
    assert np.allclose(line.get_ydata(), plans.on_hand[0][:, 0])  # UK, first product: the simulated plan
    gaps = {}
    for name in runs:
        dash.policy.value = name
        title = dash._fig._suptitle.get_text()
        gaps[name] = float(title.split("\n")[1].split(" % above the hindsight bound")[0].replace(",", ""))
        assert "above the best known clairvoyant plan" in title
    # direction: the cheaper policy (closer to the bound) shows the smaller gap
    cost = {n: r.summary()["total cost"] for n, r in runs.items()}
    cheap, dear = sorted(cost, key=cost.get)
    assert cost[cheap] < cost[dear] and gaps[cheap] < gaps[dear]
    assert gaps[cheap] == pytest.approx(ops.hindsight_gap(runs[cheap], bounds).loc["network", "gap %"], abs=0.5)
    # without bounds: no line, no gap in the title
    plain = ops.TwinDashboard(runs)
    assert "hindsight" not in plain._fig._suptitle.get_text()
    assert ops.CLAIRVOYANT_LINE not in [ln.get_label() for ln in plain._fig.axes[0].get_lines()]
