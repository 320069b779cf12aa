"""Faults a careless or hostile user hits in the messaging layer: protocols on one-way links, the
paper's request answered with latency 1, the talking env's retries and seeds, malformed message
content, forged accepts, bad allocation positions and late messages in long runs."""

from __future__ import annotations

import pytest

from mas_lib import EnvConfig, LinkConfig, MultiWarehouseEnv, PoissonDemand, WarehouseConfig
from mas_lib.messaging import (
    PROTOCOLS,
    MessageBus,
    StockReport,
    fulfil_requests,
    requests_as_messages,
)
from mas_lib.sim.core import BatchCore
from mas_lib.teach import paper


def hub_and_spokes(two_way: bool, episode_length: int = 15) -> EnvConfig:
    """A hub H (1000 units, no demand, cannot order) linked to S1 and S2 (empty, demand 10/day)."""
    ws = (WarehouseConfig("H", capacity=2000, initial_inventory=1000, max_order=0),
          WarehouseConfig("S1", capacity=500, initial_inventory=0, max_order=0),
          WarehouseConfig("S2", capacity=500, initial_inventory=0, max_order=0))
    links = (LinkConfig("H", "S1", bidirectional=two_way), LinkConfig("H", "S2", bidirectional=two_way))
    return EnvConfig(warehouses=ws, links=links, demand=PoissonDemand([0, 10, 10]), episode_length=episode_length)


def _shipped(cfg: EnvConfig, proto) -> int:
    core = BatchCore(cfg, batch_size=1)
    core.reset(0)
    total = 0
    while not core.done:
        q, x = proto.act(core.state())
        core.step(q, x)
        total += int(x.sum())
    return total


# ----------------------------------------------------------------------------- one-way links
@pytest.mark.parametrize("name", ["shared", "negotiated", "central"])
def test_protocols_ship_over_one_way_links_as_over_two_way_ones(name):
    one_way = _shipped(hub_and_spokes(False), PROTOCOLS[name](hub_and_spokes(False)))
    two_way = _shipped(hub_and_spokes(True), PROTOCOLS[name](hub_and_spokes(True)))
    assert two_way > 0 and one_way == two_way


def test_one_way_reports_and_requests_go_upstream_and_offers_come_back():
    cfg = hub_and_spokes(False)
    for name, kinds in (("shared", {"stock report", "forecast share"}), ("negotiated", {"transfer request"})):
        proto = PROTOCOLS[name](cfg)
        _shipped(cfg, proto)
        log = proto.log()
        up = log[log["type"].isin(kinds)]
        assert len(up) > 0 and set(up["receiver"]) == {"H"} and set(up["sender"]) == {"S1", "S2"}
    offers = log[log["type"] == "transfer offer"]
    assert len(offers) > 0 and set(offers["sender"]) == {"H"}


# ----------------------------------------------------------------------------- the paper's request, latency 1
def test_fulfil_requests_with_latency_one_ships_and_drops_nothing():
    cfg = paper.paper_config()
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    bus = MessageBus(env.possible_agents, latency=1)
    bus.send(requests_as_messages(cfg, day=0)[0])
    answers = [fulfil_requests(bus, env.core, day=d) for d in range(5)]
    assert answers[:3] == [{}, {}, {}]  # request arrives day 1, offer day 2, accept day 3
    assert answers[3] == {"B": {"A": 50}} and answers[4] == {}
    assert bus.log()["type"].tolist() == ["transfer request", "transfer offer", "accept"]
    assert bus.pending() == 0


def test_fulfil_requests_leaves_other_messages_for_their_reader():
    cfg = paper.paper_config()
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    bus = MessageBus(env.possible_agents)
    note = StockReport("A", "B", 0, units=7)
    bus.send(note)
    assert fulfil_requests(bus, env.core, day=0) == {}
    assert bus.collect("B", 0) == [note]
