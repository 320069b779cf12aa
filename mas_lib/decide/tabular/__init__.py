"""Tabular Q-learning for the warehouse agents (paper sections 3.1.2, 4.4, 4.5)."""

from .qlearning import *  # noqa: F403
from .qlearning import __all__ as _qlearning_all

__all__ = list(_qlearning_all)
