"""The worked solutions of the notebooks' exercises, as small functions that compute the numbers
the solutions quote.

Each ``solution_NN_k`` re-runs exercise ``k`` of notebook ``NN`` with the notebook's seeds and
returns the quoted numbers as a labelled :class:`pandas.Series` (units in the docstring). The
notebook cell after the exercises calls them, shows :func:`solutions_table` and asserts the quoted
numbers within a tolerance, so a solution's text cannot drift away from what the code measures.
Where a notebook already built an expensive object (a backtest, an exact model) the function takes
it as an argument. Stock is in units, costs in money.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..decide import planning as pl
from ..decide.instances import INSTANCES, cross_border_instance, paper_instance
from ..decide.policies import (
    Combined,
    DoNothing,
    FixedOrderQuantity,
    ForecastBaseStock,
    TransferRule,
)
from ..decide.rollout import compare, simulate, trajectory
from ..decide.search import grid_search
from ..decide.tabular import ActionTable, best_preset, train
from ..sim.config import EnvConfig, InTransit, WarehouseConfig
from ..sim.demand import DiscreteIIDDemand
from ..sim.env import MultiWarehouseEnv
from . import paper, problems

__all__ = [
    "solutions_table",
    "solution_00_1", "solution_00_2",
    "solution_01_1", "solution_01_2", "solution_01_3",
    "solution_02_1", "solution_02_2", "solution_02_3",
    "solution_03_1", "solution_03_2", "solution_03_3",
    "solution_04_1", "solution_04_2", "solution_04_3", "solution_04_4",
    "solution_05_1", "solution_05_2", "solution_05_3",
    "solution_06_1", "solution_06_2", "solution_06_3", "solution_06_4", "solution_06_5",
    "solution_07_1", "solution_07_2", "solution_07_3",
    "solution_09_1", "solution_09_2", "solution_09_3", "solution_09_4",
]


def _tidy(value):
    """A number as text for reading: whole numbers with thousands separators, others with 4
    significant digits (one decimal from 1,000 on); anything else unchanged."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return value
    v = float(value)
    if v.is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}" if abs(v) >= 1000 else f"{v:.4g}"


def solutions_table(results: dict[str, pd.Series | pd.DataFrame]) -> pd.DataFrame:
    """One tidy table of several solutions, for reading: a row per (exercise, quantity) with its
    value as text (4 significant digits, whole numbers in full). ``results`` maps an exercise
    label to what its ``solution_NN_k`` returned; a frame contributes one row per cell, named
    "row: column". The asserts use the returned numbers, not this table. Notebooks 00-07 and 09
    show it under their exercises."""
    rows = []
    for ex, s in results.items():
        items = s.stack().items() if isinstance(s, pd.DataFrame) else s.items()
        for k, v in items:
            name = f"{k[0]}: {k[1]}" if isinstance(k, tuple) else str(k)
            rows.append({"exercise": ex, "quantity": name, "value": _tidy(v)})
    return pd.DataFrame(rows, dtype=object).set_index(["exercise", "quantity"])


# ----------------------------------------------------------------------------- notebook 00
def solution_00_1(seed: int = 0) -> pd.Series:
    """Notebook 00, exercise 1: after the paper's day-1 orders, a second day with no orders.
    Returns each warehouse's stock at the start of day 2, its demand and its lost sales [units]
    (paper section 4.1 scenario)."""
    env = MultiWarehouseEnv(paper.paper_config(reward="cost"))
    env.reset(seed=seed)
    env.step({"A": {"replenish": 20}, "B": {"replenish": 30}})
    start = {a: int(env.core.on_hand[0, i]) for i, a in enumerate(env.possible_agents)}
    _, _, _, _, infos = env.step({"A": {}, "B": {}})
    return pd.Series({f"{k}_{a}": v for a in ("A", "B") for k, v in
                      (("stock", start[a]), ("demand", infos[a]["demand"]), ("lost", infos[a]["lost"]))})


def solution_00_2(seed: int = 0) -> pd.Series:
    """Notebook 00, exercise 2: B's observation entry ``requested_of_me [units]`` on day 1 (A's open
    order of 50 units) and A's (paper section 4.1)."""
    env = MultiWarehouseEnv(paper.paper_config(reward="cost"))
    obs, _ = env.reset(seed=seed)
    label = "requested_of_me [units]"
    return pd.Series({f"requested_of_{a}": float(dict(zip(env.observation_labels(a), obs[a], strict=True))[label])
                      for a in ("A", "B")})


# ----------------------------------------------------------------------------- notebook 01
def solution_01_1(seed: int = 0, quantity: int = 100) -> pd.Series:
    """Notebook 01, exercise 1: problem 1's fixed order raised to ``quantity`` units/day.

    Returns, for the plotted episode, each warehouse's stock at the end of day 29 and the first day
    from day 30 on that it ends empty [units, day]; over the 200 evaluation episodes the mean stock
    held by both warehouses together [units], the fill rate, and the daily cost of this rule, of
    the 80-unit rule and of the forecast rule [money/day] (paper section 2, problem (1))."""
    cfg, _, kpis = problems.flexibility(shift_day=30, before=80, after=120, seed=seed)
    policy = FixedOrderQuantity(cfg, quantity=quantity)
    traj = trajectory(cfg, policy, seed=seed)
    k = compare(cfg, {"fixed": policy}, seed=seed).iloc[0]
    out = {}
    for w in ("A", "B"):
        t = traj[traj["warehouse"] == w]
        out[f"stock_day29_{w}"] = int(t.loc[t["day"] == 29, "end_stock"].iloc[0])
        out[f"first_empty_day_{w}"] = int(t.loc[(t["day"] >= 30) & (t["end_stock"] == 0), "day"].min())
    fixed80, flexible = kpis["daily_cost"]
    return pd.Series({**out, "mean_on_hand_both": k["mean_on_hand"], "fill_rate": k["fill_rate"],
                      "daily_cost": k["daily_cost"], "daily_cost_fixed80": fixed80, "daily_cost_flexible": flexible})


def solution_01_2(seed: int = 0, transfer_cost: float = 8.0) -> pd.Series:
    """Notebook 01, exercise 2: problem 3 with transfers at ``transfer_cost`` money/unit.

    Daily cost [money/day] of each warehouse alone, of the notebook's transfer rule (cover 1 day,
    sender keeps 1 day) and of a rule whose sender keeps 5 days of cover; units shipped per day by
    the two rules (paper section 2, problem (3); 200 episodes on the notebook's demand paths)."""
    cfg = problems.two_warehouses([100.0, 100.0], lead_time=5, transfer_cost=transfer_cost, episode_length=40,
                                  initial=(50, 1000), capacity=1200)
    alone = ForecastBaseStock(cfg, safety=20.0)
    k = compare(cfg, {"alone": alone, "keep 1": Combined(alone, TransferRule(cfg, cover=1.0, keep=1.0)),
                      "keep 5": Combined(alone, TransferRule(cfg, cover=1.0, keep=5.0))}, seed=seed)
    c = k["daily_cost"]
    return pd.Series({"daily_cost_alone": c["alone"], "daily_cost_transfer_rule": c["keep 1"],
                      "shipped_per_day_transfer_rule": k.loc["keep 1", "transport_cost"] / transfer_cost,
                      "daily_cost_keep5": c["keep 5"],
                      "shipped_per_day_keep5": k.loc["keep 5", "transport_cost"] / transfer_cost})


def solution_01_3(seed: int = 0, safety: tuple[int, ...] = tuple(range(0, 61, 5))) -> pd.Series:
    """Notebook 01, exercise 3: problem 4's safety-stock sweep with the lost-sale penalty 10 and
    20 [money/unit]. Returns, for each penalty, the cheapest safety stock [units] on the grid
    ``safety`` and on its multiples of 10 (the notebook's step), and the lowest daily cost
    [money/day] (200 episodes, first 5 days not counted; paper section 2, problem (4))."""
    out = {}
    for penalty in (10.0, 20.0):
        cfg = problems.two_warehouses([80.0, 120.0], lead_time=2, shortage_cost=penalty, episode_length=60)
        cost = pd.Series({float(s): simulate(cfg, ForecastBaseStock(cfg, safety=float(s)), episodes=200, seed=seed,
                                             warmup=5).daily_cost for s in safety})
        out[f"best_safety_p{penalty:.0f}"] = cost.idxmin()
        out[f"best_safety_step10_p{penalty:.0f}"] = cost[cost.index % 10 == 0].idxmin()
        out[f"best_cost_p{penalty:.0f}"] = cost.min()
    return pd.Series(out)


# ----------------------------------------------------------------------------- notebook 02
def solution_02_1(seed: int = 0) -> pd.Series:
    """Notebook 02, exercise 1: the two days replayed with A's open order read as 50 units already
    travelling to B. Returns each warehouse's stock at the start of day 2 [units] (paper 4.1, 4.5)."""
    cfg = paper.paper_config().replace(requests=(), in_transit=(InTransit("A", "B", 50, days=1),))
    t = paper.replay(cfg, seed=seed)
    day2 = t[t["day"] == 2].set_index("warehouse")["env_stock_before"]
    return pd.Series({f"stock_day2_{w}": int(v) for w, v in day2.items()})


def solution_02_2(seed: int = 0) -> pd.Series:
    """Notebook 02, exercise 2: the replay with ``c = (1, 0, 0.2)``. Returns the largest difference
    between the environment's reward and ``satisfaction - 0.2 * transport`` over the four
    (day, warehouse) rows, and the rewards [reward units] (paper section 4.3)."""
    t = paper.replay(paper.paper_config(c=(1.0, 0.0, 0.2)), seed=seed)
    residual = t["env_reward"] - (t["env_satisfaction"] - 0.2 * t["env_transport"])
    return pd.Series({"max_abs_residual": float(residual.abs().max()),
                      **{f"reward_day{r.day}_{r.warehouse}": r.env_reward for r in t.itertuples()}})


def solution_02_3(seed: int = 0, episodes: int = 200) -> pd.Series:
    """Notebook 02, exercise 3: grid search of the forecast base-stock rule's safety stock (0-80 in
    steps of 5 units) in the 60-day run. Returns the best safety stock [units] and its daily cost,
    and the daily cost at the notebook's 25 units [money/day] (paper section 4.5)."""
    cfg60 = paper.paper_config(episode_length=60, noise_sd=15.0, reward="cost")
    res = grid_search(lambda safety: ForecastBaseStock(cfg60, safety=safety), {"safety": range(0, 81, 5)},
                      lambda p: simulate(cfg60, p, episodes, seed=seed).daily_cost)
    t = res.table.set_index("safety")["score"]
    return pd.Series({"best_safety": float(t.idxmin()), "best_daily_cost": t.min(), "daily_cost_at_25": t[25]})


# ----------------------------------------------------------------------------- notebook 03
def solution_03_1(raw: pd.DataFrame, res) -> pd.Series:
    """Notebook 03, exercise 1: cleaning again with ``outliers="keep"``. Returns the units that come
    back, their share of the clean units, the UK's share of them and the product gaining most
    (``res`` is the default cleaning of ``raw``; paper section 3.2.2)."""
    from ..data import clean_online_retail

    kept = clean_online_retail(raw, outliers="keep")
    extra = int(kept.frame["quantity"].sum() - res.frame["quantity"].sum())
    by_product = res.outliers.groupby("stock_code")["quantity"].sum()
    uk = res.outliers.loc[res.outliers["country"] == "United Kingdom", "quantity"].sum()
    return pd.Series({"units_back": extra, "outlier_units": int(res.outliers["quantity"].sum()),
                      "share_of_clean": extra / res.frame["quantity"].sum(), "uk_share": uk / extra,
                      "top_product": by_product.idxmax()}, dtype=object)


def solution_03_2(res) -> pd.Series:
    """Notebook 03, exercise 2: the share of clean units without a customer number, the UK's
    share of those, and the cross-border share of units with and without them (paper 3.2.2)."""
    from ..data import cross_border_share

    f = res.frame
    anon = f[f["customer_id"].isna()]
    return pd.Series({"anonymous_share": anon["quantity"].sum() / f["quantity"].sum(),
                      "uk_share_of_anonymous": anon.loc[anon["country"] == "United Kingdom", "quantity"].sum()
                      / anon["quantity"].sum(),
                      "cross_border_share": cross_border_share(res),
                      "cross_border_share_named_only": cross_border_share(f[f["customer_id"].notna()])})


def solution_03_3(res) -> pd.Series:
    """Notebook 03, exercise 3: the three overseas countries with the most days with a sale, and
    their day counts [days] (paper section 3.2.2)."""
    from ..data import daily_demand

    by_country = daily_demand(res, by=("country",))
    sold = by_country[by_country["units"] > 0].groupby("country")["date"].nunique()
    return sold.drop("United Kingdom").nlargest(3)


# ----------------------------------------------------------------------------- notebook 04
def solution_04_1(bt: pd.DataFrame) -> pd.DataFrame:
    """Notebook 04, exercise 1: each model's mean MASE with the median and with the mean as its
    point forecast, the change, and its rank under each (``bt`` is the notebook's backtest;
    paper section 3.2.3)."""
    from ..forecast import leaderboard

    med = leaderboard(bt).set_index("model")["mean_mase"]
    mean = leaderboard(bt, point="mean").set_index("model")["mean_mase"]
    out = pd.DataFrame({"median_point": med, "mean_point": mean.reindex(med.index)})
    out["change"] = out["mean_point"] - out["median_point"]
    out["rank_median"], out["rank_mean"] = out["median_point"].rank(), out["mean_point"].rank()
    return out


def solution_04_2(bt: pd.DataFrame) -> pd.DataFrame:
    """Notebook 04, exercise 2: each model's MAE [units/day], mean MASE and 90% coverage scored on
    open days only and with closed days included (``bt``: the notebook's backtest; paper 3.2.3)."""
    from ..forecast import leaderboard

    cols = ["mae", "mean_mase", "coverage_90"]
    open_ = leaderboard(bt).set_index("model")[cols]
    closed = leaderboard(bt, include_closed=True).set_index("model")[cols].reindex(open_.index)
    return open_.add_suffix("_open").join(closed.add_suffix("_all_days"))


def _intermittent_backtest(seed: int):
    from .. import forecast as fc
    from ..data.synthetic import SyntheticDemandConfig, generate_demand

    cfg = SyntheticDemandConfig(intermittent_fraction=1.0, intermittent_zero_prob=0.85)
    d = generate_demand(cfg, "2011-01-03", 300, markets=("domestic",), n_products=4, seed=seed)
    S, C = fc.series_from_tidy(d)
    b = fc.backtest(S, [fc.Croston(), fc.SBA(), fc.MovingAverage(28)], calendar=C)
    truth = d.assign(series="domestic/" + d["stock_code"])[["series", "date", "true_mean"]]
    return d, b.merge(truth, on=["series", "date"])


def solution_04_3(seed: int = 3) -> pd.Series:
    """Notebook 04, exercise 3: mean error (forecast mean - ``true_mean``) [units/day] of Croston,
    SBA and the 28-day moving average on the open days of a backtest of four intermittent
    synthetic products (paper section 3.2.3)."""
    _, b = _intermittent_backtest(seed)
    o = b[b["open"]]
    return (o["mean"] - o["true_mean"]).groupby(o["model"]).mean()


def solution_04_4(seed: int = 3, service_level: float = 0.95, lead_time_days: float = 3.0) -> pd.Series:
    """Notebook 04, exercise 4: the safety stock [units] that perfect point forecasts
    (``true_mean``) still need, over all days of exercise 3's products and on the backtest's open
    days, next to the safety stock each model's backtest errors need (paper section 3.1.1(1))."""
    from ..forecast import safety_stock

    d, b = _intermittent_backtest(seed)
    o = b[b["open"]]
    out = {"perfect_all_days": safety_stock(d["units"] - d["true_mean"], service_level, lead_time_days),
           "perfect_backtest_days": safety_stock(o["actual"] - o["true_mean"], service_level, lead_time_days)}
    for m, g in o.groupby("model"):
        out[m] = safety_stock(g["actual"] - g["mean"], service_level, lead_time_days)
    return pd.Series(out)


# ----------------------------------------------------------------------------- notebook 05
def solution_05_1(model=None, optimum=None, steps: int = 3000, batch: int = 1024, seed: int = 0,
                  single=None) -> pd.Series:
    """Notebook 05, exercise 1: the central learner of ``best_preset`` trained with and without
    double Q-learning on the ``paper`` instance (``steps`` days x ``batch`` copies). Returns both
    gaps to the optimum [%] and the share of each double table's entries visited (``model`` and
    ``optimum`` default to the instance's exact model and optimum; ``single`` may pass the
    notebook's already trained single-table result; paper sections 3.1.2, 4.4)."""
    inst = paper_instance()
    model = model if model is not None else pl.model_for(inst)
    optimum = optimum if optimum is not None else pl.policy_iteration(model)
    out = {}
    for label, double in (("single", False), ("double", True)):
        res = single if (single is not None and not double) else train(
            inst.config, best_preset(gamma=inst.gamma, steps=steps, batch=batch, seed=seed, double=double))
        out[f"gap_{label}"] = pl.gap(pl.evaluate_policy(model, res.policy), optimum)
        if double:
            out["visited_share_per_table"] = float(np.mean([(v > 0).mean() for v in res.policy.visits]))
    return pd.Series(out)


def solution_05_2() -> pd.Series:
    """Notebook 05, exercise 2: the actions of one warehouse and the joint actions of the central
    learner on the ``paper`` instance (paper section 4.2)."""
    sizes = ActionTable(paper_instance().config).sizes
    return pd.Series({"actions_per_warehouse": int(sizes[0]), "joint_actions": int(np.prod(sizes))})


def solution_05_3(seed: int = 0) -> pd.DataFrame:
    """Notebook 05, exercise 3: ``run_experiment`` with ``c1 = 100`` and ``c3`` = 0.2 and 5 (300 days,
    decaying schedule). Returns the KPIs of both runs: transport cost [money/day], fill rate,
    shortage cost [money/day] (paper section 4.3)."""
    from .widgets import run_experiment

    cols = ["transport cost [money/day]", "fill rate [-]", "shortage cost [money/day]"]
    return pd.DataFrame({f"c3 = {c3:g}": run_experiment(c1=100, c2=0.5, c3=c3, steps=300, schedule="decaying",
                                                       epsilon=0.02, seed=seed).kpis[cols] for c3 in (0.2, 5.0)}).T


# ----------------------------------------------------------------------------- notebook 06
def solution_06_1(shortage_cost: float = 40.0) -> pd.Series:
    """Notebook 06, exercise 1: the single warehouse of section 2 (Poisson(60) in steps of 10,
    h = 1, c = 1, gamma = 0.9) with lost-sale penalty ``shortage_cost`` [money/unit]. Returns the
    critical fractile, its newsvendor level S* and the highest level the DP optimum orders up to
    [units] (paper section 4.5, beyond the paper)."""
    h, c, gamma, unit = 1.0, 1.0, 0.9, 10
    demand = DiscreteIIDDemand.poisson([60.0], unit=unit)
    cfg = EnvConfig(warehouses=(WarehouseConfig("A", capacity=200, initial_inventory=0, holding_cost=h,
                                                shortage_cost=shortage_cost, order_unit_cost=c, max_order=200),),
                    demand=demand, order_grid=tuple(range(0, 201, unit)), transfer_grid=(0,))
    m = pl.build_model(cfg, unit, gamma)
    table = pl.policy_table(m, pl.value_iteration(m).policy)
    ratio = (shortage_cost - c) / (shortage_cost + h - gamma * c)
    s_star = demand.support[0][np.argmax(np.cumsum(demand.pmf[0]) >= ratio)]
    after = table["stock_A"] + table["order_A"]
    return pd.Series({"fractile": ratio, "newsvendor_S": int(s_star),
                      "dp_order_up_to": int(after[table["order_A"] > 0].max())})


def solution_06_2(model=None, optimum=None) -> pd.Series:
    """Notebook 06, exercise 2: ``DoNothing`` on the ``paper`` instance, evaluated exactly. Returns
    the mean daily demand [units/day], the most days the starting stock of a warehouse covers its
    mean demand [days], the long-run average cost and the optimum's [money/day], the gap [%], and
    the largest value next to the bound ``max c / (1 - gamma)`` [money]."""
    inst = INSTANCES["paper"]
    model = model if model is not None else pl.model_for(inst)
    optimum = optimum if optimum is not None else pl.policy_iteration(model)
    idle = pl.evaluate_policy(model, DoNothing(inst.config))
    demand = inst.config.demand
    finite = model.cost_sa[np.isfinite(model.cost_sa)]
    means = np.array([s @ p for s, p in zip(demand.support, demand.pmf, strict=True)])
    return pd.Series({"mean_demand": float(means.sum()),
                      "days_of_cover_at_start": float(max(np.array(inst.start_state) / means)),
                      "average_cost": idle.average_cost, "optimal_average_cost": optimum.average_cost,
                      "gap": pl.gap(idle, optimum), "max_value": float(idle.values.max()),
                      "bound": float(finite.max() / (1 - model.gamma))})


def solution_06_3(model=None, tol: float = 1e-6) -> pd.Series:
    """Notebook 06, exercise 3: the sweeps value iteration needs to reach ``tol`` [money] on the
    ``paper`` instance, next to ``log(error / tol) / log(1 / gamma)`` with the error taken as 1e4
    and as the largest optimal value [money] (paper section 4.5, beyond the paper)."""
    model = model if model is not None else pl.model_for(INSTANCES["paper"])
    vi = pl.value_iteration(model, tol=tol)
    rate = np.log(1 / model.gamma)
    return pd.Series({"measured_sweeps": vi.iterations, "formula_1e4": np.log(1e4 / tol) / rate,
                      "largest_value": float(np.abs(vi.values).max()),
                      "formula_largest_value": np.log(np.abs(vi.values).max() / tol) / rate})


def solution_06_4() -> pd.Series:
    """Notebook 06, exercise 4: the ``cross_border`` instance with the A-B link's lead time 0 (as
    built) and 1 day. Returns the states of each model and the saving of optimal transfers [% of
    the optimum without them] for each (paper section 3.1.1(3), beyond the paper)."""
    inst = cross_border_instance()
    without = pl.policy_iteration(pl.model_for(cross_border_instance(transfers=False)))
    out = {}
    for lead in (0, 1):
        link = dataclasses.replace(inst.config.links[0], lead_time=lead)
        m = pl.build_model(inst.config.replace(links=(link,)), inst.unit, inst.gamma)
        opt = pl.policy_iteration(m)
        out[f"states_lead{lead}"] = m.n_states
        out[f"saving_lead{lead}"] = 100 * (without.start_value - opt.start_value) / without.start_value
    return pd.Series(out)


def solution_06_5(order_step: int = 10, transfer_step: int = 10) -> pd.Series:
    """Notebook 06, exercise 5: the ``cross_border`` optimum on finer action grids (orders
    0-200, transfers 0-60 in the given steps [units]) against the 20-unit grids. Returns the
    states, actions and state-action pairs of the fine model, both build times [s] and both
    optimal daily costs [money/day] with the drop [%] (paper section 4.5, beyond the paper)."""
    inst = INSTANCES["cross_border"]
    coarse = pl.model_for(inst)
    fine = pl.build_model(inst.config, inst.unit, inst.gamma, order_grid=tuple(range(0, 201, order_step)),
                          transfer_grid=tuple(range(0, 61, transfer_step)))
    c, f = pl.policy_iteration(coarse), pl.policy_iteration(fine)
    return pd.Series({"states": fine.n_states, "actions": fine.n_actions, "pairs": fine.n_states * fine.n_actions,
                      "build_seconds_coarse": coarse.build_seconds, "build_seconds_fine": fine.build_seconds,
                      "daily_cost_coarse": c.daily_cost, "daily_cost_fine": f.daily_cost,
                      "drop_pct": 100 * (c.start_value - f.start_value) / c.start_value})


# ----------------------------------------------------------------------------- notebook 07
def _protocol_kpis(proto, net, seed: int) -> dict:
    s = simulate(net, proto, episodes=8, seed=seed)
    days = net.episode_length
    return {"daily_cost": s.daily_cost, "transport": s.transport_cost,
            "messages_per_day": proto.messages_sent().mean() / days,
            "dropped_per_day": proto.messages_dropped().mean() / days}


def solution_07_1(seed: int = 0) -> pd.DataFrame:
    """Notebook 07, exercise 1: the negotiated protocol on the five-warehouse network with its
    defaults and with ``cover=2.0, keep=1.0``. Returns daily cost and transport [money/day] and
    messages per day (8 episodes; paper section 3.1.1(3))."""
    from ..messaging import Negotiated
    from ..messaging.networks import regional_replenishment
    from ..sim.scenarios import regional_network

    net = regional_network(lead_time=4)
    rows = {label: _protocol_kpis(Negotiated(net, replenish=regional_replenishment(net, -0.5), **kw), net, seed)
            for label, kw in (("default", {}), ("cover 2, keep 1", {"cover": 2.0, "keep": 1.0}))}
    return pd.DataFrame(rows).T


def solution_07_2(seed: int = 0) -> pd.DataFrame:
    """Notebook 07, exercise 2: the central coordinator with drop rate 0 and 0.5, and the
    isolated protocol. Returns daily cost [money/day] and messages sent and dropped per day
    (8 episodes; paper section 3.1.1(4))."""
    from ..messaging import PROTOCOLS
    from ..messaging.networks import regional_replenishment
    from ..sim.scenarios import regional_network

    net = regional_network(lead_time=4)
    rows = {label: _protocol_kpis(PROTOCOLS[key](net, replenish=regional_replenishment(net, -0.5), **kw), net, seed)
            for label, key, kw in (("central", "central", {}), ("central, half dropped", "central",
                                   {"drop_rate": 0.5}), ("isolated", "isolated", {}))}
    return pd.DataFrame(rows).T


def solution_07_3() -> pd.DataFrame:
    """Notebook 07, exercise 3: ``allocation_study`` of 60 units for three warehouses (mean demand
    40, 30, 20) with the same penalty 20 everywhere: each rule's split [units] and gap [%]
    (paper section 3.1.1(2))."""
    from ..messaging import allocation_study

    return allocation_study(60, position=[0, 10, 0], mean=[40, 30, 20], holding=1.0, penalty=[20, 20, 20],
                            unit=10).set_index("rule")


# ----------------------------------------------------------------------------- notebook 09
def solution_09_1(replenish_lead: int = 3, transitions: float = 20e6) -> pd.Series:
    """Notebook 09, exercise 1: states, Q-table entries and visits per entry in ``transitions`` of
    ``long_lead_instance(replenish_lead)``, and the exact planner's memory estimate [GiB]
    (paper section 3.1.2(4))."""
    from ..decide.deep import long_lead_instance

    inst = long_lead_instance(replenish_lead=replenish_lead)
    entries = inst.n_states * inst.n_actions
    return pd.Series({"states": inst.n_states, "states_lead2": long_lead_instance().n_states,
                      "joint_actions": inst.n_actions, "entries": entries, "visits_per_entry": transitions / entries,
                      "planner_gib": pl.estimate_memory(inst.config, inst.unit).gib})


def _two_action_toy(baseline: bool, seed: int) -> np.ndarray:
    from ..decide.deep import policy_gradient_logits, softmax

    rng, r_mean = np.random.default_rng(seed), np.array([1.0, 0.6])
    z, both, history = np.zeros((1, 2)), np.ones((1, 2), bool), []
    for _ in range(300):
        p = softmax(z, both)[0]
        a = rng.choice(2, size=64, p=p)
        r = r_mean[a] + rng.normal(0, 0.5, size=64)
        w = r - r.mean() if baseline else r
        z -= 0.5 * policy_gradient_logits(np.repeat(z, 64, axis=0), np.ones((64, 2), bool), a, w).sum(axis=0)
        history.append(p[0])
    return np.append(history, softmax(z, both)[0, 0])


def solution_09_2(seed: int = 0) -> pd.Series:
    """Notebook 09, exercise 2: section 4's two-action toy with and without the baseline. Returns
    the final probability of the better action and the share of the 300 steps on which it fell
    (a measure of noise), for each (paper section 3.1.2(4))."""
    out = {}
    for label, baseline in (("baseline", True), ("no_baseline", False)):
        h = _two_action_toy(baseline, seed)
        out[f"final_p_{label}"], out[f"share_of_falls_{label}"] = h[-1], float((np.diff(h) < 0).mean())
    return pd.Series(out)


def solution_09_3(model=None, optimum=None, seed: int = 0) -> pd.Series:
    """Notebook 09, exercise 3: PPO and REINFORCE (``horizon=100``) with section 5's budget on the
    ``paper`` instance. Returns both gaps to the optimum [%] and transitions (paper 3.1.2(4))."""
    from ..decide.deep import PGConfig, train_pg

    inst = INSTANCES["paper"]
    model = model if model is not None else pl.model_for(inst)
    optimum = optimum if optimum is not None else pl.policy_iteration(model)
    small = PGConfig(days=400, copies=64, horizon=50, entropy=0.005, minibatch=1024, log_every=50, seed=seed)
    ppo = train_pg(inst.config, small)
    rf = train_pg(inst.config, small, method="reinforce", horizon=100)
    return pd.Series({"gap_ppo": pl.gap(pl.evaluate_policy(model, ppo.policy), optimum),
                      "gap_reinforce": pl.gap(pl.evaluate_policy(model, rf.policy), optimum),
                      "transitions_ppo": ppo.transitions, "transitions_reinforce": rf.transitions})


def solution_09_4(network) -> pd.Series:
    """Notebook 09, exercise 4: save ``network`` (an actor ``MLP``) to a temporary ``.npz`` and load
    it into an actor with 32 hidden units. Returns the error's type and message (paper 3.1.2(4))."""
    from ..decide.deep import MLP

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "actor_A.npz"
        network.save(path, instance="paper")
        try:
            MLP([network.sizes[0], 32, 32, network.sizes[-1]], activation="tanh").load(path)
        except Exception as err:  # noqa: BLE001 -- the exercise asks which error it is
            return pd.Series({"error": type(err).__name__, "message": str(err).replace(str(path), "actor_A.npz")})
    return pd.Series({"error": "none", "message": "loaded without an error"})
