"""The retailer's network for the digital twin: which warehouse serves which countries, how slow
each one's replenishment is, which transfer links join them, and what everything costs
(paper sections 3.1.1 and 3.2.1: a UK hub and overseas warehouses, cross-border lead times).

The default network is chosen from the countries' shares of the clean 2010-2011 UCI units
(notebook 08 recomputes them): the United Kingdom buys 82.7 % of the units and gets the hub
``UK``; the rest of Europe buys about 12 % (Netherlands 3.7, Germany 2.3, France 2.1, ...) and
gets one continental warehouse ``EU``; EIRE (2.75 %, the largest single overseas customer after the
Netherlands and a market of its own across the Irish Sea) gets ``EIRE`` together with the
Channel Islands; every other country (Australia 1.6 %, Japan, USA, ... and ``Unspecified``)
is served by ``ROW`` (rest of world). Replenishment from suppliers takes 2 days into the UK and
4 / 5 / 10 days into EIRE / EU / ROW; transfers from the hub take 2 / 3 / 7 days, and EIRE and
EU can also swap stock in 3 days. Costs are illustrative money units (GBP-like), the same for
every product: a unit held one night costs 0.02, a lost sale 1.5, an order 15 (UK) to 60 (ROW)
plus freight per unit, a transfer 5 per shipment plus freight per unit. These numbers (and
:data:`EUROPE`, the countries of ``EU``) are written down once, in :mod:`mas_lib.sim.scenarios`
with every other scenario network; :func:`default_network` wraps them.

In the simulation every (warehouse, product) pair is one *node* of the batch core, named
``"UK:85123A"``; transfer links join the nodes of the same product only. That is how the twin
vectorises over products: one :class:`~mas_lib.sim.core.BatchCore` steps every node of every
product at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..sim.config import EnvConfig, LinkConfig, WarehouseConfig
from ..sim.demand import DemandProcess
from ..sim.scenarios import EUROPE, twin_network_data
from ..validation import ConfigError, Validated, checked, number, whole

__all__ = ["EUROPE", "TwinWarehouse", "TwinLink", "TwinNetwork", "default_network", "node_name"]


def _twin_name(value, field: str, error: type[Exception] = ConfigError) -> str:
    """A warehouse name of the twin: a non-empty string without ``':'`` (it separates the node's
    warehouse from its product)."""
    if not isinstance(value, str) or not value or ":" in value:
        raise error(f"{field} = {value!r} is not allowed; allowed: a non-empty string without ':'")
    return value


def _countries(value, field: str, error: type[Exception] = ConfigError) -> tuple[str, ...] | None:
    """``None`` (the rest of the world) or a non-empty sequence of countries, stored as a tuple."""
    if value is None:
        return None
    value = tuple(value)
    if not value:
        raise error(f"{field} is empty; give countries or None (the rest)")
    return value


def _as_tuple(value, field: str, error: type[Exception] = ConfigError) -> tuple:
    """Any sequence, stored as a tuple (its entries are checked by their own classes)."""
    return tuple(value)


def node_name(warehouse: str, product: str) -> str:
    """The simulation node of one product at one warehouse, e.g. ``"UK:85123A"``."""
    return f"{warehouse}:{product}"


@dataclass(frozen=True)
class TwinWarehouse(Validated):
    """One warehouse of the twin (paper 3.1.1: one agent per warehouse and product).

    ``countries``: the countries it serves (``None`` = every country no other warehouse
    serves; at most one warehouse may say so). ``lead_time`` [days] from the supplier,
    ``order_fixed_cost`` [money/order], ``order_unit_cost`` [money/unit] (freight).
    """

    name: str = checked(_twin_name)
    countries: tuple[str, ...] | None = checked(_countries)
    lead_time: int = whole(unit="days")
    order_fixed_cost: float = number(15.0, unit="money/order")
    order_unit_cost: float = number(0.02, unit="money/unit")


@dataclass(frozen=True)
class TwinLink:
    """A transfer link between two warehouses, both directions [days, money/unit, money/shipment]."""

    a: str
    b: str
    lead_time: int
    unit_cost: float = 0.05
    fixed_cost: float = 5.0


@dataclass(frozen=True)
class TwinNetwork(Validated):
    """Warehouses, links and the per-unit costs shared by every node (see the module docstring).

    ``holding_cost`` [money/unit-day], ``shortage_cost`` [money per lost unit]. A node's
    capacity [units] is the largest of ``min_capacity``, ``capacity_days`` x its largest daily
    demand before the first simulated day, and ``capacity_cover`` x the largest stock the
    built-in rules aim at over the run (:func:`~mas_lib.ops.policies.largest_target`), see
    :meth:`node_capacity`. The last term is what a product without sales before the start also
    has, so such a product is not starved. Capacity can still bind (a custom policy, transfers,
    ``capacity_cover=0``): receipts above it are refused as in the core -- paid for, not
    refunded -- and counted (``refused`` in :meth:`mas_lib.ops.TwinRun.summary`, the KPIs and
    the alerts), never hidden.
    """

    warehouses: tuple[TwinWarehouse, ...] = checked(_as_tuple)
    links: tuple[TwinLink, ...] = checked(_as_tuple, ())
    holding_cost: float = number(0.02, unit="money/unit-day")
    shortage_cost: float = number(1.5, unit="money/unit")
    capacity_days: int = whole(60, low=1, unit="days")
    min_capacity: int = whole(500, low=1, unit="units")
    capacity_cover: float = number(2.0, low=0, unit="x the largest target stock")
    notes: dict = field(default_factory=dict, compare=False)

    def _check_together(self) -> None:
        """Distinct names, at most one warehouse for "the rest", each country served once,
        links between known warehouses."""
        names = self.names
        if not names or len(set(names)) != len(names):
            raise ConfigError(f"TwinNetwork.warehouses = {names!r} is not allowed; allowed: distinct names, at least one")
        if sum(w.countries is None for w in self.warehouses) > 1:
            raise ConfigError("TwinNetwork: at most one warehouse may serve 'the rest' (countries=None)")
        seen: dict[str, str] = {}
        for w in self.warehouses:
            for c in w.countries or ():
                if c in seen:
                    raise ConfigError(f"TwinNetwork: country {c!r} is served by both {seen[c]!r} and {w.name!r}")
                seen[c] = w.name
        for link in self.links:
            for end in (link.a, link.b):
                if end not in names:
                    raise ConfigError(f"TwinLink end = {end!r} is not allowed; allowed: one of {names}")

    def node_capacity(self, history_max: np.ndarray, target: np.ndarray) -> np.ndarray:
        """``(N,)`` whole units each node holds: the largest of ``min_capacity``,
        ``capacity_days`` x ``history_max`` (the node's largest daily demand before the first
        simulated day [units/day]) and ``capacity_cover`` x ``target`` (the largest stock the
        built-in rules aim at over the run [units], rounded up). Used by :func:`mas_lib.ops.run_twin`."""
        by_history = self.capacity_days * np.asarray(history_max, dtype=float)
        by_target = np.ceil(self.capacity_cover * np.asarray(target, dtype=float))
        return np.maximum(self.min_capacity, np.maximum(by_history, by_target)).astype(np.int64)

    @property
    def names(self) -> list[str]:
        """Warehouse names in order."""
        return [w.name for w in self.warehouses]

    @property
    def lead_times(self) -> dict[str, int]:
        """Supplier lead time of each warehouse [days]."""
        return {w.name: w.lead_time for w in self.warehouses}

    def warehouse_of(self, country: str) -> str:
        """The warehouse that serves ``country`` (the catch-all one if no list names it)."""
        for w in self.warehouses:
            if w.countries is not None and country in w.countries:
                return w.name
        for w in self.warehouses:
            if w.countries is None:
                return w.name
        return ""

    def env_config(
        self,
        products: Sequence[str],
        demand: DemandProcess,
        days: int,
        horizon: int,
        initial_inventory: np.ndarray,
        capacity: np.ndarray,
    ) -> EnvConfig:
        """The :class:`~mas_lib.sim.config.EnvConfig` of the twin: one node per (warehouse, product),
        warehouse-major (``node = w * P + p``), links between the nodes of the same product.
        ``initial_inventory`` and ``capacity`` are ``(W * P,)`` whole units. Used by
        :func:`mas_lib.ops.run_twin`."""
        P = len(products)
        nodes = []
        for wi, w in enumerate(self.warehouses):
            for pi, p in enumerate(products):
                k = wi * P + pi
                nodes.append(WarehouseConfig(
                    name=node_name(w.name, p), capacity=int(capacity[k]),
                    initial_inventory=int(min(initial_inventory[k], capacity[k])),
                    holding_cost=self.holding_cost, shortage_cost=self.shortage_cost,
                    order_fixed_cost=w.order_fixed_cost, order_unit_cost=w.order_unit_cost,
                    lead_time=w.lead_time,
                ))
        links = [LinkConfig(node_name(lk.a, p), node_name(lk.b, p), unit_cost=lk.unit_cost,
                            lead_time=lk.lead_time, fixed_cost=lk.fixed_cost)
                 for lk in self.links for p in products]
        return EnvConfig(warehouses=tuple(nodes), demand=demand, links=tuple(links), episode_length=days,
                         forecast_horizon=horizon, share_information=False)


def default_network() -> TwinNetwork:
    """The documented default: hub ``UK``, ``EIRE`` (+ Channel Islands), ``EU`` (rest of Europe),
    ``ROW`` (every other country), with the lead times and costs of the module docstring -- the data
    :data:`mas_lib.sim.scenarios.TWIN_NETWORK` (``scenario("twin")``) wrapped as a
    :class:`TwinNetwork`. Notebook 08 draws it; :func:`mas_lib.ops.load_twin_data` uses it unless
    told otherwise."""
    data = twin_network_data()
    return TwinNetwork(
        warehouses=tuple(TwinWarehouse(**w) for w in data["warehouses"]),
        links=tuple(TwinLink(**link) for link in data["links"]),
        holding_cost=data["holding_cost"],
        shortage_cost=data["shortage_cost"],
    )
