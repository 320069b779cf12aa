"""A suite of planner-solvable instances: the learners are scored on many networks, not two.

Recipes tuned on the two published instances (:mod:`mas_lib.decide.instances`) can fail on new
ones, so the deep-RL benchmark (``benchmarks/bench_suite.py``) also scores every learner on a
fixed suite drawn from a seeded generator:

* :func:`make_instance` builds one two-warehouse instance from explicit parameters (capacities,
  demand means and shape, holding / lost-sale / ordering / transport costs, a one-way or two-way
  link, replenishment and transfer lead times) on the benchmark's action grids, and refuses --
  before anything is built -- one whose exact model is too large for the planner to solve in
  seconds (:class:`~mas_lib.decide.planning.UnsupportedConfigError` with the planner's own size
  and memory estimate, :func:`~mas_lib.decide.planning.estimate_memory`, and the limit);
* :func:`draw_instance` draws those parameters from a :class:`numpy.random.Generator`;
* :data:`SUITE` is the fixed suite: :data:`SUITE_SIZE` instances drawn with :data:`SUITE_SEED`
  (fixed here before any learner was scored on them), split into :data:`DEVELOPMENT` (the
  instances a recipe may be tuned on) and :data:`HELD_OUT` (the ones results are reported on);
* :func:`suite_reference` is the tidy table of their reference numbers: the exact optimum, the
  exact optimum **without transfers** (their gap is the value of transfers) and the best tuned
  (s, S) rule, for the suite and the published instances.

Paper sections 3.1.1 (the network), 4.5 (the exact yardstick); ``benchmarks/bench_suite.py``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import nbinom

from ..sim.config import EnvConfig, LinkConfig, WarehouseConfig
from ..sim.demand import DiscreteIIDDemand
from ..sim.scenarios import BENCHMARK_UNIT, ORDER_GRID, TRANSFER_GRID
from ..validation import check_choice, check_number, check_whole, not_allowed
from .instances import Instance, get_instance
from .planning import estimate_memory, evaluate_policy, gap, reference
from .planning.model import _check_memory

__all__ = [
    "DEMAND_SHAPES", "SUITE_SEED", "SUITE_SIZE", "SUITE_MAX_GIB", "SUITE", "DEVELOPMENT", "HELD_OUT", "PUBLISHED",
    "make_instance", "draw_instance", "draw_suite", "suite_instance", "without_transfers", "transfer_value",
    "suite_reference",
]

#: Demand shapes: Poisson, over-dispersed (negative binomial, variance 3 x mean) and uniform on
#: [0.5, 1.5] x mean; each rounded to multiples of the unit.
DEMAND_SHAPES = ("poisson", "overdispersed", "uniform")
#: The seed the suite is drawn with (fixed before any learner was scored on it).
SUITE_SEED = 20261203
#: Number of drawn instances in the suite.
SUITE_SIZE = 10
#: Memory limit of one suite instance's exact model [GiB], as estimated by the planner
#: (``paper``: 0.27 GiB for 1.06 M state-action pairs; the limit allows about 2 M pairs, a build
#: and policy iteration of a few seconds on 2 shared cores).
SUITE_MAX_GIB = 0.6
#: The published instances the suite table also reports (``long_lead`` needs minutes and ~4 GiB:
#: pass it explicitly to :func:`suite_reference`).
PUBLISHED = ("paper", "cross_border")
#: Tail mass left out of a demand distribution before it is truncated.
_TAIL = 1e-6


def _round_pmf(k: np.ndarray, p: np.ndarray, unit: int) -> tuple[np.ndarray, np.ndarray]:
    """A pmf on whole units ``k`` rounded to multiples of ``unit`` (tail mass on the last value)."""
    p = p.copy()
    p[-1] += 1.0 - p.sum()
    levels = np.rint(k / unit).astype(int)
    sup = np.unique(levels)
    pm = np.bincount(levels, weights=p)[sup]
    return sup * unit, pm / pm.sum()


def _demand(mean: Sequence[float], shape: str, unit: int) -> DiscreteIIDDemand:
    """Independent demand per warehouse with the given means [units/day] and shape."""
    if shape == "poisson":
        return DiscreteIIDDemand.poisson(mean, unit=unit)
    supports, pmfs = [], []
    for m in mean:
        if shape == "overdispersed":  # negative binomial with variance 3 m: n = m / 2, p = 1 / 3
            n, q = m / 2.0, 1.0 / 3.0
            k = np.arange(0, int(nbinom.ppf(1 - _TAIL, n, q)) + unit + 1)
            s, p = _round_pmf(k, nbinom.pmf(k, n, q), unit)
        else:  # uniform on the multiples of unit in [0.5 m, 1.5 m]
            s = np.arange(int(np.ceil(0.5 * m / unit)), int(np.floor(1.5 * m / unit)) + 1) * unit
            p = np.full(s.size, 1.0 / s.size)
        supports.append(s)
        pmfs.append(p)
    return DiscreteIIDDemand(supports, pmfs)


def make_instance(
    name: str,
    capacity: Sequence[int] = (200, 250),
    mean: Sequence[float] = (85.0, 110.0),
    shape: str = "poisson",
    holding_cost: Sequence[float] = (1.0, 1.0),
    shortage_cost: Sequence[float] = (20.0, 20.0),
    order_fixed_cost: Sequence[float] = (200.0, 200.0),
    order_unit_cost: float = 1.0,
    transport_unit_cost: float = 1.0,
    transport_fixed_cost: float = 10.0,
    link: str = "two-way",
    replenish_lead: int = 0,
    transfer_lead: int = 0,
    max_memory_gib: float = SUITE_MAX_GIB,
    gamma: float = 0.95,
    episode_length: int = 100,
) -> Instance:
    """A two-warehouse instance ``A``, ``B`` on the benchmark's grids (orders 0-200 in steps of 20,
    transfers 0, 20, 40, 60; stock in steps of 10 units), starting half full.

    Units: capacity [units], mean [units/day], holding [money/unit-day], shortage [money/lost
    unit], order fixed [money/order] and unit [money/unit] costs, transport [money/unit,
    money/shipment], lead times [days]. Per-warehouse values are pairs (A, B). ``link`` is
    ``"two-way"`` (A <-> B), ``"A->B"``, ``"B->A"`` (one-way) or ``"none"``. Raises
    :class:`~mas_lib.decide.planning.UnsupportedConfigError` -- before building anything -- if the
    exact model's estimated memory (:func:`~mas_lib.decide.planning.estimate_memory`) exceeds
    ``max_memory_gib``, naming the states, actions, pairs, estimate and limit; other bad values
    raise a ``ConfigError`` naming the field. Used by :func:`draw_instance` and :data:`SUITE`."""
    check_choice(shape, "make_instance.shape", DEMAND_SHAPES)
    check_choice(link, "make_instance.link", ("two-way", "A->B", "B->A", "none"))
    pairs = {"capacity": capacity, "mean": mean, "holding_cost": holding_cost, "shortage_cost": shortage_cost,
             "order_fixed_cost": order_fixed_cost}
    for key, v in pairs.items():
        if len(v) != 2:
            raise not_allowed(f"make_instance.{key}", v, "one value per warehouse (A, B)")
    unit = BENCHMARK_UNIT
    caps = [check_whole(c, "make_instance.capacity", low=unit, unit="units") for c in capacity]
    for c in caps:
        if c % unit:
            raise not_allowed("make_instance.capacity", c, f"a multiple of {unit} units")
    means = [check_number(m, "make_instance.mean", low=0, low_inclusive=False, unit="units/day") for m in mean]
    lead = check_whole(replenish_lead, "make_instance.replenish_lead", low=0, unit="days")
    tlead = check_whole(transfer_lead, "make_instance.transfer_lead", low=0, high=1, unit="days")
    warehouses = tuple(
        WarehouseConfig(n, capacity=c, initial_inventory=(c // 2) // unit * unit, holding_cost=float(h),
                        shortage_cost=float(p), order_fixed_cost=float(k), order_unit_cost=float(order_unit_cost),
                        lead_time=lead, max_order=max(ORDER_GRID))
        for n, c, h, p, k in zip("AB", caps, holding_cost, shortage_cost, order_fixed_cost, strict=True)
    )
    links = () if link == "none" else (LinkConfig(
        *(("B", "A") if link == "B->A" else ("A", "B")), unit_cost=float(transport_unit_cost),
        fixed_cost=float(transport_fixed_cost), lead_time=tlead, bidirectional=link == "two-way"),)
    cfg = EnvConfig(warehouses=warehouses, demand=_demand(means, shape, unit), links=links,
                    episode_length=episode_length, order_grid=ORDER_GRID, transfer_grid=TRANSFER_GRID)
    _check_memory(estimate_memory(cfg, unit), check_number(max_memory_gib, "make_instance.max_memory_gib", low=0,
                                                           low_inclusive=False, unit="GiB"))
    text = (f"capacities {caps[0]}/{caps[1]}, {shape} demand with means {means[0]:g}/{means[1]:g} units/day, "
            f"holding {holding_cost[0]:g}/{holding_cost[1]:g}, lost sale {shortage_cost[0]:g}/{shortage_cost[1]:g}, "
            f"order {order_fixed_cost[0]:g}/{order_fixed_cost[1]:g} + {order_unit_cost:g}/unit, link {link} "
            f"({transport_fixed_cost:g} + {transport_unit_cost:g}/unit, {tlead} day), replenishment {lead} day(s)")
    return Instance(name=name, config=cfg, unit=unit, gamma=gamma, description=text, round_to=20,
                    start_state=tuple(w.initial_inventory for w in warehouses))


def draw_instance(rng: np.random.Generator | int, name: str = "drawn", **fixed) -> Instance:
    """One instance with parameters drawn from ``rng`` (a Generator or a seed); ``fixed`` keyword
    arguments of :func:`make_instance` override the draw (e.g. ``replenish_lead=2``). Ranges:
    capacities 120-250 units, means 30-100 units/day (kept below 45 % of capacity), any shape of
    :data:`DEMAND_SHAPES`, holding 0.5-2, lost sale 5-40, order fixed 50-400, transport 0.5-3 per
    unit and 0-40 per shipment, two-way (half), one-way (a quarter each way) links, replenishment
    0 or 1 day and transfers 0 or 1 day. The same seed always gives the same instance."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(check_whole(rng, "seed", low=0))
    caps = [int(c) for c in rng.integers(12, 26, size=2) * 10]
    mean = [float(round(min(rng.uniform(30, 100), 0.45 * c))) for c in caps]
    params = dict(
        capacity=caps, mean=mean, shape=DEMAND_SHAPES[int(rng.integers(len(DEMAND_SHAPES)))],
        holding_cost=[round(float(h), 1) for h in rng.uniform(0.5, 2.0, size=2)],
        shortage_cost=[round(float(p)) for p in rng.uniform(5, 40, size=2)],
        order_fixed_cost=[round(float(k), -1) for k in rng.uniform(50, 400, size=2)],
        order_unit_cost=1.0,
        transport_unit_cost=round(float(rng.uniform(0.5, 3.0)), 1),
        transport_fixed_cost=round(float(rng.uniform(0, 40))),
        link=("two-way", "two-way", "A->B", "B->A")[int(rng.integers(4))],
        replenish_lead=int(rng.integers(2)), transfer_lead=int(rng.integers(2)),
    )
    params.update(fixed)
    return make_instance(name, **params)


def draw_suite(seed: int = SUITE_SEED, size: int = SUITE_SIZE) -> tuple[Instance, ...]:
    """``size`` instances ``suite-0`` ... drawn in turn from ``default_rng(seed)``."""
    rng = np.random.default_rng(check_whole(seed, "draw_suite.seed", low=0))
    return tuple(draw_instance(rng, f"suite-{k}") for k in range(check_whole(size, "draw_suite.size", low=1)))


_SUITE: dict[str, Instance] = {}
#: Names of the fixed suite's instances (built on first use by :func:`suite_instance`).
SUITE: tuple[str, ...] = tuple(f"suite-{k}" for k in range(SUITE_SIZE))
#: The development instances (a recipe may be tuned on these) ...
DEVELOPMENT: tuple[str, ...] = SUITE[:3]
#: ... and the held-out ones results are reported on.
HELD_OUT: tuple[str, ...] = SUITE[3:]


def suite_instance(name: str) -> Instance:
    """A suite instance (``"suite-0"`` ...) or a published one (``"paper"``, ``"cross_border"``,
    ``"long_lead"``), the same object on every call (so :func:`planning.reference` caches it)."""
    if name in SUITE:
        if not _SUITE:
            _SUITE.update({inst.name: inst for inst in draw_suite()})
        return _SUITE[name]
    if name == "long_lead":
        from .deep.instances import long_lead_instance

        return _SUITE.setdefault(name, long_lead_instance())
    if name in PUBLISHED:
        return get_instance(name)
    raise not_allowed("instance", name, f"one of {', '.join((*SUITE, *PUBLISHED, 'long_lead'))}", KeyError)


_NO_TRANSFERS: dict[int, Instance] = {}


def without_transfers(instance: Instance) -> Instance:
    """``instance`` with its links removed (the same object for the same instance, so its
    reference is cached): its optimum is the best that can be done without transfers."""
    key = id(instance)
    if key not in _NO_TRANSFERS or _NO_TRANSFERS[key][0] is not instance:
        cfg = instance.config.replace(links=())
        _NO_TRANSFERS[key] = (instance, dataclasses.replace(instance, config=cfg, name=f"{instance.name} (no transfers)"))
    return _NO_TRANSFERS[key][1]


def transfer_value(learner_cost: float, optimum_cost: float, no_transfer_cost: float) -> float:
    """Share of the value of transfers a policy captures: ``(noTransferOpt - learner) /
    (noTransferOpt - opt)`` (costs in the same unit, e.g. money/day): 1 = as good as the
    optimum, 0 = no better than the best policy that never ships, < 0 worse. ``nan`` when
    transfers are worth nothing (the two optima are equal)."""
    worth = no_transfer_cost - optimum_cost
    return float("nan") if worth <= 1e-12 * max(1.0, abs(optimum_cost)) else (no_transfer_cost - learner_cost) / worth


def suite_reference(names: Sequence[str] | None = None, optimum_files: dict[str, str] | None = None) -> pd.DataFrame:
    """The suite's reference numbers, one row per instance (default: :data:`SUITE` then
    :data:`PUBLISHED`): ``instance``, ``split`` (development / held-out / published), ``states``,
    ``actions``, ``link``, ``optimum_daily_cost`` and ``no_transfer_daily_cost`` [money/day,
    ``(1 - gamma) v(s0)``], ``transfer_value_pct`` (how much worse the best policy without
    transfers is, in % of the optimum), ``ss_parameters`` and ``ss_gap_pct`` (the best (s, S)
    rule, tuned exactly one warehouse at a time, and its gap) and ``seconds`` (solving all three).
    ``optimum_files`` maps a name to a saved optimum (``long_lead``). Optima are cached by
    :func:`~mas_lib.decide.planning.reference`."""
    from .planning.tuning import tune_ss_separately

    names = list((*SUITE, *PUBLISHED) if names is None else names)
    rows = []
    for name in names:
        t0 = time.process_time()
        inst = suite_instance(name)
        model, opt = reference(inst, optimum_file=(optimum_files or {}).get(name))
        nt = without_transfers(inst)
        _, nt_opt = reference(nt)
        params, ss, _, _ = tune_ss_separately(inst, model)
        ss_value = evaluate_policy(model, ss)
        link = inst.config.links[0] if inst.config.links else None
        rows.append({
            "instance": name,
            "split": "development" if name in DEVELOPMENT else "held-out" if name in HELD_OUT else "published",
            "states": model.n_states, "actions": model.n_actions,
            "link": "none" if link is None else
                    f"{link.source}{'<->' if link.bidirectional else '->'}{link.target} ({link.lead_time} d)",
            "replenish_lead": int(inst.config.warehouses[0].lead_time),
            "optimum_daily_cost": opt.daily_cost, "no_transfer_daily_cost": nt_opt.daily_cost,
            "transfer_value_pct": gap(nt_opt.start_value, opt.start_value),
            "ss_parameters": str(params), "ss_gap_pct": gap(ss_value, opt), "ss_daily_cost": ss_value.daily_cost,
            "seconds": time.process_time() - t0,
        })
    return pd.DataFrame(rows)
