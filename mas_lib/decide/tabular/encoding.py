"""What a tabular learner sees and does: integer states and discrete actions (paper 3.1.2(1)-(2)).

* :class:`StateEncoder` -- a :class:`~mas_lib.sim.state.SystemState` of ``B`` copies -> one state
  index per learner (the form decides who sees what);
* :class:`ActionTable` -- the discrete actions of every warehouse in units, their feasibility,
  and the split of a central learner's joint action into per-warehouse actions;
* :func:`infer_unit` -- the stock unit of a discretised instance.

Notebook 05 shows the sizes these give on the paper instance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce

import numpy as np

from ...sim.config import EnvConfig
from ...sim.demand import DiscreteIIDDemand
from ...sim.state import SystemState
from ...validation import ConfigError, check_choice, not_allowed
from .config import FORMS

__all__ = ["StateEncoder", "ActionTable", "infer_unit", "MAX_STATES"]

#: The most states a learner's table can index: the largest numpy array index (2**63 - 1).
MAX_STATES = int(np.iinfo(np.intp).max)


def infer_unit(config: EnvConfig) -> int:
    """The stock unit of a discretised instance [units] (paper 3.1.2(1)): the greatest common
    divisor of the order and transfer grids, capacities, initial stocks and (for
    :class:`~mas_lib.sim.demand.DiscreteIIDDemand`) the demand support. 1 for an instance that is
    not discretised. The default ``unit`` of :class:`StateEncoder`; no notebook calls it directly."""
    values = [w.capacity for w in config.warehouses] + [w.initial_inventory for w in config.warehouses]
    values += list(config.order_grid or ()) + list(config.transfer_grid or ())
    if isinstance(config.demand, DiscreteIIDDemand):
        for s in config.demand.support:
            values += [int(v) for v in s]
    g = reduce(math.gcd, [int(v) for v in values if v], 0)
    return max(int(g), 1)


# ---------------------------------------------------------------------------- actions
class ActionTable:
    """The discrete actions of every warehouse in units (the layout of
    :meth:`mas_lib.sim.network.Network.decode_discrete`), with their feasibility (paper
    3.1.2(2): order and transfer decisions; notebook 05).

    ``order[i][a]`` is the replenishment of action ``a`` of warehouse ``i`` and
    ``transfer[i][a, j]`` the units it ships to ``j`` [units]; ``sizes[i]`` the number of actions.
    Raises :class:`~mas_lib.validation.ConfigError` if the config has no discrete action grid.
    """

    def __init__(self, config: EnvConfig):
        if config.order_grid is None:
            raise ConfigError(
                "Q-learning needs a discrete action grid: give the EnvConfig an order_grid and a "
                "transfer_grid (see mas_lib.decide.instances)"
            )
        self.net = net = config.network
        self.N = net.N
        self.sizes = list(net.discrete_sizes)
        tables = net.action_tables()
        self.order: list[np.ndarray] = [order for order, _ in tables]
        self.transfer: list[np.ndarray] = [transfer for _, transfer in tables]

    def decode(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Action indices ``(B, N)`` -> ``(replenish (B,N), transfer (B,N,N))`` [units]
        (:meth:`mas_lib.sim.network.Network.decode_discrete`)."""
        return self.net.decode_discrete(actions)

    def feasible(self, i: int, stock: np.ndarray) -> np.ndarray:
        """``(len(stock), sizes[i])`` bool: may warehouse ``i`` take each action with ``stock``
        units on hand? (order <= max_order; shipped <= stock + same-day order, <= capacity)."""
        stock = np.asarray(stock, dtype=np.int64)[:, None]
        q = self.order[i][None, :]
        out = self.transfer[i].sum(axis=1)[None, :]
        net = self.net
        same_day = q if net.lead_time[i] == 0 else 0
        available = np.minimum(stock + same_day, net.capacity[i])
        return (q <= net.max_order[i]) & (out <= available)

    def learner_sizes(self, form: str) -> list[int]:
        """Actions per learner: ``[prod(sizes)]`` (the joint action, ``Network.n_joint_actions``: an
        exact Python integer) for the central form, ``sizes`` (one learner per warehouse) otherwise."""
        return [self.net.n_joint_actions] if form == "central" else list(self.sizes)

    def to_warehouse(self, learner_actions: np.ndarray, form: str) -> np.ndarray:
        """Learner actions ``(B, n_learners)`` -> per-warehouse action indices ``(B, N)`` (the
        central learner's joint index is split with ``config.network.joint_to_agents``)."""
        if form != "central":
            return learner_actions
        return self.net.joint_to_agents(learner_actions[:, 0])


# ---------------------------------------------------------------------------- states
@dataclass(frozen=True)
class _Feature:
    name: str
    warehouse: int
    kind: str  # stock | backlog | pipeline | transit | shared_stock
    slot: int
    levels: int


class StateEncoder:
    """Maps a :class:`mas_lib.sim.state.SystemState` of ``B`` copies to integer state indices, one
    per learner, fully vectorised (paper 3.1.2(1): the state of each warehouse; notebook 05).

    Each warehouse's own features are discretised in stock units of ``unit`` [units]: on-hand
    stock (capped at capacity), the backlog if backorders are on, the live slots of its
    replenishment pipeline (an order with lead time ``L`` sits in the pipeline for ``L - 1``
    decision days; capped at ``max_order``) and inbound transfers still on the road. The form
    decides who sees what:

    * ``"independent"`` -- learner ``i`` sees warehouse ``i``'s own features;
    * ``"shared"`` -- plus each neighbour's stock coarsened to ``share_levels`` levels -- the
      paper's information sharing (3.1.1(4));
    * ``"central"`` -- one learner sees every warehouse's own features.

    The index is a mixed-radix number of the feature levels (first feature most significant);
    :meth:`decode` inverts it. ``sizes[k]`` is the number of states of learner ``k`` (an exact
    integer); a learner with more than :data:`MAX_STATES` states is refused with a
    :class:`~mas_lib.validation.ConfigError` naming the count and the limit.
    """

    def __init__(
        self,
        config: EnvConfig,
        unit: int | None = None,
        form: str = "central",
        share_levels: int | None = 3,
    ):
        self.form = check_choice(form, "StateEncoder.form", FORMS)
        self.unit = int(unit) if unit is not None else infer_unit(config)
        self.share_levels = share_levels
        net = config.network
        self.N = net.N
        self.neighbours = net.neighbours
        u = self.unit
        self.cap_levels = net.capacity // u + 1
        inbound_lead = [int(net.arc_lead_time[:, i][net.arc[:, i]].max()) if net.arc[:, i].any() else 0
                        for i in range(self.N)]
        own: list[list[_Feature]] = []
        for i, w in enumerate(config.warehouses):
            f = [_Feature(f"{w.name}.stock", i, "stock", 0, int(self.cap_levels[i]))]
            if config.backorders:
                f.append(_Feature(f"{w.name}.backlog", i, "backlog", 0, int(self.cap_levels[i])))
            for k in range(max(w.lead_time - 1, 0)):
                f.append(_Feature(f"{w.name}.pipeline[{k}]", i, "pipeline", k, int(w.max_order // u + 1)))
            for k in range(max(inbound_lead[i] - 1, 0)):
                f.append(_Feature(f"{w.name}.transit[{k}]", i, "transit", k, int(self.cap_levels[i])))
            own.append(f)
        if form == "central":
            self.features = [[f for fs in own for f in fs]]
        elif form == "independent":
            self.features = own
        else:
            self.features = []
            for i in range(self.N):
                fs = list(own[i])
                for j in self.neighbours[i]:
                    n = config.warehouses[j].name
                    lv = int(self.cap_levels[j]) if share_levels is None else int(min(share_levels, self.cap_levels[j]))
                    fs.append(_Feature(f"{n}.stock (shared)", j, "shared_stock", 0, lv))
                self.features.append(fs)
        self.shapes = [tuple(f.levels for f in fs) for fs in self.features]
        # exact Python integers (an int64 product wraps to negative or arbitrary counts)
        self.sizes = [math.prod(shape) for shape in self.shapes]
        self.n_learners = len(self.features)
        for k, n in enumerate(self.sizes):
            if n > MAX_STATES:
                raise not_allowed(
                    f"StateEncoder states of learner {k}", n,
                    f"at most {MAX_STATES} (the largest index of a table; levels {list(self.shapes[k])}). "
                    "Use a larger unit, fewer share_levels or another form"
                )

    def _level(self, f: _Feature, state: SystemState) -> np.ndarray:
        u, i = self.unit, f.warehouse
        if f.kind in ("stock", "shared_stock"):
            lv = np.clip(state.on_hand[:, i] // u, 0, self.cap_levels[i] - 1)
            if f.kind == "shared_stock" and f.levels < self.cap_levels[i]:
                lv = np.minimum(lv * f.levels // self.cap_levels[i], f.levels - 1)
            return lv
        if f.kind == "backlog":
            return np.clip(state.backlog[:, i] // u, 0, f.levels - 1)
        if f.kind == "pipeline":
            return np.clip(state.pipeline[:, i, f.slot] // u, 0, f.levels - 1)
        return np.clip(state.transit[:, i, f.slot] // u, 0, f.levels - 1)

    def levels(self, state: SystemState, learner: int = 0) -> np.ndarray:
        """Feature levels ``(B, n_features)`` of one learner (in the order of ``feature_names``;
        a level is a count of ``unit`` stock units)."""
        return np.stack([self._level(f, state) for f in self.features[learner]], axis=1).astype(np.int64)

    def encode(self, state: SystemState) -> np.ndarray:
        """State indices ``(B, n_learners)`` int64, each in ``[0, sizes[k])``."""
        cache: dict[tuple, np.ndarray] = {}
        out = np.empty((state.batch_size, self.n_learners), dtype=np.int64)
        for k, fs in enumerate(self.features):
            coords = []
            for f in fs:
                key = (f.kind, f.warehouse, f.slot, f.levels)
                if key not in cache:
                    cache[key] = self._level(f, state).astype(np.int64)
                coords.append(cache[key])
            out[:, k] = np.ravel_multi_index(tuple(coords), self.shapes[k])
        return out

    def decode(self, index: np.ndarray | int, learner: int = 0) -> np.ndarray:
        """Feature levels ``(..., n_features)`` of state index(es) ``index`` of ``learner``."""
        idx = np.asarray(index, dtype=np.int64)
        return np.stack(np.unravel_index(idx, self.shapes[learner]), axis=-1).astype(np.int64)

    def feature_names(self, learner: int = 0) -> list[str]:
        """Names of the features of ``learner`` (units: stock units of ``unit``)."""
        return [f.name for f in self.features[learner]]

    def own_stock(self, learner: int, warehouse: int) -> np.ndarray:
        """On-hand stock [units] of ``warehouse`` in every state of ``learner`` ``(sizes[k],)``
        (the lower edge of its level), used for the feasibility of actions."""
        names = [(f.kind, f.warehouse) for f in self.features[learner]]
        col = names.index(("stock", warehouse))
        return self.decode(np.arange(self.sizes[learner]), learner)[:, col] * self.unit

    def settings(self) -> dict:
        """The constructor arguments but the config (stored with a saved policy)."""
        return {
            "unit": self.unit, "form": self.form, "share_levels": self.share_levels,
        }
