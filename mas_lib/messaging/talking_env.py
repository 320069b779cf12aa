"""The PettingZoo environment with a message bus: messages are part of the action and of the
observation (paper 3.1.1(4); notebook 07).

:class:`TalkingEnv` wraps a :class:`~mas_lib.sim.env.MultiWarehouseEnv` without changing it (the
simulation's hot path stays untouched). An agent's action may carry a ``"messages"`` list of
:class:`~mas_lib.messaging.Message` besides ``replenish`` and ``transfer``; they are sent through
the env's :class:`~mas_lib.messaging.MessageBus` (each must be sent by that agent and dated today;
``"messages": None`` means no messages). A step is all or nothing: the messages are checked and
the wrapped env steps before any message is sent, so a rejected action (or a malformed message)
sends nothing and a retry delivers one copy. The bus's drops are drawn from a stream derived from
the bus ``seed`` and the episode's demand seed, so ``reset(seed=s)`` twice gives the same drops and
different seeds give independent ones.
Each observation is a dict ``{"observation": <the wrapped env's observation>, "inbox": [messages
delivered by the next decision]}``, so what an agent receives is part of what it observes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..sim.env import MultiWarehouseEnv
from ..validation import check_whole, not_allowed
from .bus import MessageBus
from .messages import Message, MessageError

__all__ = ["TalkingEnv"]


class TalkingEnv:
    """A :class:`MultiWarehouseEnv` whose agents can talk (see the module docstring).

    Args:
        env: the environment to wrap.
        latency, drop_rate, seed: the bus's settings (:class:`MessageBus`).
    """

    def __init__(self, env: MultiWarehouseEnv, latency: int = 0, drop_rate: float = 0.0, seed: int = 0):
        self.env = env
        self.possible_agents = list(env.possible_agents)
        self.seed = check_whole(seed, "TalkingEnv.seed", error=ValueError)
        self.bus = MessageBus(self.possible_agents, latency, drop_rate, seed)

    @property
    def day(self) -> int:
        """Today's day index (the next decision) [days]."""
        return int(self.env.core.t)

    def _wrap(self, obs: dict) -> dict:
        return {a: {"observation": o, "inbox": self.bus.collect(a, self.day)} for a, o in obs.items()}

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Reset the env and the bus; observations carry empty inboxes. The bus's drops restart from
        ``SeedSequence(bus seed, spawn_key=(episode seed words..., copy))``, the episode seed being
        the one the wrapped env recorded (``env.core.seed``, drawn fresh when ``seed`` is None)."""
        obs, infos = self.env.reset(seed=seed, options=options)
        core = self.env.core
        words = (core.seed,) if np.ndim(core.seed) == 0 else tuple(core.seed)
        copy = int((options or {}).get("copy", 0))
        self.bus.reset(np.random.SeedSequence(self.seed, spawn_key=(*words, copy)))
        return self._wrap(obs), infos

    def _messages(self, agent: str, act) -> list[Message]:
        """The checked messages of one agent's action (none if it has no ``"messages"`` or None)."""
        if not isinstance(act, Mapping) or act.get("messages") is None:
            return []
        msgs = act["messages"]
        if not isinstance(msgs, (list, tuple)):
            raise not_allowed(f"warehouse {agent!r}: messages", msgs, "a list of Message (or None for none)",
                              MessageError)
        for m in msgs:
            if not isinstance(m, Message):
                raise MessageError(f"warehouse {agent!r}: messages item {m!r} is not allowed; allowed: a Message")
            if m.sender != agent or m.day != self.day:
                raise MessageError(f"{m.label()}: sent in {agent!r}'s action on day {self.day}; allowed: "
                                   f"sender {agent!r} and day {self.day}")
            self.bus.check(m)
        return list(msgs)

    def step(self, actions: Mapping[str, object]):
        """Check each agent's ``"messages"``, step the wrapped env with the rest of the action, then
        send the messages (nothing is sent if the messages or the action are rejected)."""
        plain, outbox = {}, []
        for agent, act in actions.items():
            outbox += self._messages(agent, act)
            if isinstance(act, Mapping) and "messages" in act:
                act = {k: v for k, v in act.items() if k != "messages"}
            plain[agent] = act
        obs, rewards, terms, truncs, infos = self.env.step(plain)
        for m in outbox:
            self.bus.send(m)
        return self._wrap(obs), rewards, terms, truncs, infos

    def log(self):
        """The bus's message log (a DataFrame)."""
        return self.bus.log()
