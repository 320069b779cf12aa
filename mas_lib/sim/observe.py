"""One batched observation builder: what every agent sees, for all B copies at once.

Each warehouse agent observes (paper sections 3.1.1(4), 3.2.1 and 4.2), in this order:

* its own on-hand stock, its backlog (only with backorders), the live slots of its
  replenishment pipeline (``lead_time`` of them), the transfers on the road to it and the units
  other warehouses have asked it to send (``requested_of_me``) [units];
* the forecast of today and the next ``H - 1`` days [units/day];
* the episode's progress ``t / T`` [0-1];
* with ``share_information``: each neighbour's on-hand stock and forecast.

:class:`ObservationSpec` compiles, once per configuration, *where* each of those numbers sits in
one flat per-copy feature vector; :meth:`ObservationSpec.observe` then builds every agent's
observation for all copies with one concatenation and one gather. The PettingZoo environment
(:class:`mas_lib.sim.env.MultiWarehouseEnv`, one copy), the batch rollouts and the learners all
call it, so the labels and the numbers can never drift apart (``MultiWarehouseEnv.observation_labels``
shows the layout).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

import numpy as np

from .config import EnvConfig
from .state import SystemState

__all__ = ["ObservationSpec"]


class ObservationSpec:
    """The observation layout of every agent of a configuration.

    Attributes:
        agents: agent (warehouse) names, in index order.
        labels: ``labels[i]`` names every entry of agent ``i``'s vector (units in brackets).
        sizes: length of each agent's vector.
    """

    def __init__(self, config: EnvConfig):
        net = config.network
        N, H, L = net.N, config.forecast_horizon, net.Lmax
        self.agents = list(net.names)
        self.horizon = H
        self.episode_length = config.episode_length
        self.backorders = bool(config.backorders)
        # offsets of each block in the flat feature vector of one copy
        off = {"on_hand": 0, "backlog": N, "pipeline": 2 * N}
        off["transit"] = off["pipeline"] + N * L
        off["requested"] = off["transit"] + N
        off["forecast"] = off["requested"] + N
        off["progress"] = off["forecast"] + H * N
        self._n_features = off["progress"] + 1
        self.labels: list[list[str]] = []
        index: list[list[int]] = []
        for i, w in enumerate(config.warehouses):
            lab, idx = ["on_hand [units]"], [off["on_hand"] + i]
            if config.backorders:
                lab.append("backlog [units]")
                idx.append(off["backlog"] + i)
            for k in range(w.lead_time):
                lab.append(f"pipeline_day+{k + 1} [units]")
                idx.append(off["pipeline"] + i * L + k)
            lab += ["inbound_transfers [units]", "requested_of_me [units]"]
            idx += [off["transit"] + i, off["requested"] + i]
            for k in range(H):
                lab.append(f"forecast_day+{k} [units]")
                idx.append(off["forecast"] + k * N + i)
            lab.append("episode_progress [0-1]")
            idx.append(off["progress"])
            if config.share_information:
                for j in net.neighbours[i]:
                    n = net.names[j]
                    lab.append(f"{n}.on_hand [units]")
                    idx.append(off["on_hand"] + j)
                    for k in range(H):
                        lab.append(f"{n}.forecast_day+{k} [units]")
                        idx.append(off["forecast"] + k * N + j)
            self.labels.append(lab)
            index.append(idx)
        self.sizes = [len(ix) for ix in index]
        self._gather = np.concatenate([np.asarray(ix, dtype=np.intp) for ix in index])
        self._pick = itemgetter(*self._gather.tolist())  # every agent sees at least 5 numbers
        ends = np.cumsum(self.sizes)
        self._slices = [slice(int(e - n), int(e)) for e, n in zip(ends, self.sizes, strict=True)]
        #: with as many numbers for every agent, observe_one's vectors are the rows of one (N, size) array
        self._rows = (N, self.sizes[0]) if len(set(self.sizes)) == 1 else None

    def features(self, state: SystemState) -> np.ndarray:
        """The flat feature vector ``(B, K)`` float32 of every copy (all warehouses' numbers once)."""
        B = state.batch_size
        progress = np.full((B, 1), min(state.t, self.episode_length) / self.episode_length)
        parts = [
            state.on_hand,
            state.backlog,
            state.pipeline.reshape(B, -1),
            state.transit.sum(axis=2),
            state.requests.sum(axis=2),
            state.forecast.reshape(B, -1),
            progress,
        ]
        return np.concatenate(parts, axis=1, dtype=np.float32)

    def observe(self, state: SystemState) -> list[np.ndarray]:
        """Every agent's observation for every copy: a list of ``(B, sizes[i])`` float32 arrays, in
        the order of :attr:`labels` (one concatenation and one gather for all agents and copies)."""
        flat = self.features(state)[:, self._gather]
        return [flat[:, sl] for sl in self._slices]

    def observe_one(self, on_hand: list, backlog: list, pipeline: list, transit: list, requests: list,
                    forecast: list, t: int) -> Sequence[np.ndarray]:
        """:meth:`observe` for one copy from plain lists (the lean per-step path of
        :class:`mas_lib.sim.env.MultiWarehouseEnv`): every agent's ``(sizes[i],)`` float32 vector,
        the same numbers as ``observe(state)[i][0]`` (the rows of one ``(N, size)`` array when every
        agent sees as many numbers, else views of one vector).

        ``on_hand``, ``backlog`` (N), ``pipeline`` (N x Lmax), ``transit`` (N x Tmax) and ``requests``
        (N x N) are lists of ints of copy 0, ``forecast`` its ``(H, N)`` forecast as a flat list
        (``forecast[k * N + i]``); ``t`` the day.
        """
        flat = on_hand + backlog
        for row in pipeline:
            flat += row
        flat += map(sum, transit)
        flat += map(sum, requests)
        flat += forecast
        flat.append(min(t, self.episode_length) / self.episode_length)
        # one rounding of each number to float32, as in features() (exact for stocks below 2**53 units)
        gathered = np.array(self._pick(flat), dtype=np.float32)
        if self._rows is not None:
            return gathered.reshape(self._rows)
        return list(map(gathered.__getitem__, self._slices))
