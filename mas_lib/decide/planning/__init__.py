"""The exact optimum by dynamic programming and exact policy evaluation (notebook 06)."""

from .model import *  # noqa: F403
from .model import __all__ as _model_all

__all__ = list(_model_all)
