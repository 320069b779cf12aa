"""Tests of mas_lib.teach.widgets: the cached experiment function and the headless panel (notebook 05)."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

import ipywidgets  # noqa: E402

from mas_lib.teach.widgets import (  # noqa: E402
    RANGES,
    ExperimentResult,
    make_panel,
    plot_experiment,
    run_experiment,
)

FAST = dict(steps=20, seed=0)


def test_run_experiment_result_and_cache():
    r1 = run_experiment(**FAST)
    assert isinstance(r1, ExperimentResult)
    assert r1.settings["c1"] == 1.0 and r1.settings["instance"] == "paper"
    assert len(r1.policy_map) == 21 * 26
    assert r1.heatmap("order_A").shape == (21, 26)
    assert 0.0 <= r1.kpis["fill rate [-]"] <= 1.0
    assert r1.kpis["gap to optimum [%]"] >= 0.0
    assert {"step", "mean_daily_cost", "epsilon"} <= set(r1.curve.columns)
    r2 = run_experiment(**FAST)
    assert r2 is r1  # a cache hit: the very same object, no retraining
    # the same settings spelled differently (int vs float) hit the same cache entry
    assert run_experiment(steps=20.0, seed=0, c1=1) is r1


@pytest.mark.parametrize(
    "field,value",
    [("epsilon", 1.5), ("c1", -1.0), ("c2", float("nan")), ("alpha", 0.0), ("gamma", 0.999),
     ("steps", 5), ("steps", 10.5), ("seed", -1), ("c3", "big")],
)
def test_validation_names_field_value_and_range(field, value):
    with pytest.raises(ValueError) as err:
        run_experiment(**{**FAST, field: value})
    msg = str(err.value)
    lo, hi = RANGES[field]
    assert msg.startswith(f"{field} = {value!r}") and f"[{lo}, {hi}]" in msg


def test_validation_of_choices():
    with pytest.raises(ValueError, match="instance = 'moon'.*'paper'"):
        run_experiment(instance="moon")
    with pytest.raises(ValueError, match="schedule = 'fast'.*'decaying'"):
        run_experiment(schedule="fast")
    with pytest.raises(ValueError, match="instance"):
        make_panel(instance="moon")


def test_plot_experiment_labels():
    fig = plot_experiment(run_experiment(**FAST))
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert len(axes) == 4
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert "[money/day]" in axes[0].get_ylabel()
    matplotlib.pyplot.close(fig)


def test_panel_headless_run_and_refusal():
    panel = make_panel(show_plots=True)
    assert isinstance(panel.widget, ipywidgets.VBox)
    assert isinstance(panel.progress, ipywidgets.IntProgress)
    sliders = [c for c in panel.controls.values() if isinstance(c, (ipywidgets.FloatSlider, ipywidgets.IntSlider))]
    assert {"epsilon", "c1", "c2", "c3", "alpha", "gamma", "steps"} <= set(panel.controls)
    assert all(s.continuous_update is False for s in sliders)
    panel.controls["steps"].value = 20
    panel.click()
    assert panel.result is run_experiment(**FAST)
    assert panel.message.value.startswith("done") and "gap to the optimum" in panel.message.value
    assert panel.progress.value == panel.progress.max
    # an out-of-range value (a user widened the slider) is refused with a message, no traceback
    before = panel.result
    panel.controls["epsilon"].max = 2.0
    panel.controls["epsilon"].value = 1.5
    panel.click()
    assert "Refused" in panel.message.value and "epsilon = 1.5" in panel.message.value
    assert panel.result is before


def test_panel_reports_progress():
    calls = []

    def fake_run(progress=None, **kw):
        for d in (1, 2, 3):
            progress(d, 3)
            calls.append(panel.progress.value)
        return run_experiment(**FAST)

    panel = make_panel(run=fake_run, show_plots=False)
    panel.click()
    assert calls == [1, 2, 3] and panel.progress.max == 3
