"""Validated configuration dataclasses for the multi-warehouse environment (paper sections 3.2.1, 4).

Every number the simulation uses lives here, with its unit. Construction validates each field
and raises :class:`ConfigError` naming the field, the value and what is allowed, so a typo
never turns into a silently strange simulation. Notebook 06 builds these by hand;
:mod:`mas_lib.teach.paper` builds the paper's section 4 scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..validation import (
    ConfigError,
    Validated,
    checked,
    choice,
    flag,
    items,
    number,
    optional,
    whole,
)
from .demand import DemandProcess
from .network import Network

__all__ = ["ConfigError", "WarehouseConfig", "LinkConfig", "RewardConfig", "EnvConfig", "InTransit", "Request"]


def _name(value, field: str, error: type[Exception] = ConfigError) -> str:
    """A warehouse name: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise error(f"{field} must be a non-empty string; got {value!r}")
    return value


def _as_tuple(value, field: str, error: type[Exception] = ConfigError) -> tuple:
    """Any sequence, stored as a tuple (its entries are checked by their own classes)."""
    try:
        return tuple(value)
    except TypeError:
        raise error(f"{field} must be a sequence; got {value!r}") from None


def _warehouses(value, field: str, error: type[Exception] = ConfigError) -> tuple:
    """A non-empty sequence of :class:`WarehouseConfig`, stored as a tuple."""
    try:
        value = tuple(value)
    except TypeError:
        value = ()
    if not value or not all(isinstance(w, WarehouseConfig) for w in value):
        raise error(f"{field} must be a non-empty sequence of WarehouseConfig")
    return value


def _instance_of(cls: type):
    """A check that the value is a ``cls`` (stored unchanged)."""
    def check(value, field: str, error: type[Exception] = ConfigError):
        if not isinstance(value, cls):
            raise error(f"{field} must be a {cls.__name__}; got {type(value).__name__}")
        return value
    return check


def _grid(value, field: str, error: type[Exception] = ConfigError) -> tuple[int, ...] | None:
    """``None`` or action levels [units] that start at 0 and strictly increase, stored as ints."""
    if value is None:
        return None
    try:
        grid = tuple(int(g) for g in value)
    except (TypeError, ValueError):
        grid = ()
    if not grid or grid[0] != 0 or any(b <= a for a, b in zip(grid, grid[1:], strict=False)):
        raise error(f"{field} must start at 0 and strictly increase [units]; got {value!r}")
    return grid


@dataclass(frozen=True)
class WarehouseConfig(Validated):
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

    name: str = checked(_name)
    capacity: int = whole(300, low=1)
    initial_inventory: int = whole(0)
    holding_cost: float = number(1.0, low=0.0)
    shortage_cost: float = number(10.0, low=0.0)
    order_fixed_cost: float = number(0.0, low=0.0)
    order_unit_cost: float = number(0.0, low=0.0)
    lead_time: int = whole(0)
    initial_pipeline: tuple[int, ...] = items((), whole())
    max_order: int | None = optional(whole(), say_none=False)

    def _check_together(self) -> dict:
        """Stock within capacity, a pipeline no longer than the lead time; ``max_order``
        defaults to ``capacity``."""
        owner = f"WarehouseConfig({self.name!r})"
        if self.initial_inventory > self.capacity:
            raise ConfigError(
                f"{owner}.initial_inventory={self.initial_inventory} exceeds capacity={self.capacity}"
            )
        if len(self.initial_pipeline) > self.lead_time:
            raise ConfigError(
                f"{owner}.initial_pipeline has {len(self.initial_pipeline)} entries but lead_time="
                f"{self.lead_time} allows at most {self.lead_time}"
            )
        return {"max_order": self.capacity} if self.max_order is None else {}


@dataclass(frozen=True)
class LinkConfig(Validated):
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
    unit_cost: float = number(1.0, low=0.0)
    lead_time: int = whole(0)
    fixed_cost: float = number(0.0, low=0.0)
    bidirectional: bool = True

    def _owner(self) -> str:
        return f"LinkConfig({self.source!r}->{self.target!r})"

    def _check_together(self) -> None:
        if self.source == self.target:
            raise ConfigError(f"{self._owner()}: a link must join two different warehouses")


@dataclass(frozen=True)
class InTransit(Validated):
    """Units already on the road between two warehouses at the start [units, days until arrival >= 1]."""

    source: str
    target: str
    units: int = whole()
    days: int = whole(1, low=1)

    def _owner(self) -> str:
        return f"InTransit({self.source!r}->{self.target!r})"


@dataclass(frozen=True)
class Request(Validated):
    """An open request: ``requester`` has asked ``supplier`` to send ``units`` (information only;
    no goods move until the supplier decides a transfer). The paper's section 4.1 "order of 50
    units that A has issued to B" is modelled as one of these (see :mod:`mas_lib.teach.paper`)."""

    requester: str
    supplier: str
    units: int = whole()

    def _owner(self) -> str:
        return f"Request({self.requester!r}->{self.supplier!r})"


@dataclass(frozen=True)
class RewardConfig(Validated):
    """Which reward the environment returns (paper section 4.3; see :mod:`mas_lib.sim.rewards`).

    kind:
        ``"cost"``  -- minus the warehouse's total daily cost [money]; what RL and the exact
        optimum use. ``"paper"`` -- the paper's linear reward
        ``c1 * satisfaction + c2 * inventory-cost reduction - c3 * transport cost``.
    shared:
        If True every agent receives the sum over warehouses (a team reward).
    """

    kind: str = choice("cost", ("cost", "paper"))
    c1: float = number(1.0)
    c2: float = number(0.5)
    c3: float = number(0.2)
    shared: bool = flag(False)


@dataclass(frozen=True)
class EnvConfig(Validated):
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

    warehouses: tuple[WarehouseConfig, ...] = checked(_warehouses)
    demand: DemandProcess = checked(_instance_of(DemandProcess))
    links: tuple[LinkConfig, ...] = checked(_as_tuple, ())
    episode_length: int = whole(60, low=1)
    forecast_horizon: int = whole(2, low=1)
    backorders: bool = flag(False)
    invalid_action: str = choice("raise", ("raise", "clip"))
    reward: RewardConfig = checked(_instance_of(RewardConfig), default_factory=RewardConfig)
    share_information: bool = flag(True)
    order_grid: tuple[int, ...] | None = checked(_grid, None)
    transfer_grid: tuple[int, ...] | None = checked(_grid, None)
    in_transit: tuple[InTransit, ...] = checked(_as_tuple, ())
    requests: tuple[Request, ...] = checked(_as_tuple, ())

    def _check_together(self) -> None:
        """Unique names, demand for every warehouse, links, transfers and requests between known
        warehouses, both action grids or neither."""
        names = [w.name for w in self.warehouses]
        if len(set(names)) != len(names):
            raise ConfigError(f"EnvConfig.warehouses: names must be unique; got {names}")
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
