"""Tests of mas_lib.forecast: model contract, known answers, metrics, backtest, env hook."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mas_lib import data
from mas_lib import forecast as fc
from mas_lib.data.synthetic import SyntheticDemandConfig, generate_demand
from mas_lib.forecast.backtesting import (
    _assemble,
    _fit_pooled,
    _forecast_job,
    _job_rows,
    _job_scale,
    _plan_jobs,
)
from mas_lib.sim.demand import RecordedDemand
from mas_lib.validation import ConfigError

IDX = pd.date_range("2011-01-03", periods=182, freq="D")  # starts on a Monday
WEEKLY = np.array([10.0, 12.0, 14.0, 16.0, 8.0, 0.0, 4.0])  # Saturday closed


def weekly_series(index=IDX) -> pd.Series:
    return pd.Series(WEEKLY[index.day_of_week], index=index)


def saturday_closed(index=IDX) -> pd.Series:
    return pd.Series(index.day_of_week != 5, index=index)


@pytest.fixture(scope="module")
def synthetic():
    cfg = SyntheticDemandConfig(intermittent_fraction=0.3)
    df = generate_demand(cfg, start="2011-01-03", n_days=240, n_products=2, seed=11)
    return fc.series_from_tidy(df)


def all_models() -> list[fc.Forecaster]:
    return [
        fc.Naive(), fc.SeasonalNaive(), fc.MovingAverage(28), fc.WeekdayMean(8), fc.Croston(), fc.SBA(),
        fc.EmpiricalQuantile(56), fc.EmpiricalQuantile(56, by_weekday=True), fc.HoltWinters(),
        fc.SARIMAXModel(), fc.CountRegression("poisson"), fc.CountRegression("negbin"),
        fc.Ensemble([fc.MovingAverage(28), fc.Croston()]),
    ]


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.name)
def test_every_model_contract(model, synthetic):
    series, calendars = synthetic
    key = sorted(series)[0]
    s, cal = series[key], calendars[key]
    f = model.fit(s.iloc[:-7], cal).predict(7, quantiles=(0.9, 0.05, 0.5, 0.95))
    assert isinstance(f, fc.Forecast)
    assert f.mean.shape == (7,) and list(f.quantiles) == [0.05, 0.5, 0.9, 0.95]
    assert list(f.index) == list(s.index[-7:])
    q = np.column_stack([f.quantile(x) for x in (0.05, 0.5, 0.9, 0.95)])
    assert np.all(np.isfinite(q)) and np.all(q >= 0) and np.all(np.diff(q, axis=1) >= 0)
    closed = ~cal.reindex(f.index).to_numpy()
    assert closed.any()
    assert np.all(f.mean[closed] == 0) and np.all(q[closed] == 0)
    assert np.all(f.mean[~closed] >= 0)
    table = f.to_frame()
    assert list(table.columns) == ["mean", "q0.05", "q0.5", "q0.9", "q0.95"]


def test_predict_errors():
    with pytest.raises(RuntimeError, match="fit"):
        fc.Naive().predict(3)
    m = fc.Naive().fit(weekly_series())
    with pytest.raises(ValueError, match="horizon"):
        m.predict(0)
    with pytest.raises(ValueError, match="quantile"):
        m.predict(3, quantiles=(0.5, 1.0))
    with pytest.raises(KeyError, match="0.7"):
        m.predict(3).quantile(0.7)
    with pytest.raises(TypeError, match="Series"):
        fc.Naive().fit(np.ones(10))
    with pytest.raises(ValueError, match="gaps"):
        fc.Naive().fit(weekly_series().drop(IDX[5]))
    with pytest.raises(ValueError, match=">= 0"):
        fc.Naive().fit(-weekly_series())
    with pytest.raises(ValueError, match="window"):
        fc.MovingAverage(0)
    with pytest.raises(ValueError, match="alpha"):
        fc.Croston(0.0)


def test_naive_on_constant_series():
    s = pd.Series(5.0, index=IDX)
    f = fc.Naive().fit(s).predict(10)
    np.testing.assert_allclose(f.mean, 5.0)
    for q in f.quantiles.values():
        np.testing.assert_allclose(q, 5.0)  # no errors in sample -> no width


def test_seasonal_naive_reproduces_weekly_pattern():
    s = weekly_series()
    future = pd.date_range(IDX[-1] + pd.Timedelta(days=1), periods=14)
    f = fc.SeasonalNaive().fit(s, saturday_closed(IDX.append(future))).predict(14)
    np.testing.assert_allclose(f.mean, WEEKLY[future.day_of_week])
    np.testing.assert_allclose(f.quantile(0.05), f.quantile(0.95))  # exact in sample


def test_moving_average_and_empirical_known_answers():
    s = pd.Series(np.arange(1.0, 29.0), index=IDX[:28])
    np.testing.assert_allclose(fc.MovingAverage(7).fit(s).predict(3).mean, 25.0)
    f = fc.EmpiricalQuantile(14).fit(s).predict(2)
    recent = np.arange(15.0, 29.0)
    np.testing.assert_allclose(f.mean, recent.mean())
    np.testing.assert_allclose(f.quantile(0.9), np.quantile(recent, 0.9))


def test_croston_and_sba_known_answer():
    # a sale of 3 units every third day: size 3, interval 3 -> 1 unit/day
    y = np.tile([0.0, 0.0, 3.0], 30)
    s = pd.Series(y, index=IDX[:90])
    c = fc.Croston(alpha=0.2).fit(s)
    np.testing.assert_allclose(c.predict(5).mean, 1.0)
    assert c.size_ == pytest.approx(3.0) and c.interval_ == pytest.approx(3.0)
    np.testing.assert_allclose(fc.SBA(alpha=0.2).fit(s).predict(5).mean, 0.9)
    # Croston's update after a change in size: z <- z + a (v - z)
    y2 = np.array([0, 4.0, 0, 0, 8.0])
    c2 = fc.Croston(alpha=0.5).fit(pd.Series(y2, index=IDX[:5]))
    assert c2.size_ == pytest.approx(6.0) and c2.interval_ == pytest.approx(2.5)
    assert fc.Croston().fit(pd.Series(0.0, index=IDX[:20])).predict(2).mean.tolist() == [0, 0]


def test_poisson_glm_recovers_known_rates():
    rng = np.random.default_rng(0)
    idx = pd.date_range("2011-01-03", periods=600)  # ends in August: no holiday ahead
    rate = np.where(idx.day_of_week == 0, 20.0, 5.0)  # Mondays x4
    s = pd.Series(rng.poisson(rate).astype(float), index=idx)
    m = fc.CountRegression("poisson", windows=()).fit(s)
    f = m.predict(7)
    mon = f.index.day_of_week == 0
    assert f.mean[mon][0] == pytest.approx(20.0, rel=0.12)
    np.testing.assert_allclose(f.mean[~mon], 5.0, rtol=0.12)
    assert m.alpha_ == 0.0
    # Poisson quantiles are the Poisson ppf of the mean
    from scipy import stats

    np.testing.assert_allclose(f.quantile(0.9), stats.poisson.ppf(0.9, f.mean))


def test_pooled_glm_shares_one_fit_across_series(synthetic):
    rng = np.random.default_rng(2)
    idx = pd.date_range("2011-01-03", periods=400)
    shape = np.where(idx.day_of_week == 0, 2.0, 1.0)
    hist = {name: pd.Series(rng.poisson(level * shape).astype(float), index=idx)
            for name, level in (("small", 6.0), ("large", 60.0))}
    p = fc.PooledCountRegression("poisson").fit_many(hist)
    assert p.members_["small"].params_ is p.members_["large"].params_
    small, large = p.predict_series("small", 7), p.predict_series("large", 7)
    mon = small.index.day_of_week == 0
    assert large.mean[~mon].mean() > 5 * small.mean[~mon].mean()
    for f in (small, large):
        assert f.mean[mon][0] / f.mean[~mon].mean() == pytest.approx(2.0, rel=0.2)
    with pytest.raises(KeyError, match="medium"):
        p.predict_series("medium", 7)
    # in a backtest it is fitted once per origin on all series
    series, calendars = synthetic
    models = {"pooled": fc.PooledCountRegression(), "snaive": fc.SeasonalNaive()}
    bt = fc.backtest(series, models, horizon=7, calendar=calendars)
    assert len(bt) == len(series) * 2 * 4 * 7
    pooled = bt[bt["model"] == "pooled"]
    q = pooled[["q0.05", "q0.5", "q0.9", "q0.95"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0) and (pooled.loc[~pooled["open"], "mean"] == 0).all()
    with pytest.raises(TypeError, match="pooled"):
        fc.rolling_forecasts(pd.DataFrame(hist), fc.PooledCountRegression())


def test_holt_winters_follows_a_weekly_pattern():
    s = weekly_series() + 20
    f = fc.HoltWinters(seasonal_periods=7).fit(s).predict(7)
    np.testing.assert_allclose(f.mean, WEEKLY[f.index.day_of_week] + 20, atol=0.5)


def test_ensemble_averages_members():
    s = pd.Series(np.arange(1.0, 29.0), index=IDX[:28])
    e = fc.Ensemble([fc.MovingAverage(7), fc.Naive()], weights=[1, 3]).fit(s).predict(2)
    np.testing.assert_allclose(e.mean, 0.25 * 25.0 + 0.75 * 28.0)
    with pytest.raises(ValueError, match="weights"):
        fc.Ensemble([fc.Naive()], weights=[1, 2])


def test_make_features_columns_and_no_leakage():
    s = weekly_series()
    frame = pd.DataFrame({"units": s, "open": saturday_closed(), "price": 2.5})
    feats = fc.make_features(frame, min_lag=3)
    for col in ["dow_0", "dow_6", "trend", "open", "holiday_christmas", "lag_3", "lag_7",
                "rmean_7", "rmean_28", "price"]:
        assert col in feats.columns
    assert feats["dow_2"].sum() == (IDX.day_of_week == 2).sum()
    cut = 100
    changed = frame.copy()
    changed.iloc[cut:, 0] = 999.0  # alter every day from `cut` on
    feats2 = fc.make_features(changed, min_lag=3)
    # rows up to cut + min_lag - 1 only see days before cut
    pd.testing.assert_frame_equal(feats.iloc[: cut + 3], feats2.iloc[: cut + 3])
    assert not feats.iloc[cut + 3 :].equals(feats2.iloc[cut + 3 :])
    # rolling means skip closed days (Saturdays sell 0 but tell nothing)
    assert feats["rmean_28"].iloc[60] == pytest.approx(WEEKLY[[0, 1, 2, 3, 4, 6]].mean(), rel=0.02)


def test_metrics_hand_computed():
    a, f = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    assert fc.mae(a, f) == pytest.approx(2 / 3)
    assert fc.rmse(a, f) == pytest.approx(np.sqrt(2 / 3))
    assert fc.bias(a, f) == pytest.approx(0.0)
    assert fc.bias([1.0, 1.0], [2.0, 3.0]) == pytest.approx(1.5)
    assert fc.mase(a, f, scale=2.0) == pytest.approx(1 / 3)
    assert fc.pinball_loss([10.0], [8.0], 0.9) == pytest.approx(1.8)
    assert fc.pinball_loss([10.0], [12.0], 0.9) == pytest.approx(0.2)
    assert fc.pinball_loss([10.0, np.nan], [12.0, 1.0], 0.5) == pytest.approx(1.0)
    assert fc.interval_coverage([1, 5, 9, np.nan], [0, 6, 0, 0], [2, 7, 10, 1]) == pytest.approx(2 / 3)
    # weekly seasonal naive scale: |y[t] - y[t-7]| over open t
    y = np.array([1, 2, 3, 4, 5, 0, 7, 2, 2, 3, 4, 5, 0, 9], dtype=float)
    assert fc.seasonal_naive_scale(y) == pytest.approx((1 + 0 + 0 + 0 + 0 + 0 + 2) / 7)
    op = np.ones(14, bool)
    op[12] = False
    assert fc.seasonal_naive_scale(y, 7, op) == pytest.approx(3 / 6)
    assert np.isnan(fc.mase(a, f, scale=0.0))


def test_backtest_shape_leaderboard_and_no_leakage():
    s = weekly_series()
    rng = np.random.default_rng(1)
    noisy = s + rng.poisson(2, len(s)) * (s > 0)
    series = {"pure": s, "noisy": noisy.astype(float)}
    cal = saturday_closed()
    origins = fc.weekly_origins(IDX[-1] - pd.Timedelta(days=6), 3)
    models = {"snaive": fc.SeasonalNaive(), "ma": fc.MovingAverage(28)}
    bt = fc.backtest(series, models, horizon=7, origins=origins, calendar=cal)
    assert len(bt) == 2 * 2 * 3 * 7
    assert {"series", "model", "origin", "date", "h", "actual", "open", "mean", "q0.05",
            "q0.95", "scale", "fit_time"} <= set(bt.columns)
    assert (bt.groupby(["series", "model", "origin"])["date"].min() ==
            bt.groupby(["series", "model", "origin"])["origin"].first()).all()
    board = fc.leaderboard(bt)
    assert list(board.columns) == ["model", "mean_mase", "median_mase", "mae", "rmse", "bias",
                                   "pinball_0.9", "coverage_90", "fit_time_s", "fallbacks"]
    assert (board["fallbacks"] == 0).all() and (bt["note"] == "").all()
    pure = fc.leaderboard(bt[bt["series"] == "pure"]).set_index("model")
    assert pure.loc["snaive", "mae"] == 0.0 and np.isnan(pure.loc["snaive", "mean_mase"])
    assert np.isfinite(board["mean_mase"]).all()
    # no leakage: change everything after the first origin; its forecasts must not move
    o = origins[0]
    altered = {k: v.where(v.index < o, 1e4) for k, v in series.items()}
    bt2 = fc.backtest(altered, models, horizon=7, origins=[o], calendar=cal)
    first = bt[bt["origin"] == o].reset_index(drop=True)
    cols = ["mean", "q0.05", "q0.5", "q0.9", "q0.95"]
    pd.testing.assert_frame_equal(first[cols], bt2[cols])


def small_trees() -> fc.GlobalBoostedTrees:
    return fc.GlobalBoostedTrees(max_iter=20, stride=3)


@pytest.mark.parametrize("model", all_models() + [fc.PooledCountRegression(), small_trees()],
                         ids=lambda m: m.name)
def test_no_model_sees_past_its_origin(model, synthetic):
    series, calendars = synthetic
    keys = sorted(series)[:2]
    origin = series[keys[0]].index[-21]
    clean = {k: series[k] for k in keys}
    spoiled = {k: s.where(s.index < origin, 1e4) for k, s in clean.items()}
    a = fc.backtest(clean, {"m": model}, horizon=7, origins=[origin], calendar=calendars)
    b = fc.backtest(spoiled, {"m": model}, horizon=7, origins=[origin], calendar=calendars)
    cols = ["mean", "q0.05", "q0.5", "q0.9", "q0.95"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert (b["actual"] == 1e4).any()  # the spoiled future really was scored against


def test_backtest_accepts_a_wide_frame_and_factories():
    wide = pd.DataFrame({"a": weekly_series(), "b": weekly_series() * 2})
    bt = fc.backtest(wide, {"ma": lambda: fc.MovingAverage(14)}, horizon=3)
    assert set(bt["series"]) == {"a", "b"} and bt["h"].max() == 3
    with pytest.raises(ValueError, match="no \\(series, origin\\)"):
        fc.backtest(wide.iloc[:10], [fc.Naive()], horizon=7)


def test_safety_stock():
    e = np.array([-1.0, 1.0] * 50)
    sd = e.std(ddof=1)
    assert fc.safety_stock(e, 0.95, 4.0) == pytest.approx(1.6448536 * sd * 2, rel=1e-6)
    assert fc.safety_stock(e, 0.95, 1.0, method="empirical") == pytest.approx(1.0)
    assert fc.safety_stock(np.full(10, -5.0) + np.arange(10) * 0.01, 0.5, 1, "empirical") == 0.0
    with pytest.raises(ValueError, match="service_level"):
        fc.safety_stock(e, 1.0)
    with pytest.raises(ValueError, match="method"):
        fc.safety_stock(e, 0.9, method="magic")


def test_safety_stock_table_orders_models(synthetic):
    series, calendars = synthetic
    bt = fc.backtest(series, [fc.SeasonalNaive(), fc.MovingAverage(28)], horizon=7,
                     calendar=calendars)
    table = fc.safety_stock_table(bt, 0.95, 2.0)
    assert set(table["model"]) == {"SeasonalNaive", "MovingAverage(28)"}
    assert (table["safety_stock_normal"] > 0).all()
    assert table["safety_stock_normal"].is_monotonic_increasing


def test_rolling_forecasts_shape_no_leakage_and_recorded_demand():
    s = weekly_series()
    frame = pd.DataFrame({"A": s, "B": s * 2 + 1})
    cal = saturday_closed()
    out = fc.rolling_forecasts(frame, fc.SeasonalNaive(), horizon=5, calendar=cal,
                               min_history=14, refit_every=7)
    assert out.shape == (len(frame), 5, 2)
    # seasonal naive on a pure weekly pattern: after the warm-up, forecasts are exact
    t = 30
    np.testing.assert_allclose(out[t, :, 0], s.iloc[t : t + 5].to_numpy())
    np.testing.assert_allclose(out[t, :, 1], 2 * s.iloc[t : t + 5].to_numpy() + 1 * cal.iloc[t : t + 5])
    # no leakage: altering the data from day t on leaves the forecasts made up to day t alone
    altered = frame.copy()
    altered.iloc[t:] = 500.0
    out2 = fc.rolling_forecasts(altered, fc.SeasonalNaive(), horizon=5, calendar=cal,
                                min_history=14, refit_every=7)
    np.testing.assert_array_equal(out[: t + 1], out2[: t + 1])
    # plugs into the environment's demand process
    rd = RecordedDemand(frame.fillna(0), forecasts=out, start=20)
    demand, forecast = rd.sample_episode(np.random.default_rng(0), n_days=30, horizon=5)
    assert demand.shape == (30, 2) and forecast.shape == (30, 5, 2)
    np.testing.assert_array_equal(forecast, out[20:50])
    q = fc.rolling_forecasts(frame, fc.MovingAverage(14), horizon=3, stat=0.9, min_history=14)
    m = fc.rolling_forecasts(frame, fc.MovingAverage(14), horizon=3, stat="median", min_history=14)
    assert q.shape == (len(frame), 3, 2) and np.all(q[20:] >= m[20:])


@pytest.mark.skipif(
    not data.online_retail_available(),
    reason="UCI Online Retail data not available: set MAS_LIB_ONLINE_RETAIL to the folder "
    "holding online_retail.csv.gz to run this real-data check",
)
def test_real_data_small_backtest():
    daily = data.load_daily_demand()
    top = data.top_products(daily, n=2)["stock_code"].tolist()
    series, calendars = fc.series_from_tidy(daily[daily["stock_code"].isin(top)])
    assert len(series) == 4  # 2 products x 2 markets
    models = [fc.SeasonalNaive(), fc.EmpiricalQuantile(56, by_weekday=True)]
    bt = fc.backtest(series, models, horizon=7, origins=fc.weekly_origins("2011-12-01", 4),
                     calendar=calendars)
    closed = bt[~bt["open"]]
    assert len(closed) > 0 and (closed[["mean", "q0.95"]] == 0).all().all()
    assert (closed["actual"] == 0).all()  # the shop sells nothing when it is shut
    board = fc.leaderboard(bt).set_index("model")
    assert board.loc["Empirical(56d, dow)", "mean_mase"] < board.loc["SeasonalNaive", "mean_mase"]


# --------------------------------------------------------------------------------------------
# argument checks: every message names the field, the value and what is allowed
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (lambda: fc.SeasonalNaive(0), "SeasonalNaive.period", "0"),
        (lambda: fc.MovingAverage(2.5), "MovingAverage.window", "2.5"),
        (lambda: fc.Croston(1.5), "Croston.alpha", "1.5"),
        (lambda: fc.SBA(0.0), "SBA.alpha", "0.0"),
        (lambda: fc.EmpiricalQuantile(6), "EmpiricalQuantile.window", "6"),
        (lambda: fc.WeekdayMean(0), "WeekdayMean.weeks", "0"),
        (lambda: fc.GlobalBoostedTrees(max_horizon=8), "GlobalBoostedTrees.max_horizon", "8"),
        (lambda: fc.GlobalBoostedTrees(quantiles=(0.5, 1.0)), "GlobalBoostedTrees.quantiles[1]",
         "1.0"),
        (lambda: fc.GlobalBoostedTrees(learning_rate=0), "GlobalBoostedTrees.learning_rate", "0"),
        (lambda: fc.GlobalBoostedTrees(stride=0), "GlobalBoostedTrees.stride", "0"),
        (lambda: fc.implausible(fc.Naive().fit(weekly_series()).predict(2), weekly_series(), 0.5),
         "multiple", "0.5"),
        (lambda: fc.backtest({"a": weekly_series()}, [fc.Naive()], guard=0.0), "guard", "0.0"),
        (lambda: fc.seasonal_naive_scale(np.ones(20), from_first_sale=1), "from_first_sale", "1"),
        (lambda: fc.select_products(pd.DataFrame(columns=["date", "stock_code", "units"]),
                                    "2011-01-01", first_rank=0), "first_rank", "0"),
        (lambda: fc.EmpiricalQuantile(56, by_weekday=1), "EmpiricalQuantile.by_weekday", "1"),
        (lambda: fc.HoltWinters(trend="mul"), "HoltWinters.trend", "'mul'"),
        (lambda: fc.HoltWinters(seasonal_periods=0), "HoltWinters.seasonal_periods", "0"),
        (lambda: fc.SARIMAXModel((1, 0)), "SARIMAXModel.order", "(1, 0)"),
        (lambda: fc.SARIMAXModel(seasonal_order=(1, 0, 1, -7)), "SARIMAXModel.seasonal_order[3]", "-7"),
        (lambda: fc.CountRegression("gamma"), "CountRegression.family", "'gamma'"),
        (lambda: fc.CountRegression(max_horizon=0), "CountRegression.max_horizon", "0"),
        (lambda: fc.PooledCountRegression(windows=(7, 0)), "CountRegression.windows[1]", "0"),
        (lambda: fc.Ensemble([fc.Naive(), fc.Naive()], weights=[1, -1]), "Ensemble.weights", "[1, -1]"),
        (lambda: fc.Ensemble([fc.Naive()], weights=[0]), "Ensemble.weights", "[0]"),
        (lambda: fc.Naive().fit(weekly_series()).predict(2.5), "horizon", "2.5"),
        (lambda: fc.Naive().fit(weekly_series()).predict(3, (0.5, 0.0)), "quantiles[1]", "0.0"),
        (lambda: fc.make_features(weekly_series(), min_lag=0), "min_lag", "0"),
        (lambda: fc.weekly_origins("2011-12-01", 0), "n_weeks", "0"),
        (lambda: fc.seasonal_naive_scale(np.ones(20), period=0), "period", "0"),
        (lambda: fc.pinball_loss([1.0], [1.0], 1.2), "q", "1.2"),
        (lambda: fc.safety_stock(np.arange(5.0), 0.95, 0.0), "lead_time_days", "0.0"),
        (lambda: fc.safety_stock(np.arange(5.0), 0.95, 1.0, "poisson"), "method", "'poisson'"),
        (lambda: fc.backtest({"a": weekly_series()}, [fc.Naive()], horizon=0), "horizon", "0"),
        (lambda: fc.backtest({"a": weekly_series()}, [fc.Naive()], min_history=1), "min_history", "1"),
        (lambda: fc.rolling_forecasts(pd.DataFrame({"A": weekly_series()}), fc.Naive(),
                                      refit_every=0), "refit_every", "0"),
        (lambda: fc.rolling_forecasts(pd.DataFrame({"A": weekly_series()}), fc.Naive(),
                                      stat="mode"), "stat", "'mode'"),
        (lambda: fc.rolling_forecasts(pd.DataFrame({"A": weekly_series()}), fc.Naive(),
                                      stat=1.0), "stat", "1.0"),
    ],
)
def test_bad_arguments_name_field_value_and_allowed(make, field, value):
    with pytest.raises(ConfigError) as err:
        make()
    assert str(err.value).startswith(f"{field} = {value} is not allowed; allowed: ")


@pytest.fixture(scope="module")
def small_backtest() -> pd.DataFrame:
    d = generate_demand(SyntheticDemandConfig(intermittent_fraction=0.5), "2011-01-03", 200, n_products=3, seed=1)
    series, calendars = fc.series_from_tidy(d)
    models = {"Naive": fc.Naive(), "MovingAverage(28)": fc.MovingAverage(28), "Croston": fc.Croston()}
    return fc.backtest(series, models, horizon=7, origins=fc.weekly_origins("2011-07-18", 2), calendar=calendars)


def test_leaderboard_with_closed_days_only_flatters_the_scores(small_backtest):
    """Every model forecasts 0 on a closed day and is right there: scoring closed days too lowers
    every MAE and MASE and raises every coverage."""
    cols = ["mae", "mean_mase", "coverage_90"]
    open_ = fc.leaderboard(small_backtest).set_index("model")[cols]
    all_days = fc.leaderboard(small_backtest, include_closed=True).set_index("model")[cols].reindex(open_.index)
    assert (all_days["mae"] < open_["mae"]).all() and (all_days["mean_mase"] < open_["mean_mase"]).all()
    assert (all_days["coverage_90"] >= open_["coverage_90"]).all()


def test_leaderboard_point_mean_scores_the_same_models(small_backtest):
    """``point="mean"`` ranks the same models, and the point forecast matters for at least one."""
    med = fc.leaderboard(small_backtest).set_index("model")["mean_mase"]
    mean = fc.leaderboard(small_backtest, point="mean").set_index("model")["mean_mase"].reindex(med.index)
    assert sorted(mean.rank()) == sorted(med.rank()) == [1.0, 2.0, 3.0]
    assert ((mean - med).abs() > 1e-6).any()

def test_leaderboard_checks_its_arguments():
    bt = fc.backtest({"a": weekly_series()}, [fc.Naive()], horizon=7, calendar=saturday_closed())
    with pytest.raises(ConfigError, match=r"^point = 'mode' is not allowed; allowed: 'median' \| 'mean'"):
        fc.leaderboard(bt, point="mode")
    with pytest.raises(ConfigError, match=r"^interval = \(0\.95, 0\.05\) is not allowed"):
        fc.leaderboard(bt, interval=(0.95, 0.05))
    with pytest.raises(ConfigError, match=r"^q = 0 is not allowed"):
        fc.leaderboard(bt, q=0)
    with pytest.raises(ConfigError, match=r"^include_closed = 1 is not allowed"):
        fc.safety_stock_table(bt, include_closed=1)
    # the valid call still works and returns plain columns, nothing stashed in .attrs
    board = fc.leaderboard(bt, interval=[0.05, 0.95])
    assert "coverage_90" in board.columns and board.attrs == {} and bt.attrs == {}


# --------------------------------------------------------------------------------------------
# the phases of the backtest, one by one
# --------------------------------------------------------------------------------------------
def test_backtest_plan_keeps_only_pairs_with_history_and_future():
    s = weekly_series()  # 182 days from 2011-01-03
    short = s.iloc[:45]
    origins = [IDX[20], IDX[28], IDX[38], IDX[100], IDX[-3]]
    jobs = _plan_jobs({"long": s, "short": short}, 7, origins, saturday_closed(), 28)
    # IDX[20]: < 28 days of history for both; IDX[28]: exactly 28 (enough); IDX[38]: "short"
    # has exactly 7 days of future (enough); IDX[100]: "short" has no future; IDX[-3]: "long"
    # has only 3 days of future
    assert list(jobs) == [IDX[28], IDX[38], IDX[100]]
    assert [j.series for j in jobs[IDX[28]]] == ["long", "short"]
    assert [j.series for j in jobs[IDX[38]]] == ["long", "short"]
    assert [j.series for j in jobs[IDX[100]]] == ["long"]
    job = jobs[IDX[100]][0]
    assert len(job.history) == 100 and job.history.index[-1] == IDX[99]
    assert job.history_open.tolist() == saturday_closed().iloc[:100].tolist()
    np.testing.assert_array_equal(job.actual, s.iloc[100:107].to_numpy())
    assert job.open.tolist() == saturday_closed().iloc[100:107].tolist()
    # one shared calendar or one per series; no calendar = every day open
    jobs2 = _plan_jobs({"long": s}, 7, [IDX[100]], None, 28)
    assert jobs2[IDX[100]][0].history_open.all() and jobs2[IDX[100]][0].open.all()
    # default origins: the last 4 weekly ones that leave room for the horizon
    jobs3 = _plan_jobs({"long": s}, 7, None, None, 28)
    assert list(jobs3) == [IDX[-7] - pd.Timedelta(days=7 * k) for k in (3, 2, 1, 0)]


def test_backtest_phases_fit_forecast_rows():
    s = weekly_series()
    cal = saturday_closed()
    jobs = _plan_jobs({"a": s, "b": 2 * s}, 7, [IDX[140]], cal, 28)[IDX[140]]
    models = {"snaive": fc.SeasonalNaive(), "pooled": fc.PooledCountRegression("poisson")}
    pooled = _fit_pooled(models, jobs)
    assert list(pooled) == ["pooled"] and pooled["pooled"][1] >= 0
    assert set(pooled["pooled"][0].members_) == {"a", "b"}
    f, seconds = _forecast_job(jobs[1], "snaive", models["snaive"], pooled, 7, (0.05, 0.5, 0.95))
    np.testing.assert_allclose(f.mean, 2 * s.iloc[140:147].to_numpy())  # seasonal naive is exact
    assert seconds >= 0
    assert models["snaive"].__dict__.keys() == fc.SeasonalNaive().__dict__.keys()  # not fitted
    scale = _job_scale(jobs[1])
    assert scale == fc.seasonal_naive_scale(2 * s.iloc[:140].to_numpy(), 7, cal.iloc[:140].to_numpy(),
                                            from_first_sale=True)
    rows = _job_rows(jobs[1], IDX[140], "snaive", f, scale, seconds, (0.05, 0.5, 0.95))
    assert list(rows.columns) == ["series", "model", "origin", "date", "h", "actual", "open",
                                  "mean", "q0.05", "q0.5", "q0.95", "scale", "fit_time", "note"]
    assert rows["h"].tolist() == list(range(1, 8)) and (rows["date"] == IDX[140:147]).all()
    np.testing.assert_array_equal(rows["actual"], 2 * s.iloc[140:147].to_numpy())
    np.testing.assert_array_equal(rows["open"], cal.iloc[140:147].to_numpy())
    out = _assemble([rows.iloc[3:], rows.iloc[:3]])
    assert out["h"].tolist() == list(range(1, 8)) and out.index.tolist() == list(range(7))


# --------------------------------------------------------------------------------------------
# strong baselines, the global model, plausibility guard, scale and honest comparisons
# --------------------------------------------------------------------------------------------
def test_weekday_mean_known_answer():
    s = weekly_series()
    future = pd.date_range(IDX[-1] + pd.Timedelta(days=1), periods=14)
    f = fc.WeekdayMean(8).fit(s, saturday_closed(IDX.append(future))).predict(14)
    np.testing.assert_allclose(f.mean, WEEKLY[f.index.day_of_week])  # a repeating week: exact
    # a day the calendar does not list counts as open: an open Saturday gets the window's level
    f_open = fc.WeekdayMean(8).fit(s, saturday_closed()).predict(7)
    sat = f_open.index.day_of_week == 5
    assert f_open.mean[sat][0] == pytest.approx(WEEKLY[[0, 1, 2, 3, 4, 6]].mean())
    np.testing.assert_allclose(f.quantile(0.05), f.quantile(0.95))
    # a level that doubles: the mean of the last 2 Mondays, etc.; a gap falls back to the level
    idx = pd.date_range("2011-01-03", periods=28)  # 4 weeks from a Monday
    y = pd.Series(np.r_[np.full(14, 2.0), np.full(14, 6.0)], index=idx)
    y.iloc[27] = np.nan  # the last Sunday is missing
    f2 = fc.WeekdayMean(2).fit(y).predict(7)
    np.testing.assert_allclose(f2.mean[:6], 6.0)
    np.testing.assert_allclose(f2.mean[6], 6.0)  # Sunday: the one observed Sunday, 6
    f3 = fc.WeekdayMean(3).fit(y).predict(7)
    np.testing.assert_allclose(f3.mean[:6], (2 + 6 + 6) / 3)
    np.testing.assert_allclose(f3.mean[6], (2 + 6) / 2)


def test_global_trees_learn_levels_and_a_weekly_profile():
    rng = np.random.default_rng(5)
    idx = pd.date_range("2011-01-03", periods=280)
    shape = np.where(idx.day_of_week == 0, 3.0, 1.0)
    hist = {f"s{i}": pd.Series(rng.poisson(level * shape).astype(float), index=idx)
            for i, level in enumerate((5.0, 20.0, 80.0, 10.0))}
    days = idx.append(pd.date_range(idx[-1] + pd.Timedelta(days=1), periods=7))
    cal = pd.Series(days.day_of_week != 5, index=days)  # Saturdays closed, also ahead
    m = fc.GlobalBoostedTrees(max_iter=60, stride=1).fit_many(hist, cal)
    assert m.n_rows_ > 4 * 200
    f_small, f_large = m.predict_series("s0", 7), m.predict_series("s2", 7)
    mon = f_small.index.day_of_week == 0
    sat = f_small.index.day_of_week == 5
    other = ~mon & ~sat
    for f, level in ((f_small, 5.0), (f_large, 80.0)):
        assert f.mean[other].mean() == pytest.approx(level, rel=0.25)
        assert f.mean[mon][0] / f.mean[other].mean() == pytest.approx(3.0, rel=0.3)
        assert f.mean[sat][0] == 0 and all(f.quantile(q)[sat][0] == 0 for q in f.quantiles)
        q = np.column_stack([f.quantile(x) for x in (0.05, 0.5, 0.9, 0.95)])
        assert np.all(np.diff(q, axis=1) >= 0) and np.all(q >= 0)
        assert np.all(q[other, 0] < f.mean[other]) and np.all(q[other, 3] > f.mean[other])
    # a series that sold nothing for 56 days is forecast 0
    quiet = {"quiet": pd.Series(0.0, index=idx), **hist}
    mq = fc.GlobalBoostedTrees(max_iter=10).fit_many(quiet)
    assert mq.predict_series("quiet", 7).mean.tolist() == [0.0] * 7
    with pytest.raises(KeyError, match="medium"):
        m.predict_series("medium", 7)
    with pytest.raises(KeyError, match="0.7"):
        m.predict_series("s0", 7, (0.5, 0.7))
    with pytest.raises(ConfigError, match="horizon"):
        m.predict_series("s0", 8)
    with pytest.raises(ValueError, match="training rows"):
        fc.GlobalBoostedTrees().fit_many({"short": pd.Series(1.0, index=idx[:30])})


def test_global_trees_features_use_only_the_past():
    from mas_lib.forecast.boosting import FEATURES, _series_table

    rng = np.random.default_rng(0)
    v = rng.poisson(5, 200).astype(float)
    v[::7] = np.nan
    dow = np.arange(220) % 7
    t0 = np.repeat(np.arange(60, 190, 5), 7)
    hs = np.tile(np.arange(1, 8), len(t0) // 7)
    a = _series_table(v, dow, t0, hs)
    for origin in np.unique(t0):
        w = v.copy()
        w[origin:] = 1e4  # spoil the origin and everything after it
        rows = t0 == origin
        b = _series_table(w, dow, t0[rows], hs[rows])
        pd.testing.assert_frame_equal(a[rows].reset_index(drop=True), b.reset_index(drop=True))
    assert list(a.columns) == [*FEATURES, "level"]


class _Exploding(fc.Forecaster):
    """A model whose forecast explodes (like SARIMAX once did)."""

    name = "Exploding"

    def _fit(self):
        pass

    def _point(self, k):
        return np.full(k, 7e9)


def test_implausible_forecasts_fall_back_and_say_so():
    s = weekly_series()
    cal = saturday_closed()
    good = fc.MovingAverage(28).fit(s, cal).predict(7)
    assert fc.implausible(good, s) == ""
    bad = _Exploding().fit(s, cal).predict(7)
    assert "10 x the largest day seen (16)" in fc.implausible(bad, s)
    nan = fc.Forecast(good.index, np.full(7, np.nan), {})
    assert fc.implausible(nan, s) == "non-finite forecast"
    neg = fc.Forecast(good.index, np.full(7, -1.0), {})
    assert fc.implausible(neg, s).startswith("negative forecast")
    g = fc.guarded_forecast(_Exploding(), s, cal, 7)
    np.testing.assert_allclose(g.mean, good.mean)
    assert g.note.startswith("Exploding: forecast 7e+09 units/day > 10 x") and \
        g.note.endswith("fell back to MovingAverage(28)")
    assert fc.guarded_forecast(fc.MovingAverage(28), s, cal, 7).note == ""
    # in a backtest every fit is checked; the leaderboard counts the fallbacks
    origins = fc.weekly_origins(IDX[-1] - pd.Timedelta(days=6), 3)
    models = {"boom": _Exploding(), "ma": fc.MovingAverage(28)}
    bt = fc.backtest({"a": s}, models, 7, origins, cal)
    boom, ma = bt[bt["model"] == "boom"], bt[bt["model"] == "ma"]
    np.testing.assert_allclose(boom["mean"].to_numpy(), ma["mean"].to_numpy())
    assert boom["note"].str.contains("fell back to MovingAverage").all() and (ma["note"] == "").all()
    board = fc.leaderboard(bt).set_index("model")
    assert board.loc["boom", "fallbacks"] == 3 and board.loc["ma", "fallbacks"] == 0
    raw = fc.backtest({"a": s}, models, 7, origins, cal, guard=None)
    assert raw.loc[raw["model"] == "boom", "mean"].max() == pytest.approx(7e9)


def test_mase_scale_starts_at_the_first_sale():
    # ten weeks before the launch, then four weeks of a repeating pattern (last day 10, not 3)
    y = np.r_[np.zeros(70), np.tile([4.0, 0.0, 2.0, 6.0, 1.0, 0.0, 3.0], 4)]
    y[-1] = 10.0
    late = fc.seasonal_naive_scale(y, 7, from_first_sale=True)
    assert late == pytest.approx(7 / 21)  # only the 21 days after the launch's first week
    # counted from day 0, 63 zero differences and the launch week (16) join in: 23 / 91
    assert fc.seasonal_naive_scale(y, 7) == pytest.approx(23 / 91) and 23 / 91 < late
    assert np.isnan(fc.seasonal_naive_scale(np.zeros(20), 7, from_first_sale=True))


def test_select_products_looks_only_before_the_date():
    dates = pd.to_datetime(["2011-01-05", "2011-01-06", "2011-02-01", "2011-01-07"])
    daily = pd.DataFrame({"date": dates, "stock_code": ["A", "B", "C", "B"],
                          "units": [10, 4, 1000, 3]})
    assert fc.select_products(daily, "2011-01-10", 1, 5) == ["A", "B"]  # C sold later
    assert fc.select_products(daily, "2011-01-10", 2, 1) == ["B"]
    assert fc.select_products(daily, "2011-03-01", 1, 1) == ["C"]


def test_gain_interval_and_best_baseline():
    per = pd.DataFrame({"base": [1.0, 2.0, 3.0, 4.0], "model": [0.8, 1.6, 2.4, 3.2],
                        "other": [1.0, 0.5, 4.0, np.nan]})
    g = fc.gain_interval(per, "model", "base", n_boot=200)
    assert g["gain"] == pytest.approx(0.2) and g["low"] == pytest.approx(0.2)
    assert g["high"] == pytest.approx(0.2) and g["n_series"] == 4
    g2 = fc.gain_interval(per, "other", "base", n_boot=500, level=0.8, seed=1)
    assert g2["n_series"] == 3 and g2["gain"] == pytest.approx(1 - 5.5 / 6)
    assert g2["low"] < g2["gain"] < g2["high"]
    with pytest.raises(ConfigError, match="^baseline = 'nope' is not allowed"):
        fc.gain_interval(per, "model", "nope")
    board = pd.DataFrame({"model": ["GlobalTrees", "MovingAverage(28)", "SeasonalNaive"],
                          "mean_mase": [0.5, 0.7, 0.9]})
    assert fc.best_baseline(board) == "MovingAverage(28)"
    with pytest.raises(ConfigError, match="baselines"):
        fc.best_baseline(board, ("Naive",))
    # per_series_mase: its column means are the leaderboard's mean MASE
    s = weekly_series()
    rng = np.random.default_rng(1)
    noisy = (s + rng.poisson(2, len(s)) * (s > 0)).astype(float)
    bt = fc.backtest({"a": noisy, "b": 2 * noisy}, [fc.MovingAverage(28), fc.WeekdayMean(8)],
                     calendar=saturday_closed())
    table = fc.per_series_mase(bt)
    lb = fc.leaderboard(bt).set_index("model")["mean_mase"]
    for m in table.columns:
        assert table[m].mean() == pytest.approx(lb[m])


def test_combine_averages_members_row_by_row(synthetic):
    series, calendars = synthetic
    models = {"ma": fc.MovingAverage(28), "wd": fc.WeekdayMean(8), "trees": small_trees()}
    bt = fc.backtest(series, models, 7, calendar=calendars)
    combo = fc.combine(bt, ["ma", "trees"], "ma+trees")
    ma = bt[bt["model"] == "ma"].reset_index(drop=True)
    tr = bt[bt["model"] == "trees"].reset_index(drop=True)
    for col in ("mean", "q0.05", "q0.5", "q0.95"):
        np.testing.assert_allclose(combo[col], (ma[col] + tr[col]) / 2)
    assert (combo["model"] == "ma+trees").all() and len(combo) == len(ma)
    q = combo[["q0.05", "q0.5", "q0.9", "q0.95"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)
    board = fc.leaderboard(pd.concat([bt, combo], ignore_index=True))
    assert "ma+trees" in set(board["model"])
    with pytest.raises(ConfigError, match=r"^members\[1\] = 'nope' is not allowed"):
        fc.combine(bt, ["ma", "nope"])
    with pytest.raises(ConfigError, match="^members"):
        fc.combine(bt, ["ma"])
    with pytest.raises(ValueError, match="same"):
        fc.combine(bt[~((bt["model"] == "wd") & (bt["h"] == 7))], ["ma", "wd"])


def test_rolling_forecasts_guard_replaces_and_warns():
    frame = pd.DataFrame({"A": weekly_series()})
    with pytest.warns(UserWarning, match=r"implausible forecast\(s\) replaced; first: A 2011-"):
        out = fc.rolling_forecasts(frame, _Exploding(), horizon=3, min_history=28)
    ma = fc.rolling_forecasts(frame, fc.MovingAverage(28), horizon=3, min_history=28)
    np.testing.assert_allclose(out, ma)
    raw = fc.rolling_forecasts(frame, _Exploding(), horizon=3, min_history=28, guard=None)
    assert raw[40:].max() == pytest.approx(7e9)
