"""Decentralised execution of a learned team value by message passing (paper 3.1.1(4), 4.4-4.5; notebook 07).

A **coordination graph** (Guestrin, Lagoudakis & Parr 2002) writes the team's value as a sum of
factors over agents that must coordinate. On the two-warehouse instances the one edge A - B is
the whole graph, so its factor is the team table ``Q(s, a_A, a_B)``; it is learned by tabular
Q-learning on the team reward (:func:`mas_lib.decide.tabular.train` with the ``"central"`` form:
centralised training). Execution is decentralised, by **variable elimination** over the bus:

1. each warehouse sends the other a :class:`~mas_lib.messaging.StockReport` (so both observe the
   joint stock ``s``);
2. B eliminates itself: it sends A a :class:`~mas_lib.messaging.ValueMessage` with
   ``v(a_A) = max_{a_B} Q(s, a_A, a_B)``, B's best team value for each of A's 44 actions;
3. A picks ``a_A = argmax v`` and sends a :class:`~mas_lib.messaging.PlanAnnouncement`;
4. B best-responds: ``a_B = argmax_{a_B} Q(s, a_A, a_B)``.

Each warehouse chooses its own action from its own observation and the messages it received; the
pair plays exactly the joint greedy action (4 messages a day), so the team is as good as the
central learner. The price: the edge factor is as large as the central table (one entry per
joint action), which is what value decomposition (:mod:`mas_lib.decide.coordination.vdn`) tries, and here fails, to avoid.
"""

from __future__ import annotations

import numpy as np

from ..decide.instances import get_instance
from ..decide.policies import Policy
from ..decide.tabular.policy import QPolicy
from ..validation import not_allowed
from .bus import MessageBus
from .messages import PlanAnnouncement, StockReport, ValueMessage

__all__ = ["CoordinatedPair", "train_coordinated_pair"]


class CoordinatedPair(Policy):
    """Two warehouses that act alone from a learned team table, coordinating by variable
    elimination over a :class:`~mas_lib.messaging.MessageBus` (see the module docstring).

    Args:
        team: a central-form :class:`~mas_lib.decide.tabular.QPolicy` of a two-warehouse network
            (its table is the coordination graph's edge factor).
        log_copies: copies whose messages go through a logged bus (the others are counted only;
            every copy decides the same way).
    """

    name = "coordination graph (variable elimination)"

    def __init__(self, team: QPolicy, log_copies: int = 1):
        if not isinstance(team, QPolicy) or team.form != "central":
            raise not_allowed("CoordinatedPair.team", type(team).__name__, "a central-form QPolicy", ValueError)
        if team.net.N != 2:
            raise not_allowed("CoordinatedPair.team warehouses", team.net.N,
                              "2 (variable elimination here is written for one edge)", ValueError)
        super().__init__(team.config, round_to=1)
        self.team = team
        self.sizes = tuple(team.net.discrete_sizes)
        self.log_copies = int(log_copies)
        self.buses: list[MessageBus] = []
        self.messages_per_decision = 4

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


def train_coordinated_pair(instance: str, seed: int = 0, steps: int = 20000, batch: int = 1024) -> dict[str, float]:
    """Sweep job (for :func:`mas_lib.scale.run_sweep`): learn the team table of a named two-warehouse
    planner instance (``"paper"``, ``"cross_border"``) by tabular Q-learning (the best preset,
    ``steps`` days on ``batch`` copies, ``seed``), execute it as a :class:`CoordinatedPair` and
    evaluate that exactly.

    Returns ``gap_pct`` (percent above the optimal discounted cost from the start state),
    ``daily_cost`` [money/day] and ``transitions`` (days x copies simulated). The exact model and
    optimum are built once per process. ``benchmarks/bench_coordination.py`` runs it over seeds;
    paper sections 4.4-4.5 (beyond the paper: decentralised execution by messages).
    """
    from ..decide import planning
    from ..decide.tabular import best_preset, train

    inst = get_instance(instance)
    model, optimum = planning.reference(inst)
    team = train(inst.config, best_preset(gamma=inst.gamma, steps=steps, batch=batch, seed=seed)).policy
    value = planning.evaluate_policy(model, CoordinatedPair(team))
    return {"gap_pct": planning.gap(value, optimum), "daily_cost": value.daily_cost, "transitions": steps * batch}
