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
