"""Typed messages between warehouse agents (paper 3.1.1(2)-(4), 4.1; notebook 07).

A message is a small frozen dataclass: who sends it, to whom, on which day, and a typed content.
Construction validates the content with :mod:`mas_lib.validation` (whole, non-negative units,
finite costs), so a malformed message fails where it is written, naming the message. Whether
sender and receiver exist is checked by the :class:`~mas_lib.messaging.bus.MessageBus`, which
knows the network.

=====================  ====================================================================
:class:`StockReport`   "I have ``units`` on hand" (information sharing, 3.1.1(4))
:class:`ForecastShare` "my forecast for the next days is ``forecast``" [units/day]
:class:`TransferRequest` "please send me ``units``" (the section 4 "order of 50 units")
:class:`TransferOffer`   "I can send ``units`` at ``unit_cost`` per unit" (answers a request)
:class:`Accept` / :class:`Reject`  the requester's answer to an offer
:class:`AllocationPlan`  a coordinator's or hub's decision: ``units`` for the receiver (3.1.1(2))
:class:`ValueMessage`    a coordination-graph message: the sender's best value for each of the
                         receiver's actions (variable elimination)
:class:`PlanAnnouncement`  "I will take action ``action``" (so the receiver can best-respond)
=====================  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..validation import ConfigError, check_number, check_whole, not_allowed

__all__ = [
    "Message", "StockReport", "ForecastShare", "TransferRequest", "TransferOffer", "Accept", "Reject",
    "AllocationPlan", "ValueMessage", "PlanAnnouncement", "MESSAGE_TYPES", "MessageError",
]


class MessageError(ConfigError):
    """A malformed or impossible message (the text names the message and the field)."""


@dataclass(frozen=True)
class Message:
    """Base of every message: ``sender`` and ``receiver`` (warehouse names) and ``day`` [days]."""

    sender: str
    receiver: str
    day: int

    kind = "message"

    def __post_init__(self):
        for name in ("sender", "receiver"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v:
                raise MessageError(f"{self.label()}.{name} = {v!r} is not allowed; allowed: a warehouse name")
        if self.sender == self.receiver:
            raise MessageError(f"{self.label()}: sender and receiver are both {self.sender!r}; "
                               "allowed: two different warehouses")
        self._check("day", lambda v, f: check_whole(v, f, unit="days", error=MessageError))
        self.check_content()

    def _check(self, name: str, fn) -> None:
        object.__setattr__(self, name, fn(getattr(self, name), f"{self.label()}.{name}"))

    def check_content(self) -> None:
        """Validate the typed content (overridden by each message type)."""

    def label(self) -> str:
        """``TransferRequest(A->B, day 0)``: how errors name the message."""
        return f"{type(self).__name__}({self.sender}->{self.receiver}, day {self.day})"

    def content(self) -> dict:
        """The typed content as a plain dict (what the log's ``content`` column shows)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("sender", "receiver", "day")}


def _units(msg: Message, name: str) -> None:
    msg._check(name, lambda v, f: check_whole(v, f, unit="units", error=MessageError))


@dataclass(frozen=True)
class StockReport(Message):
    """The sender's on-hand stock [units] (information sharing)."""

    units: int = 0
    kind = "stock report"

    def check_content(self):
        _units(self, "units")


@dataclass(frozen=True)
class ForecastShare(Message):
    """The sender's demand forecast for the next days [units/day], a tuple of numbers >= 0."""

    forecast: tuple = ()
    kind = "forecast share"

    def check_content(self):
        if not isinstance(self.forecast, (tuple, list)) or not self.forecast:
            raise MessageError(f"{self.label()}.forecast = {self.forecast!r} is not allowed; allowed: a non-empty "
                               "tuple of numbers >= 0 [units/day]")
        object.__setattr__(self, "forecast", tuple(
            check_number(v, f"{self.label()}.forecast[{k}]", low=0, unit="units/day", error=MessageError)
            for k, v in enumerate(self.forecast)))


@dataclass(frozen=True)
class TransferRequest(Message):
    """The sender asks the receiver for ``units`` [units]; ``request_id`` ties offers to it."""

    units: int = 0
    request_id: int = 0
    kind = "transfer request"

    def check_content(self):
        _units(self, "units")
        self._check("request_id", lambda v, f: check_whole(v, f, error=MessageError))


@dataclass(frozen=True)
class TransferOffer(Message):
    """The sender offers ``units`` [units] at ``unit_cost`` [money/unit] in answer to ``request_id``."""

    units: int = 0
    unit_cost: float = 0.0
    request_id: int = 0
    offer_id: int = 0
    kind = "transfer offer"

    def check_content(self):
        _units(self, "units")
        self._check("unit_cost", lambda v, f: check_number(v, f, low=0, unit="money/unit", error=MessageError))
        for name in ("request_id", "offer_id"):
            self._check(name, lambda v, f: check_whole(v, f, error=MessageError))


@dataclass(frozen=True)
class Accept(Message):
    """The requester accepts offer ``offer_id`` for ``units`` [units] (at most the offered units)."""

    offer_id: int = 0
    units: int = 0
    kind = "accept"

    def check_content(self):
        _units(self, "units")
        self._check("offer_id", lambda v, f: check_whole(v, f, error=MessageError))


@dataclass(frozen=True)
class Reject(Message):
    """The requester turns down offer ``offer_id``."""

    offer_id: int = 0
    kind = "reject"

    def check_content(self):
        self._check("offer_id", lambda v, f: check_whole(v, f, error=MessageError))


@dataclass(frozen=True)
class AllocationPlan(Message):
    """A coordinator's (or a hub's) decision for the receiver: replenish ``order`` units and ship
    ``transfers`` (a tuple of ``(target, units)``) [units]. The bus refuses a target that is not
    one of its warehouses."""

    order: int = 0
    transfers: tuple = ()
    kind = "allocation plan"

    def check_content(self):
        _units(self, "order")
        out = []
        for k, item in enumerate(self.transfers):
            if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
                raise MessageError(f"{self.label()}.transfers[{k}] = {item!r} is not allowed; allowed: "
                                   "(target name, units)")
            out.append((item[0], check_whole(item[1], f"{self.label()}.transfers[{k}]", unit="units",
                                             error=MessageError)))
        object.__setattr__(self, "transfers", tuple(out))


_VALUE = "finite numbers, or -inf for an action with no feasible reply [money]"


def _value(v, field: str) -> float:
    """One entry of a value message: a finite number or ``-inf`` [money]."""
    try:
        x = check_number(v, field, allow_inf=True, error=MessageError)
    except MessageError:
        x = None
    if x is None or x == float("inf"):
        raise not_allowed(field, v, _VALUE, MessageError)
    return x


@dataclass(frozen=True)
class ValueMessage(Message):
    """Coordination-graph message: ``values[k]`` is the best team value [money] the sender can
    reach if the receiver takes its action ``k`` (variable elimination, Guestrin et al. 2002): a
    non-empty tuple (or list) of numbers, kept as a tuple of floats; each is finite, or ``-inf``
    when no reply of the sender is feasible after action ``k`` (NaN and ``+inf`` are refused)."""

    values: tuple = ()
    kind = "value message"

    def check_content(self):
        if not isinstance(self.values, (tuple, list)) or not self.values:
            raise not_allowed(f"{self.label()}.values", self.values, f"a non-empty tuple of {_VALUE}", MessageError)
        object.__setattr__(self, "values", tuple(_value(v, f"{self.label()}.values[{k}]")
                                                 for k, v in enumerate(self.values)))


@dataclass(frozen=True)
class PlanAnnouncement(Message):
    """The sender announces its chosen ``Discrete`` action index (for the receiver to best-respond)."""

    action: int = 0
    kind = "plan"

    def check_content(self):
        self._check("action", lambda v, f: check_whole(v, f, error=MessageError))


#: every message type by its ``kind``
MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.kind: cls for cls in (StockReport, ForecastShare, TransferRequest, TransferOffer, Accept, Reject,
                              AllocationPlan, ValueMessage, PlanAnnouncement)
}
