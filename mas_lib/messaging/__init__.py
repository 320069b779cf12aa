"""Agents that talk: typed messages, a bus, coordination protocols and allocation (notebook 07).

* :mod:`.messages` -- the typed messages (stock report, forecast share, transfer request / offer,
  accept / reject, allocation plan, coordination-graph value messages, plan announcements);
* :mod:`.bus` -- :class:`MessageBus`: latency 0 or 1 day, optional drops, a complete log (late
  messages a protocol could not honour included, as ``"stale"`` rows);
* :mod:`.log` -- messages per day (a KPI) and a sequence diagram of one day;
* :mod:`.protocols` -- isolated, shared information, negotiated (contract net), central coordinator;
* :mod:`.allocation` -- a hub with limited supply: proportional, fair share, by penalty, optimal;
* :mod:`.replay` -- the paper's section 4 open order of 50 units as a real transfer request;
* :mod:`.teams` -- :class:`CentralByMessages`: the central learner's joint table executed by two
  warehouses through messages (variable elimination; it plays the central learner's actions);
  :func:`train_central_by_messages`, the sweep job that learns and scores one
  (``mas_lib.scale.run_sweep``); :class:`MessagingAgents`: per-warehouse tables that act on their
  own stock plus the stock reports received on the bus;
* :mod:`.talking_env` -- :class:`TalkingEnv`: the PettingZoo env with messages in actions and observations.

Paper sections 3.1.1(2)-(4), 3.2.1 and 4.
"""

from .allocation import (
    RULES,
    HubAllocation,
    allocate,
    allocation_study,
    exact_allocation,
    expected_cost,
    hub_network,
)
from .bus import LOG_COLUMNS, SENT_STATUSES, MessageBus
from .log import message_counts, messages_per_day, plot_sequence
from .messages import (
    MESSAGE_TYPES,
    Accept,
    AllocationPlan,
    ForecastShare,
    Message,
    MessageError,
    PlanAnnouncement,
    Reject,
    StockReport,
    TransferOffer,
    TransferRequest,
    ValueMessage,
)
from .protocols import (
    ON_CONFLICT,
    PROTOCOLS,
    CentralCoordinator,
    Isolated,
    Negotiated,
    Protocol,
    SharedInformation,
)
from .replay import fulfil_requests, requests_as_messages
from .talking_env import TalkingEnv
from .teams import CentralByMessages, MessagingAgents, train_central_by_messages

__all__ = [
    "MessageBus", "LOG_COLUMNS", "SENT_STATUSES", "messages_per_day", "message_counts", "plot_sequence", "Message", "MessageError",
    "StockReport", "ForecastShare", "TransferRequest", "TransferOffer", "Accept", "Reject", "AllocationPlan",
    "ValueMessage", "PlanAnnouncement", "MESSAGE_TYPES", "Protocol", "Isolated", "SharedInformation",
    "Negotiated", "CentralCoordinator", "PROTOCOLS", "ON_CONFLICT", "RULES", "allocate", "expected_cost", "exact_allocation",
    "allocation_study", "hub_network", "HubAllocation", "requests_as_messages", "fulfil_requests", "TalkingEnv",
    "CentralByMessages", "MessagingAgents", "train_central_by_messages",
]
