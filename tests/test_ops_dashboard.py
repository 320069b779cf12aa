"""Headless tests of the twin's dashboard (mas_lib.ops.dashboard, notebook 08): the figure, and
the ipywidgets panel that redraws without re-running the simulation."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
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
    dash.policy.value = "(s, S)"
    dash.warehouse.value = "EU"
    dash.product.value = runs["base-stock"].products[1]
    assert dash.redraws == n0 + 4 and calls == []
    assert "alert(s) this week" in dash.table.value
    assert dash.week_table()["warehouse"].iloc[0] if "warehouse" in dash.week_table() else True
    sel = dash.kpis["(s, S)"]
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
