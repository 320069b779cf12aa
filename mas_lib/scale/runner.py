"""The sweep runner: a grid of (configuration, seed) jobs, run serially or on a Dask cluster,
returned as one tidy table (beyond the paper: the paper trains and tests one setting at a time).

A *job* is a top-level function called with keyword arguments -- one value per grid parameter,
the constant ``fixed`` arguments and ``seed`` -- that returns a few numbers (a dict or a
``pd.Series``). :func:`run_sweep` runs every combination of the grid values for every seed::

    df = run_sweep(simulate_baseline, {"instance": ["paper"], "policy": ["base-stock"],
                                       "level": [(100, 140), (120, 160)]}, seeds=range(3))

Where it runs (the same rows, the same numbers, whichever way):

* serially in this process (the default, and with ``workers="serial"``);
* on a local Dask cluster started for the sweep with ``workers=k`` (k worker processes with one
  thread each, closed afterwards);
* on an existing Dask cluster: ``scheduler="tcp://host:8786"``, the environment variable
  ``MAS_LIB_DASK_SCHEDULER`` (used when ``workers`` is None), or ``client=`` a
  ``distributed.Client``.

Dask is an optional extra (``pip install -e ".[scale]"``): without it the serial path works and
the others raise an error saying how to install it.

Reproducibility: each job seeds itself from its own seed (it receives ``seed=``; the runner also
seeds Python's ``random`` and numpy's legacy global generator with it just before the call), so
no job depends on which worker ran it or what ran before; rows come back in grid order (the
grid's parameters in the order given, the first varying slowest, seeds innermost). Only the
``seconds`` column (wall-clock time of each job) differs between runs. (A job whose numbers
depend on the machine -- e.g. on how many BLAS threads a matrix product uses; Dask workers use
one -- can differ in the last digits; the ready-made jobs gave identical numbers serially and on
workers in the tests.)

A job that raises does not stop the sweep: its row has ``status="error"``, the error text and the
traceback, its parameters and seed, and NaN results; every other row is kept.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from ..validation import ConfigError, check_whole, not_allowed

__all__ = [
    "SCHEDULER_ENV",
    "INSTALL_HINT",
    "RESERVED_COLUMNS",
    "expand_grid",
    "run_job",
    "run_sweep",
    "local_client",
    "WORKER_MALLOC_ENV",
    "TextProgress",
]

#: environment variable naming an existing Dask scheduler (used when ``workers`` is None)
SCHEDULER_ENV = "MAS_LIB_DASK_SCHEDULER"
#: how to get Dask when it is missing
INSTALL_HINT = 'pip install -e ".[scale]"  (or: pip install "dask[distributed]>=2024.1")'
#: columns the runner writes itself; grid parameters and job results may not use these names
RESERVED_COLUMNS = ("seed", "status", "error", "traceback", "seconds", "ran_on")
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
        return TextProgress()
    if progress is False or progress is None:
        return None
    if callable(progress):
        return progress
    raise not_allowed("progress", progress, "True (a text progress bar), False, or a callable(done, total)")


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


def run_job(fn: Callable, params: Mapping[str, Any], seed: int, fixed: Mapping[str, Any] | None = None) -> dict:
    """Run one job and never raise: seed ``random`` and numpy's global generator with ``seed``,
    call ``fn(**params, **fixed, seed=seed)`` and return ``{"status", "error", "traceback",
    "seconds", "results"}`` (status ``"ok"`` or ``"error"``; seconds of wall-clock time). This is
    what a Dask worker executes for each job. Beyond the paper."""
    t0 = time.perf_counter()
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- jobs that use the legacy global generator reproduce too
    try:
        raw = fn(**params, **(fixed or {}), seed=seed)
        results = _results(raw, list(params) + list(fixed or {}) + list(RESERVED_COLUMNS))
        status, error, tb = "ok", None, None
    except Exception as exc:  # a failed job is reported, never lost
        results, status = {}, "error"
        error = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc()
    return {"status": status, "error": error, "traceback": tb, "seconds": time.perf_counter() - t0,
            "results": results}


# ----------------------------------------------------------------------------- progress
class TextProgress:
    """A one-line text progress bar on stderr (``progress=True``): jobs done, errors, elapsed time.
    Redrawn at most every ``every`` seconds and once at the end. Beyond the paper."""

    def __init__(self, width: int = 30, every: float = 0.5, stream=None):
        self.width, self.every, self.stream = width, every, stream
        self.t0 = self.last = None

    def __call__(self, done: int, total: int, errors: int = 0) -> None:
        now = time.perf_counter()
        if self.t0 is None:
            self.t0, self.last = now, -math.inf
        if done < total and now - self.last < self.every:
            return
        self.last = now
        fill = int(self.width * done / total) if total else self.width
        bar = "#" * fill + "." * (self.width - fill)
        err = f", {errors} failed" if errors else ""
        stream = self.stream or sys.stderr
        stream.write(f"\rsweep [{bar}] {done}/{total} jobs{err}, {now - self.t0:.1f} s")
        if done >= total:
            stream.write("\n")
        stream.flush()


def _notify(progress, done: int, total: int, errors: int) -> None:
    if progress is None:
        return
    if isinstance(progress, TextProgress):
        progress(done, total, errors)
    else:
        progress(done, total)


# ----------------------------------------------------------------------------- backends
def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"running a sweep on Dask needs the optional 'scale' extra: {INSTALL_HINT}") from exc
    return distributed


def _run_serial(fn, jobs, fixed, progress) -> list[dict]:
    out, errors = [], 0
    _notify(progress, 0, len(jobs), 0)
    for params, seed in jobs:
        out.append(run_job(fn, params, seed, fixed))
        errors += out[-1]["status"] != "ok"
        _notify(progress, len(out), len(jobs), errors)
    return out


def _run_on_client(client, fn, jobs, fixed, progress) -> list[dict]:
    distributed = _import_distributed()
    # hash=False: a fresh key per sweep (re-scattering equal data under its hash key while the last
    # sweep's copy is being released makes the new jobs fail with "lost dependencies")
    fixed_arg = client.scatter([fixed], broadcast=True, hash=False)[0] if fixed else None
    futures = [client.submit(run_job, fn, params, seed, fixed_arg, pure=False) for params, seed in jobs]
    where = {f.key: i for i, f in enumerate(futures)}
    out: list[dict | None] = [None] * len(jobs)
    done = errors = 0
    _notify(progress, 0, len(jobs), 0)
    try:
        for fut in distributed.as_completed(futures):
            i = where[fut.key]
            try:
                out[i] = fut.result()
            except Exception as exc:  # the worker itself failed (killed, out of memory, ...)
                tb = fut.traceback()
                out[i] = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                          "traceback": "".join(traceback.format_tb(tb)) if tb is not None else None,
                          "seconds": float("nan"), "results": {}}
            done += 1
            errors += out[i]["status"] != "ok"
            _notify(progress, done, len(jobs), errors)
    finally:
        client.cancel([f for f in futures if not f.done()])
    return out


#: glibc malloc settings for the local workers. Dask's nannies set ``MALLOC_TRIM_THRESHOLD_=65536``
#: to hand freed memory back to the system; setting any such variable also turns off glibc's
#: adaptive mmap threshold, so every numpy array over 128 KiB is mapped and unmapped again and
#: each touch of it is a page fault. Measured on a PPO job: 4.4 million page faults and 15.2 s in a
#: default worker against 27,000 and 5.9 s with these settings (5.9 s in a plain process too).
#: These restore the adaptive behaviour's steady state: arrays up to 32 MiB come from the heap,
#: which is trimmed once 128 MiB at its top are free.
WORKER_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "134217728"}


@contextmanager
def local_client(n_workers: int) -> Iterator:
    """A ``distributed.Client`` on a local cluster of ``n_workers`` worker processes with one
    thread each and :data:`WORKER_MALLOC_ENV` set before they start; closed on exit. What
    :func:`run_sweep` uses for ``workers=k`` (and a benchmark running several sweeps on one cluster).
    Beyond the paper."""
    distributed = _import_distributed()
    import logging

    import dask

    n_workers = check_whole(n_workers, "workers", low=1)
    # A nanny reads these from os.environ before its config (and writes them there), so an earlier
    # cluster in this process would otherwise impose its values: set both, restore on exit.
    saved = {k: os.environ.get(k) for k in WORKER_MALLOC_ENV}
    os.environ.update(WORKER_MALLOC_ENV)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_MALLOC_ENV}), \
                distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
                distributed.Client(cluster) as client:
            yield client
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run_local_cluster(n_workers: int, fn, jobs, fixed, progress) -> list[dict]:
    with local_client(n_workers) as client:
        return _run_on_client(client, fn, jobs, fixed, progress)


def _run_on_scheduler(address: str, fn, jobs, fixed, progress) -> list[dict]:
    distributed = _import_distributed()
    with distributed.Client(address, timeout="30s") as client:
        return _run_on_client(client, fn, jobs, fixed, progress)


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
        progress: ``True`` for a text progress bar on stderr, ``False`` for none, or a callable
            ``progress(done, total)`` called as jobs finish.

    Returns:
        A DataFrame, one row per job in grid order: the grid's parameters, ``seed``, the job's
        results (one column per key, NaN where a job failed or lacked the key), ``status``
        (``"ok"``/``"error"``), ``error`` and ``traceback`` (text; None when ok) and ``seconds``
        (wall-clock seconds of the job); the ``ran_on`` column says where it ran. Identical
        whichever way it runs, except ``seconds``.

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

    env_address = os.environ.get(SCHEDULER_ENV, "").strip()
    if client is not None:
        records, ran_on = _run_on_client(client, fn, jobs, fixed, progress), f"client {getattr(client.scheduler, 'address', client)}"
    elif scheduler is not None:
        records, ran_on = _run_on_scheduler(scheduler, fn, jobs, fixed, progress), f"scheduler {scheduler}"
    elif isinstance(workers, int):
        records, ran_on = _run_local_cluster(workers, fn, jobs, fixed, progress), f"local cluster of {workers}"
    elif workers is None and env_address:
        if "://" not in env_address:
            raise not_allowed(SCHEDULER_ENV, env_address, "a Dask scheduler address such as 'tcp://host:8786'")
        records, ran_on = (_run_on_scheduler(env_address, fn, jobs, fixed, progress),
                           f"scheduler {env_address} (from {SCHEDULER_ENV})")
    else:
        records, ran_on = _run_serial(fn, jobs, fixed, progress), "serial"
    return _table(jobs, records, ran_on)


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
                   ran_on=ran_on)
        rows.append(row)
    columns = list(jobs[0][0]) + ["seed"] + result_cols + ["status", "error", "traceback", "seconds", "ran_on"]
    return pd.DataFrame(rows, columns=columns)
