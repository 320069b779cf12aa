"""The sweep runner: a grid of (configuration, seed) jobs, run serially or on a Dask cluster,
returned as one tidy table (beyond the paper: the paper trains and tests one setting at a time).

A *job* is a top-level function called with keyword arguments -- one value per grid parameter,
the constant ``fixed`` arguments and ``seed`` -- that returns a few numbers (a dict or a
``pd.Series``). :func:`run_sweep` runs every combination of the grid values for every seed::

    df = run_sweep(simulate_baseline, {"instance": ["paper"], "policy": ["base-stock"],
                                       "level": [(100, 140), (120, 160)]}, seeds=range(3))

Where it runs (the same rows, the same numbers, whichever way):

* serially in this process (the default, and with ``workers="serial"``); with ``timeout=`` each
  job runs, one at a time, in a child process (:class:`mas_lib.scale.isolation.JobProcess`);
* on a local Dask cluster started for the sweep with ``workers=k`` (k worker processes with one
  thread each, closed afterwards);
* on an existing Dask cluster: ``scheduler="tcp://host:8786"``, the environment variable
  ``MAS_LIB_DASK_SCHEDULER`` (used when ``workers`` is None), or ``client=`` a
  ``distributed.Client``.

On Dask every job runs in a child process of its worker (one per worker thread, started on the
first job -- a few seconds -- and reused by later jobs and sweeps until the worker ends), so a job
that crashes takes down neither its worker nor the jobs queued there.

Dask is an optional extra (``pip install -e ".[scale]"``): without it the serial path works and
the others raise an error saying how to install it.

Reproducibility: each job seeds itself from its own seed (it receives ``seed=``); while it runs,
Python's ``random`` functions called from the job's thread draw from a ``random.Random(seed)`` of
its own and numpy's legacy global generator is seeded with it (:func:`mas_lib.scale.isolation.seeded`),
so no job depends on which worker ran it, what ran before, or what a Dask worker's own threads
draw. Each job gets a deep copy of its arguments, so a job that changes them changes neither the
caller's grid nor another job. The caller's global ``random`` and ``np.random`` states are the
same after a serial sweep as before it. Rows come back in grid order (the grid's parameters in the
order given, the first varying slowest, seeds innermost). Only the ``seconds`` column (wall-clock
time of each job) differs between runs. (A job whose numbers depend on the machine -- e.g. on how
many BLAS threads a matrix product uses; Dask workers use one -- can differ in the last digits;
the ready-made jobs gave identical numbers serially and on workers in the tests.)

What a failing job does to the sweep -- never more than its own row, whose ``status`` says why
(the others are kept; ``error`` and ``traceback`` give the details, results are NaN):

* ``"error"``: the job raised -- any exception, also ``KeyboardInterrupt`` or ``SystemExit``
  raised by the job itself -- or an argument cannot be copied or sent to a worker (a generator,
  a lock: the message names the grid parameter). Not retried (the same seed fails the same way).
* ``"timeout"``: with ``timeout=t`` a job still running after ``t`` seconds is stopped (its
  child process is killed; the next job gets a fresh one). Not retried.
* ``"killed"``: the job's process died (a segfault, ``os._exit``, the out-of-memory killer). In a
  child process that is the job's own doing: it is run again in a fresh child at most ``retries``
  times. Should a Dask worker itself die (killed from outside), each job that was on it is run
  again *alone* on the cluster, so only a job whose worker dies while it runs alone is blamed (after
  ``retries`` more runs alone). Serially without a timeout the job runs in this process, so a job
  that crashes its process crashes the caller: give such jobs a ``timeout``.
* ``"cancelled"``: Ctrl-C (SIGINT, or a ``KeyboardInterrupt`` from the progress callback) in the
  caller stops the sweep: it returns the finished rows, the unfinished ones ``"cancelled"``, with
  ``frame.attrs["cancelled"] = True`` and a warning (instead of losing everything).

The ``attempts`` column counts how often each job was started. The sweep itself never waits on a
dead cluster forever: a cluster left without workers for :data:`NO_WORKERS_SECONDS` fails the
jobs still waiting.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from ..progress import ProgressBar
from ..validation import ConfigError, check_number, check_whole, not_allowed
from .cluster import (
    INSTALL_HINT,
    NO_WORKERS_SECONDS,
    WORKER_MALLOC_ENV,
    NoWorkers,
    import_distributed,
    killed_worker_types,
    local_client,
    next_done,
)
from .isolation import JobProcess, close_job_processes, copied, dumps, record, run_isolated, seeded

__all__ = [
    "SCHEDULER_ENV",
    "INSTALL_HINT",
    "RESERVED_COLUMNS",
    "expand_grid",
    "run_job",
    "run_sweep",
    "local_client",
    "WORKER_MALLOC_ENV",
    "STATUSES",
    "NO_WORKERS_SECONDS",
]

#: environment variable naming an existing Dask scheduler (used when ``workers`` is None)
SCHEDULER_ENV = "MAS_LIB_DASK_SCHEDULER"
#: columns the runner writes itself; grid parameters and job results may not use these names
RESERVED_COLUMNS = ("seed", "status", "error", "traceback", "seconds", "attempts", "ran_on")
#: the values of the ``status`` column
STATUSES = ("ok", "error", "timeout", "killed", "cancelled")
#: at most this many ``retries`` of a job whose process died
MAX_RETRIES = 10
_MAX_SEED = 2**32 - 1


# ----------------------------------------------------------------------------- checking input
def _check_fn(fn) -> Callable:
    qualname = getattr(fn, "__qualname__", None)
    module = getattr(fn, "__module__", None)
    if not callable(fn) or qualname is None or module is None or "<" in qualname or "." in qualname:
        raise not_allowed(
            "fn", fn,
            "a top-level function (def at module level, importable by name so worker processes can load it; "
            "pass constant arguments with fixed=, not with lambda or functools.partial)",
        )
    return fn


def _check_grid(grid) -> dict[str, list]:
    if not isinstance(grid, Mapping) or not grid:
        raise not_allowed("grid", grid, "a non-empty dict {parameter name: list of values}")
    out = {}
    for name, values in grid.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise not_allowed("grid key", name, "a parameter name (a Python identifier)")
        if name in RESERVED_COLUMNS:
            raise not_allowed("grid key", name, f"any name but {', '.join(RESERVED_COLUMNS)} (the runner's columns)")
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise not_allowed(f"grid[{name!r}]", values, "a list of values")
        values = list(values)
        if not values:
            raise not_allowed(f"grid[{name!r}]", values, "a list of at least one value")
        out[name] = values
    return out


def _check_seeds(seeds) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = [seeds]
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise not_allowed("seeds", seeds, f"a whole number or a list of whole numbers in [0, {_MAX_SEED}]")
    seeds = list(seeds)
    if not seeds:
        raise not_allowed("seeds", seeds, "at least one seed")
    out = [check_whole(s, f"seeds[{i}]", low=0, high=_MAX_SEED) for i, s in enumerate(seeds)]
    dupes = sorted(s for s, n in Counter(out).items() if n > 1)
    if dupes:
        raise not_allowed("seeds", seeds, f"distinct seeds (repeated: {dupes})")
    return out


def _check_fixed(fixed, grid: Mapping[str, list]) -> dict[str, Any]:
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise not_allowed("fixed", fixed, "None or a dict {argument name: value} passed to every job")
    clash = [k for k in fixed if k in grid or k in RESERVED_COLUMNS]
    bad = [k for k in fixed if not isinstance(k, str) or not k.isidentifier()]
    if clash or bad:
        raise not_allowed("fixed", list(fixed), "argument names that are identifiers and not in the grid or "
                          f"{', '.join(RESERVED_COLUMNS)}" + (f" (clash: {clash})" if clash else ""))
    return dict(fixed)


def _check_workers(workers) -> int | str | None:
    if workers is None or (isinstance(workers, str) and workers == "serial"):
        return workers
    if isinstance(workers, (int, np.integer)) and not isinstance(workers, (bool, np.bool_)) and workers >= 1:
        return int(workers)
    raise not_allowed("workers", workers, "None (serial, or MAS_LIB_DASK_SCHEDULER if set), 'serial', or a whole "
                      "number >= 1 of local worker processes")


def _check_progress(progress) -> Callable[[int, int], None] | None:
    if progress is True:
        return ProgressBar("sweep", unit="job")
    if progress is False or progress is None:
        return None
    if callable(progress):
        return progress
    raise not_allowed("progress", progress, "True (a progress bar: mas_lib.progress.ProgressBar), False, or a callable(done, total)")


def _check_timeout(timeout) -> float | None:
    if timeout is None:
        return None
    try:
        return check_number(timeout, "timeout", low=0, low_inclusive=False, unit="seconds")
    except ConfigError:
        raise not_allowed("timeout", timeout, "None (no limit) or a finite number of seconds > 0") from None


def expand_grid(grid: Mapping[str, Iterable], seeds: int | Iterable[int] = (0,)) -> list[tuple[dict, int]]:
    """The jobs of a sweep as ``(parameters, seed)`` pairs in grid order: every combination of the
    grid values (the first parameter varying slowest), each with every seed (seeds innermost).
    Checks the grid and the seeds as :func:`run_sweep` does. Beyond the paper."""
    grid, seeds = _check_grid(grid), _check_seeds(seeds)
    names = list(grid)
    return [(dict(zip(names, combo, strict=True)), s) for combo in itertools.product(*grid.values()) for s in seeds]


# ----------------------------------------------------------------------------- one job
def _scalar(key: str, value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str) or value is None:
        return value
    raise TypeError(f"the job's result {key!r} = {value!r} is not allowed; allowed: a number, a string or None")


def _results(value, protected: Iterable[str]) -> dict[str, Any]:
    if isinstance(value, pd.Series):
        value = value.to_dict()
    if not isinstance(value, Mapping):
        raise TypeError(f"the job returned {type(value).__name__}; allowed: a dict or pd.Series of numbers")
    protected = set(protected)
    out = {}
    for key, v in value.items():
        if not isinstance(key, str):
            raise TypeError(f"the job's result key {key!r} is not allowed; allowed: a string")
        if key in protected:
            raise TypeError(f"the job's result key {key!r} is not allowed; allowed: any name but the grid's "
                            f"parameters and {', '.join(RESERVED_COLUMNS)}")
        out[key] = _scalar(key, v)
    return out


class _Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) in the caller during a sweep -- unlike a ``KeyboardInterrupt`` a job raises."""


def run_job(fn: Callable, params: Mapping[str, Any], seed: int, fixed: Mapping[str, Any] | None = None) -> dict:
    """Run one job in this process and never raise: call ``fn(**params, **fixed, seed=seed)`` on
    deep copies of the arguments, seeded by :func:`mas_lib.scale.isolation.seeded` (the caller's
    global generators are left as they were), and return ``{"status", "error", "traceback",
    "seconds", "attempts", "results"}`` (status ``"ok"`` or ``"error"``; seconds of wall-clock
    time). Any exception the job raises -- ``KeyboardInterrupt`` and ``SystemExit`` too -- is
    its ``"error"``; only a real Ctrl-C during a sweep goes through. This is what the serial
    runner and a job's child process (on a Dask worker, or with ``timeout``) execute for each
    job. Beyond the paper."""
    t0 = time.perf_counter()
    try:
        params, fixed = copied(params, fixed)
        with seeded(seed):
            raw = fn(**params, **fixed, seed=seed)
        results = _results(raw, list(params) + list(fixed) + list(RESERVED_COLUMNS))
        status, error, tb = "ok", None, None
    except _Interrupted:
        raise
    except BaseException as exc:  # a failed job is reported, never lost
        results, status = {}, "error"
        error = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc()
    return record(status, error, tb, time.perf_counter() - t0, results)


# ----------------------------------------------------------------------------- progress
def _notify(progress, done: int, total: int, errors: int) -> None:
    if progress is None:
        return
    if isinstance(progress, ProgressBar):
        progress(done, total, errors)
    else:
        progress(done, total)


# ----------------------------------------------------------------------------- backends
@contextmanager
def _sigint_marks_the_caller() -> Iterator[None]:
    """While a sweep runs in the main thread, Ctrl-C raises :class:`_Interrupted`, which
    :func:`run_job` lets through (a job's own ``KeyboardInterrupt`` stays that job's error)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Interrupted

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _cancelled(out: list[dict | None]) -> list[dict]:
    return [rec if rec is not None else record("cancelled", "Cancelled: the sweep was interrupted (Ctrl-C) "
                                               "before this job finished", attempts=0) for rec in out]


def _run_serial(fn, jobs, fixed, progress, timeout, retries) -> tuple[list[dict], bool]:
    out: list[dict | None] = [None] * len(jobs)
    errors, cancelled = 0, False
    proc = JobProcess() if timeout is not None else None
    try:
        _notify(progress, 0, len(jobs), 0)
        for i, (params, seed) in enumerate(jobs):
            if proc is None:
                out[i] = run_job(fn, params, seed, fixed)
            else:
                out[i] = run_isolated(fn, params, seed, fixed, timeout, retries, proc)
            errors += out[i]["status"] != "ok"
            _notify(progress, i + 1, len(jobs), errors)
    except KeyboardInterrupt:  # Ctrl-C, or the progress callback stopping the sweep
        cancelled = True
    finally:
        if proc is not None:
            proc.close()
    return _cancelled(out), cancelled


def _run_on_client(client, fn, jobs, fixed, progress, timeout=None, retries=1) -> tuple[list[dict], bool]:
    distributed = import_distributed()
    killed_types = killed_worker_types(distributed)
    n = len(jobs)
    out: list[dict | None] = [None] * n
    for i, (params, _) in enumerate(jobs):  # an unpicklable grid value fails its row, not the sweep
        try:
            copied(params, None, sendable=True)
        except ConfigError as exc:
            out[i] = record("error", f"ConfigError: {exc}", None, 0.0, attempts=0)
    # hash=False: a fresh key per sweep (re-scattering equal data under its hash key while the last
    # sweep's copy is being released makes the new jobs fail with "lost dependencies")
    fixed_arg = client.scatter([fixed], broadcast=True, hash=False)[0] if fixed else None
    deaths = [0] * n  # runs of each job that ended with its worker dead
    solo_deaths = [0] * n  # ... of those, runs while it was the only job on the cluster
    running: dict[str, tuple[int, bool, Any]] = {}
    ac = distributed.as_completed()

    fn_bytes = dumps(fn)  # the worker hands it on to its job process without importing it

    def submit(i: int, alone: bool) -> None:
        params, seed = jobs[i]
        fut = client.submit(run_isolated, fn_bytes, params, seed, fixed_arg, timeout, retries, pure=False)
        running[fut.key] = (i, alone, fut)
        ac.add(fut)

    for i in range(n):
        if out[i] is None:
            submit(i, False)
    suspects: list[int] = []
    done = sum(rec is not None for rec in out)
    errors, cancelled, waiting_since = done, False, [time.monotonic()]
    try:
        _notify(progress, done, n, errors)
        while True:
            try:
                fut = next_done(ac, client, waiting_since)
            except NoWorkers:
                for i in [i for i, _, _ in running.values()] + suspects:
                    out[i] = record("killed", f"Killed: the cluster had no workers for {NO_WORKERS_SECONDS:g} s",
                                    attempts=deaths[i] + (i not in suspects))
                break
            if fut is None:
                if not suspects:
                    break
                submit(suspects.pop(0), True)  # a job whose worker died runs again, alone on the cluster
                continue
            i, alone, _ = running.pop(fut.key)
            if fut.status == "finished":
                rec = fut.result()
                rec["attempts"] += deaths[i]
            else:
                try:
                    exc = fut.exception()
                except BaseException as lost:  # cancelled on the cluster by someone else
                    exc = lost
                if isinstance(exc, killed_types):
                    deaths[i] += 1
                    solo_deaths[i] += alone
                    if not alone or solo_deaths[i] <= retries:
                        suspects.insert(0, i) if alone else suspects.append(i)
                        continue
                    rec = record("killed", f"Killed: the worker process died each time this job ran alone on the "
                                 f"cluster ({solo_deaths[i]} times; a crash, os._exit or the out-of-memory killer): "
                                 f"{type(exc).__name__}: {exc}", None, attempts=deaths[i])
                else:  # e.g. the job's arguments could not be unpickled on the worker
                    tb = fut.traceback() if fut.status == "error" else None
                    rec = record("error", f"{type(exc).__name__}: {exc}",
                                 "".join(traceback.format_tb(tb)) if tb is not None else None,
                                 attempts=deaths[i] + 1)
            out[i] = rec
            done += 1
            errors += rec["status"] != "ok"
            _notify(progress, done, n, errors)
    except KeyboardInterrupt:  # Ctrl-C, or the progress callback stopping the sweep
        cancelled = True
    finally:
        client.cancel([fut for _, _, fut in running.values()])
        if cancelled:  # stop the jobs still running in the workers' job processes
            try:
                client.run(close_job_processes)
            except Exception:
                pass
    return _cancelled(out), cancelled


def _run_local_cluster(n_workers: int, *args) -> tuple[list[dict], bool]:
    with local_client(n_workers) as client:
        return _run_on_client(client, *args)


def _run_on_scheduler(address: str, *args) -> tuple[list[dict], bool]:
    distributed = import_distributed()
    with distributed.Client(address, timeout="30s") as client:
        return _run_on_client(client, *args)


# ----------------------------------------------------------------------------- the runner
def run_sweep(
    fn: Callable[..., Mapping[str, Any] | pd.Series],
    grid: Mapping[str, Iterable],
    seeds: int | Iterable[int] = (0,),
    *,
    fixed: Mapping[str, Any] | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
    client=None,
    progress: bool | Callable[[int, int], None] = True,
    timeout: float | None = None,
    retries: int = 1,
) -> pd.DataFrame:
    """Run ``fn`` on every (grid point, seed) and return one tidy row per job (beyond the paper).

    Args:
        fn: a top-level job function, called as ``fn(**point, **fixed, seed=seed)``; returns a
            dict or ``pd.Series`` of numbers (or strings) -- the job's results.
        grid: ``{parameter: list of values}``; every combination is a job (values may be any
            picklable object, e.g. frozen config dataclasses; keep them small).
        seeds: one whole number or a list of distinct whole numbers in [0, 2**32 - 1].
        fixed: arguments passed unchanged to every job (not columns of the result); on Dask they
            are sent to every worker once.
        workers: ``None`` -- serial, or the cluster at ``$MAS_LIB_DASK_SCHEDULER`` when set;
            ``"serial"`` -- always in this process; ``k`` -- a local Dask cluster of k worker
            processes (one thread each) started for this sweep and closed after it.
        scheduler: address of an existing Dask scheduler (``"tcp://host:8786"``).
        client: an existing ``distributed.Client`` (not closed afterwards).
        progress: ``True`` for a progress bar (:class:`mas_lib.progress.ProgressBar`: a widget in Jupyter, text in a terminal), ``False`` for none, or a callable
            ``progress(done, total)`` called as jobs finish (a ``KeyboardInterrupt`` it raises
            cancels the sweep, like Ctrl-C).
        timeout: ``None`` (no limit) or seconds a job may run (serially every job then runs in
            a child process); a job still running at the limit is stopped and its row says
            ``status="timeout"``. Starting the child and loading the job do not count.
        retries: how many more times (0 to 10) a job is run after its process died (see
            ``"killed"`` in the module's description); exceptions and timeouts are not retried.

    Returns:
        A DataFrame, one row per job in grid order: the grid's parameters, ``seed``, the job's
        results (one column per key, NaN where a job failed or lacked the key), ``status``
        (one of :data:`STATUSES`), ``error`` and ``traceback`` (text; None when ok), ``seconds``
        (wall-clock seconds of the job) and ``attempts`` (how often it was started); the
        ``ran_on`` column says where it ran. Identical whichever way it runs, except ``seconds``.
        After Ctrl-C: the finished rows, the others ``"cancelled"``, ``attrs["cancelled"]`` True.

    Raises:
        ConfigError: bad input, naming the field, the value and what is allowed.
        ImportError: Dask was asked for but is not installed (the message says how to install it).
    """
    fn = _check_fn(fn)
    grid = _check_grid(grid)
    jobs = expand_grid(grid, seeds)
    fixed = _check_fixed(fixed, grid)
    workers = _check_workers(workers)
    progress = _check_progress(progress)
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise not_allowed("scheduler", scheduler, "None or a Dask scheduler address such as 'tcp://host:8786'")
    chosen = [name for name, v in (("workers", isinstance(workers, int)), ("scheduler", scheduler is not None),
                                   ("client", client is not None)) if v]
    if len(chosen) > 1 or (workers == "serial" and (scheduler is not None or client is not None)):
        raise ConfigError(f"choose one place to run: got {' and '.join(chosen or ['workers'])} "
                          f"(workers={workers!r}, scheduler={scheduler!r}, client={client!r})")

    timeout = _check_timeout(timeout)
    retries = check_whole(retries, "retries", low=0, high=MAX_RETRIES)
    env_address = os.environ.get(SCHEDULER_ENV, "").strip()
    if workers is None and env_address and "://" not in env_address:
        raise not_allowed(SCHEDULER_ENV, env_address, "a Dask scheduler address such as 'tcp://host:8786'")
    distributed = client is not None or scheduler is not None or isinstance(workers, int) or \
        (workers is None and bool(env_address))
    copied({}, fixed, sendable=distributed or timeout is not None)  # fixed goes to every job: check it now
    args = (fn, jobs, fixed, progress, timeout, retries)
    with _sigint_marks_the_caller():
        if client is not None:
            (records, cancelled), ran_on = _run_on_client(client, *args), \
                f"client {getattr(client.scheduler, 'address', client)}"
        elif scheduler is not None:
            (records, cancelled), ran_on = _run_on_scheduler(scheduler, *args), f"scheduler {scheduler}"
        elif isinstance(workers, int):
            (records, cancelled), ran_on = _run_local_cluster(workers, *args), f"local cluster of {workers}"
        elif distributed:
            (records, cancelled), ran_on = (_run_on_scheduler(env_address, *args),
                                            f"scheduler {env_address} (from {SCHEDULER_ENV})")
        else:
            (records, cancelled), ran_on = _run_serial(*args), "serial"
    frame = _table(jobs, records, ran_on)
    frame.attrs["cancelled"] = cancelled
    if cancelled:
        left = int((frame["status"] == "cancelled").sum())
        warnings.warn(f"sweep cancelled: {len(frame) - left} of {len(frame)} jobs finished; the other {left} rows "
                      "have status 'cancelled'", RuntimeWarning, stacklevel=2)
    return frame


def _table(jobs: list[tuple[dict, int]], records: list[dict], ran_on: str) -> pd.DataFrame:
    result_cols: list[str] = []
    seen: set[str] = set()
    for rec in records:
        for k in rec["results"]:
            if k not in seen:
                seen.add(k)
                result_cols.append(k)
    rows = []
    for (params, seed), rec in zip(jobs, records, strict=True):
        row = {**params, "seed": seed}
        row.update({k: rec["results"].get(k, np.nan) for k in result_cols})
        row.update(status=rec["status"], error=rec["error"], traceback=rec["traceback"], seconds=rec["seconds"],
                   attempts=rec["attempts"], ran_on=ran_on)
        rows.append(row)
    columns = list(jobs[0][0]) + ["seed"] + result_cols + ["status", "error", "traceback", "seconds", "attempts",
                                                           "ran_on"]
    return pd.DataFrame(rows, columns=columns)
