"""The vectorised batch core: B copies of the multi-warehouse simulation stepped at once with numpy.

This is the engine behind :class:`mas_lib.sim.env.MultiWarehouseEnv` (which drives one copy through
the PettingZoo API) and behind the vectorised learners of :mod:`mas_lib.decide.tabular`. Both run the
same code, so the per-step API and the batch give identical trajectories for the same seed and
actions (tested in ``tests/test_env.py``).

The order of events in one day ``t`` (documented in ``docs/dynamics.md``; notebooks 01 and 02):

1. **Arrivals** -- replenishments and transfers due today are received (done at the end of the
   previous :meth:`BatchCore.step`, or by :meth:`BatchCore.reset` for day 0, so the agents see
   them). A receipt that would push stock above capacity is refused: the excess is ``overflow``.
2. **Decisions** -- every warehouse chooses a replenishment quantity and a transfer to each
   neighbour. Orders are paid now (fixed + per unit). An order with lead time 0 is received at
   once; lead time ``L >= 1`` puts it in the pipeline, received at the start of day ``t + L``.
3. **Transfers leave** -- at most the stock on hand (after a same-day receipt) can be shipped.
   The sender pays the transport cost. A link with lead time 0 delivers before demand.
4. **Demand is served** from stock; the unmet part is lost (or backlogged, if configured).
5. **Costs are counted** on closing stock: holding, shortage, ordering, transport.

Seeding: copy ``b`` of a batch reset with ``seed=s`` draws its demand from
``numpy.random.default_rng(s + b)``; a single environment reset with ``seed=s`` is copy 0.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .config import EnvConfig
from .rewards import paper_reward, paper_reward_terms

__all__ = ["BatchCore", "StepResult", "SystemState", "InvalidActionError"]


def _sum_axis(a: np.ndarray, axis: int) -> np.ndarray:
    """``a.sum(axis)`` for a short axis, as a chain of adds (numpy's reduce over an axis of length
    2-3 is ~15x slower than adding the slices; this is the batch core's hot path)."""
    n = a.shape[axis]
    if n > 16:
        return a.sum(axis=axis)
    moved = np.moveaxis(a, axis, 0)
    out = moved[0].copy()
    for k in range(1, n):
        out += moved[k]
    return out


class InvalidActionError(ValueError):
    """An impossible action: the message names the warehouse, the field, the value and the limit."""


@dataclass
class SystemState:
    """What a policy may look at when it decides, for B copies at once (the batch form).

    ``on_hand (B,N)``, ``backlog (B,N)``, ``pipeline (B,N,Lmax)`` (``pipeline[b,i,k]`` arrives at
    the start of day ``t+1+k``), ``transit (B,N,Tmax)`` (transfers arriving at ``i`` at the start
    of day ``t+1+k``), ``requests (B,N,N)`` (``requests[b,s,r]``: units ``r`` asked ``s`` to send),
    ``forecast (B,H,N)`` (``forecast[b,k,i]``: forecast of day ``t+k``), all in units; ``t`` is
    the day index. Policies (:mod:`mas_lib.decide.policies`, :mod:`mas_lib.decide.tabular`) and the exact
    planner (:mod:`mas_lib.decide.planning`, which builds one state per row) all speak this form.
    """

    on_hand: np.ndarray
    backlog: np.ndarray
    pipeline: np.ndarray
    transit: np.ndarray
    requests: np.ndarray
    forecast: np.ndarray
    t: int = 0

    @property
    def batch_size(self) -> int:
        return self.on_hand.shape[0]


@dataclass
class StepResult:
    """What happened in one day, every field an array of shape ``(B, N)``.

    Units: ``demand, sales, served, lost, backlog, overflow, on_hand, shipped_out, received_transfers,
    ordered`` in units; ``*_cost`` and ``reward`` in money (``reward`` is in reward units for the
    paper reward); ``fill_rate``/``satisfaction`` dimensionless; ``clipped`` bool.
    """

    demand: np.ndarray
    sales: np.ndarray
    served: np.ndarray
    lost: np.ndarray
    backlog: np.ndarray
    fill_rate: np.ndarray
    on_hand: np.ndarray
    ordered: np.ndarray
    shipped_out: np.ndarray
    received_transfers: np.ndarray
    overflow: np.ndarray
    holding_cost: np.ndarray
    shortage_cost: np.ndarray
    ordering_cost: np.ndarray
    transport_cost: np.ndarray
    total_cost: np.ndarray
    satisfaction: np.ndarray
    inventory_cost_reduction: np.ndarray
    reward: np.ndarray
    clipped: np.ndarray

    def for_copy(self, b: int, names: list[str]) -> dict[str, dict[str, float]]:
        """Per-warehouse info dicts for copy ``b`` (what the PettingZoo API returns as ``infos``)."""
        out = {}
        for i, name in enumerate(names):
            out[name] = {f.name: getattr(self, f.name)[b, i].item() for f in fields(self)}
        return out


class BatchCore:
    """``B`` independent copies of the simulation described by an :class:`EnvConfig`.

    State arrays (read them, do not write them): ``on_hand (B,N)``, ``backlog (B,N)``,
    ``pipeline (B,N,Lmax)`` (``pipeline[b,i,k]`` arrives at the start of day ``t+1+k``),
    ``transit (B,N,Tmax)`` (transfers arriving at warehouse ``i`` at the start of day ``t+1+k``),
    ``requests (B,N,N)`` (``requests[b,s,r]`` = units ``r`` asked ``s`` to send), ``t`` (day).
    Serves notebooks 01, 02, 05, 06 and the benchmarks (``benchmarks/bench_env.py``).
    """

    def __init__(self, config: EnvConfig, batch_size: int = 1):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1; got {batch_size!r}")
        self.config = config
        self.B = int(batch_size)
        ws = config.warehouses
        self.names = config.names
        self.N = N = len(ws)
        self.T = config.episode_length
        self.H = config.forecast_horizon
        self.capacity = np.array([w.capacity for w in ws], dtype=np.int64)
        self.holding = np.array([w.holding_cost for w in ws], dtype=float)
        self.shortage = np.array([w.shortage_cost for w in ws], dtype=float)
        self.fixed = np.array([w.order_fixed_cost for w in ws], dtype=float)
        self.unit = np.array([w.order_unit_cost for w in ws], dtype=float)
        self.lead = np.array([w.lead_time for w in ws], dtype=np.int64)
        self.max_order = np.array([w.max_order for w in ws], dtype=np.int64)
        self.Lmax = max(1, int(self.lead.max()))
        links = config.link_arrays()
        self.arc, self.arc_cost = links["arc"], links["unit_cost"]
        self.arc_fixed, self.arc_lead = links["fixed_cost"], links["lead_time"]
        self.Tmax = max(1, int(self.arc_lead[self.arc].max()) if self.arc.any() else 1)
        self.neighbours = [list(np.flatnonzero(self.arc[i])) for i in range(N)]
        self._later_orders = np.flatnonzero(self.lead >= 1)
        self._arc_leads = sorted({int(v) for v in self.arc_lead[self.arc]})
        self._lead_masks = {lv: (self.arc & (self.arc_lead == lv)) for lv in self._arc_leads}
        self.t = 0
        self._ready = False
        self._action_tables: list[tuple[np.ndarray, np.ndarray]] | None = None

    # ------------------------------------------------------------------ reset
    def reset(self, seed: int | None = None) -> None:
        """Start a new episode in every copy; copy ``b`` uses ``default_rng(seed + b)``."""
        cfg, B, N = self.config, self.B, self.N
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        if int(seed) != seed or seed < 0:
            raise ValueError(f"seed must be a whole number >= 0 or None; got {seed!r}")
        seed = int(seed)
        self.demand = np.empty((B, self.T, N), dtype=np.int64)
        self.forecast = np.empty((B, self.T, self.H, N))
        for b in range(B):
            d, f = cfg.demand.sample_episode(np.random.default_rng(seed + b), self.T, self.H)
            self.demand[b], self.forecast[b] = d, f
        self.on_hand = np.tile(np.array([w.initial_inventory for w in cfg.warehouses], dtype=np.int64), (B, 1))
        self.backlog = np.zeros((B, N), dtype=np.int64)
        self.pipeline = np.zeros((B, N, self.Lmax), dtype=np.int64)
        for i, w in enumerate(cfg.warehouses):
            for k, q in enumerate(w.initial_pipeline):
                self.pipeline[:, i, k] = q
        self.transit = np.zeros((B, N, self.Tmax), dtype=np.int64)
        for tr in cfg.in_transit:
            self.transit[:, cfg.index(tr.target), tr.days - 1] += tr.units
        self.requests = np.zeros((B, N, N), dtype=np.int64)
        for rq in cfg.requests:
            self.requests[:, cfg.index(rq.supplier), cfg.index(rq.requester)] += rq.units
        self.prev_end = self.on_hand.astype(float)
        self.t = 0
        self.total_ordered = np.zeros((B, N), dtype=np.int64)
        self.total_sold = np.zeros((B, N), dtype=np.int64)
        self.total_overflow = np.zeros((B, N), dtype=np.int64)
        self.initial_units = self.units_in_system()
        self._ready = True

    def units_in_system(self) -> np.ndarray:
        """Units on hand + in the replenishment pipeline + on the road, per copy ``(B,)``."""
        return self.on_hand.sum(1) + self.pipeline.sum((1, 2)) + self.transit.sum((1, 2))

    def conservation_gap(self) -> np.ndarray:
        """``(start + ordered) - (in system + sold + overflow)`` per copy; always 0 (units)."""
        return (self.initial_units + self.total_ordered.sum(1)) - (
            self.units_in_system() + self.total_sold.sum(1) + self.total_overflow.sum(1)
        )

    # ------------------------------------------------------------ validation
    def _fail(self, mask: np.ndarray, field: str, values: np.ndarray, rule: str) -> None:
        b, i = np.argwhere(mask)[0][:2]
        where = f" (copy {b})" if self.B > 1 else ""
        raise InvalidActionError(
            f"warehouse {self.names[i]!r}{where}: {field} = {values[b, i]} is not allowed on day {self.t}; {rule}"
        )

    def _validate(self, q: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        B, N = self.B, self.N
        q = np.asarray(q)
        x = np.asarray(x)
        if q.shape != (B, N):
            raise InvalidActionError(f"replenish must have shape (B, N) = {(B, N)}; got {q.shape}")
        if x.shape != (B, N, N):
            raise InvalidActionError(f"transfer must have shape (B, N, N) = {(B, N, N)}; got {x.shape}")
        if not (np.issubdtype(q.dtype, np.integer) and np.issubdtype(x.dtype, np.integer)):
            if np.any(q != np.round(q)) or np.any(x != np.round(x)):
                raise InvalidActionError("replenish and transfer quantities must be whole numbers of units")
        q = q.astype(np.int64)
        x = x.astype(np.int64)
        available = np.minimum(self.on_hand + np.where(self.lead == 0, q, 0), self.capacity)
        out = _sum_axis(x, 2)
        bad_q = (q < 0) | (q > self.max_order)
        bad_x = (x < 0) | ((x != 0) & ~self.arc)
        over = out > available
        if not (bad_q.any() or bad_x.any() or over.any()):
            return q, x, np.zeros((B, N), dtype=bool)
        if self.config.invalid_action == "clip":
            q2, x2 = self.clip_actions(q, x, self.on_hand)
            return q2, x2, (q2 != q) | _sum_axis(x2 != x, 2)
        if bad_q.any():
            self._fail(bad_q, "replenish", q, f"allowed: 0 to max_order ({self.max_order.tolist()} per warehouse)")
        if bad_x.any():
            b, i, j = np.argwhere(bad_x)[0]
            what = "a negative quantity" if x[b, i, j] < 0 else f"no link {self.names[i]}->{self.names[j]}"
            raise InvalidActionError(
                f"warehouse {self.names[i]!r}: transfer to {self.names[j]!r} = {x[b, i, j]} is not "
                f"allowed ({what}); neighbours: {[self.names[k] for k in self.neighbours[i]]}"
            )
        self._fail(over, "total transfer out", out,
                   f"only {available[tuple(np.argwhere(over)[0])]} units are on hand to ship")

    def clip_actions(self, q: np.ndarray, x: np.ndarray, on_hand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The documented trim of ``invalid_action="clip"``, for any number of rows [units].

        Orders are clipped to ``[0, max_order]``; transfers below 0 or without a link become 0;
        if a warehouse ships more than it has on hand (after a same-day receipt, capped at
        capacity), all its transfers are scaled down proportionally and rounded down. Rows that
        are already feasible are unchanged. The exact planner applies the same trim.
        """
        q = np.clip(np.asarray(q, dtype=np.int64), 0, self.max_order)
        x = np.where(self.arc, np.maximum(np.asarray(x, dtype=np.int64), 0), 0)
        available = np.minimum(on_hand + np.where(self.lead == 0, q, 0), self.capacity)
        out = _sum_axis(x, 2)
        scale = np.where(out > available, available / np.maximum(out, 1), 1.0)
        return q, np.floor(x * scale[:, :, None]).astype(np.int64)

    # ------------------------------------------------------------------ step
    def _receive(self, units: np.ndarray) -> np.ndarray:
        new = self.on_hand + units
        overflow = np.maximum(new - self.capacity, 0)
        self.on_hand = new - overflow
        return overflow

    def step(self, replenish: np.ndarray, transfer: np.ndarray) -> StepResult:
        """Advance every copy by one day.

        Args:
            replenish: ``(B, N)`` whole units each warehouse orders today.
            transfer: ``(B, N, N)`` whole units; ``transfer[b, i, j]`` goes from ``i`` to ``j``
                (must be 0 where there is no link and on the diagonal).

        Returns:
            :class:`StepResult` for the day. Raises :class:`InvalidActionError` for an
            impossible action unless the config asks to clip, and ``RuntimeError`` after the
            episode's last day (call :meth:`reset`).
        """
        if not self._ready:
            raise RuntimeError("call reset() before step(), and again after the episode's last day")
        q, x, clipped = self._validate(replenish, transfer)
        t = self.t
        # 2. decisions: pay for orders; same-day orders are received at once
        ordering = self.fixed * (q > 0) + self.unit * q
        self.total_ordered += q
        overflow = self._receive(np.where(self.lead == 0, q, 0))
        if self._later_orders.size:
            idx = self._later_orders
            self.pipeline[:, idx, self.lead[idx] - 1] += q[:, idx]
        # 3. transfers leave; lead-0 transfers are received before demand
        shipped = _sum_axis(x, 2)
        self.on_hand -= shipped
        transport = _sum_axis(x * self.arc_cost + self.arc_fixed * (x > 0), 2)
        self.requests = np.maximum(self.requests - x, 0)
        received = np.zeros_like(shipped)
        for lv, mask in self._lead_masks.items():
            inbound = _sum_axis(x * mask, 1)
            if lv == 0:
                overflow += self._receive(inbound)
                received += inbound
            else:
                self.transit[:, :, lv - 1] += inbound
        # 4. demand is served
        d = self.demand[:, t, :]
        if self.config.backorders:
            need = d + self.backlog
            sales = np.minimum(self.on_hand, need)
            served = np.maximum(sales - self.backlog, 0)
            self.backlog = need - sales
            lost = np.zeros_like(d)
            shortage = self.shortage * self.backlog
        else:
            sales = np.minimum(self.on_hand, d)
            served = sales
            lost = d - sales
            shortage = self.shortage * lost
        self.on_hand -= sales
        self.total_sold += sales
        # 5. costs on closing stock
        end = self.on_hand.copy()
        holding = self.holding * end
        total = holding + shortage + ordering + transport
        terms = paper_reward_terms(served, d, self.holding, self.prev_end, end, transport)
        self.prev_end = end.astype(float)
        rc = self.config.reward
        reward = paper_reward(terms, rc.c1, rc.c2, rc.c3) if rc.kind == "paper" else -total
        if rc.shared:
            reward = np.repeat(_sum_axis(reward, 1)[:, None], self.N, axis=1)
        # 1'. tomorrow's arrivals, so the next observation shows them
        self.t = t + 1
        if self.t < self.T:
            arriving = self.pipeline[:, :, 0] + self.transit[:, :, 0]
            self.pipeline[:, :, :-1] = self.pipeline[:, :, 1:]
            self.pipeline[:, :, -1] = 0
            self.transit[:, :, :-1] = self.transit[:, :, 1:]
            self.transit[:, :, -1] = 0
            overflow = overflow + self._receive(arriving)
        else:
            self._ready = False
        self.total_overflow += overflow
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = np.where(d > 0, served / np.where(d > 0, d, 1), 1.0)
        return StepResult(
            demand=d, sales=sales, served=served, lost=lost, backlog=self.backlog.copy(), fill_rate=fill,
            on_hand=end, ordered=q, shipped_out=shipped, received_transfers=received, overflow=overflow,
            holding_cost=holding, shortage_cost=shortage, ordering_cost=ordering, transport_cost=transport,
            total_cost=total, satisfaction=terms["satisfaction"],
            inventory_cost_reduction=terms["inventory_cost_reduction"], reward=reward, clipped=clipped,
        )

    def state(self) -> SystemState:
        """The decision-time state of every copy (views; policies must not modify them)."""
        return SystemState(
            on_hand=self.on_hand, backlog=self.backlog, pipeline=self.pipeline, transit=self.transit,
            requests=self.requests, forecast=self.current_forecast(), t=self.t,
        )

    @property
    def done(self) -> bool:
        """True once the episode's last day has been stepped."""
        return self.t >= self.T

    def current_forecast(self) -> np.ndarray:
        """Forecast ``(B, H, N)`` the agents see at the start of today [units/day]."""
        return self.forecast[:, min(self.t, self.T - 1)]

    # ------------------------------------------------------- discrete actions
    def discrete_sizes(self) -> list[int]:
        """Number of discrete actions of each warehouse (needs ``order_grid``/``transfer_grid``)."""
        cfg = self.config
        if cfg.order_grid is None:
            raise ValueError("this EnvConfig has no order_grid/transfer_grid: discrete actions are off")
        return [len(cfg.order_grid) * len(cfg.transfer_grid) ** len(nb) for nb in self.neighbours]

    def action_tables(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each warehouse ``i``, ``(order (A_i,), transfer (A_i, N))``: the units ordered and
        shipped to every warehouse by each of its discrete actions (the layout of
        :meth:`decode_discrete`). Learners use it to mask infeasible actions (notebook 05)."""
        if self._action_tables is None:
            cfg = self.config
            sizes = self.discrete_sizes()
            og = np.asarray(cfg.order_grid, dtype=np.int64)
            tg = np.asarray(cfg.transfer_grid, dtype=np.int64)
            tables = []
            for i, nb in enumerate(self.neighbours):
                rest = np.arange(sizes[i], dtype=np.int64)
                x = np.zeros((sizes[i], self.N), dtype=np.int64)
                for j in reversed(nb):
                    x[:, j] = tg[rest % len(tg)]
                    rest = rest // len(tg)
                tables.append((og[rest], x))
            self._action_tables = tables
        return self._action_tables

    def decode_discrete(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map discrete action indices ``(B, N)`` to ``(replenish (B,N), transfer (B,N,N))`` in units.

        Index layout for warehouse ``i`` with neighbours ``j_1..j_m``:
        ``idx = o * T^m + t_1 * T^(m-1) + ... + t_m`` with ``o`` an index into ``order_grid`` and
        ``t_k`` into ``transfer_grid`` (T = its length).
        """
        sizes = np.array(self.discrete_sizes())
        a = np.asarray(actions)
        if a.ndim != 2 or a.shape[1] != self.N:
            raise InvalidActionError(f"discrete actions must have shape (rows, {self.N}); got {a.shape}")
        bad = (a < 0) | (a >= sizes)
        if bad.any():
            self._fail(bad, "discrete action", a, f"allowed: 0 to {(sizes - 1).tolist()} per warehouse")
        q = np.empty(a.shape, dtype=np.int64)
        x = np.empty((a.shape[0], self.N, self.N), dtype=np.int64)
        for i, (order, transfer) in enumerate(self.action_tables()):
            q[:, i] = order[a[:, i]]
            x[:, i, :] = transfer[a[:, i]]
        return q, x
