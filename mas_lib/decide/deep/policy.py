"""A trained network as a :class:`~mas_lib.decide.policies.Policy`, and what a training run returns
(paper 3.1.2(4), 4.5; notebook 09).

:class:`NetworkPolicy` plays greedily: the DQN's best feasible joint action, or each warehouse
actor's most likely feasible action (decentralised execution: actor ``i`` reads only its input
from :meth:`ObservationEncoder.agent_inputs`). It works on the batch core (``act(state)``, so the
exact planner evaluates it with ``evaluate_policy``) and on the PettingZoo env
(:meth:`NetworkPolicy.env_actions` on the env's observation dict) with the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...sim.config import EnvConfig
from ...sim.state import SystemState
from ...validation import check_choice
from ..policies import Policy
from .features import ActionMasks, ObservationEncoder
from .nn import MLP

__all__ = ["NetworkPolicy", "DeepResult", "Checkpoint", "RunSettings"]

KINDS = ("q", "actors")


class NetworkPolicy(Policy):
    """Greedy play of trained networks (see the module docstring).

    Args:
        config: the environment (with discrete action grids).
        nets: ``[q_network]`` for ``kind="q"`` (central input -> one value per joint action) or one
            actor network per warehouse for ``kind="actors"`` (actor input -> one logit per action).
        kind: ``"q"`` or ``"actors"``.
        name: label in tables.
    """

    def __init__(self, config: EnvConfig, nets: list[MLP], kind: str, name: str = "network"):
        unit = int(np.gcd.reduce([int(v) for v in (*config.order_grid, *config.transfer_grid) if v]))
        super().__init__(config, round_to=max(unit, 1))
        self.kind = check_choice(kind, "NetworkPolicy.kind", KINDS)
        self.encoder = ObservationEncoder(config)
        self.masks = ActionMasks(config)
        self.nets = list(nets)
        self.name = name
        want = [self.encoder.central_size] if kind == "q" else self.encoder.agent_sizes
        outs = [self.masks.n_joint] if kind == "q" else self.masks.sizes
        got = [(n.sizes[0], n.sizes[-1]) for n in self.nets]
        if got != list(zip(want, outs, strict=True)):
            raise ValueError(f"NetworkPolicy.nets (input, output) sizes = {got} is not allowed; "
                             f"allowed: {list(zip(want, outs, strict=True))} for kind {kind!r}")

    def agent_actions(self, observations: list[np.ndarray]) -> np.ndarray:
        """Per-warehouse ``Discrete`` indices ``(B, N)`` from the agents' observations."""
        on_hand = self.encoder.on_hand(observations)
        if self.kind == "q":
            q = self.nets[0](self.encoder.central_input(observations))
            joint = np.argmax(np.where(self.masks.joint(on_hand), q, -np.inf), axis=1)
            return self.net.joint_to_agents(joint)
        inputs = self.encoder.agent_inputs(observations)
        masks = self.masks.per_warehouse(on_hand)
        return np.stack([np.argmax(np.where(m, net(x), -np.inf), axis=1)
                         for net, x, m in zip(self.nets, inputs, masks, strict=True)], axis=1)

    def act(self, state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        """Batch form: ``(replenish (B,N), transfer (B,N,N))`` [units] for every copy."""
        return self.net.decode_discrete(self.agent_actions(self.encoder.observe(state)))

    def env_actions(self, observations: dict[str, np.ndarray]) -> dict[str, int]:
        """PettingZoo form: the env's observation dict -> ``{agent: Discrete index}``."""
        a = self.agent_actions(self.encoder.env_observations(observations))[0]
        return {name: int(a[i]) for i, name in enumerate(self.encoder.spec.agents)}

    def describe(self) -> str:
        return f"{self.kind}: {' | '.join('-'.join(map(str, n.sizes)) for n in self.nets)}"


class RunSettings:
    """What the settings of every deep learner share (:class:`~.dqn.DQNConfig`,
    :class:`~.pg.PGConfig`, both frozen dataclasses with ``days`` and ``copies``)."""

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def transitions(self) -> int:
        """Environment transitions of a run: ``days * copies``."""
        return self.days * self.copies


#: ``checkpoint(transitions, policy)``: called by the trainers at every learning-curve row.
Checkpoint = Callable[[int, "NetworkPolicy"], None]


@dataclass
class DeepResult:
    """What a deep training run returns (the benchmark and notebook 09 read it).

    Attributes:
        policy: the greedy :class:`NetworkPolicy`.
        curve: one row per logging interval: ``transitions`` so far, ``mean_daily_cost``
            [money/day, while exploring] and learner-specific columns (``loss``, ``epsilon`` or
            ``entropy``).
        transitions: environment transitions simulated (days x copies).
        seconds: wall-clock time [s]; cpu_seconds: process CPU time [s].
        settings: the configuration used (a dataclass).
        networks: every trained network by role (``"q"``, ``"actor_A"``, ``"critic"``, ...).
    """

    policy: NetworkPolicy
    curve: pd.DataFrame
    transitions: int
    seconds: float
    cpu_seconds: float
    settings: object
    networks: dict[str, MLP]

    @property
    def throughput(self) -> float:
        """Transitions per wall-clock second [1/s] (depends on the machine)."""
        return self.transitions / self.seconds if self.seconds > 0 else float("inf")

    def to_frame(self) -> pd.DataFrame:
        """The learning curve (a copy): one row per logging interval."""
        return self.curve.copy()

    def summary(self) -> pd.Series:
        """The run in one labelled series: transitions, seconds [s], cpu seconds [s], throughput
        [transitions/s], the last logged mean daily cost [money/day]."""
        return pd.Series({"transitions": self.transitions, "seconds": self.seconds, "cpu_seconds": self.cpu_seconds,
                          "throughput": self.throughput,
                          "final mean daily cost": float(self.curve["mean_daily_cost"].iloc[-1])},
                         name=self.policy.name)
