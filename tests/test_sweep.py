"""The sweep runner: serial and a real two-worker Dask ``LocalCluster`` give
identical tables; a failed job is reported with its parameters and traceback while the others
succeed; the scheduler can come from ``MAS_LIB_DASK_SCHEDULER``; bad input names field and value;
without Dask the serial path works and the distributed ones say how to install the extra."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from mas_lib import forecast as fc
from mas_lib import scale
from mas_lib.validation import ConfigError


@pytest.fixture(autouse=True)
def _no_scheduler_in_env(monkeypatch):
    """A scheduler address left in the caller's environment must not reroute these tests."""
    monkeypatch.delenv(scale.SCHEDULER_ENV, raising=False)


@pytest.fixture(scope="module")
def cluster():
    """One real local Dask cluster for the module: two worker processes, one thread each."""
    distributed = pytest.importorskip("distributed", reason='Dask is the optional "scale" extra')
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as lc, distributed.Client(lc) as client:
        yield lc, client


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Identical tables except the wall-clock seconds."""
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a.drop(columns=["seconds", "ran_on"]), b.drop(columns=["seconds", "ran_on"]),
                                  check_exact=True)


def _toy_series(days: int = 120, seed: int = 3) -> pd.DataFrame:
    """A tidy daily series (date, units, open) with a weekly pattern and Sundays closed."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2011-01-03", periods=days, freq="D")
    is_open = dates.day_of_week != 6
    units = rng.poisson(np.where(dates.day_of_week < 2, 12.0, 5.0)) * is_open
    return pd.DataFrame({"date": dates, "units": units, "open": is_open})


DEMO_GRID = {"x": [0.0, 1.0, 2.5]}
DEMO_FIXED = {"fail_above": 2.0}


# ------------------------------------------------------------------------ serial behaviour
def test_serial_table_rows_columns_and_grid_order():
    df = scale.run_sweep(scale.demo_job, {"x": [1.0, 0.0]}, seeds=[5, 2], progress=False)
    assert list(df.columns) == ["x", "seed", "mean", "std", "status", "error", "traceback", "seconds", "attempts",
                                  "ran_on"]
    assert df[["x", "seed"]].values.tolist() == [[1.0, 5], [1.0, 2], [0.0, 5], [0.0, 2]]
    assert (df["status"] == "ok").all() and df["error"].isna().all() and df["traceback"].isna().all()
    # each job seeds itself: the same (x, seed) gives the same numbers as a direct call
    assert df.loc[1, "mean"] == scale.demo_job(1.0, seed=2)["mean"]
    assert df.loc[0, "mean"] != df.loc[1, "mean"]
    assert (df["seconds"] >= 0).all() and df["ran_on"].iloc[0] == "serial"


def test_expand_grid_order_first_parameter_slowest_seeds_innermost():
    jobs = scale.expand_grid({"a": [1, 2], "b": ["x", "y"]}, seeds=[0, 1])
    assert [(p["a"], p["b"], s) for p, s in jobs] == [
        (a, b, s) for a in (1, 2) for b in ("x", "y") for s in (0, 1)]


def test_failed_job_reports_its_parameters_and_traceback_others_kept():
    df = scale.run_sweep(scale.demo_job, DEMO_GRID, seeds=[0, 1], fixed=DEMO_FIXED, progress=False)
    bad, good = df[df["status"] == "error"], df[df["status"] == "ok"]
    assert bad[["x", "seed"]].values.tolist() == [[2.5, 0], [2.5, 1]]
    assert bad["error"].str.startswith("ValueError: x = 2.5 is above fail_above = 2.0").all()
    assert bad["traceback"].str.contains("Traceback").all() and bad["traceback"].str.contains("demo_job").all()
    assert bad[["mean", "std"]].isna().all().all()
    assert len(good) == 4 and np.isfinite(good[["mean", "std"]].to_numpy()).all()
    assert abs(good.loc[good["x"] == 1.0, "mean"].mean() - 1.0) < 0.2


def returns_an_array(x: float, seed: int) -> dict:
    return {"value": np.arange(3) * x}


def returns_a_series(x: float, seed: int) -> pd.Series:
    return pd.Series({"double": 2 * x, "seed_plus": np.int64(seed + 1), "label": "ok"})


def returns_a_clash(x: float, seed: int) -> dict:
    return {"x": 1.0}


def returns_a_reserved_name(x: float, seed: int) -> dict:
    return {"seconds": 2.0}


def test_results_may_be_a_series_but_must_be_scalars_with_new_names():
    df = scale.run_sweep(returns_a_series, {"x": [1.5]}, seeds=[3], progress=False)
    assert df.loc[0, ["double", "seed_plus", "label"]].tolist() == [3.0, 4, "ok"]
    arr = scale.run_sweep(returns_an_array, {"x": [1.0]}, progress=False)
    assert arr.loc[0, "status"] == "error" and "value" not in arr.columns
    assert "result 'value'" in arr.loc[0, "error"] and "allowed: a number" in arr.loc[0, "error"]
    clash = scale.run_sweep(returns_a_clash, {"x": [1.0]}, progress=False)
    assert clash.loc[0, "status"] == "error" and "key 'x'" in clash.loc[0, "error"]
    reserved = scale.run_sweep(returns_a_reserved_name, {"x": [1.0]}, progress=False)  # the runner's own column
    assert reserved.loc[0, "status"] == "error" and "key 'seconds'" in reserved.loc[0, "error"]
    assert list(reserved.columns).count("seconds") == 1


def test_progress_callback_sees_every_job():
    seen = []
    scale.run_sweep(scale.demo_job, DEMO_GRID, seeds=[0, 1], fixed=DEMO_FIXED,
                    progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_progress_bar_ends_with_the_count_and_the_failures(capsys):
    scale.run_sweep(scale.demo_job, DEMO_GRID, fixed=DEMO_FIXED, progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "3/3" in err and "failed=1" in err and err.endswith("\n")


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs,field,value", [
    ({"grid": {}}, "grid", "{}"),
    ({"grid": {"x": []}}, "grid['x']", "[]"),
    ({"grid": {"x": "abc"}}, "grid['x']", "'abc'"),
    ({"grid": {"seed": [1]}}, "grid key", "'seed'"),
    ({"grid": [("x", [1])]}, "grid", "[('x', [1])]"),
    ({"workers": "many"}, "workers", "'many'"),
    ({"workers": 0}, "workers", "0"),
    ({"workers": True}, "workers", "True"),
    ({"workers": 1.5}, "workers", "1.5"),
    ({"seeds": [0, 1.5]}, "seeds[1]", "1.5"),
    ({"seeds": ["7"]}, "seeds[0]", "'7'"),
    ({"seeds": [-1]}, "seeds[0]", "-1"),
    ({"seeds": [2**32]}, "seeds[0]", str(2**32)),
    ({"seeds": []}, "seeds", "[]"),
    ({"seeds": [3, 3]}, "seeds", "[3, 3]"),
    ({"seeds": "0"}, "seeds", "'0'"),
    ({"fixed": {"x": 1.0}}, "fixed", "['x']"),
    ({"scheduler": "localhost"}, "scheduler", "'localhost'"),
    ({"progress": "yes"}, "progress", "'yes'"),
])
def test_bad_input_names_field_and_value(kwargs, field, value):
    args = {"fn": scale.demo_job, "grid": DEMO_GRID, "progress": False} | kwargs
    with pytest.raises(ConfigError) as err:
        scale.run_sweep(**args)
    assert str(err.value).startswith(f"{field} = {value} is not allowed; allowed: ")


def test_fn_must_be_a_top_level_function():
    import functools

    def local(x, seed):
        return {"y": x}

    for fn in (lambda x, seed: {"y": x}, local):
        with pytest.raises(ConfigError, match=r"^fn = .* is not allowed; allowed: a top-level function"):
            scale.run_sweep(fn, DEMO_GRID, progress=False)
    with pytest.raises(ConfigError, match="fixed="):
        scale.run_sweep(functools.partial(scale.demo_job, fail_above=1.0), DEMO_GRID, progress=False)


def test_one_place_to_run():
    with pytest.raises(ConfigError, match="choose one place to run"):
        scale.run_sweep(scale.demo_job, DEMO_GRID, workers=2, scheduler="tcp://127.0.0.1:1", progress=False)
    with pytest.raises(ConfigError, match="choose one place to run"):
        scale.run_sweep(scale.demo_job, DEMO_GRID, workers="serial", scheduler="tcp://127.0.0.1:1",
                        progress=False)


def test_bad_scheduler_in_the_environment(monkeypatch):
    monkeypatch.setenv(scale.SCHEDULER_ENV, "localhost:8786")
    with pytest.raises(ConfigError, match=r"^MAS_LIB_DASK_SCHEDULER = 'localhost:8786' is not allowed"):
        scale.run_sweep(scale.demo_job, DEMO_GRID, progress=False)
    # workers="serial" ignores the environment
    df = scale.run_sweep(scale.demo_job, DEMO_GRID, workers="serial", progress=False)
    assert df["ran_on"].iloc[0] == "serial"


# ------------------------------------------------------------------------ without Dask
def test_without_dask_serial_works_and_workers_says_how_to_install(monkeypatch):
    for name in ("dask", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # `import distributed` now raises ImportError
    df = scale.run_sweep(scale.demo_job, DEMO_GRID, fixed=DEMO_FIXED, progress=False)
    assert df["status"].tolist() == ["ok", "ok", "error"]
    with pytest.raises(ImportError, match=r'optional .scale. extra: pip install -e "\.\[scale\]"'):
        scale.run_sweep(scale.demo_job, DEMO_GRID, workers=2, progress=False)
    monkeypatch.setenv(scale.SCHEDULER_ENV, "tcp://127.0.0.1:8786")
    with pytest.raises(ImportError, match=r"dask\[distributed\]>=2024.1"):
        scale.run_sweep(scale.demo_job, DEMO_GRID, progress=False)


# ------------------------------------------------------------------------ ready-made jobs
def test_exact_baseline_matches_the_planner():
    from mas_lib.decide import get_instance, planning

    inst = get_instance("paper")
    model = planning.model_for(inst)
    opt = planning.policy_iteration(model)
    pol = planning.SnapToGrid(scale.make_baseline("paper", "base-stock", level=(120, 160)), model)
    want = planning.gap(planning.evaluate_policy(model, pol), opt)
    got = scale.exact_baseline("paper", "base-stock", level=(120, 160))
    assert got["gap_pct"] == pytest.approx(want, rel=1e-12) and got["gap_pct"] > 0
    with pytest.raises(ConfigError, match=r"^policy = 'magic' is not allowed"):
        scale.make_baseline("paper", "magic")


def test_backtest_series_agrees_with_the_forecast_leaderboard():
    s = _toy_series()
    got = scale.backtest_series(s, models=("sba", "seasonal_naive"))
    frame = s.set_index("date")
    bt = fc.backtest({"series": frame["units"].astype(float)},
                     {"sba": fc.SBA(0.1), "seasonal_naive": fc.SeasonalNaive(7)}, horizon=7,
                     calendar=frame["open"])
    board = fc.leaderboard(bt).set_index("model")
    assert got["mase_sba"] == pytest.approx(board.at["sba", "mean_mase"], rel=1e-12)
    assert got["mae_seasonal_naive"] == pytest.approx(board.at["seasonal_naive", "mae"], rel=1e-12)
    with pytest.raises(ConfigError, match=r"^models\[0\] = 'prophet' is not allowed"):
        scale.backtest_series(s, models=("prophet",))


def test_catalogue_on_real_data_matches_one_pooled_backtest(retail_daily):
    keys = scale.catalogue_keys()
    assert len(keys) == 6534 and keys == sorted(keys)
    picks = [keys[0], keys[3000], keys[-1]]
    df = scale.forecast_catalogue(picks, models=("sba", "empirical_56_dow"), progress=False)
    assert df["series"].tolist() == picks and (df["status"] == "ok").all()
    assert df.loc[2, "market"] == "overseas" and df.loc[0, "stock_code"] == keys[0].split("/")[1]
    board = scale.catalogue_leaderboard(df).set_index("model")
    # the same numbers as one backtest over the three series, scored by the forecast leaderboard
    series, calendars = {}, {}
    for k in picks:
        market, code = k.split("/", 1)
        one = retail_daily[(retail_daily["market"] == market) & (retail_daily["stock_code"] == code)]
        one = one.set_index("date").sort_index()
        series[k], calendars[k] = one["units"].astype(float), one["open"]
    bt = fc.backtest(series, {"sba": fc.SBA(0.1), "empirical_56_dow": fc.EmpiricalQuantile(56, by_weekday=True)},
                     horizon=7, calendar=calendars)
    want = fc.leaderboard(bt).set_index("model")
    for m in ("sba", "empirical_56_dow"):
        assert board.at[m, "mean_mase"] == pytest.approx(want.at[m, "mean_mase"], rel=1e-12)
        assert board.at[m, "median_mase"] == pytest.approx(want.at[m, "median_mase"], rel=1e-12)


# ------------------------------------------------------------------------ on a real cluster
SWEEPS = {
    "demo with a failure": (scale.demo_job, DEMO_GRID, [0, 7], DEMO_FIXED),
    "exact baselines": (scale.exact_baseline, {"instance": ["paper"], "policy": ["base-stock"],
                                               "level": [(100, 140), (120, 160), (140, 180)]}, [0], None),
    "simulated baselines": (scale.simulate_baseline, {"instance": ["paper"], "policy": ["base-stock"],
                                                      "level": [(100, 140), (120, 160)]}, [0, 1], {"episodes": 8}),
    "tabular learners": (scale.train_tabular, {"instance": ["paper"], "form": ["central", "independent"]}, [0, 1],
                         {"steps": 60, "batch": 16}),
    "backtests": (scale.backtest_series, {"horizon": [3, 7], "n_origins": [2, 4]}, [0],
                  {"series": _toy_series(), "models": ("sba", "empirical_56_dow", "seasonal_naive")}),
}


@pytest.mark.parametrize("name", list(SWEEPS))
def test_serial_and_two_worker_cluster_give_identical_tables(cluster, name):
    lc, client = cluster
    fn, grid, seeds, fixed = SWEEPS[name]
    serial = scale.run_sweep(fn, grid, seeds, fixed=fixed, progress=False)
    dist = scale.run_sweep(fn, grid, seeds, fixed=fixed, client=client, progress=False)
    assert dist["ran_on"].iloc[0].startswith("client tcp://") and serial["ran_on"].iloc[0] == "serial"
    _same(serial, dist)
    ok = serial[serial["status"] == "ok"]
    assert len(ok) >= len(serial) - 2 and len(ok) > 0
    numeric = ok.drop(columns=[*grid, "seed", "seconds", "ran_on"]).select_dtypes("number")
    assert numeric.shape[1] > 0 and np.isfinite(numeric.to_numpy(dtype=float)).all()


def test_scheduler_from_the_environment_and_by_address(cluster, monkeypatch):
    lc, _ = cluster
    serial = scale.run_sweep(scale.demo_job, DEMO_GRID, seeds=[1, 2], fixed=DEMO_FIXED, progress=False)
    by_address = scale.run_sweep(scale.demo_job, DEMO_GRID, seeds=[1, 2], fixed=DEMO_FIXED,
                                 scheduler=lc.scheduler_address, progress=False)
    monkeypatch.setenv(scale.SCHEDULER_ENV, lc.scheduler_address)
    seen = []
    by_env = scale.run_sweep(scale.demo_job, DEMO_GRID, seeds=[1, 2], fixed=DEMO_FIXED,
                             progress=lambda d, t: seen.append(d))
    assert by_env["ran_on"].iloc[0] == f"scheduler {lc.scheduler_address} (from MAS_LIB_DASK_SCHEDULER)"
    assert by_address["ran_on"].iloc[0] == f"scheduler {lc.scheduler_address}"
    assert seen[-1] == 6
    _same(serial, by_address)
    _same(serial, by_env)
    assert (by_env["status"] == "error").sum() == 2


def test_workers_two_starts_its_own_local_cluster():
    pytest.importorskip("distributed", reason='Dask is the optional "scale" extra')
    serial = scale.run_sweep(scale.demo_job, DEMO_GRID, seeds=[4], fixed=DEMO_FIXED, progress=False)
    local = scale.run_sweep(scale.demo_job, DEMO_GRID, seeds=[4], fixed=DEMO_FIXED, workers=2, progress=False)
    assert local["ran_on"].iloc[0] == "local cluster of 2"
    _same(serial, local)


def test_the_same_sweep_twice_on_one_client(cluster):
    """Regression: the second of two equal sweeps lost its scattered ``fixed`` arguments."""
    _, client = cluster
    grid = {"x": [float(v) for v in range(40)]}
    first = scale.run_sweep(scale.demo_job, grid, fixed={"fail_above": 100.0}, client=client, progress=False)
    second = scale.run_sweep(scale.demo_job, grid, fixed={"fail_above": 100.0}, client=client, progress=False)
    assert (first["status"] == "ok").all() and (second["status"] == "ok").all()
    _same(first, second)


def test_leaderboard_of_an_all_failed_sweep_is_empty_not_an_error():
    failed = pd.DataFrame({"series": ["a/1"], "status": ["error"]})
    board = scale.catalogue_leaderboard(failed)
    assert board.empty and list(board.columns)[:2] == ["model", "mean_mase"]


def test_scale_extra_is_declared_and_make_test_installs_it():
    from pathlib import Path

    from test_packaging import conda_deps, tomllib

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["scale"] == ["dask[distributed]>=2024.1"]
    assert "dask" in conda_deps()
    assert '-e ".[dev,scale]"' in (root / "Makefile").read_text()
    assert scale.INSTALL_HINT.startswith('pip install -e ".[scale]"')


def page_faults_of_a_numpy_job(n: int, seed: int = 0) -> dict:
    """Minor page faults while allocating, touching and freeing ``n`` arrays of 1 MiB."""
    import os
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(n):
        a = np.ones(131_072)  # 1 MiB: over glibc's static 128 KiB mmap threshold
        a += 1.0
        del a
    return {"page_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before,
            "trim": os.environ.get("MALLOC_TRIM_THRESHOLD_", "")}


def test_local_workers_do_not_map_every_array_afresh():
    distributed = pytest.importorskip("distributed", reason='Dask is the optional "scale" extra')
    # Dask's default MALLOC_TRIM_THRESHOLD_ made each such array cost ~256 page faults (51,200 here).
    # A default cluster first: its nanny leaves Dask's value in os.environ, which must not win later.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"):
        pass
    frame = scale.run_sweep(page_faults_of_a_numpy_job, {"n": [200]}, seeds=[0], workers=1, progress=False)
    assert frame.loc[0, "status"] == "ok", frame.loc[0, "error"]
    assert frame.loc[0, "trim"] == scale.WORKER_MALLOC_ENV["MALLOC_TRIM_THRESHOLD_"]
    assert frame.loc[0, "page_faults"] < 5_000
