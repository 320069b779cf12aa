"""Tests of the benchmark instances (mas_lib.decide.instances)."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib.decide.instances import (
    COSTS,
    INSTANCES,
    cross_border_instance,
    paper_instance,
    with_costs,
)
from mas_lib.decide.planning import model_for, policy_iteration, policy_table


def test_instances_follow_the_paper_scenario():
    for inst in INSTANCES.values():
        cfg = inst.config
        assert [w.initial_inventory for w in cfg.warehouses] == [100, 150]
        np.testing.assert_allclose(cfg.demand.mean, [85, 110], atol=1.0)
        assert all(np.all(s % inst.unit == 0) for s in cfg.demand.support)
        assert all(g % inst.round_to == 0 for g in cfg.order_grid + cfg.transfer_grid)
        assert cfg.network.discrete_sizes == (44, 44)
    assert paper_instance().config.warehouses[0].lead_time == 0
    cb = cross_border_instance().config
    assert cb.warehouses[0].lead_time == 1 and cb.links[0].lead_time == 0


def test_with_costs_changes_only_the_named_costs():
    inst = with_costs(INSTANCES["cross_border"], order_fixed_cost=0, transport_unit_cost=2)
    assert all(w.order_fixed_cost == 0 for w in inst.config.warehouses)
    assert inst.config.links[0].unit_cost == 2
    assert inst.config.warehouses[0].holding_cost == COSTS["holding_cost"]
    assert INSTANCES["cross_border"].config.warehouses[0].order_fixed_cost == COSTS["order_fixed_cost"]
    with pytest.raises(ValueError, match="unknown cost"):
        with_costs(inst, discount=1)


def test_policy_table_has_one_row_per_state():
    model = model_for(paper_instance())
    table = policy_table(model, policy_iteration(model).policy)
    assert len(table) == model.n_states
    assert {"stock_A", "stock_B", "order_A", "order_B", "ship_A_B", "ship_B_A"} <= set(table.columns)
    assert table["order_A"].isin(model.order_grid).all()


def test_n_actions_matches_the_model():
    from dataclasses import replace

    from mas_lib.decide.planning import build_model

    for inst in INSTANCES.values():
        assert inst.n_actions == build_model(inst.config, inst.unit, inst.gamma).n_actions == 44 * 44
    # a one-way link A -> B: A chooses an order and a shipment (11 x 4), B only an order (11)
    paper = paper_instance()
    one_way = replace(paper, config=paper.config.replace(links=(replace(paper.config.links[0], bidirectional=False),)))
    assert one_way.config.network.discrete_sizes == (44, 11)
    assert one_way.n_actions == 484
    assert build_model(one_way.config, one_way.unit, one_way.gamma).n_actions == 484
    assert one_way.n_states == build_model(one_way.config, one_way.unit, one_way.gamma).n_states == 546


def test_state_and_joint_action_counts_are_exact_beyond_int64():
    """Instance.n_states and ActionMasks.n_joint used to wrap in int64 for large networks."""
    import math

    from mas_lib import EnvConfig, PoissonDemand, WarehouseConfig
    from mas_lib.decide.deep.features import ActionMasks
    from mas_lib.decide.instances import Instance

    big = EnvConfig(
        warehouses=tuple(WarehouseConfig(f"W{i}", capacity=10**6, initial_inventory=0, lead_time=3)
                         for i in range(4)),
        links=(), demand=PoissonDemand([1.0] * 4), order_grid=tuple(range(0, 10**6, 1000)), transfer_grid=(0,))
    inst = Instance("big", big, gamma=0.99, unit=1, round_to=1, description="too big for int64")
    assert inst.n_states == ((10**6 + 1) * 1000**2) ** 4 > 2**63
    assert ActionMasks(big).n_joint == math.prod(ActionMasks(big).sizes) == 1000**4
