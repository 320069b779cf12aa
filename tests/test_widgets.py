"""Tests of mas_lib.teach.widgets: the cached experiment function and the headless panel (notebook 05)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import ipywidgets  # noqa: E402

from mas_lib.teach import widgets  # noqa: E402
from mas_lib.teach.widgets import (  # noqa: E402
    BATCH,
    PANEL_DEFAULTS,
    RANGES,
    RESULT_CACHE,
    ExperimentResult,
    ResultCache,
    make_panel,
    plot_experiment,
    run_experiment,
)
from mas_lib.validation import ConfigError  # noqa: E402

FAST = dict(steps=20, seed=0)


def _same(a: ExperimentResult, b: ExperimentResult) -> None:
    assert a.settings == b.settings and a.seconds == b.seconds
    pd.testing.assert_frame_equal(a.curve, b.curve)
    pd.testing.assert_frame_equal(a.policy_map, b.policy_map)
    pd.testing.assert_series_equal(a.kpis, b.kpis)
    for x, y in zip(a.policy.tables + a.policy.visits, b.policy.tables + b.policy.visits, strict=True):
        np.testing.assert_array_equal(x, y)


def test_run_experiment_result_and_cache():
    RESULT_CACHE.clear()
    r1 = run_experiment(**FAST)
    assert isinstance(r1, ExperimentResult) and r1.cached is False and r1.seconds > 0
    assert r1.settings["c1"] == 1.0 and r1.settings["instance"] == "paper"
    assert len(r1.policy_map) == 21 * 26
    assert r1.heatmap("order_A").shape == (21, 26)
    assert 0.0 <= r1.kpis["fill rate [-]"] <= 1.0
    assert r1.kpis["gap to optimum [%]"] >= 0.0
    assert {"step", "mean_daily_cost", "epsilon"} <= set(r1.curve.columns)
    r2 = run_experiment(**FAST)
    # a cache hit: no retraining, says so, keeps the first run's time, and is a copy of its own
    assert r2.cached is True and r2 is not r1 and r2.policy is not r1.policy
    _same(r1, r2)
    # the same settings spelled differently (int vs float) hit the same cache entry
    r3 = run_experiment(steps=20.0, seed=0, c1=1)
    assert r3.cached is True
    _same(r1, r3)
    assert len(RESULT_CACHE) == 1 and 2 * 546 * 1936 * 8 <= RESULT_CACHE.nbytes <= RESULT_CACHE.max_bytes


def test_cached_result_is_not_shared_mutable_state():
    pristine = run_experiment(**FAST)
    mine = run_experiment(**FAST)
    mine.curve.loc[:, "mean_daily_cost"] = -1.0
    mine.policy_map.loc[:, "order_A"] = 999
    mine.kpis.iloc[:] = -1.0
    mine.settings["c1"] = 42.0
    mine.policy.tables[0][:] = 0.0
    mine.policy.visits[0][:] = 7
    mine.policy.tables.append(np.zeros(1))
    later = run_experiment(**FAST)
    _same(pristine, later)
    assert len(later.policy.tables) == 1 and (later.policy.visits[0] != 7).any()
    # the learned policy still acts as learned
    pd.testing.assert_frame_equal(widgets.policy_map(later.policy, widgets._instance("paper").config),
                                  pristine.policy_map)


def test_result_cache_is_lru_and_bounded_in_bytes():
    r = run_experiment(**FAST)
    size = r.nbytes
    # the Q-table and the visit counts of 546 states x 1,936 actions dominate (~16.1 MiB)
    assert size >= 2 * 546 * 1936 * 8
    assert RESULT_CACHE.max_bytes == 256 * 2**20 and RESULT_CACHE.nbytes <= RESULT_CACHE.max_bytes
    cache = ResultCache(max_bytes=int(2.5 * size))
    cache.put("a", r)
    cache.put("b", r.copy())
    assert cache.get("a") is r  # "a" is now the most recently used
    cache.put("c", r.copy())
    assert "b" not in cache and "a" in cache and "c" in cache
    assert len(cache) == 2 and cache.nbytes == 2 * size <= cache.max_bytes
    cache.put("a", r)  # replacing an entry does not count it twice
    assert cache.nbytes == 2 * size
    tiny = ResultCache(max_bytes=size - 1)
    tiny.put("a", r)  # larger than the whole budget: not stored
    assert len(tiny) == 0 and tiny.nbytes == 0 and tiny.get("a") is None
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0
    with pytest.raises(ValueError, match="ResultCache.max_bytes = -1"):
        ResultCache(max_bytes=-1)


def test_listeners_reach_the_trainer_and_are_not_in_the_key():
    calls, steps = [], []
    kw = dict(steps=20, seed=11)
    r = run_experiment(**kw, progress=lambda d, t: calls.append((d, t)), on_step=steps.append)
    assert r.cached is False
    assert calls and calls[-1] == (20, 20) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(steps) == 20 and [s.day for s in steps[:3]] == [0, 1, 2]
    assert steps[0].replenish.shape[0] == widgets.BATCH
    calls.clear()
    steps.clear()
    again = run_experiment(**kw, progress=lambda d, t: calls.append((d, t)), on_step=steps.append)
    assert again.cached is True and calls == [] and steps == []
    assert not hasattr(widgets, "_progress_hook")


@pytest.mark.parametrize(
    "field,value",
    [("epsilon", 1.5), ("c1", -1.0), ("c2", float("nan")), ("alpha", 0.0), ("gamma", 0.999),
     ("steps", 5), ("steps", 10.5), ("seed", -1), ("seed", 2**31), ("seed", 1.5), ("c3", "big"), ("c1", True)],
)
def test_validation_names_field_value_and_range(field, value):
    with pytest.raises(ValueError) as err:
        run_experiment(**{**FAST, field: value})
    msg = str(err.value)
    lo, hi = RANGES[field]
    assert isinstance(err.value, ConfigError)
    assert msg.startswith(f"{field} = {value!r} is not allowed; allowed: ")
    if field == "seed":
        assert msg.endswith(f"a whole number in [{lo}, {hi}]")  # 2147483647 written out in full
    else:
        assert f"[{lo:g}, {hi:g}]" in msg


def test_validation_of_choices():
    with pytest.raises(ValueError, match="instance = 'moon'.*'paper'"):
        run_experiment(instance="moon")
    with pytest.raises(ValueError, match="schedule = 'fast'.*'decaying'"):
        run_experiment(schedule="fast")
    with pytest.raises(ValueError, match="instance"):
        make_panel(instance="moon")


def test_plot_experiment_labels():
    res = run_experiment(**FAST)
    fig = plot_experiment(res)
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert len(axes) == 4
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert "[money/day]" in axes[0].get_ylabel()
    first, last = res.curve["mean_daily_cost"].iloc[[0, -1]]
    assert axes[0].get_title() == f"Cost while learning: {first:,.0f} -> {last:,.0f} money/day"
    # net transfers: a diverging map with limits symmetric about 0
    net = axes[3].images[0]
    lo, hi = net.get_clim()
    assert net.get_cmap().name == "coolwarm" and lo == -hi
    # drawn outside pyplot, so the inline backend cannot show or blank it behind the panel's back
    assert fig.canvas.manager is None


def test_panel_headless_run_and_refusal():
    panel = make_panel(show_plots=True)
    assert isinstance(panel.widget, ipywidgets.VBox)
    assert isinstance(panel.progress, ipywidgets.IntProgress)
    sliders = [c for c in panel.controls.values() if isinstance(c, (ipywidgets.FloatSlider, ipywidgets.IntSlider))]
    assert {"epsilon", "c1", "c2", "c3", "alpha", "gamma", "steps"} <= set(panel.controls)
    assert all(s.continuous_update is False for s in sliders)
    assert panel.values() == {**PANEL_DEFAULTS, "instance": "paper"}
    panel.controls["steps"].value = 20
    assert f"{20 * BATCH:,} transitions" in panel.budget.value
    RESULT_CACHE.clear()
    panel.click()
    assert panel.result.cached is False
    _same(panel.result, run_experiment(**{**PANEL_DEFAULTS, "steps": 20, "seed": 0}))
    assert "at the speed of your last run" in panel.budget.value  # the budget now carries a time estimate
    assert panel.message.value.startswith("done in") and "gap to the optimum" in panel.message.value
    assert panel.progress.value == panel.progress.max == 20
    panel.progress.value = 0
    panel.click()  # the same settings again: the message says the result is cached
    assert panel.result.cached is True
    assert panel.message.value.startswith("cached (computed earlier in") and "gap to the optimum" in panel.message.value
    assert panel.progress.value == panel.progress.max
    # an out-of-range value (a user widened the slider) is refused with a message, no traceback
    before = panel.result
    panel.controls["epsilon"].max = 2.0
    panel.controls["epsilon"].value = 1.5
    panel.click()
    assert "Refused" in panel.message.value and "epsilon = 1.5" in panel.message.value
    assert panel.result is before


def test_panel_sliders_move_the_outcome_the_expected_way():
    """From the panel's defaults, each of epsilon, c1, c2, c3 moves the outcome in the direction a
    student should see (directions measured on seeds 0-3; the test drives the panel headlessly on seed 0):
    a larger c1 serves more demand, a larger c2 holds less stock, c3 = 0 makes transfers free to the
    learner so it ships at random, and a larger epsilon makes learning dearer (cost while exploring)."""
    panel = make_panel(show_plots=False)

    def run(**change):
        for name, value in PANEL_DEFAULTS.items():
            panel.controls[name].value = change.get(name, value)
        panel.click()
        assert panel.message.value.startswith(("done in", "cached"))
        return panel.result

    base = run()
    k = base.kpis
    low_c1, high_c2, free_c3, high_eps = run(c1=10.0).kpis, run(c2=5.0).kpis, run(c3=0.0).kpis, run(epsilon=0.6)
    assert low_c1["fill rate [-]"] < k["fill rate [-]"] - 0.02
    assert high_c2["mean stock on hand [units]"] < 0.5 * k["mean stock on hand [units]"]
    assert high_c2["fill rate [-]"] < k["fill rate [-]"]
    assert free_c3["transport cost [money/day]"] > 20 * max(k["transport cost [money/day]"], 1.0)
    last = base.curve["mean_daily_cost"].iloc[-1]
    assert high_eps.curve["mean_daily_cost"].iloc[-1] > last + 50
    # the learning curve really falls under the defaults (the title must not lie)
    assert last < base.curve["mean_daily_cost"].iloc[0] - 100


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


def test_nothing_heavy_happens_on_import():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import mas_lib.teach.paper, mas_lib.teach.plotting, mas_lib.teach.problems\n"
        "from mas_lib.teach import widgets\n"
        "heavy = [m for m in ('matplotlib.pyplot', 'ipywidgets', 'mas_lib.decide.planning.model',\n"
        "                     'mas_lib.decide.planning.reference_cache') if m in sys.modules]\n"
        "assert heavy == [], heavy\n"
        "assert len(widgets.RESULT_CACHE) == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
