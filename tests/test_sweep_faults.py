"""Faults a careless or hostile job (or user) can cause in the sweep runner, serially and on a real
two-worker Dask cluster: a job that crashes its process, raises KeyboardInterrupt/SystemExit, hangs,
mutates its arguments, draws from Python's ``random`` after a wait, or has an unpicklable grid value;
Ctrl-C in the caller. Each must cost at most its own row, never the others' results."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mas_lib import scale
from mas_lib.validation import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_scheduler_in_env(monkeypatch):
    monkeypatch.delenv(scale.SCHEDULER_ENV, raising=False)


@pytest.fixture(scope="module")
def client():
    """One real local Dask cluster for the module (two worker processes, one thread each); Dask
    gives up on a job after two of its workers died (``allowed-failures`` 1 instead of 3, so the
    test of a job that keeps killing its worker restarts two workers, not four)."""
    pytest.importorskip("distributed", reason='Dask is the optional "scale" extra')
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), scale.local_client(2) as c:
        yield c


def _within(seconds: float, call):
    """``call()``'s value, or a test failure if it has not returned after ``seconds`` (a hung sweep)."""
    box: dict = {}
    worker = threading.Thread(target=lambda: box.setdefault("value", call()), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"the sweep did not return within {seconds} s")
    return box["value"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=["seconds", "ran_on", "traceback"]),
                                  b.drop(columns=["seconds", "ran_on", "traceback"]), check_exact=True)


# ------------------------------------------------------------------------ jobs
def faulty(x: str, seed: int) -> dict:
    """A job that misbehaves as its name says; the innocent ones take a moment, like real work."""
    if x == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if x == "exit":
        os._exit(3)
    if x == "keyboard":
        raise KeyboardInterrupt("raised by the job")
    if x == "sysexit":
        sys.exit(2)
    if x == "hang":
        time.sleep(300)
    time.sleep(0.2)
    return {"y": float(len(x) + seed)}


def crashes_the_first_time(marker: str, seed: int) -> dict:
    """Crashes its process unless ``marker`` exists (it creates it first): a flaky job."""
    path = Path(marker)
    if not path.exists():
        path.write_text("ran")
        os._exit(9)
    return {"y": 1.0}


def _the_worker() -> int:
    """The pid of the Dask worker running this job: the nearest ancestor that is not one of the
    runner's job processes (``mas_lib.scale.isolation.serve`` and its forks)."""
    import psutil

    proc = psutil.Process().parent()
    while "isolation import serve" in " ".join(proc.cmdline()):
        proc = proc.parent()
    return proc.pid


def kills_its_worker(marker: str, seed: int) -> dict:
    """Kills the Dask worker running it (its job process's parent), from outside the job's own
    process as the out-of-memory killer would: every time with ``marker`` "always", else only
    until ``marker`` exists (it creates it first)."""
    path = Path(marker)
    if marker == "always" or not path.exists():
        if marker != "always":
            path.write_text("ran")
        os.kill(_the_worker(), signal.SIGKILL)
        time.sleep(60)
    return {"y": 2.0}


def innocent_or_killer(marker: str, seed: int) -> dict:
    """``kills_its_worker`` for a path or "always"; a short ordinary job (``y`` = its length) else."""
    if marker == "always" or os.sep in marker:
        return kills_its_worker(marker, seed)
    time.sleep(0.2)
    return {"y": float(len(marker))}


def where_it_ran(x: str, seed: int) -> dict:
    """The job's process and its parent; crashes its process for ``x == "exit"``."""
    if x == "exit":
        os._exit(3)
    return {"pid": float(os.getpid()), "ppid": float(os.getppid())}


def draws_after_a_wait(x: int, seed: int) -> dict:
    time.sleep(0.1)
    return {"r": random.random(), "n": float(np.random.random())}  # noqa: NPY002 -- the legacy global, on purpose


def appends(items: list, seed: int, log: list) -> dict:
    items.append(seed)
    log.append(seed)
    return {"n_items": len(items), "n_log": len(log)}


def takes_anything(v, seed: int) -> dict:
    return {"y": 1.0}


def sleeps(x: float, seed: int) -> dict:
    time.sleep(x)
    return {"y": x}


# ------------------------------------------------------------------------ a job that kills its process
CRASH_GRID = {"x": ["a", "segv", "bb", "exit", "ccc"]}


def test_a_job_that_kills_its_worker_is_reported_and_never_hangs_the_sweep(client):
    frame = _within(240, lambda: scale.run_sweep(faulty, CRASH_GRID, seeds=[0, 1], client=client, progress=False))
    by_x = frame.set_index(["x", "seed"])
    for x in ("a", "bb", "ccc"):  # the innocent jobs: ok, once each, never blamed
        for s in (0, 1):
            assert by_x.loc[(x, s), "status"] == "ok" and by_x.loc[(x, s), "y"] == len(x) + s
            assert by_x.loc[(x, s), "attempts"] == 1
    segv, exit_ = frame[frame["x"] == "segv"], frame[frame["x"] == "exit"]
    assert (segv["status"] == "killed").all() and segv["error"].str.contains("SIGSEGV").all()
    assert (exit_["status"] == "killed").all() and exit_["error"].str.contains("exited with code 3").all()
    assert (frame.loc[frame["status"] == "killed", "attempts"] == 2).all()  # the default: one retry
    assert frame.loc[frame["status"] == "killed", "y"].isna().all()
    # the cluster survives: a second sweep on it works
    again = _within(120, lambda: scale.run_sweep(faulty, {"x": ["a"]}, seeds=[0, 1], client=client, progress=False))
    assert (again["status"] == "ok").all()


def test_a_crashing_job_with_a_timeout_serially_kills_only_its_child_process():
    frame = scale.run_sweep(faulty, CRASH_GRID, seeds=[0], timeout=30, retries=2, progress=False)
    assert frame["status"].tolist() == ["ok", "killed", "ok", "killed", "ok"]
    assert frame["attempts"].tolist() == [1, 3, 1, 3, 1]
    assert frame["ran_on"].iloc[0] == "serial"


def test_each_job_runs_in_a_fresh_fork_of_one_job_process_that_outlives_crashes():
    """With a timeout every job gets a process of its own (nothing one job leaves in memory
    reaches the next), forked from one job process that a crashing job does not take down (no new
    interpreter to start); after the sweep none of them is left."""
    psutil = pytest.importorskip("psutil")
    frame = scale.run_sweep(where_it_ran, {"x": ["a", "b", "exit", "c"]}, timeout=30, progress=False)
    assert frame["status"].tolist() == ["ok", "ok", "killed", "ok"]
    ok = frame[frame["status"] == "ok"]
    assert ok["pid"].nunique() == 3 and ok["ppid"].nunique() == 1
    server = int(ok["ppid"].iloc[0])
    assert server != os.getpid() and not psutil.pid_exists(server)
    assert not any(psutil.pid_exists(int(p)) for p in ok["pid"])


def test_retries_rerun_a_job_whose_process_died_and_report_the_attempts(tmp_path, client):
    serial = scale.run_sweep(crashes_the_first_time, {"marker": [str(tmp_path / "serial")]}, timeout=30,
                             progress=False)
    assert serial.loc[0, "status"] == "ok" and serial.loc[0, "attempts"] == 2
    dist = scale.run_sweep(crashes_the_first_time, {"marker": [str(tmp_path / "dask")]}, client=client, progress=False)
    assert dist.loc[0, "status"] == "ok" and dist.loc[0, "attempts"] == 2
    none = scale.run_sweep(crashes_the_first_time, {"marker": [str(tmp_path / "none")]}, timeout=30, retries=0,
                           progress=False)
    assert none.loc[0, "status"] == "killed" and none.loc[0, "attempts"] == 1


def test_a_worker_killed_from_outside_is_handled_by_dask_and_blames_only_its_job(tmp_path, client):
    """Dask re-runs the job of a worker that died on a live worker (its nanny restarts the dead
    one) and, after ``allowed-failures`` more deaths, fails only that job: ``"killed"``."""
    grid = {"marker": ["a", str(tmp_path / "once"), "bb", "always", "ccc"]}

    frame = _within(240, lambda: scale.run_sweep(innocent_or_killer, grid, client=client, progress=False))
    assert frame["status"].tolist() == ["ok", "ok", "ok", "killed", "ok"], frame["error"].tolist()
    assert frame.loc[[0, 2, 4], "y"].tolist() == [1.0, 2.0, 3.0]
    assert frame.loc[[0, 2, 4], "attempts"].tolist() == [1, 1, 1]
    assert frame.loc[1, "y"] == 2.0 and (tmp_path / "once").exists()
    assert frame.loc[3, "error"].startswith("Killed: every worker that ran this job died (2 times")
    assert "KilledWorker" in frame.loc[3, "error"] and frame.loc[3, "attempts"] == 2
    again = _within(120, lambda: scale.run_sweep(faulty, {"x": ["a"]}, seeds=[0, 1], client=client, progress=False))
    assert (again["status"] == "ok").all()


# ------------------------------------------------------------------------ KeyboardInterrupt / SystemExit
EXIT_GRID = {"x": ["a", "keyboard", "bb", "sysexit"]}


def _check_exit_rows(frame: pd.DataFrame) -> None:
    assert frame["status"].tolist() == ["ok", "error", "ok", "error"]
    assert frame.loc[1, "error"] == "KeyboardInterrupt: raised by the job"
    assert frame.loc[3, "error"] == "SystemExit: 2"
    assert frame.loc[[0, 2], "y"].tolist() == [1.0, 2.0]
    assert not frame.attrs["cancelled"]


def test_keyboard_interrupt_or_system_exit_raised_by_a_job_is_that_job_s_error():
    _check_exit_rows(scale.run_sweep(faulty, EXIT_GRID, progress=False))


def test_keyboard_interrupt_or_system_exit_raised_by_a_job_on_dask(client):
    _check_exit_rows(_within(120, lambda: scale.run_sweep(faulty, EXIT_GRID, client=client, progress=False)))


# ------------------------------------------------------------------------ timeouts
def test_a_hanging_job_times_out_serially_and_the_others_are_kept():
    t0 = time.perf_counter()
    frame = scale.run_sweep(faulty, {"x": ["a", "hang", "bb"]}, timeout=2.0, progress=False)
    assert time.perf_counter() - t0 < 60
    assert frame["status"].tolist() == ["ok", "timeout", "ok"]
    assert frame.loc[1, "error"] == "Timeout: the job ran longer than timeout = 2 s and was stopped"
    assert 2.0 <= frame.loc[1, "seconds"] < 10 and frame.loc[1, "attempts"] == 1


def test_a_hanging_job_times_out_on_dask(client):
    frame = _within(120, lambda: scale.run_sweep(faulty, {"x": ["a", "hang", "bb"]}, seeds=[0, 1], timeout=2.0,
                                                 client=client, progress=False))
    assert frame["status"].tolist() == ["ok", "ok", "timeout", "timeout", "ok", "ok"]
    assert frame.loc[2, "error"].startswith("Timeout: the job ran longer than timeout = 2 s")


@pytest.mark.parametrize("kwargs,field,value", [
    ({"timeout": 0}, "timeout", "0"),
    ({"timeout": -1.0}, "timeout", "-1.0"),
    ({"timeout": float("inf")}, "timeout", "inf"),
    ({"timeout": "5"}, "timeout", "'5'"),
    ({"timeout": True}, "timeout", "True"),
    ({"retries": -1}, "retries", "-1"),
    ({"retries": 1.5}, "retries", "1.5"),
    ({"retries": 11}, "retries", "11"),
    ({"fixed": {"lock": threading.Lock()}}, "fixed['lock']", "<unlocked _thread.lock object"),
])
def test_bad_timeout_retries_or_fixed_name_field_and_value(kwargs, field, value):
    with pytest.raises(ConfigError) as err:
        scale.run_sweep(takes_anything, {"v": [1]}, progress=False, **kwargs)
    assert str(err.value).startswith(f"{field} = {value}")
    assert "is not allowed; allowed: " in str(err.value)


# ------------------------------------------------------------------------ Ctrl-C in the caller
SIGINT_SCRIPT = """
import json, sys, time, warnings
sys.path.insert(0, {tests!r})
from mas_lib import scale
from test_sweep_faults import sleeps
frame = scale.run_sweep(sleeps, {{"x": [0.3] * 40}}, seeds=[0], progress=lambda d, t: print("done", d, flush=True))
print(json.dumps({{"status": frame["status"].tolist(), "cancelled": frame.attrs["cancelled"]}}), flush=True)
"""


def test_ctrl_c_in_the_caller_returns_the_finished_rows():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", SIGINT_SCRIPT.format(tests=str(ROOT / "tests"))],
                            stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        if line.strip() == "done 3":
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    result = json.loads(out.strip().splitlines()[-1])
    status = result["status"]
    assert result["cancelled"] and len(status) == 40
    n_ok = status.count("ok")
    assert 3 <= n_ok < 40 and status == ["ok"] * n_ok + ["cancelled"] * (40 - n_ok)


def _stop_after(n: int):
    def progress(done, total):
        if done >= n:
            raise KeyboardInterrupt

    return progress


def test_an_interrupt_from_the_progress_callback_cancels_and_keeps_the_rows():
    with pytest.warns(RuntimeWarning, match=r"sweep cancelled: 2 of 5 jobs finished"):
        frame = scale.run_sweep(sleeps, {"x": [0.01] * 5}, progress=_stop_after(2))
    assert frame["status"].tolist() == ["ok", "ok", "cancelled", "cancelled", "cancelled"]
    assert frame.attrs["cancelled"] and frame.loc[:1, "y"].tolist() == [0.01, 0.01]
    assert frame.loc[2:, "attempts"].tolist() == [0, 0, 0]


def test_an_interrupt_on_dask_cancels_the_rest_and_keeps_the_finished_rows(client):
    with pytest.warns(RuntimeWarning, match="sweep cancelled"):
        frame = _within(120, lambda: scale.run_sweep(sleeps, {"x": [0.5] * 8}, client=client,
                                                     progress=_stop_after(2)))
    assert frame.attrs["cancelled"] and 2 <= (frame["status"] == "ok").sum() < 8
    assert set(frame["status"]) == {"ok", "cancelled"}
    assert frame.loc[frame["status"] == "ok", "y"].eq(0.5).all()


# ------------------------------------------------------------------------ random generators
def test_python_random_is_the_same_on_dask_workers_as_serially(client):
    grid = {"x": [1, 2, 3, 4]}
    serial = scale.run_sweep(draws_after_a_wait, grid, seeds=[0, 1, 2], progress=False)
    dist = _within(120, lambda: scale.run_sweep(draws_after_a_wait, grid, seeds=[0, 1, 2], client=client,
                                                progress=False))
    _same(serial, dist)
    assert serial["r"].tolist() == [random.Random(s).random() for _ in range(4) for s in (0, 1, 2)]


# ------------------------------------------------------------------------ arguments
def test_a_job_that_mutates_its_arguments_sees_fresh_copies_everywhere(client):
    grid = {"items": [[10, 20]]}
    fixed = {"log": []}
    serial = scale.run_sweep(appends, grid, seeds=[0, 1, 2], fixed=fixed, progress=False)
    dist = _within(120, lambda: scale.run_sweep(appends, grid, seeds=[0, 1, 2], fixed=fixed, client=client,
                                                progress=False))
    assert serial["n_items"].tolist() == [3, 3, 3] and serial["n_log"].tolist() == [1, 1, 1]
    _same(serial, dist)
    assert grid == {"items": [[10, 20]]} and fixed == {"log": []}


def test_an_unpicklable_grid_value_fails_its_row_and_the_rest_run(client):
    gen = (i for i in range(3))
    lock = threading.Lock()
    grid = {"v": [1, gen, lock, "ok"]}
    serial = scale.run_sweep(takes_anything, grid, progress=False)
    dist = _within(120, lambda: scale.run_sweep(takes_anything, grid, client=client, progress=False))
    timed = scale.run_sweep(takes_anything, grid, timeout=30, progress=False)
    for frame in (serial, dist, timed):
        assert frame["status"].tolist() == ["ok", "error", "error", "ok"]
        assert frame.loc[1, "error"].startswith("ConfigError: grid['v'] = <generator object")
        assert "cannot pickle 'generator' object" in frame.loc[1, "error"]
        assert "cannot pickle '_thread.lock' object" in frame.loc[2, "error"]
    _same(serial.drop(columns="attempts"), dist.drop(columns="attempts"))
    _same(serial.drop(columns="attempts"), timed.drop(columns="attempts"))
