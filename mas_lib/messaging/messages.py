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

from ..validation import (
    ConfigError,
    Validated,
    check_number,
    check_whole,
    checked,
    not_allowed,
    number,
    whole,
)

__all__ = [
    "Message", "StockReport", "ForecastShare", "TransferRequest", "TransferOffer", "Accept", "Reject",
    "AllocationPlan", "ValueMessage", "PlanAnnouncement", "MESSAGE_TYPES", "MessageError",
]


class MessageError(ConfigError):
    """A malformed or impossible message (the text names the message and the field)."""


def _warehouse(value, field: str, error: type[Exception] = MessageError) -> str:
    """A sender or receiver: a non-empty warehouse name (the bus checks that it exists)."""
    if not isinstance(value, str) or not value:
        raise error(f"{field} = {value!r} is not allowed; allowed: a warehouse name")
    return value


def _units(default: int = 0):
    """A field of whole, non-negative units [units]."""
    return whole(default, unit="units")


@dataclass(frozen=True)
class Message(Validated):
    """Base of every message: ``sender`` and ``receiver`` (warehouse names) and ``day`` [days]."""

    sender: str = checked(_warehouse)
    receiver: str = checked(_warehouse)
    day: int = whole(unit="days")

    kind = "message"
    _error = MessageError

    def _owner(self) -> str:
        return self.label()

    def _check_together(self) -> None:
        """Sender and receiver differ (each type's content fields carry their own checks)."""
        if self.sender == self.receiver:
            raise MessageError(f"{self.label()}: sender and receiver are both {self.sender!r}; "
                               "allowed: two different warehouses")

    def label(self) -> str:
        """``TransferRequest(A->B, day 0)``: how errors name the message."""
        return f"{type(self).__name__}({self.sender}->{self.receiver}, day {self.day})"

    def content(self) -> dict:
        """The typed content as a plain dict (what the log's ``content`` column shows)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("sender", "receiver", "day")}


@dataclass(frozen=True)
class StockReport(Message):
    """The sender's on-hand stock [units] (information sharing)."""

    units: int = _units()
    kind = "stock report"


def _forecast(value, field: str, error: type[Exception] = MessageError) -> tuple[float, ...]:
    """A non-empty tuple (or list) of numbers >= 0 [units/day], stored as a tuple of floats."""
    if not isinstance(value, (tuple, list)) or not value:
        raise error(f"{field} = {value!r} is not allowed; allowed: a non-empty "
                    "tuple of numbers >= 0 [units/day]")
    return tuple(check_number(v, f"{field}[{k}]", low=0, unit="units/day", error=error)
                 for k, v in enumerate(value))


@dataclass(frozen=True)
class ForecastShare(Message):
    """The sender's demand forecast for the next days [units/day], a tuple of numbers >= 0."""

    forecast: tuple = checked(_forecast, ())
    kind = "forecast share"


@dataclass(frozen=True)
class TransferRequest(Message):
    """The sender asks the receiver for ``units`` [units]; ``request_id`` ties offers to it."""

    units: int = _units()
    request_id: int = whole(0)
    kind = "transfer request"


@dataclass(frozen=True)
class TransferOffer(Message):
    """The sender offers ``units`` [units] at ``unit_cost`` [money/unit] in answer to ``request_id``."""

    units: int = _units()
    unit_cost: float = number(0.0, low=0, unit="money/unit")
    request_id: int = whole(0)
    offer_id: int = whole(0)
    kind = "transfer offer"


@dataclass(frozen=True)
class Accept(Message):
    """The requester accepts offer ``offer_id`` for ``units`` [units] (at most the offered units)."""

    offer_id: int = whole(0)
    units: int = _units()
    kind = "accept"


@dataclass(frozen=True)
class Reject(Message):
    """The requester turns down offer ``offer_id``."""

    offer_id: int = whole(0)
    kind = "reject"


def _transfers(value, field: str, error: type[Exception] = MessageError) -> tuple[tuple[str, int], ...]:
    """``(target name, units)`` pairs [units], stored as a tuple of tuples."""
    out = []
    for k, item in enumerate(value):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
            raise error(f"{field}[{k}] = {item!r} is not allowed; allowed: (target name, units)")
        out.append((item[0], check_whole(item[1], f"{field}[{k}]", unit="units", error=error)))
    return tuple(out)


@dataclass(frozen=True)
class AllocationPlan(Message):
    """A coordinator's (or a hub's) decision for the receiver: replenish ``order`` units and ship
    ``transfers`` (a tuple of ``(target, units)``) [units]. The bus refuses a target that is not
    one of its warehouses."""

    order: int = _units()
    transfers: tuple = checked(_transfers, ())
    kind = "allocation plan"


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


def _values(value, field: str, error: type[Exception] = MessageError) -> tuple[float, ...]:
    """A non-empty tuple (or list) of :func:`_value` entries, stored as a tuple of floats."""
    if not isinstance(value, (tuple, list)) or not value:
        raise not_allowed(field, value, f"a non-empty tuple of {_VALUE}", error)
    return tuple(_value(v, f"{field}[{k}]") for k, v in enumerate(value))


@dataclass(frozen=True)
class ValueMessage(Message):
    """Coordination-graph message: ``values[k]`` is the best team value [money] the sender can
    reach if the receiver takes its action ``k`` (variable elimination, Guestrin et al. 2002): a
    non-empty tuple (or list) of numbers, kept as a tuple of floats; each is finite, or ``-inf``
    when no reply of the sender is feasible after action ``k`` (NaN and ``+inf`` are refused)."""

    values: tuple = checked(_values, ())
    kind = "value message"


@dataclass(frozen=True)
class PlanAnnouncement(Message):
    """The sender announces its chosen ``Discrete`` action index (for the receiver to best-respond)."""

    action: int = whole(0)
    kind = "plan"


#: every message type by its ``kind``
MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.kind: cls for cls in (StockReport, ForecastShare, TransferRequest, TransferOffer, Accept, Reject,
                              AllocationPlan, ValueMessage, PlanAnnouncement)
}
