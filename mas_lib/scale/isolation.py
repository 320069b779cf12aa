"""Keeping the jobs of a sweep apart (beyond the paper; used by :mod:`mas_lib.scale.runner`).

* :func:`seeded` -- while a job runs, Python's ``random`` functions called from the job's thread
  draw from the job's own ``random.Random(seed)`` (other threads, e.g. a Dask worker's event loop,
  keep the process's global generator, so they cannot shift the job's draws), and numpy's legacy
  global generator is seeded with ``seed`` and restored afterwards. The caller's global generators
  end as they started.
* :func:`copied` -- each job gets a deep copy of its arguments, so a job that changes them changes
  neither the caller's grid nor a later job's arguments; a value that cannot be copied (a
  generator, a lock) is reported by name.
* :class:`JobProcess` -- a child Python process that runs jobs one at a time, so a job can be
  stopped after ``timeout`` seconds (the child is killed) and a job that crashes its process
  (a segfault, ``os._exit``, the out-of-memory killer) kills only the child. Used for every job
  on Dask (a crashing job must not kill the worker: Dask's nannies stop restarting workers after
  a few deaths, and the jobs queued on a dead worker die with it) and for a serial sweep with a
  ``timeout``.
"""

from __future__ import annotations

import copy
import os
import pickle
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from ..validation import not_allowed

__all__ = ["seeded", "copied", "dumps", "JobProcess", "run_isolated", "close_job_processes", "record"]

#: seconds a fresh child process may take to start (import numpy, pandas, mas_lib) and to load a
#: job's function and arguments; not part of the job's ``timeout``
START_SECONDS = 120.0

try:  # cloudpickle (a Dask dependency) also sends functions defined in a notebook or a script
    import cloudpickle as _pickler
except ImportError:  # pragma: no cover - without Dask the standard pickle is enough for top-level functions
    _pickler = pickle


def dumps(value: Any) -> bytes:
    """Pickle ``value`` as a worker process receives it (cloudpickle when installed)."""
    return _pickler.dumps(value)


def record(status: str, error: str | None = None, tb: str | None = None, seconds: float = float("nan"),
           results: Mapping[str, Any] | None = None, attempts: int = 1) -> dict:
    """One job's outcome as the runner stores it (``status`` ok / error / timeout / killed / cancelled)."""
    return {"status": status, "error": error, "traceback": tb, "seconds": seconds, "attempts": attempts,
            "results": dict(results or {})}


# ----------------------------------------------------------------------------- random generators
_RANDOM_NAMES = tuple(sorted(n for n in dir(random) if not n.startswith("_")
                             and getattr(getattr(random, n), "__self__", None) is random._inst))
_local = threading.local()
_lock = threading.Lock()
_active = 0
_originals: dict[str, Callable] = {}


def _dispatcher(name: str, original: Callable) -> Callable:
    def call(*args, **kwargs):
        own = getattr(_local, "random", None)
        return getattr(own, name)(*args, **kwargs) if own is not None else original(*args, **kwargs)

    call.__name__, call.__doc__, call.__wrapped__ = name, original.__doc__, original
    return call


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the body as a job seeded with ``seed``: ``random.<function>`` called from this thread
    uses a private ``random.Random(seed)`` (the module's functions dispatch by thread while any
    job runs); numpy's legacy global generator is seeded with ``seed`` and its state restored
    afterwards. Draws through ``from random import random`` bound before the job, or from threads
    the job starts, use the global generator. A worker running several jobs at once in threads
    shares numpy's legacy generator between them (jobs should use ``np.random.default_rng(seed)``)."""
    global _active
    with _lock:
        if _active == 0:
            for name in _RANDOM_NAMES:
                _originals[name] = getattr(random, name)
                setattr(random, name, _dispatcher(name, _originals[name]))
        _active += 1
    before = getattr(_local, "random", None)
    _local.random = random.Random(seed)
    np_state = np.random.get_state()  # noqa: NPY002 -- the legacy global generator is what we protect
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        _local.random = before
        with _lock:
            _active -= 1
            if _active == 0:
                for name, original in _originals.items():
                    setattr(random, name, original)
                _originals.clear()


# ----------------------------------------------------------------------------- arguments
def copied(params: Mapping[str, Any], fixed: Mapping[str, Any] | None, *, sendable: bool = False) -> tuple[dict, dict]:
    """Deep copies of a job's grid values and fixed arguments (with ``sendable``, also check that
    each pickles as a worker process receives it). Raises :class:`ConfigError` naming the first
    value that cannot be copied or sent, e.g. ``grid['g'] = <generator ...> is not allowed``."""
    out: list[dict] = []
    for label, args in (("grid", params), ("fixed", fixed or {})):
        done = {}
        for name, value in args.items():
            try:
                done[name] = copy.deepcopy(value)
                if sendable:
                    dumps(value)
            except Exception as exc:
                raise not_allowed(f"{label}[{name!r}]", value,
                                  "a value that can be copied and pickled (each job gets its own copy; "
                                  f"a worker process receives it pickled); here: {type(exc).__name__}: {exc}") from exc
        out.append(done)
    return out[0], out[1]


# ----------------------------------------------------------------------------- a child process
def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the job's process stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (the out-of-memory killer sends SIGKILL)" if -code == signal.SIGKILL else ""
        return f"the job's process was killed by {name}{hint}"
    return f"the job's process exited with code {code} (os._exit or a crash)"


def _watch_parent(parent: int) -> None:
    """In the child: exit as soon as the process that started it is gone (no orphaned hung job)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def serve(read_fd: int, write_fd: int) -> None:
    """The child's loop: receive ``(fn, params, seed, fixed)``, answer ``"started"`` once loaded,
    then the job's record (from :func:`mas_lib.scale.runner.run_job`). Ctrl-C is the parent's
    business (it stops the child), so the child ignores SIGINT."""
    from .runner import run_job

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    rx, tx = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    tx.send_bytes(pickle.dumps("ready"))
    while True:
        try:
            message = rx.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            fn, params, seed, fixed = pickle.loads(message)
            if isinstance(fn, bytes):  # sent pickled through a Dask worker, which need not import it
                fn = pickle.loads(fn)
        except BaseException as exc:
            tx.send_bytes(pickle.dumps(record("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())))
            continue
        tx.send_bytes(pickle.dumps("started"))
        tx.send_bytes(pickle.dumps(run_job(fn, params, seed, fixed)))


_DIED = "the job's process died"


class JobProcess:
    """A child Python process running jobs one at a time; :meth:`run` gives a job at most
    ``timeout`` seconds (then the child is killed and the next job gets a fresh one). POSIX only
    (the jobs travel over inherited pipes). Beyond the paper."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._rx: Connection | None = None
        self._tx: Connection | None = None

    def _start(self) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        code = f"from mas_lib.scale.isolation import serve; serve({to_child}, {from_child})"
        try:
            self._proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(to_child, from_child),
                                          stdin=subprocess.DEVNULL, env=env, close_fds=True)
        finally:
            os.close(to_child)
            os.close(from_child)
        self._tx, self._rx = Connection(from_parent, readable=False), Connection(to_parent, writable=False)
        if self._receive(START_SECONDS) != "ready":
            code = self._proc.poll()
            self.close()
            raise RuntimeError(f"a job process did not start ({_describe_exit(code)})")

    def _receive(self, seconds: float | None):
        """The child's next message; None if it sent none within ``seconds``, :data:`_DIED` if it died."""
        try:
            if not self._rx.poll(seconds):
                return None
            return pickle.loads(self._rx.recv_bytes())
        except (EOFError, OSError):
            return _DIED

    def close(self) -> None:
        """Stop the child (kill it if it is busy) and free the pipes."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
        for conn in (self._rx, self._tx):
            if conn is not None:
                conn.close()
        self._proc = self._rx = self._tx = None

    def run(self, fn: Callable | bytes, params: Mapping[str, Any], seed: int, fixed: Mapping[str, Any] | None,
            timeout: float | None) -> dict:
        """Run one job in the child and return its record; status ``"timeout"`` after ``timeout``
        seconds of the job's own run (starting the child and loading the job do not count),
        ``"killed"`` when the child died. An interrupt (Ctrl-C) in the caller kills the child."""
        t0 = time.perf_counter()
        try:
            message = dumps((fn, dict(params), seed, dict(fixed or {})))
        except Exception as exc:
            problem: Exception = exc
            try:  # name the argument that cannot be sent
                copied(params, fixed, sendable=True)
            except Exception as named:
                problem = named
            return record("error", f"{type(problem).__name__}: {problem}", traceback.format_exc(), 0.0)
        try:
            if self._proc is None or self._proc.poll() is not None:
                self.close()
                self._start()
        except Exception as exc:  # e.g. mas_lib cannot be imported from the child's path
            return record("error", f"{type(exc).__name__}: {exc}", traceback.format_exc(), time.perf_counter() - t0)
        child, started = self._proc, False
        try:
            self._tx.send_bytes(message)
            answer = self._receive(START_SECONDS)
            if answer == "started":
                t0, started = time.perf_counter(), True
                answer = self._receive(timeout)
        except BaseException:
            self.close()
            raise
        if isinstance(answer, dict):
            return answer
        code = None
        if answer is _DIED:
            try:
                code = child.wait(timeout=30)
            except subprocess.TimeoutExpired:  # closed its pipe but lives on: stopped below
                pass
        self.close()
        seconds = time.perf_counter() - t0
        if answer is _DIED:
            return record("killed", f"Killed: {_describe_exit(code)}", None, seconds)
        if not started:
            return record("error", f"Timeout: the job's process did not load the job within {START_SECONDS:g} s",
                          None, seconds)
        return record("timeout", f"Timeout: the job ran longer than timeout = {timeout:g} s and was stopped",
                      None, seconds)


_PROCESSES: dict[int, JobProcess] = {}


def run_isolated(fn: Callable | bytes, params: Mapping[str, Any], seed: int, fixed: Mapping[str, Any] | None,
                 timeout: float | None, retries: int, proc: JobProcess | None = None) -> dict:
    """Run a job in this thread's :class:`JobProcess`; a job whose process died is run again in a
    fresh one, at most ``retries`` more times. The record's ``attempts`` counts the runs. ``fn``
    may be the function pickled by :func:`dumps`. What a Dask worker executes for each job (one
    process per worker thread, kept for later jobs and sweeps -- it starts in a few seconds -- and
    ended with the worker or by :func:`close_job_processes`), and the serial runner for a
    sweep with a ``timeout`` (it passes its own ``proc``)."""
    if proc is None:
        proc = _PROCESSES.setdefault(threading.get_ident(), JobProcess())
    for attempt in range(1, retries + 2):
        rec = proc.run(fn, params, seed, fixed, timeout)
        rec["attempts"] = attempt
        if rec["status"] != "killed":
            break
    return rec


def close_job_processes() -> int:
    """Stop every job process this process started (after a sweep); returns how many."""
    n = 0
    while _PROCESSES:
        _, proc = _PROCESSES.popitem()
        proc.close()
        n += 1
    return n
