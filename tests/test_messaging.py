"""The messaging layer: typed messages, the bus (latency, drops, log), protocols on any
network, allocation against the exact optimum, the paper's open request as a message, the talking env,
and conservation of units when transfers are driven by messages."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from factories import short_state, three_warehouses, two_warehouses
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import MultiWarehouseEnv
from mas_lib.decide.rollout import simulate
from mas_lib.messaging import (
    PROTOCOLS,
    RULES,
    Accept,
    AllocationPlan,
    CentralCoordinator,
    ForecastShare,
    HubAllocation,
    Isolated,
    MessageBus,
    MessageError,
    Negotiated,
    SharedInformation,
    StockReport,
    TalkingEnv,
    TransferOffer,
    TransferRequest,
    allocate,
    allocation_study,
    exact_allocation,
    expected_cost,
    fulfil_requests,
    hub_network,
    message_counts,
    messages_per_day,
    plot_sequence,
    requests_as_messages,
)
from mas_lib.messaging.networks import regional_network, regional_replenishment
from mas_lib.sim.core import BatchCore
from mas_lib.teach import paper


# ----------------------------------------------------------------------------- messages
@pytest.mark.parametrize("make, text", [
    (lambda: TransferRequest("A", "B", 0, units=-5), "TransferRequest(A->B, day 0).units = -5 is not allowed"),
    (lambda: TransferRequest("A", "B", 0, units=2.5), "units = 2.5 is not allowed"),
    (lambda: StockReport("A", "A", 0, units=5), "sender and receiver are both 'A'"),
    (lambda: StockReport("A", "B", -1, units=5), "day = -1 is not allowed"),
    (lambda: ForecastShare("A", "B", 0, forecast=()), "forecast = () is not allowed"),
    (lambda: ForecastShare("A", "B", 0, forecast=(3.0, -1.0)), "forecast[1] = -1.0 is not allowed"),
    (lambda: TransferOffer("B", "A", 0, units=5, unit_cost=float("nan")), "unit_cost = nan is not allowed"),
    (lambda: AllocationPlan("A", "B", 0, transfers=(("C",),)), "transfers[0] = ('C',) is not allowed"),
    (lambda: StockReport("", "B", 0), "sender = '' is not allowed"),
])
def test_malformed_messages_fail_naming_the_message(make, text):
    with pytest.raises(MessageError, match=__import__("re").escape(text)):
        make()


def test_message_content_is_typed_and_plain():
    m = TransferOffer("B", "A", 3, units=50, unit_cost=0.5, request_id=1, offer_id=7)
    assert m.content() == {"units": 50, "unit_cost": 0.5, "request_id": 1, "offer_id": 7}
    assert m.kind == "transfer offer" and isinstance(m.units, int)


# ----------------------------------------------------------------------------- bus
def test_bus_refuses_unknown_warehouses_and_non_messages():
    bus = MessageBus(["A", "B"])
    with pytest.raises(MessageError, match=r"receiver = 'Z' is not allowed; allowed: one of \['A', 'B'\]"):
        bus.send(StockReport("A", "Z", 0, units=1))
    with pytest.raises(MessageError, match="sender = 'Q'"):
        bus.send(StockReport("Q", "A", 0, units=1))
    with pytest.raises(MessageError, match="allowed: a Message"):
        bus.send({"units": 3})
    with pytest.raises(ValueError, match="latency = 2 is not allowed"):
        MessageBus(["A", "B"], latency=2)
    with pytest.raises(ValueError, match="drop_rate = 1.5 is not allowed"):
        MessageBus(["A", "B"], drop_rate=1.5)
    assert bus.sent == 0 and len(bus.log()) == 0


@pytest.mark.parametrize("latency", [0, 1])
def test_latency_delays_delivery_by_whole_days(latency):
    bus = MessageBus(["A", "B"], latency=latency)
    bus.send(StockReport("A", "B", 4, units=10))
    got_today = bus.collect("B", 4)
    assert len(got_today) == (1 if latency == 0 else 0)
    got_next = bus.collect("B", 5)
    assert len(got_today) + len(got_next) == 1 and bus.pending() == 0
    assert bus.log()["deliver_day"].tolist() == [4 + latency]


def test_dropped_messages_are_counted_and_logged_never_lost():
    bus = MessageBus(["A", "B", "C"], drop_rate=0.5, seed=3)
    for k in range(200):
        bus.send(StockReport("A", "BC"[k % 2], k // 10, units=k))
    log = bus.log()
    assert len(log) == 200 == bus.sent
    assert bus.dropped == (log["status"] == "dropped").sum()
    assert 60 < bus.dropped < 140
    delivered = len(bus.collect("B", 10**6)) + len(bus.collect("C", 10**6))
    assert delivered + bus.dropped == 200
    everything = MessageBus(["A", "B"], drop_rate=1.0)
    assert everything.send(StockReport("A", "B", 0, units=1)) is False
    assert everything.collect("B", 5) == [] and everything.dropped == 1


def test_log_kpis_and_sequence_diagram():
    bus = MessageBus(["A", "B"])
    bus.send(TransferRequest("A", "B", 0, units=50))
    bus.send(TransferOffer("B", "A", 0, units=50, unit_cost=0.5))
    bus.send(Accept("A", "B", 0, offer_id=0, units=50))
    bus.send(StockReport("A", "B", 1, units=3))
    log = bus.log()
    assert list(log.columns) == ["day", "deliver_day", "sender", "receiver", "type", "content", "status"]
    assert messages_per_day(log) == 2.0 and messages_per_day(log, days=4) == 1.0
    counts = message_counts(log)
    assert counts.loc["accept", "delivered"] == 1 and counts.values.sum() == 4
    ax = plot_sequence(log, day=0)
    assert ax.get_title() == "messages on day 0 (3)"
    with pytest.raises(ValueError, match="log = 'list' is not allowed"):
        messages_per_day([])


# ----------------------------------------------------------------------------- protocols
def test_contract_net_cheapest_offer_wins():
    from mas_lib import EnvConfig, LinkConfig, PoissonDemand, WarehouseConfig

    ws = tuple(WarehouseConfig(n, capacity=500, initial_inventory=0) for n in "ABC")
    links = (LinkConfig("A", "B", unit_cost=3.0), LinkConfig("C", "B", unit_cost=1.0))
    cfg = EnvConfig(warehouses=ws, links=links, demand=PoissonDemand([10, 10, 10]))

    class NoOrders(Isolated):
        def act(self, state):
            return np.zeros((state.batch_size, 3), dtype=np.int64), None

    proto = Negotiated(cfg, replenish=NoOrders(cfg))
    q, x = proto.act(short_state([200, 0, 200], [10, 40, 10]))
    assert x[0].tolist() == [[0, 0, 0], [0, 0, 0], [0, 40, 0]]  # C (1/unit) beats A (3/unit)
    log = proto.log()
    assert log["type"].tolist() == ["transfer request", "transfer request", "transfer offer", "transfer offer",
                                    "accept", "reject"]
    accepted = log[log["type"] == "accept"].iloc[0]
    assert (accepted["sender"], accepted["receiver"], accepted["content"]["units"]) == ("B", "C", 40)


def test_accepting_a_withdrawn_or_inflated_offer_is_an_error():
    cfg = two_warehouses()
    proto = Negotiated(cfg, on_conflict="raise")
    proto.act(short_state([100, 150], [80, 110]))
    st_ = proto._state[0]
    room = np.array([100, 150])
    x = np.zeros((2, 2), dtype=np.int64)
    with pytest.raises(MessageError, match=r"Accept\(A->B, day 0\): offer 99 is not open"):
        proto._ship(proto.buses[0], st_, Accept("A", "B", 0, offer_id=99, units=5), 1, room, np.zeros(2),
                    np.zeros(2), x)
    st_["offers"][5] = {"msg": TransferOffer("B", "A", 0, units=10, offer_id=5), "day": 0}
    with pytest.raises(MessageError, match=r"units = 20 is not allowed; allowed: at most the 10 units offered"):
        proto._ship(proto.buses[0], st_, Accept("A", "B", 0, offer_id=5, units=20), 1, room, np.zeros(2),
                    np.zeros(2), x)
    st_["offers"][6] = {"msg": TransferOffer("B", "A", 0, units=10, offer_id=6), "day": 0}
    with pytest.raises(MessageError, match="has only 3 left to ship"):
        proto._ship(proto.buses[0], st_, Accept("A", "B", 0, offer_id=6, units=10), 1, np.array([0, 3]),
                    np.zeros(2), np.zeros(2), x)
    clip = Negotiated(cfg, on_conflict="clip")
    clip.act(short_state([100, 150], [80, 110]))
    clip._state[0]["offers"][6] = {"msg": TransferOffer("B", "A", 0, units=10, offer_id=6), "day": 0}
    clip._ship(clip.buses[0], clip._state[0], Accept("A", "B", 0, offer_id=6, units=10), 1, np.array([0, 3]),
               np.zeros(2), np.zeros(2), x)
    assert x[1, 0] == 3 and clip.log()["status"].iloc[-1] == "trimmed to 3"


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_every_protocol_runs_on_any_network(name):
    for cfg in (two_warehouses(), three_warehouses(grids=False), regional_network(episode_length=15)):
        proto = PROTOCOLS[name](cfg, cover=2.0, keep=0.5)  # short of two days' cover: every protocol acts
        summary = simulate(cfg, proto, episodes=3, seed=1).summary()
        assert np.isfinite(summary.daily_cost)
        sent = proto.messages_sent()
        assert (sent == 0).all() if name == "isolated" else (sent > 0).all()
        assert len(proto.log(0)) == sent[0]


def test_shared_information_sends_reports_and_forecasts_to_every_neighbour():
    cfg = three_warehouses(grids=False)  # chain A - B - C: 4 directed neighbour pairs
    proto = SharedInformation(cfg)
    proto.act(short_state([50, 60, 70], [30, 40, 50]))
    log = proto.log()
    assert len(log) == 8 and set(log["type"]) == {"stock report", "forecast share"}
    assert CentralCoordinator(cfg, coordinator="B").coordinator == "B"
    with pytest.raises(ValueError, match="coordinator = 'Z' is not allowed"):
        CentralCoordinator(cfg, coordinator="Z")
    with pytest.raises(ValueError, match="latency = 3 is not allowed"):
        Negotiated(cfg, latency=3)


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(["shared", "negotiated", "central"]),
    latency=st.sampled_from([0, 1]),
    drop=st.sampled_from([0.0, 0.3]),
    cover=st.floats(0.5, 3.0),
    seed=st.integers(0, 10**6),
    tlead=st.sampled_from([0, 1]),
)
def test_units_are_conserved_under_message_driven_transfers(name, latency, drop, cover, seed, tlead):
    cfg = regional_network(lead_time=2, episode_length=12, transfer_lead=tlead)
    core = BatchCore(cfg, batch_size=2)
    core.reset(seed)
    proto = PROTOCOLS[name](cfg, replenish=regional_replenishment(cfg, -1.0), cover=cover, keep=0.5,
                            latency=latency, drop_rate=drop, seed=seed, on_conflict="clip")
    while not core.done:
        q, x = proto.act(core.state())
        res = core.step(q, x)
        assert (core.conservation_gap() == 0).all()
        assert (res.shipped_out == x.sum(axis=2)).all()  # every accepted transfer ships, no unit appears
        assert (res.received_transfers <= x.sum(axis=1)).all()
    assert (proto.messages_dropped() <= proto.messages_sent()).all()


# ----------------------------------------------------------------------------- allocation
def test_allocation_rules_against_the_exact_optimum():
    table = allocation_study(60, [0, 10, 0], [40, 30, 20], 1.0, [10, 20, 40], unit=10)
    assert table.set_index("rule").loc["optimal", "gap_pct"] == pytest.approx(0.0, abs=1e-12)
    assert (table["gap_pct"] >= -1e-12).all()
    assert table.set_index("rule").loc["proportional", "gap_pct"] > 50
    with pytest.raises(ValueError, match="allocate.rule = 'random' is not allowed"):
        allocate("random", 10, [0, 0], [5, 5])
    with pytest.raises(ValueError, match="allocate.mean"):
        allocate("optimal", 10, [0, 0], [5, 0])
    with pytest.raises(ValueError, match="allocate.supply = -1 is not allowed"):
        allocate("optimal", -1, [0, 0], [5, 5])


@settings(max_examples=30, deadline=None)
@given(
    supply=st.integers(0, 12).map(lambda k: 10 * k),
    pos=st.lists(st.integers(0, 6).map(lambda k: 10 * k), min_size=3, max_size=3),
    mean=st.lists(st.floats(5, 60), min_size=3, max_size=3),
    pen=st.lists(st.floats(2, 50), min_size=3, max_size=3),
)
def test_marginal_analysis_is_exactly_optimal_and_never_overspends(supply, pos, mean, pen):
    best, cost = exact_allocation(supply, pos, mean, 1.0, pen, unit=10)
    for rule in RULES:
        a = allocate(rule, supply, pos, mean, 1.0, pen, unit=10)
        assert a.sum() <= supply and (a >= 0).all() and (a % 10 == 0).all()
    a = allocate("optimal", supply, pos, mean, 1.0, pen, unit=10)
    got = expected_cost(np.asarray(pos, float) + a, mean, 1.0, pen).sum()
    assert got == pytest.approx(cost, rel=1e-9, abs=1e-9)


def test_hub_allocation_in_simulation_ranks_the_rules():
    cfg = hub_network(supply=200, episode_length=40)
    cost = {r: simulate(cfg, HubAllocation(cfg, r), episodes=4, seed=0).summary().daily_cost for r in RULES}
    assert cost["optimal"] < cost["proportional"]
    pol = HubAllocation(cfg, "penalty")
    simulate(cfg, pol, episodes=1, seed=0)
    assert len(pol.bus.log()) == 4 * cfg.episode_length
    with pytest.raises(ValueError, match="HubAllocation.rule = 'x' is not allowed"):
        HubAllocation(cfg, "x")


# ----------------------------------------------------------------------------- paper replay and env
def test_the_papers_open_order_is_a_transfer_request_that_bs_50_units_close():
    cfg = paper.paper_config()
    env = MultiWarehouseEnv(cfg)
    env.reset(seed=0)
    bus = MessageBus(env.possible_agents)
    (msg,) = requests_as_messages(cfg, day=0)
    assert (msg.sender, msg.receiver, msg.units) == ("A", "B", 50)
    bus.send(msg)
    assert env.core.requests[0, cfg.index("B"), cfg.index("A")] == 50
    env.step(paper.PAPER_ACTIONS[1])
    transfer = fulfil_requests(bus, env.core, day=1)
    assert transfer == {"B": {"A": 50}}
    day2 = {"A": dict(paper.PAPER_ACTIONS[2]["A"]), "B": {"replenish": 0, "transfer": transfer["B"]}}
    _, _, _, _, infos = env.step(day2)
    assert infos["B"]["shipped_out"] == 50 and env.core.requests[0].sum() == 0
    assert bus.log()["type"].tolist() == ["transfer request", "transfer offer", "accept"]


def test_talking_env_puts_messages_in_actions_and_observations():
    env = TalkingEnv(MultiWarehouseEnv(two_warehouses()))
    obs, _ = env.reset(seed=0)
    assert obs["A"]["inbox"] == [] and obs["A"]["observation"].ndim == 1
    note = StockReport("A", "B", 0, units=100)
    obs, *_ = env.step({"A": {"replenish": 0, "messages": [note]}, "B": {"replenish": 0}})
    assert obs["B"]["inbox"] == [note] and obs["A"]["inbox"] == []
    with pytest.raises(MessageError, match="sent in 'A'.s action on day 1; allowed: sender 'A' and day 1"):
        env.step({"A": {"messages": [StockReport("B", "A", 1, units=1)]}, "B": {}})
    assert isinstance(env.log(), pd.DataFrame) and len(env.log()) == 1
