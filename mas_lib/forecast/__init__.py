"""Demand forecasting (paper 3.1.1(1), 3.2.2, 3.2.3): models that return a mean and quantiles,
accuracy metrics, a rolling-origin backtest and safety stock from forecast errors. Everything
here serves notebook 04 and ``benchmarks/bench_forecast.py``, and feeds the environment
through :func:`rolling_forecasts` -> :class:`mas_lib.sim.demand.RecordedDemand`.

Modules (each name below is re-exported here, so ``from mas_lib import forecast as fc;
fc.backtest(...)`` works):

* :mod:`.base` -- the contract: :class:`Forecast`, :class:`Forecaster`, ``DEFAULT_QUANTILES``
  (closed days, intervals: read its docstring first);
* :mod:`.simple` -- Naive, SeasonalNaive, MovingAverage, WeekdayMean, Croston, SBA,
  EmpiricalQuantile;
* :mod:`.statistical` -- HoltWinters, SARIMAXModel (statsmodels);
* :mod:`.features` and :mod:`.regression` -- make_features, CountRegression,
  PooledCountRegression;
* :mod:`.boosting` -- GlobalBoostedTrees (one gradient-boosted model across all series);
* :mod:`.ensemble` -- Ensemble;
* :mod:`.metrics` -- mae, rmse, bias, mase, seasonal_naive_scale, pinball_loss,
  interval_coverage;
* :mod:`.backtesting` -- series_from_tidy, weekly_origins, backtest, leaderboard,
  rolling_forecasts;
* :mod:`.plausibility` -- implausible, guarded_forecast (checked forecasts with an announced
  fallback);
* :mod:`.evaluation` -- SIMPLE_BASELINES, select_products, per_series_mase, gain_interval,
  best_baseline, combine, series_market, mase_by_market, gain_by_market;
* :mod:`.safety` -- safety_stock, safety_stock_table;
* :mod:`.plots` -- plot_forecast.

Layering: ``mas_lib.forecast`` may read :mod:`mas_lib.data` and :mod:`mas_lib.validation`; it
never imports the simulation, the decisions or the teaching layer.
"""

from .backtesting import backtest, leaderboard, rolling_forecasts, series_from_tidy, weekly_origins
from .base import DEFAULT_QUANTILES, Forecast, Forecaster
from .boosting import GlobalBoostedTrees
from .ensemble import Ensemble
from .evaluation import (
    SIMPLE_BASELINES,
    best_baseline,
    combine,
    gain_by_market,
    gain_interval,
    mase_by_market,
    per_series_mase,
    select_products,
    series_market,
)
from .features import make_features
from .metrics import bias, interval_coverage, mae, mase, pinball_loss, rmse, seasonal_naive_scale
from .plausibility import guarded_forecast, implausible
from .plots import plot_forecast
from .regression import CountRegression, PooledCountRegression
from .safety import safety_stock, safety_stock_table
from .simple import (
    SBA,
    Croston,
    EmpiricalQuantile,
    MovingAverage,
    Naive,
    SeasonalNaive,
    WeekdayMean,
)
from .statistical import HoltWinters, SARIMAXModel

__all__ = [
    "DEFAULT_QUANTILES",
    "Forecast",
    "Forecaster",
    "Naive",
    "SeasonalNaive",
    "MovingAverage",
    "WeekdayMean",
    "Croston",
    "SBA",
    "EmpiricalQuantile",
    "HoltWinters",
    "SARIMAXModel",
    "CountRegression",
    "PooledCountRegression",
    "GlobalBoostedTrees",
    "Ensemble",
    "make_features",
    "mae",
    "rmse",
    "bias",
    "mase",
    "seasonal_naive_scale",
    "pinball_loss",
    "interval_coverage",
    "backtest",
    "weekly_origins",
    "leaderboard",
    "implausible",
    "guarded_forecast",
    "SIMPLE_BASELINES",
    "select_products",
    "per_series_mase",
    "gain_interval",
    "best_baseline",
    "combine",
    "series_market",
    "mase_by_market",
    "gain_by_market",
    "safety_stock",
    "safety_stock_table",
    "rolling_forecasts",
    "series_from_tidy",
    "plot_forecast",
]
