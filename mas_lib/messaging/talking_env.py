"""The PettingZoo environment with a message bus: messages are part of the action and of the
observation (paper 3.1.1(4); notebook 07).

:class:`TalkingEnv` wraps a :class:`~mas_lib.sim.env.MultiWarehouseEnv` without changing it (the
simulation's hot path stays untouched). An agent's action may carry a ``"messages"`` list of
:class:`~mas_lib.messaging.Message` besides ``replenish`` and ``transfer``; they are sent through
the env's :class:`~mas_lib.messaging.MessageBus` (each must be sent by that agent and dated today).
Each observation is a dict ``{"observation": <the wrapped env's observation>, "inbox": [messages
delivered by the next decision]}``, so what an agent receives is part of what it observes.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..sim.env import MultiWarehouseEnv
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
        self.bus = MessageBus(self.possible_agents, latency, drop_rate, seed)

    @property
    def day(self) -> int:
        """Today's day index (the next decision) [days]."""
        return int(self.env.core.t)

    def _wrap(self, obs: dict) -> dict:
        return {a: {"observation": o, "inbox": self.bus.collect(a, self.day)} for a, o in obs.items()}

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Reset the env and the bus; observations carry empty inboxes."""
        obs, infos = self.env.reset(seed=seed, options=options)
        self.bus.reset()
        return self._wrap(obs), infos

    def step(self, actions: Mapping[str, object]):
        """Send each agent's ``"messages"``, then step the wrapped env with the rest of the action."""
        plain = {}
        for agent, act in actions.items():
            if isinstance(act, Mapping) and "messages" in act:
                for m in act["messages"]:
                    if not isinstance(m, Message):
                        raise MessageError(f"warehouse {agent!r}: messages item {m!r} is not allowed; allowed: a Message")
                    if m.sender != agent or m.day != self.day:
                        raise MessageError(f"{m.label()}: sent in {agent!r}'s action on day {self.day}; allowed: "
                                           f"sender {agent!r} and day {self.day}")
                    self.bus.send(m)
                act = {k: v for k, v in act.items() if k != "messages"}
            plain[agent] = act
        obs, rewards, terms, truncs, infos = self.env.step(plain)
        return self._wrap(obs), rewards, terms, truncs, infos

    def log(self):
        """The bus's message log (a DataFrame)."""
        return self.bus.log()
