"""Two kinds of teams that act through messages (paper 3.1.1(4), 4.4-4.5; notebook 07).

**The central learner, executed through messages** (:class:`CentralByMessages`). One table
``Q(s, a_A, a_B)`` over the joint stock and the joint action (546 x 1,936 entries on the paper
instance) is learned by central tabular Q-learning on the team reward
(:func:`mas_lib.decide.tabular.train`, ``"central"`` form). It is the central learner: only its
*execution* is spread over the two warehouses, by variable elimination over the bus (a
coordination graph with one edge, Guestrin, Lagoudakis & Parr 2002):

1. each warehouse sends the other a :class:`~mas_lib.messaging.StockReport` (so both know ``s``);
2. B sends A a :class:`~mas_lib.messaging.ValueMessage` ``v(a_A) = max_{a_B} Q(s, a_A, a_B)``;
3. A picks ``a_A = argmax v`` and sends a :class:`~mas_lib.messaging.PlanAnnouncement`;
4. B best-responds: ``a_B = argmax_{a_B} Q(s, a_A, a_B)``.

The pair plays exactly the central learner's greedy joint action in every state (4 messages,
46 numbers a day), so its results are the central learner's, seed for seed.

**Agents that decide alone** (:class:`MessagingAgents`). Each warehouse keeps its own table
``Q_i(o_i, a_i)`` (trained by :func:`mas_lib.decide.coordination.train_decentralised`) over an
observation ``o_i`` made of its **own** features and the stock reports it **received** this
morning: one :class:`~mas_lib.messaging.StockReport` per neighbour, one number each (the stock
rounded down to the lower edge of one of ``message_levels`` bands), sent on a
:class:`~mas_lib.messaging.MessageBus` with latency 0. The same tables trained without messages
(``messages=False``) are isolated agents; the difference of the two exact costs is the value of
communication.

Latency 0 (a report of this morning's stock, read before deciding) is chosen so that each
agent's policy is a function of today's state, which the exact evaluator
(:func:`mas_lib.decide.planning.evaluate_policy`) enumerates; a report with latency 1 would
describe yesterday's stock, which the planner's state does not hold.
"""

from __future__ import annotations

import numpy as np

from ..decide.instances import get_instance
from ..decide.policies import Policy
from ..decide.tabular.policy import QPolicy
from ..sim.config import EnvConfig
from ..sim.state import SystemState
from ..validation import not_allowed
from .bus import MessageBus
from .messages import PlanAnnouncement, StockReport, ValueMessage

__all__ = ["CentralByMessages", "MessagingAgents", "train_central_by_messages"]


class CentralByMessages(Policy):
    """The central learner's table executed by two warehouses through messages: variable
    elimination over a :class:`~mas_lib.messaging.MessageBus` (see the module docstring). It
    plays the central learner's greedy joint action in every state.

    Args:
        team: a central-form :class:`~mas_lib.decide.tabular.QPolicy` of a two-warehouse network
            (its table is the coordination graph's edge factor).
        log_copies: copies whose messages go through a logged bus (the others are counted only;
            every copy decides the same way).
    """

    name = "central learner (executed through messages)"

    def __init__(self, team: QPolicy, log_copies: int = 1):
        if not isinstance(team, QPolicy) or team.form != "central":
            raise not_allowed("CentralByMessages.team", type(team).__name__, "a central-form QPolicy", ValueError)
        if team.net.N != 2:
            raise not_allowed("CentralByMessages.team warehouses", team.net.N,
                              "2 (variable elimination here is written for one edge)", ValueError)
        super().__init__(team.config, round_to=1)
        self.team = team
        self.sizes = tuple(team.net.discrete_sizes)
        self.log_copies = int(log_copies)
        self.buses: list[MessageBus] = []
        self.messages_per_decision = 4
        self.numbers_per_decision = 2 + int(self.sizes[0]) + 1  # two stocks, A's value vector, A's plan

    def act(self, state):
        names = list(self.net.names)
        s = self.team.encoder.encode(state)[:, 0]
        Q = self.team.values(0)[s].reshape(-1, *self.sizes)  # (B, A_A, A_B)
        v = Q.max(axis=2)  # B's value message to A
        a_a = v.argmax(axis=1)  # A decides alone from the message
        a_b = Q[np.arange(len(s)), a_a].argmax(axis=1)  # B best-responds to A's announcement
        t = int(state.t)
        if t == 0 or len(self.buses) != min(self.log_copies, len(s)):
            self.buses = [MessageBus(names) for _ in range(min(self.log_copies, len(s)))]
        for b, bus in enumerate(self.buses):
            bus.send(StockReport(names[0], names[1], t, units=int(state.on_hand[b, 0])))
            bus.send(StockReport(names[1], names[0], t, units=int(state.on_hand[b, 1])))
            bus.send(ValueMessage(names[1], names[0], t, values=tuple(np.round(v[b], 2).tolist())))
            bus.send(PlanAnnouncement(names[0], names[1], t, action=int(a_a[b])))
        return self.team.actions.decode(np.stack([a_a, a_b], axis=1))

    def describe(self) -> str:
        return "2 stock reports + value message + plan announcement per day"


def train_central_by_messages(instance: str, seed: int = 0, steps: int = 20000, batch: int = 1024) -> dict[str, float]:
    """Sweep job (for :func:`mas_lib.scale.run_sweep`): learn the team table of a named two-warehouse
    planner instance (``"paper"``, ``"cross_border"``) by tabular Q-learning (the best preset,
    ``steps`` days on ``batch`` copies, ``seed``), execute it as a :class:`CentralByMessages` and
    evaluate that exactly.

    Returns ``gap_pct`` (percent above the optimal discounted cost from the start state),
    ``daily_cost`` [money/day] and ``transitions`` (days x copies simulated). The exact model and
    optimum are built once per process. ``benchmarks/bench_coordination.py`` runs it over seeds;
    paper sections 4.4-4.5 (the central learner; beyond the paper: its execution by messages).
    """
    from ..decide import planning
    from ..decide.tabular import best_preset, train

    inst = get_instance(instance)
    model, optimum = planning.reference(inst)
    team = train(inst.config, best_preset(gamma=inst.gamma, steps=steps, batch=batch, seed=seed)).policy
    value = planning.evaluate_policy(model, CentralByMessages(team))
    return {"gap_pct": planning.gap(value, optimum), "daily_cost": value.daily_cost, "transitions": steps * batch}


class MessagingAgents(Policy):
    """Warehouses that each act greedily in their **own** table on their own features plus the
    stock reports they received on a :class:`~mas_lib.messaging.MessageBus` (latency 0; see the
    module docstring). Notebook 07; paper 3.1.1(4).

    Args:
        agents: a :class:`~mas_lib.decide.tabular.QPolicy` with one table per warehouse, as
            :func:`mas_lib.decide.coordination.train_decentralised` returns: the ``"shared"``
            form (own features + reported neighbour stock) or the ``"independent"`` form (own
            features only: nothing is sent).
        config: the network it is to act in (default: the one it was trained on); one of another
            shape (warehouses, names, capacities, lead times, action grids) is refused.
        log_copies: copies whose reports go through a logged bus; the other copies' reports are
            the same numbers, counted (``messages_sent``) but not logged.

    Each neighbour's report carries one number, the stock rounded down to its band's lower edge
    (:meth:`~mas_lib.decide.tabular.StateEncoder.level_floor`); the receiver turns it into the
    level its table indexes. For the logged copies the receiver reads the number off the bus.
    """

    name = "agents on own stock + messages"

    def __init__(self, agents: QPolicy, config: EnvConfig | None = None, log_copies: int = 1):
        if not isinstance(agents, QPolicy) or agents.form not in ("shared", "independent"):
            form = getattr(agents, "form", type(agents).__name__)
            raise not_allowed("MessagingAgents.agents", form,
                              "a QPolicy with one table per warehouse ('shared' or 'independent' form)", ValueError)
        config = agents.config if config is None else config
        mine, theirs = agents.net, config.network
        for field in ("N", "names", "capacity", "lead_time", "discrete_sizes"):
            a, b = getattr(mine, field), getattr(theirs, field)
            if not np.array_equal(np.asarray(a), np.asarray(b)):
                raise not_allowed(f"MessagingAgents network {field}", np.asarray(b).tolist(),
                                  f"the trained agents' {np.asarray(a).tolist()}", ValueError)
        super().__init__(config, round_to=1)
        self.agents = agents
        self.encoder = enc = agents.encoder
        self.log_copies = int(log_copies)
        self.buses: list[MessageBus] = []
        self.reports = [(j, k, f) for k in range(self.N) for f in enc.features[k] if f.kind == "shared_stock"
                        for j in [f.warehouse]]
        self.messages_per_decision = len(self.reports)
        self.numbers_per_decision = len(self.reports)  # one number per stock report
        self.sent = 0

    def observe(self, state: SystemState) -> np.ndarray:
        """Each agent's state index ``(B, N)``: its own features read from its own warehouse, and
        each neighbour's stock from the report that neighbour sent today (sent here, over the bus
        for the logged copies)."""
        names = list(self.net.names)
        enc, t, B = self.encoder, int(state.t), state.batch_size
        if t == 0 or len(self.buses) != min(self.log_copies, B):
            self.buses = [MessageBus(names) for _ in range(min(self.log_copies, B))]
        received: dict[tuple[int, int], np.ndarray] = {}
        for j, k, f in self.reports:
            received[(j, k)] = enc.level_floor(j, enc.stock_level(j, state.on_hand[:, j], f.levels), f.levels)
            for b, bus in enumerate(self.buses):
                bus.send(StockReport(names[j], names[k], t, units=int(received[(j, k)][b])))
            self.sent += B
        for b, bus in enumerate(self.buses):  # the logged copies read the numbers off the bus
            for k in range(self.N):
                for m in bus.collect(names[k], t, StockReport):
                    received[(names.index(m.sender), k)][b] = m.units
        out = np.empty((B, self.N), dtype=np.int64)
        for k in range(self.N):
            coords = []
            for f in enc.features[k]:
                if f.kind == "shared_stock":
                    coords.append(enc.stock_level(f.warehouse, received[(f.warehouse, k)], f.levels))
                else:
                    coords.append(enc.feature_level(f, state))  # own features: f.warehouse == k
            out[:, k] = enc.index(coords, k)
        return out

    def act(self, state: SystemState):
        if state.on_hand.shape[1] != self.N:
            raise not_allowed("MessagingAgents state warehouses", state.on_hand.shape[1], f"{self.N}", ValueError)
        return self.agents.actions.decode(self.agents.greedy_actions(self.observe(state)))

    def messages_sent(self) -> int:
        """Stock reports sent so far, over all copies."""
        return self.sent

    def describe(self) -> str:
        return f"{self.messages_per_decision} stock reports ({self.numbers_per_decision} numbers) per day, latency 0"
