"""The simulation: validated configuration, demand processes, the vectorised batch core and the
PettingZoo environment built on it (paper sections 3.2.1 and 4), and every scenario network of
the library by name (:mod:`~mas_lib.sim.scenarios`: ``scenario(name)``, ``SCENARIOS``).

Layering: ``mas_lib.sim`` imports nothing else from ``mas_lib`` except :mod:`mas_lib.validation`;
policies, learners and planners (:mod:`mas_lib.decide`) build on it, never the other way round.
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
from .core import BatchCore, InvalidActionError, StepResult, SystemState
from .demand import (
    DemandProcess,
    DiscreteIIDDemand,
    ForecastPlusNoise,
    PoissonDemand,
    RecordedDemand,
)
from .env import MultiWarehouseEnv
from .rewards import cost_reward, paper_reward, paper_reward_terms
from .scenarios import SCENARIOS, scenario

__all__ = [
    "BatchCore", "ConfigError", "DemandProcess", "DiscreteIIDDemand", "EnvConfig", "ForecastPlusNoise",
    "InTransit", "InvalidActionError", "LinkConfig", "MultiWarehouseEnv", "PoissonDemand", "RecordedDemand",
    "Request", "RewardConfig", "SCENARIOS", "StepResult", "SystemState", "WarehouseConfig", "cost_reward",
    "paper_reward", "paper_reward_terms", "scenario",
]
