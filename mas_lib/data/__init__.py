"""Data the system learns from (paper section 3.2.2): the real UCI Online Retail transactions --
loading, an audited cleaning pipeline, the trading calendar and daily demand tables -- and a
synthetic generator with a known ground truth (:mod:`mas_lib.data.synthetic`).

Layering: ``mas_lib.data`` never imports the simulation, the decisions or the teaching layer.
"""

from .online_retail import *  # noqa: F403
from .online_retail import __all__ as _online_retail_all

__all__ = list(_online_retail_all)
