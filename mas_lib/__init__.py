"""mas_lib: a teaching library for a machine-learning multi-agent inventory system.

It walks through Dong et al., "Cross-border E-commerce Inventory Multi-agent System
Construction" (Foshan University): warehouses as agents that share information, forecast
demand and learn replenishment and transfer decisions -- and measures all of it.

Modules: ``config`` (validated settings), ``demand`` (demand processes), ``core`` (vectorised
batch simulation), ``env`` (PettingZoo environment), ``rewards``, ``paper`` (the section 4
scenario and its errata), ``policies``/``agents``, ``planning`` (exact optimum), ``data``,
``forecasting``, ``widgets``, ``plotting``.
"""

from .config import (
    ConfigError,
    EnvConfig,
    InTransit,
    LinkConfig,
    Request,
    RewardConfig,
    WarehouseConfig,
)
from .core import BatchCore, InvalidActionError, StepResult
from .demand import DiscreteIIDDemand, ForecastPlusNoise, PoissonDemand, RecordedDemand
from .env import MultiWarehouseEnv

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
