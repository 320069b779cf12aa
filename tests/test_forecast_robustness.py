"""Tests of mas_lib.forecast under hostile input: a fit that fails numerically falls back
without losing the other series, and scores split by market."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import forecast as fc
from mas_lib.data.synthetic import SyntheticDemandConfig, generate_demand
from mas_lib.validation import ConfigError

IDX = pd.date_range("2011-01-03", periods=120, freq="D")


def burst_series(seed: int = 0) -> pd.Series:
    """120 days, 4 of them with a sale of 10^2 to 10^8 units, the rest 0: statsmodels' GLM
    gives up on it with ``ValueError: NaN, inf or invalid value detected in weights``."""
    rng = np.random.default_rng(seed)
    y = np.zeros(len(IDX))
    days = rng.choice(np.arange(10, len(IDX)), 4, replace=False)
    y[days] = 10.0 ** rng.uniform(2, 8, 4)
    return pd.Series(y, index=IDX)


#: a seed whose burst series breaks the GLM at each of the backtest's 4 default origins
BURST_EVERY_ORIGIN = 25


def test_the_burst_series_breaks_the_glm_fit():
    """The reproduction itself: without the guard the fit raises statsmodels' ValueError."""
    for seed in (0, BURST_EVERY_ORIGIN):
        with pytest.raises(ValueError, match="invalid value detected in weights"):
            fc.CountRegression("negbin").fit(burst_series(seed)).predict(7)


def test_guard_falls_back_when_the_glm_weights_blow_up():
    s = burst_series()
    f = fc.guarded_forecast(fc.CountRegression("negbin"), s, None, 7)
    assert "fit failed (ValueError: NaN, inf or invalid value detected in weights" in f.note
    assert "fell back to MovingAverage(28)" in f.note
    expected = fc.MovingAverage(28).fit(s).predict(7)
    np.testing.assert_allclose(f.mean, expected.mean)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_sales=st.integers(1, 8),
       top=st.floats(0.0, 9.0, allow_nan=False))
def test_guarded_glm_never_raises_and_is_always_plausible(seed, n_sales, top):
    """Invariant: on any non-negative series of a few sales of up to 10^top units, the guarded
    count GLM returns a plausible forecast, its own or an announced fallback."""
    rng = np.random.default_rng(seed)
    y = np.zeros(len(IDX))
    y[rng.choice(np.arange(10, len(IDX)), n_sales, replace=False)] = np.round(
        10.0 ** rng.uniform(0, top, n_sales))
    s = pd.Series(y, index=IDX)
    f = fc.guarded_forecast(fc.CountRegression("negbin"), s, None, 7)
    assert fc.implausible(f, s) == ""
    assert f.note == "" or "fell back to MovingAverage(28)" in f.note


class _WrongArgument(fc.Forecaster):
    """A model with a programming error: its fit raises TypeError / an unrelated ValueError."""

    name = "Broken"

    def __init__(self, error: Exception):
        self.error = error

    def _fit(self) -> None:
        raise self.error

    def _point(self, k: int) -> np.ndarray:  # pragma: no cover - never reached
        return np.zeros(k)


@pytest.mark.parametrize("error", [TypeError("unsupported operand"), ValueError("shapes (3,) and (4,)"),
                                   ConfigError("x = -1 is not allowed; allowed: >= 0")],
                         ids=["TypeError", "other ValueError", "ConfigError"])
def test_guard_lets_programming_errors_surface(error):
    s = pd.Series(np.arange(60.0), index=IDX[:60])
    with pytest.raises(type(error), match=re.escape(str(error))):
        fc.guarded_forecast(_WrongArgument(error), s, None, 7)


def test_numerical_failure_matches_only_numerical_errors():
    from mas_lib.forecast.plausibility import numerical_failure

    assert numerical_failure(np.linalg.LinAlgError("Singular matrix"))
    assert numerical_failure(FloatingPointError("overflow"))
    assert numerical_failure(OverflowError("math range error"))
    assert numerical_failure(ValueError("NaN, inf or invalid value detected in endog, "
                                        "estimation infeasible."))
    assert numerical_failure(ValueError("The first guess on the deviance function returned a "
                                        "nan.  This could be a boundary  problem and should be "
                                        "reported."))
    assert not numerical_failure(ValueError("could not convert string to float: 'x'"))
    assert not numerical_failure(TypeError("NaN, inf or invalid value detected in weights"))
    assert not numerical_failure(ConfigError("NaN, inf or invalid value detected in weights, "
                                             "estimation infeasible."))


def _many_series(n_products: int = 4) -> tuple[dict, dict]:
    cfg = SyntheticDemandConfig(intermittent_fraction=0.0)
    df = generate_demand(cfg, start="2011-01-03", n_days=len(IDX), n_products=n_products, seed=5)
    return fc.series_from_tidy(df)


def test_backtest_keeps_every_other_series_when_one_glm_fit_fails():
    series, calendars = _many_series()
    good = sorted(series)
    series = {**series, "domestic/BURST": burst_series(BURST_EVERY_ORIGIN)}
    calendars = {**calendars, "domestic/BURST": None}
    models = {"CountGLM(negbin)": fc.CountRegression("negbin"),
              "MovingAverage(28)": fc.MovingAverage(28)}
    bt = fc.backtest(series, models, calendar=calendars)
    assert set(bt["series"]) == set(good) | {"domestic/BURST"}
    glm = bt[bt["model"] == "CountGLM(negbin)"]
    burst = glm[glm["series"] == "domestic/BURST"]
    assert len(burst) == 4 * 7
    assert burst["note"].str.contains("fit failed (ValueError", regex=False).all()
    others = glm[glm["series"] != "domestic/BURST"]
    assert len(others) == len(good) * 4 * 7 and (others["note"] == "").all()
    # the other series' forecasts are exactly what a backtest without the burst series gives
    alone = fc.backtest({k: series[k] for k in good}, models, calendar=calendars)
    a = alone[alone["model"] == "CountGLM(negbin)"].reset_index(drop=True)
    np.testing.assert_allclose(others["mean"].to_numpy(), a["mean"].to_numpy())


def test_backtest_survives_a_pooled_fit_that_fails():
    """A pooled GLM fitted on the burst series alone fails for that origin: its rows fall back
    (and say so), the single-series models' rows are kept."""
    series = {"domestic/BURST": burst_series(BURST_EVERY_ORIGIN)}
    models = {"PooledGLM(negbin)": fc.PooledCountRegression("negbin"), "Naive": fc.Naive()}
    bt = fc.backtest(series, models)
    pooled = bt[bt["model"] == "PooledGLM(negbin)"]
    assert len(pooled) == 4 * 7
    assert pooled["note"].str.contains("PooledGLM(negbin): fit failed (ValueError", regex=False).all()
    assert (bt.loc[bt["model"] == "Naive", "note"] == "").all()


def test_backtest_without_guard_still_raises_the_fit_error():
    """``guard=None`` switches the check off: the error is not hidden then."""
    with pytest.raises(ValueError, match="invalid value detected"):
        fc.backtest({"domestic/BURST": burst_series()},
                    {"CountGLM(negbin)": fc.CountRegression("negbin")}, guard=None)


# --------------------------------------------------------------------------------------------
# scores by market: a pooled headline may hide a market where the model gains little
# --------------------------------------------------------------------------------------------
def _per_series() -> pd.DataFrame:
    return pd.DataFrame(
        {"A": [0.9, 0.7, 0.4, 0.5], "B": [1.0, 0.8, 0.8, 1.0]},
        index=["domestic/1", "domestic/2", "overseas/1", "overseas/2"],
    ).rename_axis("series")


def test_mase_by_market_known_answer():
    t = fc.mase_by_market(_per_series())
    assert list(t.columns) == ["domestic", "overseas", "all"]
    np.testing.assert_allclose(t.loc["A"], [0.8, 0.45, 0.625])
    np.testing.assert_allclose(t.loc["B"], [0.9, 0.9, 0.9])


def test_gain_by_market_known_answer_and_interval():
    g = fc.gain_by_market(_per_series(), "A", "B", n_boot=500, seed=1)
    assert list(g.index) == ["domestic", "overseas", "all"]
    np.testing.assert_allclose(g["gain"], [1 - 0.8 / 0.9, 1 - 0.45 / 0.9, 1 - 0.625 / 0.9])
    assert list(g["n_series"]) == [2, 2, 4]
    assert (g["low"] <= g["gain"]).all() and (g["gain"] <= g["high"]).all()
    whole = fc.gain_interval(_per_series(), "A", "B", n_boot=500, seed=1)
    assert g.loc["all", "low"] == whole["low"] and g.loc["all", "high"] == whole["high"]


def test_by_market_matches_the_leaderboard_on_a_backtest():
    series, calendars = _many_series(3)
    bt = fc.backtest(series, [fc.MovingAverage(28), fc.SeasonalNaive()], calendar=calendars)
    t = fc.mase_by_market(fc.per_series_mase(bt))
    board = fc.leaderboard(bt).set_index("model")
    np.testing.assert_allclose(t["all"], board.loc[t.index, "mean_mase"])
    assert {"domestic", "overseas"} <= set(t.columns)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["domestic", "overseas", "DE"]),
                          st.floats(0.01, 5.0), st.floats(0.01, 5.0)), min_size=1, max_size=12))
def test_by_market_is_a_split_of_the_pooled_figures(rows):
    """Invariant: the series-weighted mean of the market means is the pooled mean, and every
    market's gain is gain_interval's on that market's series alone."""
    per = pd.DataFrame([(a, b) for _, a, b in rows], columns=["m", "base"],
                       index=[f"{mk}/{i}" for i, (mk, _, _) in enumerate(rows)])
    t = fc.mase_by_market(per)
    g = fc.gain_by_market(per, "m", "base", n_boot=50)
    markets = [k.split("/")[0] for k in per.index]
    counts = pd.Series(markets).value_counts()
    pooled = sum(t.loc["m", mk] * n for mk, n in counts.items()) / len(per)
    assert pooled == pytest.approx(t.loc["m", "all"])
    for mk in counts.index:
        part = per[[k.startswith(mk + "/") for k in per.index]]
        assert g.loc[mk, "gain"] == pytest.approx(fc.gain_interval(part, "m", "base", 50)["gain"])
        assert g.loc[mk, "n_series"] == counts[mk]


@pytest.mark.parametrize("call, field", [
    (lambda p: fc.gain_by_market(p, "C", "B"), "model"),
    (lambda p: fc.gain_by_market(p, "A", "C"), "baseline"),
    (lambda p: fc.mase_by_market(p.rename(index={"domestic/1": "nomarket"})), "series"),
])
def test_by_market_bad_arguments_name_field_value_and_allowed(call, field):
    with pytest.raises(ConfigError, match=rf"^{field} = .* is not allowed; allowed: "):
        call(_per_series())
