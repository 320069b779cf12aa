"""Open requests as real messages: the paper's "A has issued an order of 50 units to B" (paper 4.1, 4.5).

An :class:`~mas_lib.sim.config.EnvConfig` can start with open requests
(:class:`~mas_lib.sim.config.Request`); the batch core keeps them as numbers
(``core.requests[b, supplier, requester]``) and a transfer from the supplier to the requester
closes them. Here they become messages: :func:`requests_as_messages` writes each open request as a
:class:`~mas_lib.messaging.TransferRequest`, and :func:`fulfil_requests` lets each supplier answer
the requests delivered to it (offer what it can ship, the requester accepts, the supplier ships),
returning the transfers in the environment's action format. The paper's two-day replay can send
A's request on day 1 and takes B's day-2 transfer of 50 units from the answer, which closes it.
"""

from __future__ import annotations

import numpy as np

from ..sim.config import EnvConfig
from ..sim.core import BatchCore
from ..validation import check_whole
from .bus import MessageBus
from .messages import Accept, Reject, TransferOffer, TransferRequest

__all__ = ["requests_as_messages", "fulfil_requests"]


def requests_as_messages(config: EnvConfig, day: int = 0) -> list[TransferRequest]:
    """One :class:`TransferRequest` (requester -> supplier, ``units``) per open request of ``config``,
    dated ``day`` [days]; request ids count from 0. Paper 4.1."""
    day = check_whole(day, "requests_as_messages.day", unit="days", error=ValueError)
    return [TransferRequest(r.requester, r.supplier, day, units=r.units, request_id=k)
            for k, r in enumerate(config.requests)]


def fulfil_requests(bus: MessageBus, core: BatchCore, day: int, copy: int = 0) -> dict[str, dict[str, int]]:
    """Every supplier answers the transfer requests delivered to it by ``day``: it offers
    ``min(requested, on hand)`` units (whole units, its stock in copy ``copy`` of ``core``; a link to
    the requester is required), the requester accepts an offer of at least one unit (and rejects an
    empty one), and the supplier ships what was accepted. All messages go through ``bus``; each
    step reads only its own message types (requests, offers, accepts and rejects), so any other
    message stays pending for its reader. With latency 0 a request is answered and shipped in one
    call; with latency 1 each step takes a day (request sent on day ``t``: offer on ``t + 1``,
    accept on ``t + 2``, shipped by the call on ``t + 3``), so call it every day. An accepted offer
    that no longer fits the supplier's stock on the day it ships is shipped in part and logged with
    status ``"trimmed to <units>"``. Returns ``{supplier: {requester: units}}`` -- the ``transfer``
    part of the environment's action. Paper 4.1, 4.5 (the two-day replay of the paper scenario)."""
    day = check_whole(day, "fulfil_requests.day", unit="days", error=ValueError)
    net = core.net
    left = np.asarray(core.on_hand[copy], dtype=np.int64).copy()
    out: dict[str, dict[str, int]] = {}
    inboxes = {supplier: bus.collect(supplier, day, TransferRequest) for supplier in net.names}
    for s, supplier in enumerate(net.names):
        for m in inboxes[supplier]:
            r = net.index(m.sender)
            if not net.arc[s, r]:
                raise ValueError(f"{m.label()}: there is no link {supplier}->{m.sender} to ship on")
            units = int(min(m.units, left[s]))
            offer = TransferOffer(supplier, m.sender, day, units=units, unit_cost=float(net.arc_unit_cost[s, r]),
                                  request_id=m.request_id, offer_id=m.request_id)
            bus.send(offer)
            left[s] -= units
    received = {requester: bus.collect(requester, day, TransferOffer) for requester in net.names}
    for requester, inbox in received.items():
        for m in inbox:
            if m.units > 0:
                bus.send(Accept(requester, m.sender, day, offer_id=m.offer_id, units=m.units))
            else:
                bus.send(Reject(requester, m.sender, day, offer_id=m.offer_id))
    stock = np.asarray(core.on_hand[copy], dtype=np.int64).copy()
    for s, supplier in enumerate(net.names):
        for m in bus.collect(supplier, day, (Accept, Reject)):
            if isinstance(m, Accept):
                units = int(min(m.units, stock[s]))
                if units < m.units:
                    bus.note(m, f"trimmed to {units}")
                stock[s] -= units
                out.setdefault(supplier, {})
                out[supplier][m.sender] = out[supplier].get(m.sender, 0) + units
    return out
