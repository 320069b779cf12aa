"""Demand forecasting (paper section 3.1.2(1)-(2), 3.2.3): models that return a mean and
quantiles, accuracy metrics, a rolling-origin backtest and safety stock from forecast errors.

Layering: ``mas_lib.forecast`` may read :mod:`mas_lib.data`; it never imports the simulation or
the decisions.
"""

from .models import *  # noqa: F403
from .models import __all__ as _models_all

__all__ = list(_models_all)
