"""Learners that decide alone on a team reward (paper 3.1.1(4), 3.1.2, 4.4-4.5; notebook 07).

* :mod:`.vdn` -- one table per warehouse trained as independent, hysteretic or value-decomposed
  (VDN) learners on the team reward, each agent observing its own features plus (or, with
  ``messages=False``, without) its neighbours' stock reports: :func:`train_decentralised`.

Executing the tables with the reports sent over a message bus: :class:`mas_lib.messaging.MessagingAgents`.
The central learner executed through messages (not a decentralised learner):
:class:`mas_lib.messaging.CentralByMessages`.
"""

from .vdn import METHODS, DecentralisedConfig, DecentralisedResult, train_decentralised

__all__ = ["DecentralisedConfig", "DecentralisedResult", "train_decentralised", "METHODS"]
