"""What forecast errors cost in stock: safety stock from backtest errors (paper 3.1.1(1):
forecasts exist to set stock levels that avoid both backlogs and stock-outs; notebook 04).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from ..validation import check_choice, check_number
from .backtesting import _scored_rows

__all__ = ["safety_stock", "safety_stock_table"]

_METHODS = ("normal", "empirical")


def _check_service_level(service_level: float) -> float:
    return check_number(service_level, "service_level", low=0.0, high=1.0,
                        low_inclusive=False, high_inclusive=False)


def _check_lead_time(lead_time_days: float) -> float:
    return check_number(lead_time_days, "lead_time_days", low=0.0, low_inclusive=False, unit="days")


def safety_stock(
    errors: ArrayLike, service_level: float = 0.95, lead_time_days: float = 1.0, method: str = "normal"
) -> float:
    """Safety stock (units) that covers forecast errors over the lead time (paper 3.1.1(1)).

    Called by :func:`safety_stock_table`; no notebook calls it directly. ``errors`` are daily ``actual - forecast`` (units/day); ``service_level`` is the
    cycle service level in (0, 1); ``lead_time_days`` > 0. ``"normal"``:
    ``z_a * sigma * sqrt(L)`` with ``z_a`` the standard normal quantile of the cycle service
    level ``a``; ``"empirical"``: ``sqrt(L)`` times the ``a``-quantile of the errors (no
    normality assumed; the sqrt(L) step still assumes independent days). Never negative.
    """
    service_level = _check_service_level(service_level)
    lead_time_days = _check_lead_time(lead_time_days)
    method = check_choice(method, "method", _METHODS)
    e = np.asarray(errors, dtype=float)
    e = e[np.isfinite(e)]
    if e.size < 2:
        raise ValueError("safety_stock needs at least 2 finite errors")
    if method == "normal":
        ss = stats.norm.ppf(service_level) * e.std(ddof=1) * np.sqrt(lead_time_days)
    else:
        ss = np.quantile(e, service_level) * np.sqrt(lead_time_days)
    return float(max(ss, 0.0))


def safety_stock_table(
    bt: pd.DataFrame, service_level: float = 0.95, lead_time_days: float = 1.0,
    include_closed: bool = False,
) -> pd.DataFrame:
    """Per model: error spread (units/day) and the safety stock (units) its errors require.

    Paper 3.1.1(1) (forecasts exist to set stock levels); notebook 04.

    Safety stock is computed per series from the backtest errors of the mean forecast
    (:func:`safety_stock`, both methods) and summed over series: the extra units the whole
    assortment must hold to reach ``service_level`` over ``lead_time_days``. Columns
    ``model, error_sd, safety_stock_normal, safety_stock_empirical``, smallest stock first.
    """
    service_level = _check_service_level(service_level)
    lead_time_days = _check_lead_time(lead_time_days)
    d = _scored_rows(bt, include_closed)
    out = []
    for mname, g in d.groupby("model", sort=False):
        err = g["actual"] - g["mean"]
        ss_n = ss_e = 0.0
        for _, e in err.groupby(g["series"]):
            if e.size >= 2:
                ss_n += safety_stock(e, service_level, lead_time_days, "normal")
                ss_e += safety_stock(e, service_level, lead_time_days, "empirical")
        out.append({"model": mname, "error_sd": float(err.std(ddof=1)),
                    "safety_stock_normal": ss_n, "safety_stock_empirical": ss_e})
    return pd.DataFrame(out).sort_values("safety_stock_normal").reset_index(drop=True)
