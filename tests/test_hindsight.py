"""The hindsight limit (mas_lib.decide.planning.hindsight): the MILP is the best integer plan the
simulator accepts (brute force over every plan of tiny networks), its accounting is the
simulator's (a rollout's decisions pinned give the rollout's cost), and the bound never exceeds
what a policy pays on the same demand."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mas_lib.decide.planning.hindsight import HindsightOptions, hindsight_bound, model_size
from mas_lib.decide.policies import BaseStock, Combined, SsPolicy, TransferRule
from mas_lib.decide.rollout import rollout
from mas_lib.sim.config import EnvConfig, InTransit, LinkConfig, WarehouseConfig
from mas_lib.sim.core import BatchCore
from mas_lib.sim.demand import RecordedDemand
from mas_lib.validation import ConfigError

MILP = HindsightOptions(mode="milp", mip_rel_gap=0.0)
LP = HindsightOptions(mode="lp")


def config_for(warehouses, links, demand, **kw) -> EnvConfig:
    """An EnvConfig that replays ``demand`` (T, N) in every copy (the forecast is the day's demand)."""
    rec = RecordedDemand(pd.DataFrame(demand), forecasts=np.asarray(demand, dtype=float)[:, None, :])
    return EnvConfig(warehouses=tuple(warehouses), links=tuple(links), demand=rec, episode_length=len(demand),
                     forecast_horizon=1, **kw)


def brute_force(config: EnvConfig) -> float:
    """The cheapest total cost over every integer plan (orders 0..max_order, transfers 0..capacity on
    every link, every day), each simulated by the batch core; plans the core would have to trim are
    dropped (the trimmed plan is in the list itself)."""
    cfg = config.replace(invalid_action="clip")
    net, T, N = cfg.network, cfg.episode_length, cfg.network.N
    arcs = [tuple(a) for a in np.argwhere(net.arc)]
    levels = [range(int(net.max_order[i]) + 1) for i in range(N)] + [range(int(net.capacity[i]) + 1) for i, _ in arcs]
    acts = np.array(list(itertools.product(*levels)))
    plans = np.array(list(itertools.product(range(len(acts)), repeat=T)))
    B = len(plans)
    core = BatchCore(cfg, B)
    core.reset(0)
    total, ok = np.zeros(B), np.ones(B, dtype=bool)
    for t in range(T):
        a = acts[plans[:, t]]
        x = np.zeros((B, N, N), dtype=np.int64)
        for k, (i, j) in enumerate(arcs):
            x[:, i, j] = a[:, N + k]
        r = core.step(a[:, :N], x)
        ok &= ~r.clipped.any(axis=1)
        total += r.total_cost.sum(axis=1)
    return float(total[ok].min())


def W(name, **kw) -> WarehouseConfig:
    base = dict(capacity=2, initial_inventory=0, holding_cost=0.3, shortage_cost=2.0, order_unit_cost=0.2,
                lead_time=0, max_order=2)
    return WarehouseConfig(name=name, **{**base, **kw})


CASES = {
    # one warehouse, lead time 1, a fixed order cost, 4 days
    "single, fixed cost": ([W("A", capacity=3, max_order=3, initial_inventory=1, order_fixed_cost=1.5, lead_time=1)],
                           [], [[1], [2], [0], [3]]),
    # a same-day order above capacity is refused: capacity binds, demand above it
    "single, capacity binds": ([W("A", capacity=2, max_order=3, shortage_cost=5.0)], [], [[3], [3], [1], [2]]),
    # held stock the simulator cannot throw away: the forced rules matter (the LP may dispose)
    "single, forced holding": ([W("A", capacity=3, max_order=1, initial_inventory=3, holding_cost=2.0,
                                  shortage_cost=0.5, initial_pipeline=(1,), lead_time=1)], [], [[0], [1], [0]]),
    # two warehouses, no link
    "two, no link": ([W("A", order_fixed_cost=0.5), W("B", lead_time=1, initial_inventory=1)], [],
                     [[1, 2], [2, 0], [0, 1]]),
    # one-way link, same day, with a fixed transport cost; only A can order cheaply
    "two, same-day link": ([W("A", initial_inventory=2, order_fixed_cost=1.0), W("B", order_unit_cost=3.0, max_order=1)],
                           [LinkConfig("A", "B", unit_cost=0.1, lead_time=0, fixed_cost=0.4, bidirectional=False)],
                           [[0, 2], [1, 1], [0, 2]]),
    # one-way link with a lead time and units on the road at the start; B full (capacity binds on receipt)
    "two, slow link": ([W("A", initial_inventory=2, lead_time=1), W("B", initial_inventory=2, max_order=1, holding_cost=0.1)],
                       [LinkConfig("A", "B", unit_cost=0.2, lead_time=1, bidirectional=False)],
                       [[1, 0], [0, 2], [2, 1]]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_milp_is_the_brute_force_optimum_and_lp_is_below(case):
    ws, links, demand = CASES[case]
    D = np.array(demand)
    kw = {"in_transit": (InTransit("A", "B", 1, 1),)} if case == "two, slow link" else {}
    cfg = config_for(ws, links, D, **kw)
    best = brute_force(cfg)
    exact = hindsight_bound(cfg, D, MILP)
    relaxed = hindsight_bound(cfg, D, LP)
    assert exact.exact and exact.bound == pytest.approx(best, abs=1e-9)
    assert exact.cost == pytest.approx(exact.to_frame()["total"].sum(), abs=1e-9)
    assert relaxed.bound <= best + 1e-9
    # the window inequalities are valid: the MILP without them has the same optimum, the LP stays below
    assert hindsight_bound(cfg, D, HindsightOptions(mode="milp", mip_rel_gap=0.0, cut_window=0)).bound \
        == pytest.approx(best, abs=1e-9)
    assert hindsight_bound(cfg, D, HindsightOptions(cut_window=0)).bound <= relaxed.bound + 1e-9


def test_window_cuts_raise_the_lp_bound_under_fixed_order_costs():
    D = np.array([[2], [1], [2], [1], [2], [1]])
    cfg = config_for([W("A", capacity=9, max_order=9, order_fixed_cost=4.0, holding_cost=0.1, lead_time=1)], [], D)
    plain = hindsight_bound(cfg, D, HindsightOptions(cut_window=0)).bound
    cut = hindsight_bound(cfg, D, LP).bound
    best = hindsight_bound(cfg, D, MILP).bound
    assert plain < cut - 1.0 and cut <= best + 1e-9


def test_lp_can_be_strictly_below_when_the_forced_rules_bind():
    ws, links, demand = CASES["single, forced holding"]
    D = np.array(demand)
    cfg = config_for(ws, links, D)
    assert hindsight_bound(cfg, D, LP).bound < hindsight_bound(cfg, D, MILP).bound - 1.0


def random_network(rng: np.random.Generator, n: int, link: bool, T: int):
    ws = [WarehouseConfig(name=f"W{i}", capacity=int(rng.integers(4, 15)), initial_inventory=int(rng.integers(0, 4)),
                          holding_cost=float(rng.uniform(0, 1)), shortage_cost=float(rng.uniform(0, 6)),
                          order_fixed_cost=float(rng.choice([0.0, rng.uniform(0, 5)])),
                          order_unit_cost=float(rng.uniform(0, 1)), lead_time=int(rng.integers(0, 3)),
                          max_order=int(rng.integers(2, 10))) for i in range(n)]
    links = [LinkConfig("W0", f"W{i}", unit_cost=float(rng.uniform(0, 1)), lead_time=int(rng.integers(0, 2)),
                        fixed_cost=float(rng.choice([0.0, 1.0]))) for i in range(1, n)] if link else []
    D = rng.integers(0, 6, size=(T, n))
    return config_for(ws, links, D, invalid_action="clip"), D


def rollout_cost(cfg: EnvConfig, policy) -> tuple[float, np.ndarray, np.ndarray]:
    """Total cost of one rollout and the decisions it played (orders (T,N), transfers (T,N,N))."""
    T, N = cfg.episode_length, cfg.network.N
    q, x, total = np.zeros((T, N)), np.zeros((T, N, N)), 0.0
    for step in rollout(cfg, policy, copies=1, seed=0):
        q[step.day] = step.result.ordered[0]
        x[step.day] = step.transfer[0]
        assert not step.result.clipped.any()
        total += float(step.result.total_cost.sum())
    return total, q, x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pinned_rollout_decisions_give_the_simulators_cost(seed):
    rng = np.random.default_rng(seed)
    cfg, D = random_network(rng, 3, link=True, T=25)
    cfg = cfg.replace(invalid_action="raise")
    policy = Combined(BaseStock(cfg, level=cfg.network.capacity // 2), TransferRule(cfg, cover=1.0, keep=1.0))
    total, q, x = rollout_cost(cfg, policy)
    pinned = hindsight_bound(cfg, D, MILP, fix=(q, x))
    assert pinned.cost == pytest.approx(total, abs=1e-9)
    assert np.array_equal(pinned.ordered, q) and np.array_equal(pinned.shipped, x)
    assert x.sum() > 0 and q.sum() > 0  # the rollout ordered and shipped
    assert hindsight_bound(cfg, D, LP, fix=(q, x)).bound <= total + 1e-9
    assert hindsight_bound(cfg, D, LP).bound <= total + 1e-9


class RandomActions:
    """Random orders and transfers (trimmed by the core's ``clip`` rule): a feasible plan of no design."""

    def __init__(self, cfg: EnvConfig, seed: int):
        self.net, self.rng = cfg.network, np.random.default_rng(seed)

    def __call__(self, state):
        B, N = state.on_hand.shape
        q = self.rng.integers(0, self.net.max_order + 1, size=(B, N))
        x = self.rng.integers(0, 4, size=(B, N, N)) * self.net.arc
        return q, x


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3), link=st.booleans(), T=st.integers(2, 12))
def test_bound_is_below_every_policy(seed, n, link, T):
    cfg, D = random_network(np.random.default_rng(seed), n, link, T)
    lp = hindsight_bound(cfg, D, LP).bound
    milp = hindsight_bound(cfg, D, MILP).bound
    assert lp <= milp + 1e-7
    cap = cfg.network.capacity
    for policy in (BaseStock(cfg, level=cap // 2), SsPolicy(cfg, s=cap // 4, S=cap), RandomActions(cfg, seed)):
        total = sum(float(s.result.total_cost.sum()) for s in rollout(cfg, policy, copies=1, seed=0))
        assert milp <= total + 1e-7


def test_bad_input_is_refused_with_the_field_and_value():
    D = np.array([[1, 2], [0, 1], [2, 0]])
    cfg = config_for([W("A"), W("B")], [], D)
    with pytest.raises(ConfigError, match=r"demand.shape = \(3, 3\) is not allowed; allowed: \(days >= 1, 2\)"):
        hindsight_bound(cfg, np.zeros((3, 3)), LP)
    with pytest.raises(ConfigError, match=r"demand.shape = \(6,\)"):
        hindsight_bound(cfg, np.zeros(6), LP)
    with pytest.raises(ConfigError, match=r"demand\[day 1, 'B'\] = -1.0 is not allowed; allowed: a finite whole"):
        hindsight_bound(cfg, np.array([[1, 2], [0, -1], [2, 0]]), LP)
    for bad in (np.nan, np.inf, 0.5):
        with pytest.raises(ConfigError, match=r"demand\[day 2, 'A'\]"):
            hindsight_bound(cfg, np.array([[1, 2], [0, 1], [bad, 0]]), LP)
    with pytest.raises(ConfigError, match="backorders = True is not allowed"):
        hindsight_bound(cfg.replace(backorders=True), D, LP)
    with pytest.raises(ConfigError, match="HindsightOptions.mode"):
        HindsightOptions(mode="exact")
    size = model_size(cfg, 3, "lp")
    with pytest.raises(ConfigError, match=f"2 warehouses x 3 days needs about {size} variables; the limit "
                                          r"\(HindsightOptions.max_variables\) is 10"):
        hindsight_bound(cfg, D, HindsightOptions(max_variables=10))
    assert hindsight_bound(cfg, D, HindsightOptions(max_variables=size)).n_variables <= size


def test_model_size_is_an_upper_estimate():
    rng = np.random.default_rng(5)
    for n in (1, 2, 3):
        cfg, D = random_network(rng, n, link=True, T=6)
        for mode in ("lp", "milp"):
            assert hindsight_bound(cfg, D, HindsightOptions(mode=mode)).n_variables <= model_size(cfg, 6, mode)


def test_frame_and_summary():
    ws, links, demand = CASES["two, same-day link"]
    D = np.array(demand)
    res = hindsight_bound(config_for(ws, links, D), D, MILP)
    frame, s = res.to_frame(), res.summary()
    assert list(frame.index) == ["A", "B"]
    assert frame["total"].sum() == pytest.approx(s["plan cost"]) == pytest.approx(s["bound"])
    assert (frame["sold"] + frame["lost"]).tolist() == D.sum(axis=0).tolist()
    assert frame["shipped out"].sum() == frame["received"].sum()
    assert s.name == "hindsight (milp)" and s["exact"]
