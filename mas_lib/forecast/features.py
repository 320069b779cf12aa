"""Model features of a daily demand series without look-ahead: calendar, holidays, lags and
rolling means (paper 3.2.2, "extract meaningful features such as seasonality, trends";
notebook 04). Used by the count regressions in :mod:`mas_lib.forecast.regression`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..data.synthetic import holiday_calendar
from ..validation import check_whole

__all__ = ["make_features"]

#: the holiday flags :func:`make_features` adds (see :func:`mas_lib.data.synthetic.holiday_calendar`)
_HOLIDAYS: tuple[str, ...] = ("black_friday", "singles_day", "christmas")


def _as_frame(series_frame: pd.DataFrame | pd.Series) -> pd.DataFrame:
    frame = series_frame.to_frame("units") if isinstance(series_frame, pd.Series) else series_frame
    if "units" not in frame.columns or not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError("make_features needs a daily DatetimeIndex and a 'units' column")
    return frame


def _calendar_features(idx: pd.DatetimeIndex, is_open: pd.Series) -> pd.DataFrame:
    """Columns known in advance: ``dow_0..dow_6``, ``trend`` (years), ``open``, ``holiday_*``."""
    out = pd.DataFrame(index=idx)
    dow = idx.day_of_week.to_numpy()
    for d in range(7):
        out[f"dow_{d}"] = (dow == d).astype(float)
    out["trend"] = (idx - idx[0]).days.to_numpy() / 365.25
    out["open"] = is_open.to_numpy(dtype=float)
    hol = holiday_calendar(idx).to_numpy()
    for name in _HOLIDAYS:
        out[f"holiday_{name}"] = (hol == name).astype(float)
    return out


def make_features(
    series_frame: pd.DataFrame | pd.Series,
    min_lag: int = 1,
    windows: Sequence[int] = (7, 28),
) -> pd.DataFrame:
    """Model features for each day of a daily series (paper 3.2.2; notebook 04).

    ``series_frame`` is a Series of units/day or a DataFrame indexed by day with a ``units``
    column and optionally ``open`` (bool) and ``price`` (GBP/unit). Returns, per day:
    ``dow_0..dow_6`` (one-hot weekday), ``trend`` (years since the first day), ``open``,
    ``holiday_*`` flags (see :func:`mas_lib.data.synthetic.holiday_calendar`), ``lag_{min_lag}``,
    ``lag_7`` (if ``min_lag < 7``), ``rmean_{w}`` (mean of the open, observed days among the
    ``w`` days ending ``min_lag`` days before, units/day) and ``price`` if given.

    No look-ahead: the row of day ``t`` uses demand up to day ``t - min_lag`` only, so it is
    safe for forecasts up to ``min_lag`` days ahead. Calendar columns are known in advance.
    """
    frame = _as_frame(series_frame)
    min_lag = check_whole(min_lag, "min_lag", low=1, unit="days")
    windows = [check_whole(w, f"windows[{i}]", low=1, unit="days") for i, w in enumerate(windows)]
    idx = frame.index
    is_open = frame["open"].astype(bool) if "open" in frame.columns else pd.Series(True, index=idx)
    units = frame["units"].astype(float)
    observed = units.where(is_open)  # closed days carry no information about demand
    out = _calendar_features(idx, is_open)
    lagged = observed.shift(min_lag)
    out[f"lag_{min_lag}"] = units.shift(min_lag)
    if min_lag < 7:
        out["lag_7"] = units.shift(7)
    for w in windows:
        out[f"rmean_{w}"] = lagged.rolling(w, min_periods=1).mean()
    if "price" in frame.columns:
        out["price"] = frame["price"].astype(float)
    return out
