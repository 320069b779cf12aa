"""Retraining strategies compared on several product sets, with bootstrap intervals over products
(paper 3.2.6; notebook 08 section 6 and ``benchmarks/bench_system.py``).

One product set can tell a story the next one contradicts, so :func:`strategy_tables` runs every
(policy x retraining strategy) on every set of :func:`mas_lib.ops.product_sets` (or any mapping
``name -> TwinData``) and reports, per set, the year's cost, fill rate, holding cost and
forecast error, and the **saving against the baseline strategy** (default ``"never"``) with a
bootstrap interval that resamples *products* (a product's warehouses and days move together;
products are the independent units): :func:`mas_lib.forecast.gain_interval` on one cost per
product and strategy. A saving of 0.1 means 10 % cheaper than never retraining; an interval
that contains 0 means the set cannot tell the two apart.

Each forecast plan is made once per (set, strategy) and shared by the policies. A (set,
strategy) that fails is recorded in :attr:`StrategyTables.failed` with its error and the others
are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..forecast import gain_interval
from ..validation import ConfigError, check_number, check_whole, not_allowed
from .demand import TwinData
from .forecasting import STRATEGIES, scheduled_forecasts
from .retrain import period_summary
from .twin import POLICIES, TwinRun, run_twin

__all__ = ["StrategyTables", "per_product_totals", "strategy_tables", "tables_from_frames"]

#: the per-product totals kept for every run [money, units]
_TOTALS = ("total_cost", "holding_cost", "shortage_cost", "ordering_cost", "demand", "sales")


def per_product_totals(run: TwinRun) -> pd.DataFrame:
    """Year totals of ``run`` per product, summed over its warehouses: one row per product,
    columns ``cost``, ``holding``, ``shortage``, ``ordering`` [money], ``demand`` and ``sales``
    [units]."""
    W, P = len(run.warehouses), len(run.products)
    cols = {}
    for k in _TOTALS:
        cols[k.replace("_cost", "").replace("total", "cost")] = run.arrays[k].sum(axis=0).reshape(W, P).sum(axis=0)
    return pd.DataFrame(cols, index=pd.Index(run.products, name="product"))


@dataclass
class StrategyTables:
    """Strategy tables on several product sets (see the module docstring).

    ``table``: one row per ``set, policy, strategy``: ``cost``, ``fill rate``, ``holding``,
    ``MAE``, ``refused`` (:func:`~mas_lib.ops.period_summary` of the year), ``fits``,
    ``saving`` (vs ``baseline``; 0 for the baseline itself) with ``saving low`` / ``saving high``
    (the ``level`` bootstrap interval over products) and ``products``.
    ``per_product``: tidy ``set, policy, strategy, product`` + :func:`per_product_totals`.
    ``failed``: ``{(set, strategy): error message}``. ``runs``: ``{(set, policy, strategy):
    TwinRun}`` when :func:`strategy_tables` was asked to keep them, else empty.
    """

    table: pd.DataFrame
    per_product: pd.DataFrame
    baseline: str = "never"
    level: float = 0.9
    source: str = "real"
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    runs: dict[tuple[str, str, str], TwinRun] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The table, one row per (set, policy, strategy)."""
        return self.table.copy()

    def cheapest(self) -> pd.DataFrame:
        """Per (set, policy): the cheapest strategy, its saving against the baseline with the
        interval, whether the interval excludes 0 (``clear``), and the strategy with the best
        fill rate."""
        rows = []
        for (s, p), g in self.table.groupby(["set", "policy"], sort=False):
            best = g.loc[g["cost"].idxmin()]
            rows.append({"set": s, "policy": p, "cheapest": best["strategy"], "saving": best["saving"],
                         "saving low": best["saving low"], "saving high": best["saving high"],
                         "clear": bool(best["saving low"] > 0 or best["saving high"] < 0),
                         "best fill rate": g.loc[g["fill rate"].idxmax(), "strategy"]})
        return pd.DataFrame(rows)

    def summary(self) -> pd.Series:
        """The cheapest strategy per ``"set / policy"`` (a labelled series), plus the
        baseline, the interval level, the data source and how many (set, strategy) failed."""
        c = self.cheapest()
        out = {f"{r.set} / {r.policy}": r.cheapest for r in c.itertuples()}
        out.update({"baseline": self.baseline, "level": self.level, "source": self.source,
                    "failed": len(self.failed)})
        return pd.Series(out, name="cheapest strategy")


def _intervals(per_product: pd.DataFrame, baseline: str, level: float, n_boot: int, seed: int) -> pd.DataFrame:
    rows = []
    for (s, p), g in per_product.groupby(["set", "policy"], sort=False):
        wide = g.pivot(index="product", columns="strategy", values="cost")
        for strat in wide.columns:
            if baseline not in wide.columns:
                gi = {"gain": np.nan, "low": np.nan, "high": np.nan, "n_series": len(wide)}
            elif strat == baseline:
                gi = {"gain": 0.0, "low": 0.0, "high": 0.0, "n_series": len(wide)}
            else:
                gi = gain_interval(wide, strat, baseline, n_boot=n_boot, level=level, seed=seed)
            rows.append({"set": s, "policy": p, "strategy": strat, "saving": gi["gain"], "saving low": gi["low"],
                         "saving high": gi["high"], "products": gi["n_series"]})
    return pd.DataFrame(rows)


def tables_from_frames(year: pd.DataFrame, per_product: pd.DataFrame, baseline: str = "never", level: float = 0.9,
                       n_boot: int = 2000, seed: int = 0, source: str = "real",
                       failed: Mapping[tuple[str, str], str] | None = None) -> StrategyTables:
    """A :class:`StrategyTables` from its two tables: ``year`` (``set, policy, strategy`` +
    year KPIs) and ``per_product`` (tidy, with ``cost``); the savings and their intervals are
    computed here. Also rebuilds the result from the benchmark's published per-product file."""
    keys = ["set", "policy", "strategy"]
    order = {k: {v: i for i, v in enumerate(year[k].unique())} for k in keys}  # first appearance
    iv = _intervals(per_product, baseline, level, n_boot, seed)
    table = year.merge(iv, on=keys, how="left")
    table = table.sort_values(keys, key=lambda c: c.map(order[c.name]), kind="stable").reset_index(drop=True)
    return StrategyTables(table, per_product.reset_index(drop=True), baseline, level, source, dict(failed or {}))


def strategy_tables(
    sets: Mapping[str, TwinData], policies: Sequence[str] = ("base-stock", "(s, S)"),
    strategies: Sequence[str] = tuple(STRATEGIES), baseline: str = "never", level: float = 0.9,
    n_boot: int = 2000, seed: int = 0, model=None, service_level: float = 0.95,
    progress: Callable[[str], None] | None = None, keep_runs: bool = False,
) -> StrategyTables:
    """Run every policy x strategy on every product set and tabulate (module docstring).

    ``sets``: ``{name: TwinData}`` (e.g. ``{n: load_twin_data(product_set=n) for n in
    PRODUCT_SETS}``); ``baseline`` must be one of ``strategies``. ``level``: the interval's
    central share; ``n_boot`` resamples with ``seed``. ``progress`` gets ``"set / strategy"``.
    ``keep_runs``: keep every :class:`TwinRun` in ``.runs`` (memory grows with the sets).
    Returns a :class:`StrategyTables`; a (set, strategy) that raises is in ``.failed``.
    """
    if not sets:
        raise ConfigError("sets = {} is not allowed; allowed: at least one {name: TwinData}")
    for name, d in sets.items():
        if not isinstance(d, TwinData):
            raise not_allowed(f"sets[{name!r}]", type(d).__name__, "a TwinData (mas_lib.ops.load_twin_data)")
    strategies = list(strategies)
    for s in strategies:
        if s not in STRATEGIES:
            raise not_allowed("strategies", s, f"names among {list(STRATEGIES)}")
    for p in policies:
        if p not in POLICIES:
            raise not_allowed("policies", p, f"names among {list(POLICIES)}")
    if baseline not in strategies:
        raise not_allowed("baseline", baseline, f"one of the strategies {strategies}")
    level = check_number(level, "level", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    n_boot = check_whole(n_boot, "n_boot", low=1)
    year, per, failed, kept = [], [], {}, {}
    for set_name, data in sets.items():
        for strat in strategies:
            if progress is not None:
                progress(f"{set_name} / {strat}")
            try:
                plan = scheduled_forecasts(data, strat, model=model, service_level=service_level)
                got = [(pol, run_twin(data, plan, pol)) for pol in policies]
            except Exception as err:  # one failing (set, strategy) never loses the others' results
                failed[(set_name, strat)] = f"{type(err).__name__}: {err}"
                continue
            for pol, run in got:
                key = {"set": set_name, "policy": pol, "strategy": strat}
                s = run.summary()
                year.append({**key, **period_summary(run), "holding": s["holding"], "fits": plan.n_refits})
                per.append(per_product_totals(run).reset_index().assign(**key))
                if keep_runs:
                    kept[(set_name, pol, strat)] = run
    if not year:
        raise RuntimeError(f"strategy_tables: every (set, strategy) failed: {failed}")
    sources = sorted({d.source for d in sets.values()})
    per_product = pd.concat(per, ignore_index=True)
    per_product = per_product[["set", "policy", "strategy", "product",
                               *[c for c in per_product.columns if c not in ("set", "policy", "strategy", "product")]]]
    out = tables_from_frames(pd.DataFrame(year), per_product, baseline, level, n_boot, seed,
                             "+".join(sources), failed)
    out.runs = kept
    return out
