"""Retraining strategies compared over the year (paper 3.2.6: continuous improvement).

:func:`compare_strategies` runs the twin once per strategy -- ``"never"``, ``"weekly"``,
``"4-weekly"``, ``"drift"`` (:func:`mas_lib.ops.scheduled_forecasts`) -- on the same demand and
policy; the safety stocks are re-tuned on the same schedule as the model. It reports, for the
whole year and for the autumn peak (September-November 2011 by default): total cost, fill rate
and forecast MAE, plus the number of fits and the seconds they took.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .demand import TwinData
from .forecasting import STRATEGIES, scheduled_forecasts
from .twin import TwinRun, run_twin

__all__ = ["compare_strategies", "period_summary"]


def period_summary(run: TwinRun, start: str | None = None, end: str | None = None) -> dict[str, float]:
    """Cost [money], fill rate [-], forecast MAE on open days [units/day] and units refused at
    capacity [units] of ``run`` between ``start`` and ``end`` (inclusive; default the whole run)."""
    lo = pd.Timestamp(start) if start is not None else run.dates.min()
    hi = pd.Timestamp(end) if end is not None else run.dates.max()
    sel = (run.dates >= lo) & (run.dates <= hi)
    a = run.arrays
    d = a["demand"][sel].sum()
    ok = sel & run.open
    return {"cost": float(a["total_cost"][sel].sum()), "fill rate": float(a["sales"][sel].sum() / d) if d else 1.0,
            "MAE": float(np.abs(a["demand"][ok] - a["forecast"][ok]).mean()) if ok.any() else 0.0,
            "refused": float(a["overflow"][sel].sum())}


def compare_strategies(
    data: TwinData, strategies: Sequence[str] = tuple(STRATEGIES), policy="base-stock",
    peak: tuple[str, str] = ("2011-09-01", "2011-11-30"), model=None, service_level: float = 0.95,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, TwinRun]]:
    """One row per retraining strategy: ``strategy, cost, fill rate, MAE, refused`` for the year,
    the same prefixed ``peak`` for ``peak``, ``fits`` and ``fit seconds``.

    Returns ``(table, runs)``: one product set and one policy, with the autumn peak (paper
    3.2.6). To compare strategies on several product sets with intervals over products, as
    ``benchmarks/bench_system.py`` does, use :func:`mas_lib.ops.strategy_tables`.
    """
    rows, runs = [], {}
    for s in strategies:
        if progress is not None:
            progress(s)
        plan = scheduled_forecasts(data, s, model=model, service_level=service_level)
        run = run_twin(data, plan, policy)
        runs[s] = run
        year, pk = period_summary(run), period_summary(run, *peak)
        rows.append({"strategy": s, **year, **{f"peak {k}": v for k, v in pk.items()},
                     "fits": plan.n_refits, "fit seconds": plan.seconds})
    return pd.DataFrame(rows), runs
