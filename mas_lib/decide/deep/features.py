"""What the networks see: observations scaled and encoded in ONE place, and the action masks
(paper 3.1.1(4), 3.1.2(1)-(2), 3.1.2(4); notebook 09).

Every learner of :mod:`mas_lib.decide.deep` reads the agents' observations through
:class:`ObservationEncoder`, whether they come from the batch core (a
:class:`~mas_lib.sim.state.SystemState`, via :class:`~mas_lib.sim.observe.ObservationSpec`) or from
the PettingZoo :class:`~mas_lib.sim.env.MultiWarehouseEnv` (its observation dict, built by the same
spec) -- so the two paths cannot drift apart.

**Encoding.** From warehouse ``i``'s observation vector the encoder keeps the stock features,
which (for the stationary instances of the library) are the whole Markov state:

==========================  ================================  ==========================
observation entry           scaled as                         range
==========================  ================================  ==========================
``on_hand``                 units / capacity_i                0-1
``pipeline_day+k``          units / max_order_i               0-1
``inbound_transfers``       units / capacity_i                0-1
==========================  ================================  ==========================

and drops the forecast (constant for i.i.d. demand), the requests (none in these instances) and
the episode progress ``t/T`` (training episodes are truncated, not terminated, and the exact
planner evaluates stationary policies). Its "own block" is that short vector; warehouse ``i``'s
actor input is its own block followed by its neighbours' blocks (the paper's information sharing,
3.1.1(4)); the central input (the critic, the DQN) is every block in warehouse order.

**Masks.** ``ActionMasks`` marks the feasible ``Discrete`` actions of each warehouse (ship at most
what is on hand, see :meth:`mas_lib.decide.tabular.ActionTable.feasible`) and the feasible joint
actions (their product; joint index as ``config.network.joint_to_agents``).
"""

from __future__ import annotations

import math

import numpy as np

from ...sim.config import EnvConfig
from ...sim.observe import ObservationSpec
from ...sim.state import SystemState
from ..tabular.encoding import ActionTable

__all__ = ["ObservationEncoder", "ActionMasks"]

_KEEP = ("on_hand [units]", "inbound_transfers [units]")


class ObservationEncoder:
    """Scale and arrange the agents' observations for the networks (see the module docstring).

    Attributes:
        own_labels: ``own_labels[i]`` the kept entries of warehouse ``i``'s observation.
        own_sizes, agent_sizes: lengths of each own block and of each actor input.
        central_size: length of the central input.
    """

    def __init__(self, config: EnvConfig):
        self.config = config
        self.spec = ObservationSpec(config)
        net = config.network
        self.N = net.N
        self.neighbours = [list(nb) for nb in net.neighbours]
        self.own_index: list[np.ndarray] = []
        self.own_scale: list[np.ndarray] = []
        self.own_labels: list[list[str]] = []
        for i, labels in enumerate(self.spec.labels):
            idx, scale = [], []
            for k, lab in enumerate(labels):
                if "." in lab.split(" ")[0]:  # a neighbour's shared entry: read from the neighbour itself
                    continue
                if lab in _KEEP:
                    idx.append(k)
                    scale.append(float(net.capacity[i]))
                elif lab.startswith("pipeline_day+"):
                    idx.append(k)
                    scale.append(float(net.max_order[i]))
            self.own_index.append(np.asarray(idx, dtype=np.intp))
            self.own_scale.append(np.asarray(scale))
            self.own_labels.append([labels[k] for k in idx])
        self.own_sizes = [len(ix) for ix in self.own_index]
        self.agent_sizes = [self.own_sizes[i] + sum(self.own_sizes[j] for j in self.neighbours[i]) for i in range(self.N)]
        self.central_size = int(sum(self.own_sizes))
        self.on_hand_column = [labels.index("on_hand [units]") for labels in self.spec.labels]

    # ---------------------------------------------------------------- from observations
    def check_observations(self, observations: list[np.ndarray]) -> list[np.ndarray]:
        """The per-agent observations as ``(B, sizes[i])`` float arrays; a clear ``ValueError``
        naming the agent, the shape and the expected shape otherwise."""
        if len(observations) != self.N:
            raise ValueError(f"observations for {len(observations)} agents is not allowed; allowed: {self.N} "
                             f"(one per warehouse {self.spec.agents})")
        out = []
        for i, o in enumerate(observations):
            o = np.asarray(o, dtype=np.float64)
            if o.ndim == 1:
                o = o[None, :]
            if o.ndim != 2 or o.shape[1] != self.spec.sizes[i]:
                raise ValueError(
                    f"observation of agent {self.spec.agents[i]!r} has shape {np.shape(observations[i])}; "
                    f"allowed: ({self.spec.sizes[i]},) or (rows, {self.spec.sizes[i]}) -- the layout of "
                    f"ObservationSpec.labels ({self.spec.labels[i][:3]} ...)"
                )
            out.append(o)
        if len({o.shape[0] for o in out}) != 1:
            raise ValueError(f"observations have different numbers of rows {[o.shape[0] for o in out]}; allowed: the same")
        return out

    def own_blocks(self, observations: list[np.ndarray]) -> list[np.ndarray]:
        """Scaled own blocks ``(B, own_sizes[i])`` of every warehouse (the one place of scaling)."""
        obs = self.check_observations(observations)
        return [o[:, ix] / sc for o, ix, sc in zip(obs, self.own_index, self.own_scale, strict=True)]

    def agent_inputs(self, observations: list[np.ndarray]) -> list[np.ndarray]:
        """Actor inputs: own block then the neighbours' blocks ``(B, agent_sizes[i])``."""
        own = self.own_blocks(observations)
        return [np.concatenate([own[i]] + [own[j] for j in self.neighbours[i]], axis=1) for i in range(self.N)]

    def central_input(self, observations: list[np.ndarray]) -> np.ndarray:
        """Central input ``(B, central_size)``: every own block in warehouse order."""
        return np.concatenate(self.own_blocks(observations), axis=1)

    def on_hand(self, observations: list[np.ndarray]) -> np.ndarray:
        """On-hand stock ``(B, N)`` [units] read from the observations (for the action masks)."""
        obs = self.check_observations(observations)
        return np.stack([np.rint(o[:, c]) for o, c in zip(obs, self.on_hand_column, strict=True)], axis=1).astype(np.int64)

    def env_observations(self, obs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """A PettingZoo observation dict -> the per-agent list (in agent order)."""
        missing = [a for a in self.spec.agents if a not in obs]
        if missing:
            raise ValueError(f"observation dict lacks agent(s) {missing}; allowed: a dict with {self.spec.agents}")
        return [np.asarray(obs[a]) for a in self.spec.agents]

    # ---------------------------------------------------------------- from a state
    def observe(self, state: SystemState) -> list[np.ndarray]:
        """The agents' observations of a batch-core state (``ObservationSpec.observe``)."""
        return self.spec.observe(state)


class ActionMasks:
    """Feasible discrete actions per warehouse and jointly (see the module docstring)."""

    def __init__(self, config: EnvConfig):
        self.table = ActionTable(config)
        self.net = config.network
        self.sizes = list(self.table.sizes)
        self.n_joint = math.prod(int(n) for n in self.sizes)  # exact: may exceed int64

    def per_warehouse(self, on_hand: np.ndarray) -> list[np.ndarray]:
        """``[(B, sizes[i]) bool]``: feasible actions of each warehouse with ``on_hand (B, N)`` [units]."""
        on_hand = np.asarray(on_hand)
        return [self.table.feasible(i, on_hand[:, i]) for i in range(len(self.sizes))]

    def joint(self, on_hand: np.ndarray) -> np.ndarray:
        """``(B, n_joint)`` bool: feasible joint actions (warehouse 0 most significant)."""
        masks = self.per_warehouse(on_hand)
        out = masks[0]
        for m in masks[1:]:
            out = (out[:, :, None] & m[:, None, :]).reshape(out.shape[0], -1)
        return out

    def decode_joint(self, joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joint indices ``(B,)`` -> ``(replenish (B,N), transfer (B,N,N))`` [units]."""
        return self.net.decode_discrete(self.net.joint_to_agents(joint))
