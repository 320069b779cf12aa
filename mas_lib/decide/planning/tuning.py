"""Tuning the classical baselines on the exact model, and reading a policy table (notebook 06).

A fair comparison with the optimum needs the best version of each classical rule (fixed order
quantity, (s, S), base-stock, forecast base-stock, and the last two with a transfer rule), tuned
in the same action set. Each rule is scored exactly (:func:`scorer`: the discounted cost from the
start state [money]), wrapped in :class:`SnapToGrid` so that it plays on the optimum's action
grids, and tuned one parameter at a time (:func:`coordinate_search`). Paper sections 2 (the
traditional rules the paper argues against) and 4.5 (the comparison it reports).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...validation import check_bool, check_whole
from ..policies import (
    BaseStock,
    Combined,
    FixedOrderQuantity,
    ForecastBaseStock,
    Policy,
    SsPolicy,
    TransferRule,
)
from ..search import grid_search
from .evaluate import PolicyValue, evaluate_policy, gap
from .model import MDPModel, build_model

if TYPE_CHECKING:
    from ...sim.config import EnvConfig
    from ..instances import Instance

__all__ = ["SnapToGrid", "coordinate_search", "scorer", "TuningResult", "tune_baselines", "policy_table",
           "single_warehouse_instances", "tune_ss_separately"]

#: Transfer-rule parameters tried: cover and keep, in days of mean demand.
TRANSFER_DAYS = (0.5, 1.0, 1.5, 2.0)


class SnapToGrid(Policy):
    """Wrap a policy so each quantity is rounded *down* to the model's action grid (orders above
    the grid's top become the top level, transfers likewise) [units] -- e.g. a
    :class:`TransferRule` that would ship 80 units becomes "ship at most 60". Notebook 06 and the
    benchmark use it to put every baseline in the same action set as the optimum (paper section 4.5)."""

    def __init__(self, policy: Policy, model: MDPModel):
        super().__init__(policy.config, policy.round_to)
        self.policy, self.model = policy, model
        self.name = policy.name

    @staticmethod
    def _down(grid: np.ndarray, v: np.ndarray) -> np.ndarray:
        return grid[np.clip(np.searchsorted(grid, v, side="right") - 1, 0, len(grid) - 1)]

    def act(self, state):
        q, x = self.policy.act(state)
        return self._down(self.model.order_grid, np.asarray(q)), self._down(self.model.transfer_grid, np.asarray(x))

    def describe(self):
        return self.policy.describe()


def coordinate_search(
    make_policy: Callable[..., Policy],
    grids: Mapping[str, Sequence],
    start: Mapping[str, object],
    evaluate: Callable[[Policy], float],
    rounds: int = 1,
) -> tuple[dict, Policy, float, int]:
    """Tune one parameter at a time with :func:`mas_lib.decide.search.grid_search`, the others fixed,
    for ``rounds`` sweeps, minimising ``evaluate`` (e.g. :func:`scorer`, in money). Exact when the
    cost separates over the parameters (e.g. one parameter per warehouse and no transfers: each
    warehouse's cost depends on its own rule only). Notebook 06; paper section 4.5.

    Returns ``(best parameters, best policy, best score, evaluations)``.
    """
    rounds = check_whole(rounds, "coordinate_search.rounds", low=1)
    params = dict(start)
    best_pol, best, n = None, np.inf, 0
    for _ in range(rounds):
        for key, values in grids.items():
            grid = {k: ([v for v in values] if k == key else [params[k]]) for k in params}
            found = grid_search(make_policy, grid, evaluate)
            n += len(found.table)
            if found.best_score < best:
                best = found.best_score
                best_pol = found.best
                params[key] = found.table[key].iloc[0]
    return params, best_pol, best, n


def scorer(model: MDPModel) -> Callable[[Policy], float]:
    """The score :func:`mas_lib.decide.search.grid_search` minimises when tuning on ``model``: a
    policy's exact discounted cost from the start state [money] (notebook 06; paper section 4.5)."""

    def score(policy: Policy) -> float:
        return evaluate_policy(model, policy).start_value

    return score


@dataclass(frozen=True)
class TuningResult:
    """What :func:`tune_baselines` returns (``benchmarks/bench_policies.py``):
    ``table`` (one row per baseline: ``policy``, ``parameters``, ``daily_cost`` [money/day],
    ``average_cost`` [money/day], ``gap_pct``, ``evaluations``, ``seconds``) and ``policies``
    (name -> the tuned policy)."""

    table: pd.DataFrame
    policies: dict[str, Policy]

    def to_frame(self) -> pd.DataFrame:
        """The table (the library's results convention)."""
        return self.table.copy()

    def summary(self) -> pd.Series:
        """The best tuned baseline's gap to the optimum [%] per baseline, as a labelled series."""
        return self.table.set_index("policy")["gap_pct"].rename("gap to the optimum [%]")


# --------------------------------------------------------------------------- tune_baselines phases
@dataclass(frozen=True)
class _Spec:
    """One baseline to tune: its label, constructor, per-parameter grids, start and sweeps."""

    label: str
    make: Callable[..., Policy]
    grids: Mapping[str, Sequence]
    start: Mapping[str, object]
    rounds: int


@dataclass(frozen=True)
class _Grids:
    """Candidate parameters per warehouse name [units]: order-up-to ``levels``, (s, S) ``pairs``,
    forecast ``safety`` stocks and fixed ``orders``."""

    levels: dict[str, list]
    pairs: dict[str, list]
    safety: dict[str, list]
    orders: dict[str, list]


def _candidate_grids(cfg: EnvConfig, step: int) -> _Grids:
    """Phase 1: the parameter grids, in steps of ``step`` units."""
    names = cfg.names
    caps = {n: w.capacity for n, w in zip(names, cfg.warehouses, strict=True)}
    top = {n: 2 * caps[n] for n in names}
    mean = dict(zip(names, cfg.demand.mean, strict=True))
    return _Grids(
        levels={n: list(range(0, top[n] + 1, step)) for n in names},
        pairs={n: [(s, S) for s in range(0, caps[n] + 1, step)
                   for S in range(s + step, min(s + 12 * step, top[n]) + 1, step)] for n in names},
        safety={n: list(range(-int(round(mean[n], -1)), caps[n] + 1, step)) for n in names},
        orders={n: list(range(0, int(w.max_order) + 1, step)) for n, w in zip(names, cfg.warehouses, strict=True)},
    )


def _single_rule_specs(cfg: EnvConfig, u: int, g: _Grids, snap: Callable[[Policy], Policy]) -> list[_Spec]:
    """Phase 2: the four rules without transfers (one separable sweep each)."""
    names = cfg.names

    def vec(p: dict) -> list:
        return [p[n] for n in names]

    zero = {n: 0 for n in names}
    return [
        _Spec("fixed order quantity", lambda **p: snap(FixedOrderQuantity(cfg, vec(p), round_to=u)), g.orders, zero, 1),
        _Spec("(s, S)", lambda **p: snap(SsPolicy(cfg, [p[n][0] for n in names], [p[n][1] for n in names], round_to=u)),
              g.pairs, {n: g.pairs[n][0] for n in names}, 1),
        _Spec("base-stock", lambda **p: snap(BaseStock(cfg, vec(p), round_to=u)), g.levels, zero, 1),
        _Spec("forecast base-stock", lambda **p: snap(ForecastBaseStock(cfg, vec(p), round_to=u)), g.safety, zero, 1),
    ]


def _transfer_specs(cfg: EnvConfig, u: int, step: int, g: _Grids, best: dict[str, dict],
                    snap: Callable[[Policy], Policy]) -> list[_Spec]:
    """Phase 3: base-stock and (s, S) plus the transfer rule, started from the tuned rules and
    searched near them (two sweeps: the parameters interact through the transfers)."""
    names = cfg.names
    days = {"cover": list(TRANSFER_DAYS), "keep": list(TRANSFER_DAYS)}
    best_levels, best_ss = best["base-stock"], best["(s, S)"]

    def make_tr(cover, keep, **p):
        rule = BaseStock(cfg, [p[n] for n in names], round_to=u)
        return snap(Combined(rule, TransferRule(cfg, cover=cover, keep=keep, round_to=u)))

    def make_ss_tr(cover, keep, **p):
        rule = SsPolicy(cfg, [p[n][0] for n in names], [p[n][1] for n in names], round_to=u)
        return snap(Combined(rule, TransferRule(cfg, cover=cover, keep=keep, round_to=u)))

    near_levels = {n: [v for v in g.levels[n] if abs(v - best_levels[n]) <= 3 * step] for n in names}
    near_pairs = {n: [pr for pr in g.pairs[n] if abs(pr[0] - best_ss[n][0]) <= step and abs(pr[1] - best_ss[n][1]) <= step]
                  for n in names}
    return [
        _Spec("base-stock + transfer rule", make_tr, {**days, **near_levels}, {"cover": 1.0, "keep": 1.0, **best_levels}, 2),
        _Spec("(s, S) + transfer rule", make_ss_tr, {**days, **near_pairs}, {"cover": 1.0, "keep": 1.0, **best_ss}, 2),
    ]


def _tune(spec: _Spec, score: Callable[[Policy], float]) -> tuple[dict, Policy, int, float]:
    """Phase 4: run :func:`coordinate_search` on one spec: ``(params, policy, evaluations, seconds)``."""
    t0 = time.perf_counter()
    params, pol, _, n = coordinate_search(spec.make, spec.grids, spec.start, score, spec.rounds)
    return params, pol, n, time.perf_counter() - t0


def _fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def tune_baselines(instance: Instance, model: MDPModel, optimum: PolicyValue, coarse: bool = False) -> TuningResult:
    """Tune every baseline of :mod:`mas_lib.decide.policies` on an instance by exact evaluation and
    report its cost and gap to the optimum (notebook 06, ``benchmarks/bench_policies.py``; paper
    sections 2 and 4.5).

    Baselines: fixed order quantity (every day), (s, S), base-stock, forecast base-stock, and --
    when there are links -- base-stock + transfer rule and (s, S) + transfer rule; quantities in
    steps of ``instance.round_to`` units (``coarse``: twice that, for a fast notebook run), every
    policy wrapped in :class:`SnapToGrid` so that it plays in the optimum's action set. Each
    parameter is a per-warehouse value tuned by :func:`coordinate_search` (one sweep for the
    separable rules, two with transfers). The score is the library's criterion: the discounted
    cost from the start state.

    Returns a :class:`TuningResult`: its ``table`` has one row per baseline (``policy``,
    ``parameters``, ``daily_cost`` [money/day, ``(1 - gamma) v(s0)``], ``average_cost``
    [money/day], ``gap_pct``, ``evaluations``, ``seconds``) and ``policies`` the tuned policies by name.
    """
    coarse = check_bool(coarse, "tune_baselines.coarse")
    cfg, u = instance.config, instance.round_to
    step = 2 * u if coarse else u
    score = scorer(model)

    def snap(pol: Policy) -> Policy:
        return SnapToGrid(pol, model)

    grids = _candidate_grids(cfg, step)
    tuned: dict[str, tuple[dict, Policy, int, float]] = {}
    for spec in _single_rule_specs(cfg, u, grids, snap):
        tuned[spec.label] = _tune(spec, score)
    if cfg.links:
        best = {label: tuned[label][0] for label in ("base-stock", "(s, S)")}
        for spec in _transfer_specs(cfg, u, step, grids, best, snap):
            tuned[spec.label] = _tune(spec, score)
    rows, policies = [], {}
    for label, (params, pol, n, secs) in tuned.items():
        pv = evaluate_policy(model, pol)
        policies[label] = pol
        rows.append({
            "policy": label, "parameters": _fmt_params(params), "daily_cost": pv.daily_cost,
            "average_cost": pv.average_cost, "gap_pct": gap(pv, optimum), "evaluations": n, "seconds": secs,
        })
    return TuningResult(pd.DataFrame(rows), policies)


def policy_table(model: MDPModel, actions: np.ndarray) -> pd.DataFrame:
    """A tidy table of a tabular policy: one row per state with the on-hand stock of each
    warehouse (``stock_A`` ...), its pipeline, its order (``order_A`` ...) and every transfer
    (``ship_A_B``) [units] -- for the policy plots of notebook 06 (paper section 4.5)."""
    on_hand, pipe = model.decode_states()
    q, x = model.decode_actions(np.asarray(actions))
    names = model.config.names
    cols = {}
    for i, n in enumerate(names):
        cols[f"stock_{n}"] = on_hand[:, i]
        for j in range(model.slots[i]):
            cols[f"pipeline_{n}_{j}"] = pipe[:, i, j]
    for i, n in enumerate(names):
        cols[f"order_{n}"] = q[:, i]
    for i, n in enumerate(names):
        for j in model.net.neighbours[i]:
            cols[f"ship_{n}_{names[j]}"] = x[:, i, j]
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- separable tuning
def single_warehouse_instances(instance: Instance) -> list[Instance]:
    """One instance per warehouse of ``instance``: that warehouse alone, no links, its own demand
    component, the same unit, discount and action grid. Without transfers the warehouses of an
    instance do not interact (independent demand, additive costs), so a rule that never ships has
    a discounted cost equal to the sum of its single-warehouse costs -- exactly (tested), and the
    single-warehouse models are tiny (231 states each for ``long_lead`` instead of 66,066 jointly).
    Used by :func:`tune_ss_separately` (``benchmarks/bench_deep_rl.py``; paper section 4.5)."""
    from dataclasses import replace

    from ...sim.demand import DiscreteIIDDemand

    cfg = instance.config
    if not isinstance(cfg.demand, DiscreteIIDDemand):
        raise ValueError(f"single_warehouse_instances: demand {type(cfg.demand).__name__} is not allowed; "
                         "allowed: DiscreteIIDDemand (independent per warehouse)")
    out = []
    for i, w in enumerate(cfg.warehouses):
        demand = DiscreteIIDDemand([cfg.demand.support[i]], [cfg.demand.pmf[i]])
        one = cfg.replace(warehouses=(w,), links=(), demand=demand)
        out.append(replace(instance, name=f"{instance.name}[{w.name}]", config=one,
                           description=f"warehouse {w.name} of {instance.name!r} alone (no links)",
                           start_state=(instance.start_state[i],) if instance.start_state else ()))
    return out


def tune_ss_separately(instance: Instance, model: MDPModel) -> tuple[dict, Policy, int, float]:
    """The best (s, S) rule of ``instance`` over the full grid of :func:`tune_baselines` (steps of
    ``instance.round_to``), found *exactly* one warehouse at a time: every (s, S) pair of each
    warehouse is scored on its single-warehouse model (:func:`single_warehouse_instances`; a few
    milliseconds each), which is exact because (s, S) never ships. For instances too large to tune
    on the joint model (``long_lead``: one joint evaluation takes seconds, the grid has hundreds
    of pairs). ``model`` is the joint model (an evaluation-only one is enough) the returned policy
    is snapped to. Returns ``(parameters, policy, evaluations, seconds)``; evaluate the policy on
    ``model`` for its joint cost. ``benchmarks/bench_deep_rl.py``; paper sections 2 and 4.5."""
    t0 = time.perf_counter()
    cfg, u = instance.config, instance.round_to
    grids = _candidate_grids(cfg, u)
    best, n = {}, 0
    for name, single in zip(cfg.names, single_warehouse_instances(instance), strict=True):
        m1 = build_model(single.config, single.unit, single.gamma)
        found = grid_search(lambda pair, c=single.config, m=m1: SnapToGrid(SsPolicy(c, pair[0], pair[1], round_to=u), m),
                            {"pair": grids.pairs[name]}, scorer(m1))
        best[name] = tuple(found.table["pair"].iloc[0])
        n += len(found.table)
    names = cfg.names
    policy = SnapToGrid(SsPolicy(cfg, [best[k][0] for k in names], [best[k][1] for k in names], round_to=u), model)
    return best, policy, n, time.perf_counter() - t0
