"""Shared configuration factories for the tests: one place that builds the small
networks the test files simulate, so a change to a config field is made once.

Plain functions (importable from any test file, usable inside hypothesis tests); ``conftest.py``
also exposes them as fixtures.
"""

from __future__ import annotations

import numpy as np

from mas_lib import EnvConfig, LinkConfig, PoissonDemand, WarehouseConfig
from mas_lib.sim.state import SystemState


def two_warehouses(lead=0, tlead=0, backorders=False, invalid="raise", **kw) -> EnvConfig:
    """A (100 units) and B (150), capacity 300, holding 1, shortage 10, ordering 5 + 2/unit, a
    bidirectional link (0.5/unit + 1/shipment, lead ``tlead``), Poisson demand 80 and 110."""
    cost = dict(capacity=300, lead_time=lead, holding_cost=1.0, shortage_cost=10.0, order_fixed_cost=5.0,
                order_unit_cost=2.0)
    return EnvConfig(
        warehouses=(WarehouseConfig("A", initial_inventory=100, **cost), WarehouseConfig("B", initial_inventory=150, **cost)),
        links=(LinkConfig("A", "B", unit_cost=0.5, lead_time=tlead, fixed_cost=1.0),),
        demand=kw.pop("demand", PoissonDemand([80, 110])),
        episode_length=kw.pop("episode_length", 30),
        backorders=backorders,
        invalid_action=invalid,
        **kw,
    )


def three_warehouses(one_way=False, backorders=False, share=True, grids=True) -> EnvConfig:
    """A chain A - B - C with different lead times (2, 0, 1), costs and link lead times (A-B 1 day,
    B-C 0), Poisson demand 30/40/50; optional one-way A->B link and discrete action grids."""
    ws = (
        WarehouseConfig("A", capacity=200, initial_inventory=50, lead_time=2, holding_cost=1.0,
                        order_fixed_cost=5.0, order_unit_cost=2.0),
        WarehouseConfig("B", capacity=250, initial_inventory=60, lead_time=0, holding_cost=2.0),
        WarehouseConfig("C", capacity=300, initial_inventory=70, lead_time=1, shortage_cost=7.0),
    )
    links = (
        LinkConfig("A", "B", unit_cost=0.5, fixed_cost=3.0, lead_time=1, bidirectional=not one_way),
        LinkConfig("B", "C", unit_cost=1.5, lead_time=0),
    )
    extra = dict(order_grid=(0, 20, 40), transfer_grid=(0, 10)) if grids else {}
    return EnvConfig(warehouses=ws, links=links, demand=PoissonDemand([30, 40, 50]), episode_length=12,
                     backorders=backorders, share_information=share, **extra)


def lead_one_pair(episode_length: int = 20) -> EnvConfig:
    """A (100) and B (150), capacity 400, replenishment lead time 1 day, ordering 3 + 1/unit, a link
    at 0.5/unit, Poisson demand 80 and 110 -- the rollout and policy tests' network."""
    ws = tuple(
        WarehouseConfig(n, capacity=400, initial_inventory=i, lead_time=1, holding_cost=1.0, shortage_cost=10.0,
                        order_fixed_cost=3.0, order_unit_cost=1.0)
        for n, i in (("A", 100), ("B", 150))
    )
    return EnvConfig(warehouses=ws, links=(LinkConfig("A", "B", unit_cost=0.5),), demand=PoissonDemand([80, 110]),
                     episode_length=episode_length)


def short_state(on_hand, forecast) -> SystemState:
    """One copy of a state with the given stock and flat forecasts (2 forecast days, pipeline
    of 2 slots, 1 road slot), for calling a protocol's ``act`` directly."""
    oh = np.array([on_hand], dtype=np.int64)
    N = oh.shape[1]
    return SystemState(on_hand=oh, backlog=np.zeros((1, N), dtype=np.int64),
                       pipeline=np.zeros((1, N, 2), dtype=np.int64), transit=np.zeros((1, N, 1), dtype=np.int64),
                       requests=np.zeros((1, N, N), dtype=np.int64),
                       forecast=np.tile(np.asarray(forecast, float), (1, 2, 1)), t=0)


def truncate(path, n: int) -> None:
    """Keep the first ``n`` bytes of a file (negative: drop the last ``-n``): a killed write."""
    path.write_bytes(path.read_bytes()[:n])


def npz_damages(cut: int, tail: int, garbage: bytes) -> list:
    """``(corrupt(path), problem)`` cases every ``.npz`` loader must name: empty, cut after
    ``cut`` bytes, missing its last ``tail`` bytes, not a zip, a single ``.npy`` array."""
    return [
        (lambda p: truncate(p, 0), "truncated or not a .npz"),
        (lambda p: truncate(p, cut), "truncated or not a .npz"),
        (lambda p: truncate(p, -tail), "truncated or not a .npz"),
        (lambda p: p.write_bytes(garbage), "truncated or not a .npz"),
        (lambda p: np.save(p.with_suffix(".npy"), np.zeros(3)) or p.with_suffix(".npy").replace(p), "a single array"),
    ]
