"""Sweeps beyond one machine (beyond the paper): run a grid of (configuration, seed) jobs --
policies, learners, forecasting backtests -- serially, on a local Dask cluster or on an existing
one, with identical results, collected in one tidy table.

One module per idea; every public name is re-exported here (``from mas_lib import scale``)::

    runner     run_sweep, expand_grid, run_job (re-exports local_client)
    isolation  keeping jobs apart: per-job seeding, copied arguments, a child process per job
               when a sweep has a timeout
    cluster    Dask plumbing: local_client, waiting without hanging on a cluster that lost workers
    jobs       ready-made decision jobs: exact_baseline, simulate_baseline, train_tabular, demo_job
    deep_jobs  deep-RL jobs: train_deep (a recipe trained and scored exactly)
    catalogue  catalogue-wide forecasting: backtest_series, forecast_catalogue, catalogue_leaderboard

Dask is optional (``pip install -e ".[scale]"``); the serial runner needs only the core library.

Layering: ``mas_lib.scale`` may import :mod:`mas_lib.validation`, :mod:`mas_lib.sim`,
:mod:`mas_lib.data`, :mod:`mas_lib.forecast` and :mod:`mas_lib.decide`; none of them imports it.
"""

from .catalogue import *  # noqa: F403
from .catalogue import __all__ as _catalogue_all
from .deep_jobs import *  # noqa: F403
from .deep_jobs import __all__ as _deep_all
from .jobs import *  # noqa: F403
from .jobs import __all__ as _jobs_all
from .runner import *  # noqa: F403
from .runner import __all__ as _runner_all

__all__ = [*_runner_all, *_jobs_all, *_deep_all, *_catalogue_all]
