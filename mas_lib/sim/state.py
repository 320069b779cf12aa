"""What the simulation hands to a decision maker and back: the decision-time state of B copies
(:class:`SystemState`), the outcome of one day (:class:`StepResult`) and the error for an
impossible action (:class:`InvalidActionError`). Paper sections 3.2.1 and 4.2; notebook 02 reads
the step results through ``MultiWarehouseEnv``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["InvalidActionError", "SystemState", "StepResult"]


class InvalidActionError(ValueError):
    """An impossible action: the message names the warehouse, the field, the value and the limit."""


@dataclass
class SystemState:
    """What a policy may look at when it decides, for B copies at once (the batch form).

    ``on_hand (B,N)``, ``backlog (B,N)``, ``pipeline (B,N,Lmax)`` (``pipeline[b,i,k]`` arrives at
    the start of day ``t+1+k``), ``transit (B,N,Tmax)`` (transfers arriving at ``i`` at the start
    of day ``t+1+k``), ``requests (B,N,N)`` (``requests[b,s,r]``: units ``r`` asked ``s`` to send),
    ``forecast (B,H,N)`` (``forecast[b,k,i]``: forecast of day ``t+k``), all in units; ``t`` is
    the day index. Policies (:mod:`mas_lib.decide.policies`, :mod:`mas_lib.decide.tabular`) and the exact
    planner (:mod:`mas_lib.decide.planning`, which builds one state per row) all speak this form.
    """

    on_hand: np.ndarray
    backlog: np.ndarray
    pipeline: np.ndarray
    transit: np.ndarray
    requests: np.ndarray
    forecast: np.ndarray
    t: int = 0

    @property
    def batch_size(self) -> int:
        return self.on_hand.shape[0]


@dataclass
class StepResult:
    """What happened in one day, every field an array of shape ``(B, N)``.

    Units: ``demand, sales, served, lost, backlog, overflow, on_hand, shipped_out, received_transfers,
    ordered`` in units; ``*_cost`` and ``reward`` in money (``reward`` is in reward units for the
    paper reward); ``fill_rate``/``satisfaction`` dimensionless; ``clipped`` bool.
    """

    demand: np.ndarray
    sales: np.ndarray
    served: np.ndarray
    lost: np.ndarray
    backlog: np.ndarray
    fill_rate: np.ndarray
    on_hand: np.ndarray
    ordered: np.ndarray
    shipped_out: np.ndarray
    received_transfers: np.ndarray
    overflow: np.ndarray
    holding_cost: np.ndarray
    shortage_cost: np.ndarray
    ordering_cost: np.ndarray
    transport_cost: np.ndarray
    total_cost: np.ndarray
    satisfaction: np.ndarray
    inventory_cost_reduction: np.ndarray
    reward: np.ndarray
    clipped: np.ndarray

    def for_copy(self, b: int, names: list[str]) -> dict[str, dict[str, float]]:
        """Per-warehouse info dicts for copy ``b`` (what the PettingZoo API returns as ``infos``):
        plain Python numbers, one ``tolist()`` per field for all warehouses at once."""
        columns = [(name, getattr(self, name)[b].tolist()) for name in _FIELD_NAMES]
        return {agent: {name: values[i] for name, values in columns} for i, agent in enumerate(names)}

    @staticmethod
    def field_names() -> tuple[str, ...]:
        """The names of the fields, in order."""
        return _FIELD_NAMES


_FIELD_NAMES = tuple(f.name for f in fields(StepResult))
