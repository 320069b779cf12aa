"""The shop's trading calendar and its two markets (domestic UK vs. overseas).

A zero in a daily series means either "shop closed" or "open, nothing sold"; the calendar tells
them apart, day by day, with a documented reason for every closed day. The cross-border setting
of the paper is modelled with two markets: ``"domestic"`` (customers in the United Kingdom,
served from a UK warehouse) and ``"overseas"`` (every other country, including ``"Unspecified"``
and ``"European Community"``, served from an overseas warehouse).

Dates are calendar days in the shop's local (UK) time. Serves notebook 03 and paper section
3.2.2 (data preparation: aggregation by time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..validation import not_allowed
from .source import DataFormatError

if TYPE_CHECKING:  # cleaning imports this module; the annotation needs no runtime import
    from .cleaning import CleaningResult

__all__ = [
    "DOMESTIC_COUNTRY",
    "MARKETS",
    "UK_HOLIDAYS",
    "market_of",
    "markets_of",
    "trading_calendar",
]

#: The one domestic country; every other country is overseas (the cross-border market).
DOMESTIC_COUNTRY = "United Kingdom"
_COUNTRIES = (
    "Australia", "Austria", "Bahrain", "Belgium", "Brazil", "Canada", "Channel Islands",
    "Cyprus", "Czech Republic", "Denmark", "EIRE", "European Community", "Finland", "France",
    "Germany", "Greece", "Hong Kong", "Iceland", "Israel", "Italy", "Japan", "Lebanon",
    "Lithuania", "Malta", "Netherlands", "Norway", "Poland", "Portugal", "RSA", "Saudi Arabia",
    "Singapore", "Spain", "Sweden", "Switzerland", "USA", "United Arab Emirates",
    "United Kingdom", "Unspecified",
)  # fmt: skip
#: The 38 countries of the data set mapped to their market (``"domestic"`` or ``"overseas"``).
MARKETS: Mapping[str, str] = {
    c: ("domestic" if c == DOMESTIC_COUNTRY else "overseas") for c in _COUNTRIES
}

#: Days the shop was closed for a holiday (England & Wales bank holidays in the data's range,
#: plus Easter Sunday 2011, the only Sunday without invoices). The shop never trades on
#: Saturdays and closes from 24 December to 3 January (see :func:`trading_calendar`).
UK_HOLIDAYS: Mapping[str, str] = {
    "2010-12-27": "bank holiday (Christmas Day substitute)",
    "2010-12-28": "bank holiday (Boxing Day substitute)",
    "2011-01-03": "bank holiday (New Year's Day substitute)",
    "2011-04-22": "bank holiday (Good Friday)",
    "2011-04-24": "holiday (Easter Sunday)",
    "2011-04-25": "bank holiday (Easter Monday)",
    "2011-04-29": "bank holiday (Royal Wedding)",
    "2011-05-02": "bank holiday (Early May)",
    "2011-05-30": "bank holiday (Spring)",
    "2011-08-29": "bank holiday (Summer)",
    "2011-12-26": "bank holiday (Boxing Day)",
    "2011-12-27": "bank holiday (Christmas Day substitute)",
}

#: A *product* stock code is five digits, optionally followed by letters (85123A, 15056BL,
#: 79323LP), compared after upper-casing. Everything else is a non-product line: postage


def market_of(country: str) -> str:
    """``"domestic"`` for the United Kingdom, ``"overseas"`` for any other country name.

    :data:`MARKETS` lists the resulting split; paper section 3.2.2 (the cross-border setting:
    one warehouse per market).

    Raises:
        TypeError: ``country`` is not a string.
    """
    if not isinstance(country, str):
        raise not_allowed("country", country, "a country name (str)", TypeError)
    return "domestic" if country.strip() == DOMESTIC_COUNTRY else "overseas"


def markets_of(countries: pd.Series) -> pd.Series:
    """:func:`market_of` for a whole column of country names, vectorised (same index).

    Fills the ``market`` column of the clean lines in
    :func:`mas_lib.data.clean_online_retail` (paper section 3.2.2).
    """
    dom = countries.astype(str).str.strip().eq(DOMESTIC_COUNTRY).to_numpy()
    return pd.Series(np.where(dom, "domestic", "overseas"), index=countries.index, dtype="str")


def _dates_of(frame: pd.DataFrame) -> pd.Series:
    if "date" in frame.columns:
        return frame["date"]
    for col in ("invoice_date", "InvoiceDate"):
        if col in frame.columns:
            s = frame[col]
            if not pd.api.types.is_datetime64_dtype(s.dtype):
                raise DataFormatError(f"column {col!r} has dtype {s.dtype}; it must be datetime64")
            return s.dt.normalize()
    raise DataFormatError(
        "need a 'date', 'invoice_date' or 'InvoiceDate' column to build a calendar; columns "
        f"seen: {list(frame.columns)}"
    )


def trading_calendar(
    raw_or_clean: pd.DataFrame | CleaningResult,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Which days the shop traded: one row per calendar day, columns ``date``, ``open``, ``reason``.

    A day is *open* when the frame has at least one invoice on it (any line, also a
    cancellation -- so pass the raw lines for the truest picture). Closed days are explained
    from a documented calendar, first match wins: ``"christmas break"`` (24 Dec - 3 Jan),
    ``"saturday"`` (the shop never invoices on Saturdays), ``"bank holiday"`` / ``"holiday"``
    (:data:`UK_HOLIDAYS`), else ``"no invoices"``. Open days have reason ``"open"``.
    This tells "shop closed" apart from "open, nothing sold" in
    :func:`mas_lib.data.daily_demand`. Range: ``start``..``end`` (default: first to last invoice
    day). ``CleaningResult.calendar`` holds it; paper section 3.2.2.

    Args:
        raw_or_clean: raw lines (``InvoiceDate``), clean lines (``date``/``invoice_date``) or a
            :class:`mas_lib.data.CleaningResult` (its clean frame is used).
        start, end: first and last calendar day of the table.

    Raises:
        DataFormatError: no date column. ConfigError (a ValueError): ``end`` before ``start``.
    """
    frame = getattr(raw_or_clean, "frame", raw_or_clean)  # a CleaningResult gives its frame
    if not isinstance(frame, pd.DataFrame):
        raise DataFormatError(
            f"expected a frame of invoice lines or a CleaningResult, got {type(frame).__name__}"
        )
    days = pd.DatetimeIndex(_dates_of(frame).dropna().unique()).as_unit("ns")
    lo = pd.Timestamp(start) if start is not None else (days.min() if len(days) else None)
    hi = pd.Timestamp(end) if end is not None else (days.max() if len(days) else None)
    if lo is None or hi is None:
        raise DataFormatError("cannot build a calendar from a frame without dates; give start/end")
    if hi < lo:
        raise not_allowed("end", str(hi.date()), f"a day on or after start ({lo.date()})")
    dates = pd.date_range(lo.normalize(), hi.normalize(), freq="D", unit="ns")
    is_open = dates.isin(days)
    month, day = dates.month, dates.day
    xmas = ((month == 12) & (day >= 24)) | ((month == 1) & (day <= 3))
    sat = dates.day_of_week == 5
    hol_names = pd.Series(dates.strftime("%Y-%m-%d")).map(UK_HOLIDAYS)
    hol_reason = np.where(
        hol_names.fillna("").str.startswith("bank").to_numpy(), "bank holiday", "holiday"
    )
    reason = np.select(
        [is_open, xmas, sat, hol_names.notna().to_numpy()],
        ["open", "christmas break", "saturday", hol_reason],
        default="no invoices",
    )
    return pd.DataFrame({"date": dates, "open": is_open, "reason": pd.Series(reason, dtype="str")})
