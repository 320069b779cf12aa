"""Parameter search for policies: try every combination of a grid and keep the best.

:func:`mas_lib.decide.planning.tune_baselines` (and so ``benchmarks/bench_policies.py``) tunes every
baseline this way before measuring its gap to the optimum.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .policies import Policy

__all__ = ["SearchResult", "grid_search"]


@dataclass(frozen=True)
class SearchResult:
    """What :func:`grid_search` returns: ``table`` (one row per combination, best first, with its
    ``score`` and ``seconds``), ``best`` (the best policy) and ``best_score``."""

    table: pd.DataFrame
    best: Policy
    best_score: float

    def to_frame(self) -> pd.DataFrame:
        """The table of every combination tried (the library's results convention)."""
        return self.table.copy()

    def summary(self) -> pd.Series:
        """The best parameters and score."""
        return self.table.iloc[0].rename("best")


def grid_search(
    make_policy: Callable[..., Policy],
    grid: Mapping[str, Sequence],
    evaluate: Callable[[Policy], float],
) -> SearchResult:
    """Try every combination of ``grid`` (name -> values) and score it with ``evaluate``
    (lower is better, e.g. the simulated or exact daily cost [money/day]). Ties keep the first
    combination. :func:`mas_lib.decide.planning.tune_baselines` tunes every baseline with it."""
    keys = list(grid)
    if not keys:
        raise ValueError("grid = {} is not allowed; allowed: at least one parameter to vary")
    rows, best, best_score = [], None, np.inf
    for combo in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, combo, strict=True))
        t0 = time.perf_counter()
        pol = make_policy(**params)
        score = float(evaluate(pol))
        rows.append({**params, "score": score, "seconds": time.perf_counter() - t0})
        if score < best_score:
            best, best_score = pol, score
    if best is None:
        raise ValueError(f"grid_search: no combination of {keys} had a finite score")
    table = pd.DataFrame(rows).sort_values("score", kind="stable").reset_index(drop=True)
    return SearchResult(table, best, float(best_score))
