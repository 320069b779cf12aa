"""Two small, exactly solvable benchmark instances built on the paper's section 4 scenario.

Every policy in the library (tuned baselines, Q-learning forms) is measured on these two
instances by its gap to the exact dynamic-programming optimum (:mod:`mas_lib.decide.planning`,
notebook 06, ``benchmarks/bench_policies.py``).

Both instances use the paper's two warehouses (section 4.1): A starts with 100 units, B with 150;
demand is Poisson around the paper's forecasts (A: 80-90 units/day -> mean 85; B: 100-120 ->
mean 110), rounded to multiples of ``unit = 10`` units (:meth:`DiscreteIIDDemand.poisson`).
Orders are placed on a grid of 20 units (0, 20, ..., 200) and transfers on a grid
(0, 20, 40, 60) along the bidirectional link A <-> B, so tabular learners get a ``Discrete``
action space of 11 x 4 = 44 actions per warehouse (1,936 joint actions).

Costs (money; the same in both instances so that only the lead times differ):

=====================  ==========================  =========================================
holding                1 per unit-day              on closing stock, each warehouse
lost sale              20 per unit                 unmet demand is lost (no backorders)
ordering               200 per order + 1 per unit  a fixed booking/customs fee makes batching
                                                   (and (s, S) rules) matter
transport A <-> B      10 per shipment + 1 / unit  cheaper than an order when only a few
                                                   units are missing
=====================  ==========================  =========================================

* ``paper``: replenishment arrives the same day (lead time 0, as the paper's section 4 implies)
  and so do transfers. Capacities A 200, B 250 units. State = on-hand stock of A and B in
  10-unit steps: 21 x 26 = 546 states.
* ``cross_border``: overseas replenishment arrives the next morning (lead time 1 day) while a
  transfer between the two domestic warehouses arrives the same day (lead time 0), so
  rebalancing is the only way to react to today's demand. Same 546 states (with lead time 1 the
  order placed today has been received by tomorrow's decision, so no pipeline is needed).

Both solve exactly in about a second (see :func:`mas_lib.decide.planning.build_model`). The discount
factor is ``gamma = 0.95`` per day; an episode lasts 100 days. ``invalid_action`` stays
``"raise"``: the planner masks infeasible transfers (shipping more than is on hand) and a learner
should do the same.

The networks themselves (warehouses, links, costs, demand, grids) are built by
:func:`mas_lib.sim.scenarios.benchmark_config`, the one home of every scenario network; an
:class:`Instance` adds what the planner and the learners need on top (unit, discount, start state).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ..sim.config import EnvConfig
from ..sim.scenarios import BENCHMARK_COSTS, BENCHMARK_UNIT, benchmark_config
from ..validation import check_number

__all__ = [
    "Instance", "paper_instance", "cross_border_instance", "with_costs", "INSTANCES", "COSTS", "get_instance",
]

#: The cost parameters shared by both instances (money; see the module docstring). Read-only;
#: the same mapping as :data:`mas_lib.sim.scenarios.BENCHMARK_COSTS`.
COSTS: Mapping[str, float] = BENCHMARK_COSTS


@dataclass(frozen=True)
class Instance:
    """A discretised benchmark instance (see ``INSTANCES``; ``bench_policies.py``).

    Attributes:
        name: short key (``"paper"``, ``"cross_border"``).
        config: the :class:`EnvConfig` to simulate (with ``order_grid``/``transfer_grid`` set).
        unit: stock and demand are multiples of this many units [units].
        gamma: discount factor per day used by the planner and by learners.
        description: one paragraph in words.
        round_to: step of the action grids [units]; pass it as ``round_to`` to baseline
            policies so that their quantities are representable in the exact model.
        start_state: on-hand stock at the start, per warehouse [units].
    """

    name: str
    config: EnvConfig
    unit: int
    gamma: float
    description: str
    round_to: int = 20
    start_state: tuple[int, ...] = field(default=())

    @property
    def n_states(self) -> int:
        """Number of states of the exact model (on-hand levels x live pipeline slots); equals
        ``build_model(...).n_states``."""
        net = self.config.network
        grid = len(net.order_grid)
        # exact Python integers: the count can exceed int64 for large capacities or grids
        return math.prod((int(c) // self.unit + 1) * grid ** max(int(L) - 1, 0)
                         for c, L in zip(net.capacity, net.lead_time, strict=True))

    @property
    def n_actions(self) -> int:
        """Number of joint actions: the product of the per-warehouse ``Discrete`` sizes, each
        ``len(order_grid) * len(transfer_grid) ** (warehouses it can ship to)`` -- a one-way link
        gives its target no transfer choice (read from ``config.network``; equals
        ``build_model(...).n_actions``, e.g. 1,936 for the instances, 484 with a one-way link)."""
        return self.config.network.n_joint_actions


def _instance(key: str, replenish_lead: int, transfers: bool, episode_length: int, description: str) -> Instance:
    cfg = benchmark_config(replenish_lead, 0, transfers, episode_length)
    return Instance(
        name=key if transfers else f"{key} (no transfers)", config=cfg, unit=BENCHMARK_UNIT, gamma=0.95, round_to=20,
        start_state=tuple(w.initial_inventory for w in cfg.warehouses), description=description,
    )


def paper_instance(transfers: bool = True, episode_length: int = 100) -> Instance:
    """The paper's section 4 warehouses, replenishment and transfers both arriving the same day.

    ``transfers=False`` drops the A <-> B link (to measure the value of transfers).
    """
    return _instance("paper", 0, transfers, episode_length, (
        "Paper section 4: A (capacity 200, starts with 100) and B (capacity 250, starts with 150), "
        "Poisson demand with means 85 and 110 units/day in 10-unit steps, replenishment and "
        "transfers arrive the same day, lost sales."
    ))


def cross_border_instance(transfers: bool = True, episode_length: int = 100) -> Instance:
    """Like :func:`paper_instance` but overseas replenishment takes 1 day, a transfer 0 days."""
    return _instance("cross_border", 1, transfers, episode_length, (
        "Cross-border: as 'paper', but a replenishment order arrives the next morning (lead time "
        "1 day) while a transfer A <-> B arrives the same day, so only rebalancing can react "
        "to today's stock-outs."
    ))


class _LazyInstances(Mapping):
    """The named instances, each built on first use and then reused (nothing is built at import)."""

    def __init__(self, factories: Mapping[str, Callable[[], Instance]]):
        self._factories = dict(factories)
        self._built: dict[str, Instance] = {}

    def __getitem__(self, name: str) -> Instance:
        if name not in self._factories:
            raise KeyError(f"instance {name!r} is not known; known: {list(self._factories)}")
        if name not in self._built:
            self._built[name] = self._factories[name]()
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)


#: The benchmark instances by name, built lazily (``INSTANCES["paper"]``, ``INSTANCES["cross_border"]``).
INSTANCES: Mapping[str, Instance] = _LazyInstances({"paper": paper_instance, "cross_border": cross_border_instance})


def get_instance(name: str) -> Instance:
    """The named benchmark instance (a clear ``KeyError`` naming the known ones otherwise; paper
    section 4.1 scenario)."""
    return INSTANCES[name]


def with_costs(instance: Instance, **changes: float) -> Instance:
    """A copy of ``instance`` with some cost parameters changed (keys of :data:`COSTS`), e.g.
    ``with_costs(inst, order_fixed_cost=0)`` -- for the "when is base-stock enough?" experiment of
    notebook 06. Warehouse costs change in both warehouses, transport costs on every link."""
    from dataclasses import replace

    unknown = set(changes) - set(COSTS)
    if unknown:
        raise ValueError(f"unknown cost parameter(s) {sorted(unknown)}; known: {sorted(COSTS)}")
    changes = {k: check_number(v, f"with_costs.{k}", low=0, unit="money") for k, v in changes.items()}
    wkeys = {"holding_cost", "shortage_cost", "order_fixed_cost", "order_unit_cost"}
    wch = {k: float(v) for k, v in changes.items() if k in wkeys}
    lch = {{"transport_unit_cost": "unit_cost", "transport_fixed_cost": "fixed_cost"}[k]: float(v)
           for k, v in changes.items() if k not in wkeys}
    cfg = instance.config.replace(
        warehouses=tuple(replace(w, **wch) for w in instance.config.warehouses),
        links=tuple(replace(link, **lch) for link in instance.config.links),
    )
    label = ", ".join(f"{k}={v:g}" for k, v in changes.items())
    return replace(instance, config=cfg, name=f"{instance.name} ({label})" if label else instance.name)
