"""Faults a careless or hostile user hits in the messaging layer: protocols on one-way links, the
paper's request answered with latency 1, the talking env's retries and seeds, malformed message
content, forged accepts, bad allocation positions and late messages in long runs."""

from __future__ import annotations

import pytest
from factories import two_warehouses

from mas_lib import EnvConfig, LinkConfig, MultiWarehouseEnv, PoissonDemand, WarehouseConfig
from mas_lib.messaging import (
    PROTOCOLS,
    MessageBus,
    MessageError,
    StockReport,
    TalkingEnv,
    fulfil_requests,
    requests_as_messages,
)
from mas_lib.messaging.networks import regional_network
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


# ----------------------------------------------------------------------------- the talking env
def test_a_rejected_step_sends_no_message_and_a_retry_delivers_one_copy():
    from mas_lib.sim.state import InvalidActionError

    env = TalkingEnv(MultiWarehouseEnv(two_warehouses()))
    env.reset(seed=0)
    note = StockReport("A", "B", 0, units=100)
    with pytest.raises(InvalidActionError):
        env.step({"A": {"replenish": -5, "messages": [note]}, "B": {"replenish": 0}})
    assert env.bus.sent == 0 and env.bus.pending() == 0 and env.day == 0
    with pytest.raises(MessageError, match="receiver = 'Z' is not allowed"):  # a bad second message: none sent
        env.step({"A": {"replenish": 0, "messages": [note, StockReport("A", "Z", 0, units=1)]}, "B": {}})
    assert env.bus.sent == 0
    obs, *_ = env.step({"A": {"replenish": 0, "messages": [note]}, "B": {"replenish": 0}})
    assert obs["B"]["inbox"] == [note] and env.bus.sent == 1


def _talking_statuses(env: TalkingEnv, seed: int, days: int = 10) -> list[str]:
    env.reset(seed=seed)
    for _ in range(days):
        d = env.day
        env.step({"A": {"replenish": 0, "messages": [StockReport("A", "B", d, units=k) for k in range(5)]},
                  "B": {"replenish": 0}})
    return env.log()["status"].tolist()


def test_talking_env_drops_are_reproducible_from_the_reset_seed():
    env = TalkingEnv(MultiWarehouseEnv(two_warehouses()), drop_rate=0.5, seed=3)
    first = _talking_statuses(env, 0)
    assert 5 < first.count("dropped") < 45
    assert _talking_statuses(env, 0) == first  # same seed, same drops
    assert _talking_statuses(env, 1) != first  # another seed, another stream
    again = TalkingEnv(MultiWarehouseEnv(two_warehouses()), drop_rate=0.5, seed=3)
    assert _talking_statuses(again, 0) == first
    other = TalkingEnv(MultiWarehouseEnv(two_warehouses()), drop_rate=0.5, seed=4)
    assert _talking_statuses(other, 0) != first  # the bus seed matters too


def test_talking_env_treats_no_messages_as_none_and_refuses_a_bare_message():
    env = TalkingEnv(MultiWarehouseEnv(two_warehouses()))
    env.reset(seed=0)
    env.step({"A": {"replenish": 0, "messages": None}, "B": {"replenish": 0}})
    assert env.bus.sent == 0 and env.day == 1
    with pytest.raises(MessageError, match=r"messages = StockReport\(.*is not allowed; allowed: a list of Message"):
        env.step({"A": {"messages": StockReport("A", "B", 1, units=1)}, "B": {}})


@pytest.mark.parametrize("name", ["shared", "negotiated", "central"])
def test_every_protocol_episode_draws_its_own_drops_reproducibly(name):
    cfg = regional_network(episode_length=10)

    def episodes(proto, n):
        out = []
        for _ in range(n):
            core = BatchCore(cfg, batch_size=1)
            core.reset(0)  # the same demand every episode: only the drops can differ
            while not core.done:
                core.step(*proto.act(core.state()))
            out.append(proto.log()["status"].tolist())
        return out

    kw = dict(cover=2.0, keep=0.5, drop_rate=0.4, seed=5)
    first, second = episodes(PROTOCOLS[name](cfg, **kw), 2)
    assert first != second
    assert episodes(PROTOCOLS[name](cfg, **kw), 2) == [first, second]
