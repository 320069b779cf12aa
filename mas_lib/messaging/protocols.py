"""Coordination protocols: four ready policies that differ in what the warehouses tell each other
(paper 3.1.1(2)-(4); notebook 07, ``benchmarks/bench_coordination.py``).

Every protocol orders with the same replenishment rule (a forecast base-stock by default, so the
comparison isolates the *transfers*) and runs on any network, one-way links included: reports
and requests travel against the direction of shipment, to the warehouses that can ship to the
sender, and offers come back along the link. Each copy of a batch gets its own
:class:`~mas_lib.messaging.bus.MessageBus`; every message goes through it and is logged.

* :class:`Isolated` -- no messages, no transfers: each warehouse only knows itself.
* :class:`SharedInformation` -- every warehouse sends a stock report and its forecast each day to
  the warehouses that can ship to it; a warehouse with surplus then *pushes* stock to those whose
  reported cover is short (unilaterally: two donors may both ship to the same warehouse).
* :class:`Negotiated` -- contract net (Smith 1980): a warehouse short of cover sends a transfer
  request to the warehouses that can ship to it, those with surplus answer with an offer (units
  and unit cost; the offered units are reserved), the requester accepts the cheapest offers until
  its need is met and rejects the rest, and an accepted offer ships.
* :class:`CentralCoordinator` -- every warehouse reports to one coordinator, which matches all
  needs with all surpluses, cheapest link first, and sends each warehouse its plan.

A warehouse's **need** is ``cover * forecast_today - (available + inbound)`` and its **surplus**
``available - keep * forecast_today`` [units], ``available`` = stock on hand plus a same-day order.
"""

from __future__ import annotations

import numpy as np

from ..decide.policies import ForecastBaseStock, Policy
from ..sim.config import EnvConfig
from ..sim.state import SystemState
from ..validation import check_choice, check_number, check_probability, check_whole
from .bus import MessageBus
from .messages import (
    Accept,
    AllocationPlan,
    ForecastShare,
    MessageError,
    Reject,
    StockReport,
    TransferOffer,
    TransferRequest,
)

__all__ = ["Protocol", "Isolated", "SharedInformation", "Negotiated", "CentralCoordinator", "PROTOCOLS",
           "ON_CONFLICT"]

#: what a protocol may do with a message that arrives too late to honour (see :class:`Protocol`)
ON_CONFLICT = ("drop", "clip", "raise")


class Protocol(Policy):
    """Base of the protocols: replenishment rule, cover/keep, one bus per copy, message log.

    Args:
        config: the network.
        replenish: the ordering rule (default :class:`ForecastBaseStock` with zero safety stock).
        cover, keep: days of forecast demand a warehouse wants to cover / keeps before giving [days].
        latency, drop_rate, seed: the buses' settings (:class:`MessageBus`). Episode ``e`` of this
            protocol (counted from 0 since it was built) draws copy ``b``'s drops from
            ``SeedSequence(seed, spawn_key=(e, b))``: every episode and copy has its own stream.
        on_conflict: what a warehouse does with a message that arrives too late to honour -- an
            accept for an offer no longer open, an accept or allocation plan for more units than
            it has left to ship (with latency 1 the stock has changed since the offer or plan):
            ``"drop"`` (not acted on; logged with status ``"stale"`` and the reason, counted by
            :meth:`messages_stale`), ``"clip"`` (shipped in part, logged ``"trimmed to <units>"``;
            an accept for a closed offer is dropped as stale) or ``"raise"`` (strict: a
            :class:`MessageError` naming the message). Default: ``"clip"`` if the config's
            ``invalid_action`` is ``"clip"``, else ``"drop"``, so a long run never dies for a late
            message. A malformed message (an accept from a warehouse the offer was not made to, or
            for more units than offered) always raises.
        round_to: quantities are multiples of this [units].
    """

    name = "protocol"

    def __init__(self, config: EnvConfig, replenish: Policy | None = None, cover: float = 1.0, keep: float = 1.0,
                 latency: int = 0, drop_rate: float = 0.0, seed: int = 0, on_conflict: str | None = None,
                 round_to: int = 1):
        super().__init__(config, round_to)
        self.replenish = replenish if replenish is not None else ForecastBaseStock(config, 0.0, round_to=round_to)
        self.cover = check_number(cover, f"{type(self).__name__}.cover", low=0, unit="days", error=ValueError)
        self.keep = check_number(keep, f"{type(self).__name__}.keep", low=0, unit="days", error=ValueError)
        self.latency = check_whole(latency, f"{type(self).__name__}.latency", unit="days", error=ValueError)
        check_choice(self.latency, f"{type(self).__name__}.latency", (0, 1))
        self.drop_rate = check_probability(drop_rate, f"{type(self).__name__}.drop_rate")
        self.seed = check_whole(seed, f"{type(self).__name__}.seed", error=ValueError)
        default = "clip" if config.invalid_action == "clip" else "drop"
        self.on_conflict = check_choice(default if on_conflict is None else on_conflict,
                                        f"{type(self).__name__}.on_conflict", ON_CONFLICT)
        self.names = list(self.net.names)
        #: ``senders[j]``: the warehouses that can ship to ``j`` (on a one-way link they are not
        #: ``j``'s neighbours: reports and requests go to them, offers come back along the link)
        self.senders: tuple[tuple[int, ...], ...] = tuple(
            tuple(int(i) for i in np.flatnonzero(self.net.arc[:, j])) for j in range(self.N))
        self.buses: list[MessageBus] = []
        self._day = -1
        self._episode = -1

    # ------------------------------------------------------------ plumbing
    def _buses_for(self, B: int, t: int) -> list[MessageBus]:
        """One bus per copy; new buses when the batch changes or a new episode starts (day 0).
        Episode ``e`` of this protocol (counted from 0 since it was built) draws the drops of copy
        ``b`` from ``SeedSequence(seed, spawn_key=(e, b))``: every episode and copy has its own
        stream, and a protocol built with the same seed replays them in the same order."""
        if len(self.buses) != B or t == 0 or t < self._day:
            self._episode += 1
            self.buses = [MessageBus(self.names, self.latency, self.drop_rate,
                                     np.random.SeedSequence(self.seed, spawn_key=(self._episode, b)))
                          for b in range(B)]
            self._state = [self.new_copy_state() for _ in range(B)]
        self._day = t
        return self.buses

    def new_copy_state(self) -> dict:
        """Per-copy memory kept across days (open offers and requests)."""
        return {}

    def log(self, copy: int = 0):
        """The message log of copy ``copy`` (a DataFrame, see :class:`MessageBus`)."""
        return self.buses[copy].log()

    def messages_sent(self) -> np.ndarray:
        """Messages sent so far in this episode, per copy ``(B,)``."""
        return np.array([bus.sent for bus in self.buses], dtype=np.int64)

    def messages_dropped(self) -> np.ndarray:
        """Messages dropped so far in this episode, per copy ``(B,)``."""
        return np.array([bus.dropped for bus in self.buses], dtype=np.int64)

    def messages_stale(self) -> np.ndarray:
        """Delivered messages discarded as too late to honour so far in this episode, per copy ``(B,)``
        (``on_conflict`` ``"drop"`` or ``"clip"``; each is a ``"stale"`` row of the log)."""
        return np.array([bus.stale for bus in self.buses], dtype=np.int64)

    def _round(self, v: float) -> int:
        u = self.round_to
        return int(np.floor(max(v, 0.0) / u) * u)

    def _needs(self, state: SystemState, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        avail = self.net.available(state.on_hand, q).astype(float)
        f0 = state.forecast[:, 0, :]
        need = np.maximum(self.cover * f0 - avail - state.transit.sum(axis=2), 0)
        surplus = np.maximum(avail - self.keep * f0, 0)
        return need, surplus

    def act(self, state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        q, _ = self.replenish.act(state)
        q = np.asarray(q, dtype=np.int64)
        B, N = q.shape
        buses = self._buses_for(B, int(state.t))
        need, surplus = self._needs(state, q)
        avail = self.net.available(state.on_hand, q)
        x = np.zeros((B, N, N), dtype=np.int64)
        for b in range(B):
            self.day_of_copy(b, buses[b], int(state.t), state, need[b], surplus[b], avail[b], x[b])
        return q, x

    def day_of_copy(self, b, bus, day, state, need, surplus, avail, x) -> None:
        """Exchange the day's messages of copy ``b`` and fill its transfers ``x (N, N)`` in place."""

    def describe(self) -> str:
        extra = f", latency={self.latency}" + (f", drop={self.drop_rate:g}" if self.drop_rate else "")
        return f"cover={self.cover:g}, keep={self.keep:g}{extra}"


class Isolated(Protocol):
    """No messages and no transfers: every warehouse orders on its own information only."""

    name = "isolated"

    def act(self, state):
        q, _ = self.replenish.act(state)
        q = np.asarray(q, dtype=np.int64)
        self._buses_for(q.shape[0], int(state.t))
        return q, np.zeros((q.shape[0], self.N, self.N), dtype=np.int64)

    def describe(self) -> str:
        return "no messages"


class SharedInformation(Protocol):
    """Report stock and forecast to the warehouses that can ship to you; a donor pushes surplus to
    the warehouses whose *reported* cover is short (largest shortfall first). With latency 1 the
    reports are a day old; a dropped report means the donor does not know that warehouse's stock
    and sends it nothing."""

    name = "shared information"

    def day_of_copy(self, b, bus, day, state, need, surplus, avail, x):
        net, names = self.net, self.names
        for i, n in enumerate(names):
            for j in self.senders[i]:  # whoever can ship to i hears its stock and forecast
                bus.send(StockReport(n, names[j], day, units=int(state.on_hand[b, i])))
                bus.send(ForecastShare(n, names[j], day, forecast=tuple(state.forecast[b, :, i].tolist())))
        for i, n in enumerate(names):
            heard: dict[str, dict] = {}
            for m in bus.collect(n, day):
                heard.setdefault(m.sender, {})[m.kind] = m
            shortfall = []
            for sender, msgs in heard.items():
                j = names.index(sender)
                if "stock report" in msgs and "forecast share" in msgs and net.arc[i, j]:
                    gap = self.cover * msgs["forecast share"].forecast[0] - msgs["stock report"].units
                    if gap > 0:
                        shortfall.append((gap, j))
            left = surplus[i]
            for gap, j in sorted(shortfall, reverse=True):
                send = self._round(min(gap, left))
                if send > 0:
                    x[i, j] += send
                    left -= send


class Negotiated(Protocol):
    """Contract net: request -> offer (units reserved) -> accept the cheapest / reject -> ship.

    Offers stay open for ``1 + 2 * latency`` days. Accepting an offer for more units than were
    offered, or one made to another warehouse, is a :class:`MessageError` naming the message. An
    accept for an offer that is no longer open, or that no longer fits the stock, is handled by
    ``on_conflict`` (dropped as stale by default, see :class:`Protocol`)."""

    name = "negotiated (contract net)"

    def new_copy_state(self):
        return {"next_id": 0, "offers": {}, "open_request": {}}

    def _offer_cost(self, i: int, j: int, units: int) -> float:
        return float(self.net.arc_unit_cost[i, j] + self.net.arc_fixed_cost[i, j] / max(units, 1))

    def day_of_copy(self, b, bus, day, state, need, surplus, avail, x):
        names, st = self.names, self._state[b]
        ttl = 1 + 2 * self.latency
        st["offers"] = {k: o for k, o in st["offers"].items() if o["day"] + ttl > day}
        reserved = np.zeros(self.N)
        for o in st["offers"].values():
            reserved[names.index(o["msg"].sender)] += o["msg"].units
        shipped = np.zeros(self.N, dtype=np.int64)
        # round 0: who is short asks its neighbours (one open request at a time)
        for j, n in enumerate(names):
            units = self._round(need[j])
            last = st["open_request"].get(n)
            if units > 0 and self.senders[j] and (last is None or last + ttl <= day):
                rid = st["next_id"]
                st["next_id"] += 1
                st["open_request"][n] = day
                for i in self.senders[j]:  # the warehouses that can ship to j
                    bus.send(TransferRequest(n, names[i], day, units=units, request_id=rid))
        accepted = np.zeros(self.N)
        for _ in range(3 if self.latency == 0 else 1):
            offers_in: dict[str, list[TransferOffer]] = {}
            inboxes = [bus.collect(n, day) for n in names]  # what is delivered by this round
            for i, n in enumerate(names):
                for m in inboxes[i]:
                    if isinstance(m, TransferRequest):
                        j = names.index(m.sender)
                        free = surplus[i] - reserved[i] - shipped[i]
                        units = self._round(min(m.units, free))
                        if units > 0:
                            if units > avail[i] - shipped[i]:
                                raise MessageError(f"TransferOffer({n}->{m.sender}, day {day}): {units} units "
                                                   f"offered but only {avail[i] - shipped[i]} on hand")
                            oid = st["next_id"]
                            st["next_id"] += 1
                            offer = TransferOffer(n, m.sender, day, units=units,
                                                  unit_cost=self._offer_cost(i, j, units),
                                                  request_id=m.request_id, offer_id=oid)
                            st["offers"][oid] = {"msg": offer, "day": day}
                            reserved[i] += units
                            bus.send(offer)
                    elif isinstance(m, TransferOffer):
                        offers_in.setdefault(n, []).append(m)
                    elif isinstance(m, Accept):
                        self._ship(bus, st, m, i, avail, shipped, reserved, x)
                    elif isinstance(m, Reject):
                        o = st["offers"].pop(m.offer_id, None)
                        if o is not None:
                            reserved[i] -= o["msg"].units
            for n, offers in offers_in.items():
                j = names.index(n)
                want = self._round(need[j] - accepted[j])
                for o in sorted(offers, key=lambda o: (o.unit_cost, o.offer_id)):
                    take = min(o.units, want)
                    if take > 0:
                        bus.send(Accept(n, o.sender, day, offer_id=o.offer_id, units=take))
                        want -= take
                        accepted[j] += take
                    else:
                        bus.send(Reject(n, o.sender, day, offer_id=o.offer_id))
                st["open_request"].pop(n, None)

    def _ship(self, bus, st, m: Accept, i, avail, shipped, reserved, x) -> None:
        """Ship the offer ``m`` accepts. Every check comes before any change: an accept from a
        warehouse the offer was not made to, or for more units than offered, raises and leaves the
        offer open for its rightful receiver."""
        o = st["offers"].get(m.offer_id)
        if o is None:
            reason = f"offer {m.offer_id} is not open (withdrawn, expired or unknown)"
            if self.on_conflict == "raise":
                raise MessageError(f"{m.label()}: {reason}")
            bus.discard(m, reason)
            return
        offer = o["msg"]
        if offer.sender != m.receiver or offer.receiver != m.sender:
            raise MessageError(f"{m.label()}: offer {m.offer_id} was made to {offer.receiver!r}, not to "
                               f"{m.sender!r}" + ("" if offer.sender == m.receiver else f", by {offer.sender!r}"))
        if m.units > offer.units:
            raise MessageError(f"{m.label()}.units = {m.units} is not allowed; allowed: at most the "
                               f"{offer.units} units offered")
        del st["offers"][m.offer_id]
        reserved[i] -= offer.units
        j = self.names.index(m.sender)
        units = m.units
        room = int(avail[i] - shipped[i])
        if units > room:
            reason = f"{units} units accepted but {self.names[i]!r} has only {room} left to ship"
            if self.on_conflict == "raise":
                raise MessageError(f"{m.label()}: {reason}")
            if self.on_conflict == "drop":
                bus.discard(m, reason)
                return
            units = self._round(room)
            bus.note(m, f"trimmed to {units}")
        x[i, j] += units
        shipped[i] += units


class CentralCoordinator(Protocol):
    """Every warehouse reports stock and forecast to a coordinator (``coordinator``, default the first
    warehouse), which matches all needs with all surpluses, cheapest link first, and sends each
    warehouse an allocation plan. A warehouse whose report or plan is dropped takes no part today;
    a plan that no longer fits the stock when it arrives (latency 1) is handled by ``on_conflict``."""

    name = "central coordinator"

    def __init__(self, config: EnvConfig, *args, coordinator: str | None = None, **kwargs):
        super().__init__(config, *args, **kwargs)
        self.coordinator = coordinator if coordinator is not None else self.names[0]
        if self.coordinator not in self.names:
            raise ValueError(f"CentralCoordinator.coordinator = {coordinator!r} is not allowed; allowed: one of "
                             f"{self.names}")
        arcs = np.argwhere(self.net.arc)
        self._arcs = sorted(((float(self.net.arc_unit_cost[i, j]), int(i), int(j)) for i, j in arcs))

    def day_of_copy(self, b, bus, day, state, need, surplus, avail, x):
        names, c, ci = self.names, self.coordinator, self.names.index(self.coordinator)
        for i, n in enumerate(names):
            if n != c:
                bus.send(StockReport(n, c, day, units=int(state.on_hand[b, i])))
                bus.send(ForecastShare(n, c, day, forecast=tuple(state.forecast[b, :, i].tolist())))
        # the coordinator plans from what it heard (its own stock it knows)
        nd = np.zeros(self.N)
        sp = np.zeros(self.N)
        known = {c}
        nd[ci], sp[ci] = need[ci], surplus[ci]
        reports: dict[str, dict] = {}
        for m in bus.collect(c, day):
            reports.setdefault(m.sender, {})[m.kind] = m
        for n, msgs in reports.items():
            if "stock report" in msgs and "forecast share" in msgs:
                j, f0, units = names.index(n), msgs["forecast share"].forecast[0], msgs["stock report"].units
                known.add(n)
                nd[j] = max(self.cover * f0 - units, 0.0)
                sp[j] = max(units - self.keep * f0, 0.0)
        plan = np.zeros((self.N, self.N), dtype=np.int64)
        for _, i, j in self._arcs:
            if names[i] in known and names[j] in known:
                send = self._round(min(nd[j], sp[i]))
                if send > 0:
                    plan[i, j] += send
                    nd[j] -= send
                    sp[i] -= send
        for i, n in enumerate(names):
            tr = tuple((names[j], int(plan[i, j])) for j in np.flatnonzero(plan[i]))
            if n == c:
                x[i] += self._fit(bus, None, plan[i], avail[i])
            elif n in known:
                bus.send(AllocationPlan(c, n, day, order=0, transfers=tr))
        for i, n in enumerate(names):
            if n == c:
                continue
            for m in bus.collect(n, day):
                if isinstance(m, AllocationPlan):
                    row = np.zeros(self.N, dtype=np.int64)
                    for target, units in m.transfers:
                        row[names.index(target)] += units
                    x[i] += self._fit(bus, m, row, avail[i] - x[i].sum())

    def _fit(self, bus, msg, row: np.ndarray, room) -> np.ndarray:
        """A plan's transfers if the stock allows them; else (``on_conflict``) an error, nothing
        (the plan is discarded as stale) or a trimmed plan, logged."""
        total = int(row.sum())
        if total <= room:
            return row
        reason = f"{total} units planned but only {room} can be shipped"
        if self.on_conflict == "raise":
            label = msg.label() if msg is not None else f"the coordinator's own plan ({self.coordinator})"
            raise MessageError(f"{label}: {reason}")
        if self.on_conflict == "drop" and msg is not None:
            bus.discard(msg, reason)
            return np.zeros_like(row)
        out = np.floor(row * (max(room, 0) / total) / self.round_to).astype(np.int64) * self.round_to
        if msg is not None:
            bus.note(msg, f"trimmed to {int(out.sum())}")
        return out


#: the four protocols by short name
PROTOCOLS = {"isolated": Isolated, "shared": SharedInformation, "negotiated": Negotiated,
             "central": CentralCoordinator}
