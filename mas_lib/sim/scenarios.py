"""Every scenario network of the library in one place: named builders and a registry.

The library runs a handful of fixed networks -- the paper's section 4 worked example, the two
warehouses of the section 2 experiments, the benchmark instances ``paper``, ``cross_border`` and
``long_lead``, the five-warehouse region and the hub of the messaging layer, the retailer's network
of the digital twin. Their warehouses, links, costs and demand are written down here and nowhere
else; :data:`SCENARIOS` lists the names with one line each and :func:`scenario` builds one by name::

    >>> from mas_lib.sim.scenarios import SCENARIOS, scenario
    >>> scenario("regional", lead_time=2).names
    ['W1', 'W2', 'W3', 'W4', 'W5']

**Why the bottom layer, and why only the data.** Three of these networks are wrapped in types of
higher layers: the benchmark instances are :class:`mas_lib.decide.instances.Instance` (a config plus
the planner's discount factor and grids), the twin's network is
:class:`mas_lib.ops.network.TwinNetwork` (its nodes exist only once the products are known). Those
layers *use* the networks themselves -- the planner and the sweeps look up instances, the twin's
loader takes the default network -- so a registry in the top layer (``teach``, the only one that
sees every type) would be out of their reach, and a second copy would stay in each. Instead the
numbers live here, in :mod:`mas_lib.sim`, which every layer may import, as plain
:class:`~mas_lib.sim.config.EnvConfig` builders (and, for the twin, a read-only table of plain
values); ``decide`` and ``ops`` only wrap them (:func:`mas_lib.decide.instances.paper_instance`,
:func:`mas_lib.ops.network.default_network`) and the old entry points re-export the builders. So
:func:`scenario` returns an ``EnvConfig`` for every name except ``"twin"``, which gives the data
:func:`mas_lib.ops.network.default_network` turns into a ``TwinNetwork``.

Units throughout: stock [units], demand [units/day], lead times [days], costs [money per unit,
unit-day, order or shipment].
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..validation import check_number, check_whole
from .config import EnvConfig, LinkConfig, Request, RewardConfig, WarehouseConfig
from .demand import DiscreteIIDDemand, ForecastPlusNoise, PoissonDemand

__all__ = [
    "SCENARIOS", "scenario",
    "PAPER_C", "PAPER_FORECAST", "paper_config",
    "two_warehouses", "flexibility_config", "information_config", "single_vs_joint_config", "risk_tradeoff_config",
    "BENCHMARK_COSTS", "BENCHMARK_UNIT", "ORDER_GRID", "TRANSFER_GRID", "DEMAND_MEAN",
    "benchmark_config", "paper_benchmark_config", "cross_border_config", "long_lead_config",
    "REGIONAL_MEANS", "regional_network", "hub_network",
    "EUROPE", "TWIN_NETWORK", "twin_network_data",
]


# ----------------------------------------------------------------------------- paper, section 4
#: reward weights (c1, c2, c3) of section 4.5
PAPER_C = (1.0, 0.5, 0.2)
#: forecast [units/day] for day 1 and day 2, columns A, B (section 4.1); read-only
PAPER_FORECAST = np.array([[80.0, 120.0], [90.0, 100.0]])
PAPER_FORECAST.flags.writeable = False


def paper_config(
    episode_length: int = 2,
    noise_sd: float = 0.0,
    reward: str = "paper",
    capacity: int = 500,
    holding_cost: float = 1.0,
    shortage_cost: float = 5.0,
    transfer_cost: float = 0.5,
    lead_time: int = 0,
    c: tuple[float, float, float] = PAPER_C,
) -> EnvConfig:
    """The section 4 scenario as an :class:`EnvConfig`: A starts with 100 units, B with 150, one
    link A <-> B, and the open request of 50 units A has made of B.

    Demand is the paper's two-day forecast repeated (A: 80, 90, ...; B: 120, 100, ...) plus
    Gaussian noise of ``noise_sd`` units (0 = demand equals the forecast, as the paper's
    satisfaction terms assume). Costs are in money, stock in units, lead times in days; what we
    had to choose where the paper is silent is listed in :mod:`mas_lib.teach.paper`. Notebooks
    00 and 02; paper sections 4.1 and 4.3.
    """
    c1, c2, c3 = c
    wh = [
        WarehouseConfig(name, capacity=capacity, initial_inventory=init, holding_cost=holding_cost,
                        shortage_cost=shortage_cost, lead_time=lead_time)
        for name, init in (("A", 100), ("B", 150))
    ]
    return EnvConfig(
        warehouses=tuple(wh),
        links=(LinkConfig("A", "B", unit_cost=transfer_cost, lead_time=0),),
        demand=ForecastPlusNoise(PAPER_FORECAST, noise_sd=noise_sd),
        episode_length=episode_length,
        forecast_horizon=2,
        reward=RewardConfig(kind=reward, c1=c1, c2=c2, c3=c3),
        requests=(Request(requester="A", supplier="B", units=50),),
    )


# ----------------------------------------------------------------------------- paper, section 2
def two_warehouses(
    mean: np.ndarray | list,
    lead_time: int = 1,
    transfer_cost: float = 0.5,
    episode_length: int = 60,
    holding_cost: float = 1.0,
    shortage_cost: float = 10.0,
    capacity: int = 600,
    initial: tuple[int, int] = (100, 150),
) -> EnvConfig:
    """Warehouses A and B with Poisson demand of rate ``mean`` (a vector, or a (days, 2) table
    that repeats) [units/day], a transfer link (lead time 0), lead time [days], capacity and
    initial stock [units] and the given costs [money per unit or unit-day]. The instance of every
    section-2 experiment (:mod:`mas_lib.teach.problems`; paper section 2)."""
    ws = tuple(
        WarehouseConfig(n, capacity=capacity, initial_inventory=i, lead_time=lead_time, holding_cost=holding_cost,
                        shortage_cost=shortage_cost, order_unit_cost=0.0)
        for n, i in zip(("A", "B"), initial, strict=True)
    )
    return EnvConfig(warehouses=ws, links=(LinkConfig("A", "B", unit_cost=transfer_cost),),
                     demand=PoissonDemand(mean), episode_length=episode_length)


def flexibility_config(shift_day: int = 30, before: float = 80.0, after: float = 120.0) -> EnvConfig:
    """Section 2, problem (1): demand at A and B is ``before`` units/day until ``shift_day`` [day]
    and ``after`` from then on, for ``2 * shift_day`` days; lead time 1 day."""
    mean = np.array([[before, before]] * shift_day + [[after, after]] * shift_day)
    return two_warehouses(mean, lead_time=1, episode_length=2 * shift_day)


def information_config(amplitude: float = 0.5) -> EnvConfig:
    """Section 2, problem (2): a weekly pattern, mean 100 units/day +/- ``amplitude`` (a fraction),
    70 days, lead time 1 day."""
    week = 100.0 * (1 + amplitude * np.sin(2 * np.pi * np.arange(7) / 7))
    return two_warehouses(np.stack([week, week], axis=1), lead_time=1, episode_length=70)


def single_vs_joint_config(lead_time: int = 5) -> EnvConfig:
    """Section 2, problem (3): a misallocated shipment left A with 50 units and B with 1,000
    (capacity 1,200 each), Poisson demand of 100 units/day at both, replenishment lead time
    ``lead_time`` [days], transfers the same day at 0.5 money/unit, 40 days."""
    return two_warehouses([100.0, 100.0], lead_time=lead_time, transfer_cost=0.5, episode_length=40,
                          initial=(50, 1000), capacity=1200)


def risk_tradeoff_config() -> EnvConfig:
    """Section 2, problem (4): Poisson demand of 80 and 120 units/day, lead time 2 days, 60 days."""
    return two_warehouses([80.0, 120.0], lead_time=2, episode_length=60)


# ----------------------------------------------------------------------------- benchmark instances
#: The cost parameters of the benchmark instances ``paper``, ``cross_border`` and ``long_lead``
#: (money: per unit-day held, per lost unit, per order and per unit ordered, per unit and per
#: shipment moved A <-> B). Read-only; :mod:`mas_lib.decide.instances` documents them.
BENCHMARK_COSTS: Mapping[str, float] = MappingProxyType({
    "holding_cost": 1.0,
    "shortage_cost": 20.0,
    "order_fixed_cost": 200.0,
    "order_unit_cost": 1.0,
    "transport_unit_cost": 1.0,
    "transport_fixed_cost": 10.0,
})
#: stock and demand of the benchmark instances are multiples of this many units
BENCHMARK_UNIT = 10
#: order quantities [units] a tabular learner may choose
ORDER_GRID = tuple(range(0, 201, 20))
#: transfer quantities [units] a tabular learner may choose
TRANSFER_GRID = (0, 20, 40, 60)
#: Poisson means of A and B [units/day] (the paper's forecasts 80-90 and 100-120)
DEMAND_MEAN = (85.0, 110.0)


def benchmark_config(replenish_lead: int = 0, transfer_lead: int = 0, transfers: bool = True,
                     episode_length: int = 100) -> EnvConfig:
    """The paper's two warehouses as a discretised benchmark: A (capacity 200, starts with 100),
    B (capacity 250, starts with 150), Poisson demand :data:`DEMAND_MEAN` in steps of
    :data:`BENCHMARK_UNIT`, the costs :data:`BENCHMARK_COSTS`, action grids :data:`ORDER_GRID` x
    :data:`TRANSFER_GRID`; replenishment takes ``replenish_lead`` and a transfer ``transfer_lead``
    [days]; ``transfers=False`` drops the link A <-> B. Paper section 4.1."""
    c = BENCHMARK_COSTS
    common = dict(
        holding_cost=c["holding_cost"], shortage_cost=c["shortage_cost"],
        order_fixed_cost=c["order_fixed_cost"], order_unit_cost=c["order_unit_cost"],
        lead_time=replenish_lead, max_order=max(ORDER_GRID),
    )
    warehouses = (
        WarehouseConfig("A", capacity=200, initial_inventory=100, **common),
        WarehouseConfig("B", capacity=250, initial_inventory=150, **common),
    )
    links = (
        (LinkConfig("A", "B", unit_cost=c["transport_unit_cost"], fixed_cost=c["transport_fixed_cost"],
                    lead_time=transfer_lead),)
        if transfers else ()
    )
    return EnvConfig(
        warehouses=warehouses,
        demand=DiscreteIIDDemand.poisson(DEMAND_MEAN, unit=BENCHMARK_UNIT),
        links=links,
        episode_length=episode_length,
        order_grid=ORDER_GRID,
        transfer_grid=TRANSFER_GRID,
    )


def paper_benchmark_config(transfers: bool = True, episode_length: int = 100) -> EnvConfig:
    """``paper``: replenishment and transfers both arrive the same day (lead times 0)."""
    return benchmark_config(0, 0, transfers, episode_length)


def cross_border_config(transfers: bool = True, episode_length: int = 100) -> EnvConfig:
    """``cross_border``: overseas replenishment arrives the next morning (1 day), a transfer the
    same day (0)."""
    return benchmark_config(1, 0, transfers, episode_length)


def long_lead_config(replenish_lead: int = 2, transfer_lead: int = 1, episode_length: int = 100) -> EnvConfig:
    """``long_lead``: replenishment takes ``replenish_lead`` days (default 2) and a transfer
    ``transfer_lead`` days (default 1); 66,066 states with the defaults (paper 3.1.2(4))."""
    replenish_lead = check_whole(replenish_lead, "long_lead_config.replenish_lead", unit="days", error=ValueError)
    transfer_lead = check_whole(transfer_lead, "long_lead_config.transfer_lead", unit="days", error=ValueError)
    return benchmark_config(replenish_lead, transfer_lead, True, episode_length)


# ----------------------------------------------------------------------------- the messaging layer
#: mean daily demand of the five warehouses of :func:`regional_network` [units/day]
REGIONAL_MEANS = (20.0, 35.0, 50.0, 60.0, 30.0)


def regional_network(lead_time: int = 4, episode_length: int = 120, transfer_lead: int = 0) -> EnvConfig:
    """The five-warehouse region: W1-W5 on a ring with two cross links (two or three neighbours
    each, transport 0.5-2 money/unit + 5 per shipment, transfers take ``transfer_lead`` days),
    Poisson demand :data:`REGIONAL_MEANS`, holding 1 money/unit-day, lost sales 15 money/unit,
    ordering 100 money/order + 1 money/unit, replenishment lead time ``lead_time`` [days] (default
    4, cross-border sea or air freight). Notebook 07; paper 3.2.1."""
    lead_time = check_whole(lead_time, "regional_network.lead_time", unit="days", error=ValueError)
    transfer_lead = check_whole(transfer_lead, "regional_network.transfer_lead", unit="days", error=ValueError)
    names = ("W1", "W2", "W3", "W4", "W5")
    ws = tuple(
        WarehouseConfig(n, capacity=int(12 * m) + 100, initial_inventory=int(m * (lead_time + 2)), holding_cost=1.0,
                        shortage_cost=15.0, order_fixed_cost=100.0, order_unit_cost=1.0, lead_time=lead_time,
                        max_order=int(12 * m) + 100)
        for n, m in zip(names, REGIONAL_MEANS, strict=True)
    )
    pairs = [("W1", "W2", 0.5), ("W2", "W3", 1.0), ("W3", "W4", 0.5), ("W4", "W5", 1.0), ("W5", "W1", 1.5),
             ("W1", "W3", 2.0), ("W2", "W4", 2.0)]
    links = tuple(LinkConfig(a, b, unit_cost=c, fixed_cost=5.0, lead_time=transfer_lead) for a, b, c in pairs)
    return EnvConfig(warehouses=ws, links=links, demand=PoissonDemand(list(REGIONAL_MEANS)),
                     episode_length=episode_length)


def hub_network(supply: int = 300, lead_time: int = 2, episode_length: int = 120,
                means=(40.0, 60.0, 80.0, 50.0), penalties=(10.0, 20.0, 40.0, 15.0)) -> EnvConfig:
    """The cross-border allocation case: a UK hub (no local demand in this model) receives at most
    ``supply`` units a day from its supplier (``max_order``) and feeds ``len(means)`` overseas
    warehouses by transfers that take ``lead_time`` days. Overseas warehouses cannot order (their
    ``max_order`` is 0); their mean demand ``means`` [units/day] and lost-sale penalties
    ``penalties`` [money/unit] differ. Holding 1 per unit-day overseas (0.5 at the hub), transport
    1 per unit. Notebook 07, ``bench_coordination.py``; paper 3.1.1(2)."""
    supply = check_whole(supply, "hub_network.supply", low=1, unit="units/day", error=ValueError)
    lead_time = check_whole(lead_time, "hub_network.lead_time", unit="days", error=ValueError)
    means = [check_number(m, "hub_network.means", low=0, error=ValueError) for m in means]
    names = [f"W{k + 1}" for k in range(len(means))]
    hub = WarehouseConfig("UK", capacity=20 * supply, initial_inventory=2 * supply, holding_cost=0.5,
                          shortage_cost=0.0, max_order=supply)
    overseas = tuple(WarehouseConfig(n, capacity=int(20 * m) + 100, initial_inventory=int(3 * m), holding_cost=1.0,
                                     shortage_cost=float(p), max_order=0)
                     for n, m, p in zip(names, means, penalties, strict=True))
    links = tuple(LinkConfig("UK", n, unit_cost=1.0, lead_time=lead_time, bidirectional=False) for n in names)
    return EnvConfig(warehouses=(hub, *overseas), demand=PoissonDemand([0.0, *means]), links=links,
                     episode_length=episode_length)


# ----------------------------------------------------------------------------- the digital twin
#: European countries of the UCI data set served by the twin's continental warehouse ``EU`` (EIRE
#: and the Channel Islands have their own; the United Kingdom is the hub).
EUROPE: tuple[str, ...] = (
    "Austria", "Belgium", "Cyprus", "Czech Republic", "Denmark", "European Community", "Finland",
    "France", "Germany", "Greece", "Iceland", "Italy", "Lithuania", "Malta", "Netherlands", "Norway",
    "Poland", "Portugal", "Spain", "Sweden", "Switzerland",
)  # fmt: skip


def _frozen(**values: Any) -> Mapping[str, Any]:
    return MappingProxyType(values)


#: The twin's default network as plain, read-only data (:func:`mas_lib.ops.network.default_network`
#: wraps it; the reasons for each number are in :mod:`mas_lib.ops.network`): ``warehouses`` with
#: the countries they serve (``None`` = every other country), supplier lead time [days], cost per
#: order [money] and freight per unit [money]; transfer ``links`` with lead time [days] and
#: freight per unit and cost per shipment [money]; holding [money/unit-day] and lost-sale [money/unit] costs.
TWIN_NETWORK: Mapping[str, Any] = _frozen(
    warehouses=(
        _frozen(name="UK", countries=("United Kingdom",), lead_time=2, order_fixed_cost=15.0, order_unit_cost=0.02),
        _frozen(name="EIRE", countries=("EIRE", "Channel Islands"), lead_time=4, order_fixed_cost=30.0,
                order_unit_cost=0.05),
        _frozen(name="EU", countries=EUROPE, lead_time=5, order_fixed_cost=30.0, order_unit_cost=0.06),
        _frozen(name="ROW", countries=None, lead_time=10, order_fixed_cost=60.0, order_unit_cost=0.12),
    ),
    links=(
        _frozen(a="UK", b="EIRE", lead_time=2, unit_cost=0.04, fixed_cost=5.0),
        _frozen(a="UK", b="EU", lead_time=3, unit_cost=0.05, fixed_cost=5.0),
        _frozen(a="UK", b="ROW", lead_time=7, unit_cost=0.10, fixed_cost=5.0),
        _frozen(a="EIRE", b="EU", lead_time=3, unit_cost=0.05, fixed_cost=5.0),
    ),
    holding_cost=0.02,
    shortage_cost=1.5,
)


def twin_network_data() -> Mapping[str, Any]:
    """:data:`TWIN_NETWORK`, the twin's default network as data (``scenario("twin")``)."""
    return TWIN_NETWORK


# ----------------------------------------------------------------------------- the registry
_REGISTRY: dict[str, tuple[Callable[..., Any], str]] = {
    "section4": (paper_config, "the paper's section 4 worked example: A and B, the two-day forecast, "
                               "the open request of 50 units (notebook 02)"),
    "flexibility": (flexibility_config, "section 2, problem (1): demand jumps from 80 to 120 units/day on day 30"),
    "information": (information_config, "section 2, problem (2): a weekly demand pattern around 100 units/day"),
    "single_vs_joint": (single_vs_joint_config, "section 2, problem (3): A holds 50 units, B 1,000; "
                                                "lead time 5 days"),
    "risk_tradeoff": (risk_tradeoff_config, "section 2, problem (4): Poisson 80 and 120 units/day, lead time 2 days"),
    "paper": (paper_benchmark_config, "benchmark: the paper's A and B discretised, replenishment and transfers "
                                      "the same day (546 states)"),
    "cross_border": (cross_border_config, "benchmark: as 'paper', replenishment takes 1 day, transfers 0 "
                                          "(546 states)"),
    "long_lead": (long_lead_config, "benchmark: as 'paper', replenishment takes 2 days, transfers 1 "
                                    "(66,066 states)"),
    "regional": (regional_network, "five warehouses on a ring with two cross links, lead time 4 days"),
    "hub": (hub_network, "a UK hub with limited supply feeding four overseas warehouses"),
    "twin": (twin_network_data, "the digital twin's UK, EIRE, EU and ROW warehouses and links, as data"),
}

#: The named scenarios, each with one line in words (read-only): ``scenario(name)`` builds one.
SCENARIOS: Mapping[str, str] = MappingProxyType({name: text for name, (_, text) in _REGISTRY.items()})


def scenario(name: str, **options: Any) -> EnvConfig | Mapping[str, Any]:
    """Build the scenario ``name`` (one of :data:`SCENARIOS`), passing ``options`` to its builder
    (e.g. ``scenario("hub", supply=200)``). Returns an :class:`EnvConfig`, except for ``"twin"``:
    its data (:data:`TWIN_NETWORK`). An unknown name or option raises an error naming what is
    allowed."""
    if name not in _REGISTRY:
        raise KeyError(f"scenario {name!r} is not known; allowed: {', '.join(_REGISTRY)}")
    build = _REGISTRY[name][0]
    allowed = list(inspect.signature(build).parameters)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"scenario {name!r} has no option(s) {unknown}; allowed: {allowed or 'none'}")
    return build(**options)
