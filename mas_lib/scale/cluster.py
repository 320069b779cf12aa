"""Dask plumbing for the sweep runner (beyond the paper): importing the optional extra and the
local cluster :func:`local_client` with the scheduler settings the runner relies on. Used by
:mod:`mas_lib.scale.runner` and the deep-RL benchmark.

What Dask itself gives the runner (so the runner has no code for it): a worker that dies is
restarted by its nanny and the job it was running is run again on a live worker, at most
``distributed.scheduler.allowed-failures`` more times (then the job's future fails with
``KilledWorker``); jobs wait in the scheduler, not on a worker (``worker-saturation`` 1.0 here:
each one-thread worker holds only the job it runs, so a worker's death is held against that job
alone); a job that has waited for :data:`NO_WORKERS_SECONDS` on a cluster without workers fails
(``no-workers-timeout``); ``Client.cancel`` drops the jobs not yet finished.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ..validation import check_whole

__all__ = ["INSTALL_HINT", "WORKER_MALLOC_ENV", "NO_WORKERS_SECONDS", "import_distributed", "local_client",
           "lost_worker_types"]

#: how to get Dask when it is missing
INSTALL_HINT = 'pip install -e ".[scale]"  (or: pip install "dask[distributed]>=2024.1")'
#: seconds a job may wait on a local cluster that has no workers before it fails ("killed")
NO_WORKERS_SECONDS = 60.0


def import_distributed():
    """The ``distributed`` package, or an ImportError saying how to install the ``scale`` extra."""
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
    thread each, :data:`WORKER_MALLOC_ENV` set before they start, ``worker-saturation`` 1.0 and a
    ``no-workers-timeout`` of :data:`NO_WORKERS_SECONDS`; closed on exit. What :func:`run_sweep`
    uses for ``workers=k`` (and a benchmark running several sweeps on one cluster). Beyond the paper."""
    distributed = import_distributed()
    import logging

    import dask

    n_workers = check_whole(n_workers, "workers", low=1)
    # A nanny reads these from os.environ before its config (and writes them there), so an earlier
    # cluster in this process would otherwise impose its values: set both, restore on exit.
    saved = {k: os.environ.get(k) for k in WORKER_MALLOC_ENV}
    os.environ.update(WORKER_MALLOC_ENV)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_MALLOC_ENV,
                              "distributed.scheduler.worker-saturation": 1.0,
                              "distributed.scheduler.no-workers-timeout": f"{NO_WORKERS_SECONDS:g}s"}), \
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


def lost_worker_types() -> tuple[type[BaseException], ...]:
    """The exceptions a job's future fails with when Dask gave up on running it: its workers kept
    dying (``KilledWorker``) or the cluster had no workers for too long (``NoWorkerError``,
    ``NoValidWorkerError``)."""
    from distributed.scheduler import KilledWorker, NoValidWorkerError, NoWorkerError

    return (KilledWorker, NoWorkerError, NoValidWorkerError)
