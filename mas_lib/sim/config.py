"""Validated configuration dataclasses for the multi-warehouse environment (paper sections 3.2.1, 4).

Every number the simulation uses lives here, with its unit. Construction validates each field
and raises :class:`ConfigError` naming the field, the value and what is allowed, so a typo
never turns into a silently strange simulation. Notebook 06 builds these by hand;
:mod:`mas_lib.teach.paper` builds the paper's section 4 scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..validation import ConfigError, check_bool, check_choice, check_number
from .demand import DemandProcess
from .network import Network

__all__ = ["ConfigError", "WarehouseConfig", "LinkConfig", "RewardConfig", "EnvConfig", "InTransit", "Request"]


def _check_number(owner: str, name: str, value, *, low=0.0, integer=False, unit: str = "") -> None:
    """Validate ``owner.name`` with the package's one set of validators (:mod:`mas_lib.validation`)."""
    check_number(value, f"{owner}.{name}", low=low, integer=integer, unit=unit)


@dataclass(frozen=True)
class WarehouseConfig:
    """One warehouse (one agent).

    Attributes (units in brackets):
        name: agent name, e.g. ``"A"``.
        capacity: most units the warehouse can hold [units]; receipts beyond it are refused
            and counted as ``overflow`` (they leave the system; their purchase cost is not refunded).
        initial_inventory: on-hand stock at the start [units].
        holding_cost: cost of one unit held overnight [money / unit-day], on end-of-day stock.
        shortage_cost: lost-sale penalty [money / unit] or, with backorders, backlog cost
            [money / unit-day].
        order_fixed_cost: cost of placing a non-zero replenishment order [money / order].
        order_unit_cost: purchase + freight per unit ordered [money / unit].
        lead_time: days between ordering and receipt [days]; 0 = the same day (paper section 4),
            7-30 is typical of cross-border sea freight.
        initial_pipeline: units already ordered, arriving at the start of day 1, 2, ... [units];
            at most ``lead_time`` entries.
        max_order: largest replenishment order an agent may place in one day [units]
            (bounds the action space); defaults to ``capacity``.
    """

    name: str
    capacity: int = 300
    initial_inventory: int = 0
    holding_cost: float = 1.0
    shortage_cost: float = 10.0
    order_fixed_cost: float = 0.0
    order_unit_cost: float = 0.0
    lead_time: int = 0
    initial_pipeline: tuple[int, ...] = ()
    max_order: int | None = None

    def __post_init__(self):
        owner = f"WarehouseConfig({self.name!r})"
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"WarehouseConfig.name must be a non-empty string; got {self.name!r}")
        _check_number(owner, "capacity", self.capacity, low=1, integer=True)
        _check_number(owner, "initial_inventory", self.initial_inventory, integer=True)
        if self.initial_inventory > self.capacity:
            raise ConfigError(
                f"{owner}.initial_inventory={self.initial_inventory} exceeds capacity={self.capacity}"
            )
        for name in ("holding_cost", "shortage_cost", "order_fixed_cost", "order_unit_cost"):
            _check_number(owner, name, getattr(self, name))
        _check_number(owner, "lead_time", self.lead_time, integer=True)
        object.__setattr__(self, "initial_pipeline", tuple(self.initial_pipeline))
        if len(self.initial_pipeline) > self.lead_time:
            raise ConfigError(
                f"{owner}.initial_pipeline has {len(self.initial_pipeline)} entries but lead_time="
                f"{self.lead_time} allows at most {self.lead_time}"
            )
        for k, q in enumerate(self.initial_pipeline):
            _check_number(owner, f"initial_pipeline[{k}]", q, integer=True)
        if self.max_order is None:
            object.__setattr__(self, "max_order", int(self.capacity))
        _check_number(owner, "max_order", self.max_order, integer=True)


@dataclass(frozen=True)
class LinkConfig:
    """A transport link between two warehouses (inter-warehouse transfers, paper section 3.1.1(3)).

    Attributes:
        source, target: warehouse names.
        unit_cost: transport cost per unit moved [money / unit], paid by the sender.
        lead_time: days a transfer spends on the road [days]; 0 = arrives before today's demand.
        fixed_cost: cost of any non-zero shipment on this link [money / shipment].
        bidirectional: if True (default) the same link also carries goods from target to source.
    """

    source: str
    target: str
    unit_cost: float = 1.0
    lead_time: int = 0
    fixed_cost: float = 0.0
    bidirectional: bool = True

    def __post_init__(self):
        owner = f"LinkConfig({self.source!r}->{self.target!r})"
        if self.source == self.target:
            raise ConfigError(f"{owner}: a link must join two different warehouses")
        _check_number(owner, "unit_cost", self.unit_cost)
        _check_number(owner, "fixed_cost", self.fixed_cost)
        _check_number(owner, "lead_time", self.lead_time, integer=True)


@dataclass(frozen=True)
class InTransit:
    """Units already on the road between two warehouses at the start [units, days until arrival >= 1]."""

    source: str
    target: str
    units: int
    days: int = 1

    def __post_init__(self):
        owner = f"InTransit({self.source!r}->{self.target!r})"
        _check_number(owner, "units", self.units, integer=True)
        _check_number(owner, "days", self.days, low=1, integer=True)


@dataclass(frozen=True)
class Request:
    """An open request: ``requester`` has asked ``supplier`` to send ``units`` (information only;
    no goods move until the supplier decides a transfer). The paper's section 4.1 "order of 50
    units that A has issued to B" is modelled as one of these (see :mod:`mas_lib.teach.paper`)."""

    requester: str
    supplier: str
    units: int

    def __post_init__(self):
        _check_number(f"Request({self.requester!r}->{self.supplier!r})", "units", self.units, integer=True)


@dataclass(frozen=True)
class RewardConfig:
    """Which reward the environment returns (paper section 4.3; see :mod:`mas_lib.sim.rewards`).

    kind:
        ``"cost"``  -- minus the warehouse's total daily cost [money]; what RL and the exact
        optimum use. ``"paper"`` -- the paper's linear reward
        ``c1 * satisfaction + c2 * inventory-cost reduction - c3 * transport cost``.
    shared:
        If True every agent receives the sum over warehouses (a team reward).
    """

    kind: str = "cost"
    c1: float = 1.0
    c2: float = 0.5
    c3: float = 0.2
    shared: bool = False

    def __post_init__(self):
        check_choice(self.kind, "RewardConfig.kind", ("cost", "paper"))
        for name in ("c1", "c2", "c3"):
            check_number(getattr(self, name), f"RewardConfig.{name}")
        check_bool(self.shared, "RewardConfig.shared")


@dataclass(frozen=True)
class EnvConfig:
    """The whole simulation: warehouses, links, demand, horizon, reward and action rules.

    Attributes:
        warehouses: the agents, in order (index ``i`` in every array).
        demand: a :class:`mas_lib.sim.demand.DemandProcess` with one column per warehouse.
        links: transport links; transfers are only allowed along them.
        episode_length: days per episode [days].
        forecast_horizon: days of forecast each agent observes (the paper uses 2).
        backorders: False = unmet demand is lost; True = it waits in a backlog.
        invalid_action: ``"raise"`` (default) rejects impossible actions with an error naming
            the agent, the field and the value as given; ``"clip"`` -- an explicit opt-in -- trims
            them to the nearest feasible action (the info dict reports ``clipped``): an order
            below 0 becomes 0 and one above ``max_order`` -- however large, 1e30 or inf included --
            becomes ``max_order``; transfers beyond the stock are scaled down to it. In both modes
            a quantity that is not a whole number (a fraction, NaN, a string, ``True``) is an error.
        share_information: if True each agent also observes its neighbours' stock and forecast.
        order_grid, transfer_grid: if given, agents act through a ``Discrete`` action index over
            these levels [units] (for tabular learners) instead of ``MultiDiscrete`` quantities.
        in_transit, requests: the starting transfers on the road and open requests.
    """

    warehouses: tuple[WarehouseConfig, ...]
    demand: DemandProcess
    links: tuple[LinkConfig, ...] = ()
    episode_length: int = 60
    forecast_horizon: int = 2
    backorders: bool = False
    invalid_action: str = "raise"
    reward: RewardConfig = field(default_factory=RewardConfig)
    share_information: bool = True
    order_grid: tuple[int, ...] | None = None
    transfer_grid: tuple[int, ...] | None = None
    in_transit: tuple[InTransit, ...] = ()
    requests: tuple[Request, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "warehouses", tuple(self.warehouses))
        object.__setattr__(self, "links", tuple(self.links))
        object.__setattr__(self, "in_transit", tuple(self.in_transit))
        object.__setattr__(self, "requests", tuple(self.requests))
        if not self.warehouses or not all(isinstance(w, WarehouseConfig) for w in self.warehouses):
            raise ConfigError("EnvConfig.warehouses must be a non-empty sequence of WarehouseConfig")
        names = [w.name for w in self.warehouses]
        if len(set(names)) != len(names):
            raise ConfigError(f"EnvConfig.warehouses: names must be unique; got {names}")
        if not isinstance(self.demand, DemandProcess):
            raise ConfigError(f"EnvConfig.demand must be a DemandProcess; got {type(self.demand).__name__}")
        if self.demand.n_warehouses != len(names):
            raise ConfigError(
                f"EnvConfig.demand serves {self.demand.n_warehouses} warehouses but there are {len(names)}"
            )
        arcs: dict[tuple[str, str], int] = {}  # arc -> lead time [days]
        for link in self.links:
            for end in (link.source, link.target):
                if end not in names:
                    raise ConfigError(f"EnvConfig.links: unknown warehouse {end!r}; known: {names}")
            for arc in [(link.source, link.target)] + ([(link.target, link.source)] if link.bidirectional else []):
                if arc in arcs:
                    raise ConfigError(f"EnvConfig.links: the arc {arc[0]}->{arc[1]} is defined twice")
                arcs[arc] = link.lead_time
        _check_number("EnvConfig", "episode_length", self.episode_length, low=1, integer=True)
        _check_number("EnvConfig", "forecast_horizon", self.forecast_horizon, low=1, integer=True)
        check_choice(self.invalid_action, "EnvConfig.invalid_action", ("raise", "clip"))
        check_bool(self.backorders, "EnvConfig.backorders")
        check_bool(self.share_information, "EnvConfig.share_information")
        if not isinstance(self.reward, RewardConfig):
            raise ConfigError(f"EnvConfig.reward must be a RewardConfig; got {type(self.reward).__name__}")
        for grid_name in ("order_grid", "transfer_grid"):
            grid = getattr(self, grid_name)
            if grid is None:
                continue
            grid = tuple(int(g) for g in grid)
            if not grid or grid[0] != 0 or any(b <= a for a, b in zip(grid, grid[1:], strict=False)):
                raise ConfigError(
                    f"EnvConfig.{grid_name} must start at 0 and strictly increase [units]; got {getattr(self, grid_name)!r}"
                )
            object.__setattr__(self, grid_name, grid)
        if (self.order_grid is None) != (self.transfer_grid is None):
            raise ConfigError("EnvConfig.order_grid and transfer_grid must be given together (or neither)")
        for tr in self.in_transit:
            if (tr.source, tr.target) not in arcs:
                raise ConfigError(f"EnvConfig.in_transit: no link {tr.source}->{tr.target}")
            longest = max(1, arcs[(tr.source, tr.target)])
            if tr.days > longest:
                raise ConfigError(
                    f"EnvConfig.in_transit: InTransit({tr.source!r}->{tr.target!r}).days = {tr.days} is not "
                    f"allowed; allowed: 1 to {longest} (the link's lead time is {arcs[(tr.source, tr.target)]} days)"
                )
        for rq in self.requests:
            for end in (rq.requester, rq.supplier):
                if end not in names:
                    raise ConfigError(f"EnvConfig.requests: unknown warehouse {end!r}; known: {names}")

    @property
    def names(self) -> list[str]:
        """Warehouse (agent) names in index order."""
        return [w.name for w in self.warehouses]

    def index(self, name: str) -> int:
        """Index of warehouse ``name``; raises a clear error for an unknown name."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ConfigError(f"unknown warehouse {name!r}; known: {self.names}") from None

    @cached_property
    def network(self) -> Network:
        """The compiled arrays of this configuration (:class:`mas_lib.sim.network.Network`), built
        once and cached: per-warehouse capacities and costs, the link arrays, neighbours and the
        discrete action tables. The core, the policies, the learners and the planner all read it."""
        return Network(self)

    def replace(self, **changes) -> EnvConfig:
        """A copy with some fields changed (validated again)."""
        from dataclasses import replace

        return replace(self, **changes)
