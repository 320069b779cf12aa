"""Data the system learns from (paper section 3.2.2): the real UCI Online Retail transactions --
loading, an audited cleaning pipeline, the trading calendar and daily demand tables -- and a
synthetic generator with a known ground truth (:mod:`mas_lib.data.synthetic`).

One module per idea; every public name is re-exported here (``from mas_lib import data as D``)::

    source          find / download / convert / checksum / read the raw file; the error classes
    cleaning_steps  the cleaning rules as a table (CLEANING_STEPS), product-code rule
    cleaning        clean_online_retail: runs the table, builds the audit report
    calendar        trading calendar, UK holidays, domestic vs. overseas markets
    daily           daily demand tables, top products, cross-border share, memoised loaders
    synthetic       synthetic demand with a known ground truth (import it as a module)

Pipeline::

    raw   = load_online_retail()            # 541,909 invoice lines, the 8 UCI columns
    res   = clean_online_retail(raw)        # CleaningResult: .frame, .report, .calendar
    daily = daily_demand(res, by=("market", "stock_code"))   # full calendar, units per day
    top   = top_products(daily, n=20)

Layering: ``mas_lib.data`` imports only :mod:`mas_lib.validation`; never the simulation, the
decisions or the teaching layer.
"""

from .calendar import *  # noqa: F403
from .calendar import __all__ as _calendar_all
from .cleaning import *  # noqa: F403
from .cleaning import __all__ as _cleaning_all
from .cleaning_steps import *  # noqa: F403
from .cleaning_steps import __all__ as _cleaning_steps_all
from .daily import *  # noqa: F403
from .daily import __all__ as _daily_all
from .source import *  # noqa: F403
from .source import __all__ as _source_all

__all__ = [
    *_source_all,
    *_cleaning_steps_all,
    *_cleaning_all,
    *_calendar_all,
    *_daily_all,
]
