"""The agents' decision rules in the twin, driven by the morning's forecast and the safety stock
in force that day (paper 3.1.1: replenishment from forecasts; 3.2.6: parameters re-tuned).

Both rules are ordinary :class:`mas_lib.decide.Policy` objects, so anything that speaks the same
interface -- a learner, or the coordination protocols of the messaging layer (:mod:`mas_lib.messaging`,
notebook 07) -- plugs into :func:`mas_lib.ops.run_twin` the same way (pass a factory
``(config, plan, open_days) -> Policy``).

* :class:`PlannedBaseStock` -- order up to *forecast demand over the lead time + 1 day + safety*.
* :class:`PlannedSs` -- (s, S) with ``s`` = the same order-up-to level and ``S = s + review``
  days of forecast: fewer, larger orders (cheaper when ordering has a fixed cost).

The lead-time demand is the sum of the morning's forecasts of days ``t .. t + L`` (0 on the
days the shop is closed). Both rules order nothing on closed days (the office is shut).
"""

from __future__ import annotations

import numpy as np

from ..decide.policies import Policy, inventory_position
from ..sim.config import EnvConfig
from ..sim.state import SystemState
from ..validation import check_number

__all__ = ["REVIEW_DAYS", "PlannedBaseStock", "PlannedSs", "largest_target", "lead_time_demand"]

#: the (s, S) rule's default review period: ``S`` is ``s`` plus this many days of forecast [days]
REVIEW_DAYS = 7.0


def lead_time_demand(forecast: np.ndarray, lead_time: np.ndarray) -> np.ndarray:
    """Sum of ``forecast[b, k, i]`` over ``k = 0 .. lead_time[i]`` -> ``(B, N)`` units."""
    H = forecast.shape[1]
    if int(np.max(lead_time)) + 1 > H:
        raise ValueError(f"the forecast covers {H} days but a lead time of {int(np.max(lead_time))} days needs "
                         f"{int(np.max(lead_time)) + 1}")
    k = np.arange(H)[:, None]
    return (forecast * (k <= np.asarray(lead_time)[None, :])[None]).sum(axis=1)


def largest_target(mean: np.ndarray, safety: np.ndarray, lead_time: np.ndarray,
                   review: float = REVIEW_DAYS) -> np.ndarray:
    """``(N,)`` the largest stock a built-in rule ever aims at over a plan [units]: the maximum
    over the days of the (s, S) order-up-to level ``S`` = forecast over the lead time + 1 day +
    safety + ``review`` days of the mean forecast (the base-stock level is ``S`` without the
    review term, so it is never larger). ``mean`` ``(T, H, N)``, ``safety`` ``(T, N)`` as in a
    :class:`~mas_lib.ops.forecasting.ForecastPlan`. Sizes the twin's capacity
    (:meth:`mas_lib.ops.network.TwinNetwork.node_capacity`, called by :func:`mas_lib.ops.run_twin`)."""
    level = lead_time_demand(mean, lead_time) + safety + review * mean.mean(axis=1)
    return level.max(axis=0) if len(level) else np.zeros(mean.shape[2])


class PlannedBaseStock(Policy):
    """Forecast order-up-to with a day-by-day safety stock ``safety (T, N)`` [units].

    ``open_days (T,)``: the shop's calendar; no orders on closed days.
    """

    name = "base-stock"

    def __init__(self, config: EnvConfig, safety: np.ndarray, open_days: np.ndarray, round_to: int = 1):
        super().__init__(config, round_to)
        self.safety = np.asarray(safety, dtype=float)
        self.open_days = np.asarray(open_days, dtype=bool)
        if self.safety.shape != (config.episode_length, self.N) or self.open_days.shape != (config.episode_length,):
            raise ValueError(f"safety must be (days, nodes) = {(config.episode_length, self.N)} and open_days "
                             f"(days,); got {self.safety.shape} and {self.open_days.shape}")

    def level(self, state: SystemState) -> np.ndarray:
        """Today's order-up-to level ``(B, N)`` [units]."""
        t = min(state.t, len(self.safety) - 1)
        return lead_time_demand(state.forecast, self.net.lead_time) + self.safety[t]

    def _closed(self, state: SystemState) -> bool:
        return not self.open_days[min(state.t, len(self.open_days) - 1)]

    def act(self, state):
        B = state.batch_size
        x = np.zeros((B, self.N, self.N), dtype=np.int64)
        if self._closed(state):
            return np.zeros((B, self.N), dtype=np.int64), x
        return self._order(self.level(state) - inventory_position(state)), x


class PlannedSs(PlannedBaseStock):
    """(s, S): order up to ``S = s + review * mean daily forecast`` when the inventory position
    falls to ``s`` = the base-stock level or below. ``review`` [days]."""

    name = "(s, S)"

    def __init__(self, config: EnvConfig, safety, open_days, review: float = REVIEW_DAYS, round_to: int = 1):
        super().__init__(config, safety, open_days, round_to)
        self.review = check_number(review, "PlannedSs.review", low=0, unit="days", error=ValueError)

    def act(self, state):
        B = state.batch_size
        x = np.zeros((B, self.N, self.N), dtype=np.int64)
        if self._closed(state):
            return np.zeros((B, self.N), dtype=np.int64), x
        s = self.level(state)
        S = s + self.review * state.forecast.mean(axis=1)
        pos = inventory_position(state)
        return self._order(np.where(pos <= s, S - pos, 0)), x
