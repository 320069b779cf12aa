"""mas_lib: a teaching library for a machine-learning multi-agent inventory system.

It walks through Dong et al., "Cross-border E-commerce Inventory Multi-agent System
Construction" (Foshan University): warehouses as agents that share information, forecast
demand and learn replenishment and transfer decisions -- and measures all of it.

Subpackages, each named after what lives in it (layering checked by ``tests/test_layering.py``):

* :mod:`mas_lib.sim` -- configuration, demand processes, the compiled network, the vectorised batch
  core, the batched observation builder, the PettingZoo environment, rewards, and every scenario
  network by name (:mod:`mas_lib.sim.scenarios`);
* :mod:`mas_lib.data` -- the UCI Online Retail loader, cleaning, calendar, daily tables, synthetic data;
* :mod:`mas_lib.forecast` -- forecasting models, metrics, backtests, safety stock;
* :mod:`mas_lib.decide` -- policies, the one rollout loop, instances, tabular RL, exact planning;
* :mod:`mas_lib.scale` -- sweeps of (configuration, seed) jobs, serially or on a Dask cluster, and
  catalogue-wide forecasting (Dask is the optional ``scale`` extra);
* :mod:`mas_lib.teach` -- the paper's scenario, the section 2 problems, widgets, plots.
"""

from .sim.config import (
    ConfigError,
    EnvConfig,
    InTransit,
    LinkConfig,
    Request,
    RewardConfig,
    WarehouseConfig,
)
from .sim.core import BatchCore, InvalidActionError, StepResult
from .sim.demand import DiscreteIIDDemand, ForecastPlusNoise, PoissonDemand, RecordedDemand
from .sim.env import MultiWarehouseEnv

__version__ = "0.1.0"

__all__ = [
    "BatchCore",
    "ConfigError",
    "DiscreteIIDDemand",
    "EnvConfig",
    "ForecastPlusNoise",
    "InTransit",
    "InvalidActionError",
    "LinkConfig",
    "MultiWarehouseEnv",
    "PoissonDemand",
    "RecordedDemand",
    "Request",
    "RewardConfig",
    "StepResult",
    "WarehouseConfig",
]
