"""Learners that decide alone on a team reward (paper 3.1.1(4), 3.1.2, 4.4-4.5; notebook 07).

* :mod:`.vdn` -- one table per warehouse trained as independent, hysteretic or value-decomposed
  (VDN) learners on the team reward: :func:`train_decentralised`.

The coordination-graph team that executes a learned team table by message passing lives with the
messages: :class:`mas_lib.messaging.CoordinatedPair`.
"""

from .vdn import METHODS, DecentralisedConfig, DecentralisedResult, train_decentralised

__all__ = ["DecentralisedConfig", "DecentralisedResult", "train_decentralised", "METHODS"]
