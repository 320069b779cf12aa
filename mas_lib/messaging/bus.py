"""The message bus: delivery with latency 0 or 1 day, optional drops, and a complete log (notebook 07).

:class:`MessageBus` connects the warehouses of one simulation copy. ``send`` checks that sender
and receiver exist (a :class:`~mas_lib.messaging.messages.MessageError` naming the message and
the known warehouses otherwise), decides whether an unreliable link drops it, and records one row
in the log either way: a dropped message is counted and logged with ``status="dropped"``, never
silently lost. ``collect`` hands an agent the messages delivered to it by a given day:

* ``latency=0`` -- delivered at the next decision round of the same day (a protocol can run
  request -> offer -> accept within one day);
* ``latency=1`` -- delivered at the start of the next day's decision.

The log is a :class:`pandas.DataFrame` (:meth:`MessageBus.log`) with one row per message sent
(``status`` ``"delivered"`` or ``"dropped"``): ``day, deliver_day, sender, receiver, type, content,
status``. A reader that cannot act on a delivered message adds a status row for it: ``"trimmed to
<units>"`` (acted on in part) or ``"stale"`` (discarded, e.g. a late accept or plan that no longer
fits the stock; the reason is in ``content["reason"]`` and :attr:`MessageBus.stale` counts them). Paper 3.1.1(4) (information
sharing between warehouse agents) and 4.1 (A's order of 50 units to B is a message).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..validation import check_choice, check_probability, check_whole, not_allowed
from .messages import AllocationPlan, Message, MessageError

__all__ = ["MessageBus", "LOG_COLUMNS", "SENT_STATUSES"]

LOG_COLUMNS = ["day", "deliver_day", "sender", "receiver", "type", "content", "status"]
#: the statuses of the rows that are messages sent (the other rows are status rows)
SENT_STATUSES = ("delivered", "dropped")


class MessageBus:
    """Delivers typed messages between the named warehouses of one copy (notebook 07).

    Args:
        names: the warehouse (agent) names, distinct non-empty strings; a message from, to or
            (an allocation plan's transfer) for any other name is refused.
        latency: 0 (same day, next round) or 1 (next day) [days].
        drop_rate: probability that a message is lost on the way (unreliable links), in [0, 1].
        seed: seed (an int, a ``numpy`` SeedSequence or Generator) of the drop draws.
    """

    def __init__(self, names: Sequence[str], latency: int = 0, drop_rate: float = 0.0,
                 seed: int | np.random.SeedSequence | np.random.Generator | None = 0):
        self.names = tuple(names)
        if not self.names:
            raise not_allowed("MessageBus.names", list(self.names), "one name per warehouse", MessageError)
        for k, n in enumerate(self.names):
            if not isinstance(n, str) or not n:
                raise not_allowed(f"MessageBus.names[{k}]", n, "a warehouse name (a non-empty string)", MessageError)
        twice = [n for n in dict.fromkeys(self.names) if self.names.count(n) > 1]
        if twice:
            raise not_allowed("MessageBus.names", list(self.names), f"distinct warehouse names ({twice[0]!r} appears "
                              f"{self.names.count(twice[0])} times)", MessageError)
        self.latency = check_choice(check_whole(latency, "MessageBus.latency", unit="days"), "MessageBus.latency",
                                    (0, 1))
        self.drop_rate = check_probability(drop_rate, "MessageBus.drop_rate")
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.reset()

    def reset(self, seed: int | np.random.SeedSequence | np.random.Generator | None = None) -> None:
        """Forget every pending message and the log (a new episode); with ``seed``, restart the drop
        draws from it (the same seed gives the same drops)."""
        if seed is not None:
            self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self._pending: dict[str, list[tuple[int, Message]]] = {n: [] for n in self.names}
        self._rows: list[tuple] = []
        self.sent = 0
        self.dropped = 0
        self.stale = 0

    def _known(self, msg: Message, field: str) -> None:
        name = getattr(msg, field)
        if name not in self._pending:
            raise MessageError(f"{msg.label()}.{field} = {name!r} is not allowed; allowed: one of {list(self.names)}")

    def check(self, msg: Message) -> None:
        """Raise the :class:`MessageError` that :meth:`send` would raise for ``msg``, without sending
        it (a caller with several messages checks them all before sending any)."""
        if not isinstance(msg, Message):
            raise MessageError(f"MessageBus.send: {type(msg).__name__} is not allowed; allowed: a Message")
        self._known(msg, "sender")
        self._known(msg, "receiver")
        if isinstance(msg, AllocationPlan):
            for k, (target, _) in enumerate(msg.transfers):
                if target not in self._pending:
                    raise not_allowed(f"{msg.label()}.transfers[{k}] target", target, f"one of {list(self.names)}",
                                      MessageError)

    def send(self, msg: Message) -> bool:
        """Send ``msg``; returns False if the link dropped it (it is logged and counted either way)."""
        self.check(msg)
        deliver = msg.day + self.latency
        lost = self.drop_rate > 0 and self.rng.random() < self.drop_rate
        self.sent += 1
        if lost:
            self.dropped += 1
        else:
            self._pending[msg.receiver].append((deliver, msg))
        self._rows.append((msg.day, deliver, msg.sender, msg.receiver, msg.kind, msg.content(),
                           "dropped" if lost else "delivered"))
        return not lost

    def note(self, msg: Message, status: str) -> None:
        """Add a status row for an already-sent message (e.g. ``"trimmed to 3"`` in clip mode)."""
        self._rows.append((msg.day, msg.day, msg.sender, msg.receiver, msg.kind, msg.content(), status))

    def discard(self, msg: Message, reason: str) -> None:
        """Record that a delivered ``msg`` was not acted on because it came too late (``reason``, e.g.
        "offer 4 is not open"): one ``"stale"`` row in the log and one more in :attr:`stale`."""
        self.stale += 1
        self._rows.append((msg.day, msg.day, msg.sender, msg.receiver, msg.kind,
                           {**msg.content(), "reason": reason}, "stale"))

    def collect(self, name: str, day: int, kinds: type[Message] | tuple[type[Message], ...] | None = None
                ) -> list[Message]:
        """Messages delivered to ``name`` by ``day`` and not collected before, in sending order.

        ``kinds`` (a message class or a tuple of them) collects only messages of those types; every
        other message stays pending for a later ``collect``, so a reader that only answers requests
        never swallows the offers and accepts meant for someone else's reading."""
        if name not in self._pending:
            raise MessageError(f"MessageBus.collect: receiver = {name!r} is not allowed; allowed: one of "
                               f"{list(self.names)}")
        kinds = Message if kinds is None else kinds
        ready, keep = [], []
        for d, m in self._pending[name]:
            (ready if d <= day and isinstance(m, kinds) else keep).append((d, m))
        self._pending[name] = keep
        return [m for _, m in ready]

    def pending(self) -> int:
        """Messages sent but not yet collected."""
        return sum(len(v) for v in self._pending.values())

    def log(self) -> pd.DataFrame:
        """Every message as one row (``LOG_COLUMNS``), in sending order."""
        return pd.DataFrame(self._rows, columns=LOG_COLUMNS)
