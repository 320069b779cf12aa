"""Dask plumbing for the sweep runner (beyond the paper): importing the optional extra, the local
cluster :func:`local_client` (worker malloc settings; a job whose worker dies comes straight back to
the runner) and waiting on finished jobs without hanging on a cluster that lost its workers. Used
by :mod:`mas_lib.scale.runner` and the deep-RL benchmark.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..validation import check_whole

__all__ = ["INSTALL_HINT", "WORKER_MALLOC_ENV", "NO_WORKERS_SECONDS", "import_distributed", "local_client",
           "killed_worker_types", "next_done", "NoWorkers"]

#: how to get Dask when it is missing
INSTALL_HINT = 'pip install -e ".[scale]"  (or: pip install "dask[distributed]>=2024.1")'
#: seconds a Dask cluster may have no workers before the jobs still waiting are reported killed
NO_WORKERS_SECONDS = 60.0


def import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"running a sweep on Dask needs the optional 'scale' extra: {INSTALL_HINT}") from exc
    return distributed


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
    distributed = import_distributed()
    import logging

    import dask

    n_workers = check_whole(n_workers, "workers", low=1)
    # A nanny reads these from os.environ before its config (and writes them there), so an earlier
    # cluster in this process would otherwise impose its values: set both, restore on exit.
    saved = {k: os.environ.get(k) for k in WORKER_MALLOC_ENV}
    os.environ.update(WORKER_MALLOC_ENV)
    try:
        # allowed-failures 0: a job whose worker dies comes back to the runner at once, which runs it
        # again alone (Dask's own retries would run it beside other jobs and might blame them)
        with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_MALLOC_ENV,
                              "distributed.scheduler.allowed-failures": 0}), \
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


def killed_worker_types(distributed) -> tuple[type, ...]:
    from distributed.scheduler import KilledWorker

    return (KilledWorker,)


def next_done(ac, client, waiting_since: list[float]):
    """The next finished future of ``ac`` (None when none is left); polls so that Ctrl-C works
    and gives up once the cluster has had no workers for :data:`NO_WORKERS_SECONDS`."""
    last_check = time.monotonic()
    while not ac.is_empty():
        if ac.has_ready():
            return next(ac)
        time.sleep(0.02)
        now = time.monotonic()
        if now - last_check > 1.0:
            last_check = now
            try:
                workers = len(client.scheduler_info().get("workers", {}))
            except Exception:
                workers = 0
            if workers:
                waiting_since[0] = now
            elif now - waiting_since[0] > NO_WORKERS_SECONDS:
                raise NoWorkers
    return None


class NoWorkers(Exception):
    """The cluster has had no workers for too long."""
