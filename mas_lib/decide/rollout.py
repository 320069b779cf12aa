"""One rollout loop for every policy and learner, with a stream of steps (paper sections 4.2-4.5).

Everything in the library that runs a policy -- :func:`simulate` (KPIs with a confidence
interval), :func:`trajectory` (one episode as a tidy frame), :func:`compare` (several policies on
the same demand paths), the tabular learners' training and the widgets' progress bars -- runs
through :func:`rollout`. It resets a :class:`~mas_lib.sim.core.BatchCore`, asks the policy for
the actions of all ``B`` copies, steps the core and yields one :class:`Step` per simulated day::

    for step in rollout(config, policy, copies=256, seed=0):
        ...  # step.state, step.replenish, step.transfer, step.result, step.next_state, step.truncated

or hands each step to listeners with :func:`play`. On the last day of an episode the step is
``truncated`` and ``next_state`` is the *final observation* (tomorrow's arrivals received), so a
learner can bootstrap from it instead of dropping the transition.

Seeding (numpy's spawn tree): a single-episode rollout (``days=None``) with ``seed=s`` gives copy
``b`` the stream ``SeedSequence(s).spawn(B)[b]`` -- the same as
``MultiWarehouseEnv.reset(seed=s, options={"copy": b})``; episode ``e`` of a rollout that runs for
a number of ``days`` is seeded ``(s, e)``: ``SeedSequence(s, spawn_key=(e, b))`` for copy ``b``.
Every copy and every episode is an independent random stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..sim.config import EnvConfig
from ..sim.core import BatchCore
from ..sim.state import StepResult, SystemState
from ..validation import check_whole
from .policies import Policy

__all__ = [
    "Step",
    "rollout",
    "play",
    "KPIAccumulator",
    "SimulationSummary",
    "simulate",
    "trajectory",
    "compare",
]

Decide = Callable[[SystemState], tuple[np.ndarray, np.ndarray]]


def _copy_state(state: SystemState) -> SystemState:
    return SystemState(**{f.name: (getattr(state, f.name).copy() if f.name != "t" else state.t) for f in fields(state)})


@dataclass(frozen=True)
class Step:
    """One simulated day of ``B`` copies, as the rollout stream carries it.

    Attributes:
        episode: episode number within the rollout (0, 1, ...).
        day: day index within the episode that was just simulated (0-based).
        state: the decision-time state before the day (a snapshot) [units].
        replenish: ``(B, N)`` units ordered; transfer: ``(B, N, N)`` units shipped (as decided,
            before any documented clipping; ``result.ordered`` shows what was played).
        result: what happened (:class:`~mas_lib.sim.state.StepResult`).
        next_state: the state after the day (a snapshot): the next decision state, or, when
            ``truncated``, the final observation to bootstrap from.
        truncated: True on the last day of an episode (the copies are reset afterwards).
    """

    episode: int
    day: int
    state: SystemState
    replenish: np.ndarray
    transfer: np.ndarray
    result: StepResult
    next_state: SystemState
    truncated: bool


def _as_decide(policy: Policy | Decide) -> Decide:
    if isinstance(policy, Policy):
        return policy.act
    if callable(policy):
        return policy
    raise TypeError(f"policy must be a Policy or a callable state -> (replenish, transfer); got {type(policy).__name__}")


def rollout(
    source: EnvConfig | BatchCore,
    policy: Policy | Decide,
    *,
    copies: int = 1,
    seed: int | tuple[int, ...] = 0,
    days: int | None = None,
) -> Iterator[Step]:
    """Run ``policy`` on ``copies`` copies of the simulation and yield one :class:`Step` a day.

    Args:
        source: an :class:`EnvConfig` (a core with ``copies`` copies is built) or an existing
            :class:`BatchCore` (its batch size is used; ``copies`` is ignored).
        policy: a :class:`~mas_lib.decide.policies.Policy` or any callable
            ``state -> (replenish (B,N), transfer (B,N,N))`` [units] (learners pass their
            behaviour policy).
        seed: demand seed, an int or a tuple of ints (see the module docstring).
        days: ``None`` runs one episode; a number runs that many days per copy, resetting each
            time an episode ends (episode ``e`` seeded ``(seed, e)``).

    Yields:
        :class:`Step` per day. Used by :func:`simulate`, :func:`trajectory`, :func:`compare`, the
        tabular trainer and the widgets.
    """
    decide = _as_decide(policy)
    core = source if isinstance(source, BatchCore) else BatchCore(source, batch_size=copies)
    if days is not None:
        days = check_whole(days, "rollout.days", low=1, unit="days", error=ValueError)
    base = (seed,) if np.ndim(seed) == 0 else tuple(seed)
    episode = 0
    core.reset(seed=base if days is None else (*base, episode))
    total = core.T if days is None else days
    for _ in range(total):
        state = _copy_state(core.state())
        q, x = decide(core.state())
        result = core.step(q, x)
        truncated = core.done
        yield Step(episode, core.t - 1, state, q, x, result, _copy_state(core.state()), truncated)
        if truncated and days is not None:
            episode += 1
            core.reset(seed=(*base, episode))


def play(steps: Iterable[Step], *listeners: Callable[[Step], None]) -> int:
    """Consume a rollout, handing every step to each listener in turn; returns the number of days."""
    n = 0
    for step in steps:
        for listen in listeners:
            listen(step)
        n += 1
    return n


# ----------------------------------------------------------------------------- KPIs
@dataclass(frozen=True)
class SimulationSummary:
    """Key performance indicators of a policy over B simulated episodes (what :func:`simulate` returns).

    ``daily_cost`` is the mean total cost per day [money/day] with ``daily_cost_ci`` the
    half-width of its 95% confidence interval across episodes; ``fill_rate`` is units served /
    units demanded over all days and warehouses; the ``*_cost`` entries are per day [money/day];
    ``mean_on_hand`` is the mean closing stock summed over the warehouses, per day [units].
    """

    policy: str
    daily_cost: float
    daily_cost_ci: float
    fill_rate: float
    holding_cost: float
    shortage_cost: float
    ordering_cost: float
    transport_cost: float
    mean_on_hand: float
    episodes: int
    days: int

    def summary(self) -> pd.Series:
        """The KPIs as a labelled series (the library's results convention)."""
        return pd.Series({f.name: getattr(self, f.name) for f in fields(self)}, name=self.policy)

    def to_frame(self) -> pd.DataFrame:
        """One row, one column per KPI."""
        return self.summary().to_frame().T.reset_index(drop=True)


class KPIAccumulator:
    """A rollout listener that adds up costs, sales and stock per copy, skipping ``warmup`` days."""

    COST_PARTS = ("holding_cost", "shortage_cost", "ordering_cost", "transport_cost")

    def __init__(self, copies: int, warmup: int = 0):
        self.warmup = check_whole(warmup, "warmup", unit="days", error=ValueError)
        self.cost = np.zeros(copies)
        self.parts = dict.fromkeys(self.COST_PARTS, 0.0)
        self.served = self.demand = self.on_hand = 0.0
        self.days = 0

    def __call__(self, step: Step) -> None:
        if step.day < self.warmup:
            return
        r = step.result
        self.days += 1
        self.cost += r.total_cost.sum(axis=1)
        for k in self.parts:
            self.parts[k] += float(getattr(r, k).sum())
        self.served += float(r.served.sum())
        self.demand += float(r.demand.sum())
        self.on_hand += float(r.on_hand.sum())

    def summary(self, label: str) -> SimulationSummary:
        """The :class:`SimulationSummary` of what was accumulated."""
        if self.days == 0:
            raise ValueError(f"warmup = {self.warmup} leaves no day to measure; allowed: fewer days than the episode")
        episodes = self.cost.size
        per_day = self.cost / self.days
        ci = 1.96 * per_day.std(ddof=1) / np.sqrt(episodes) if episodes > 1 else float("nan")
        norm = episodes * self.days
        return SimulationSummary(
            policy=label, daily_cost=float(per_day.mean()), daily_cost_ci=float(ci),
            fill_rate=self.served / self.demand if self.demand > 0 else 1.0,
            holding_cost=self.parts["holding_cost"] / norm, shortage_cost=self.parts["shortage_cost"] / norm,
            ordering_cost=self.parts["ordering_cost"] / norm, transport_cost=self.parts["transport_cost"] / norm,
            mean_on_hand=self.on_hand / norm, episodes=episodes, days=self.days,
        )


def _label(policy: Policy) -> str:
    d = policy.describe()
    return f"{policy.name} ({d})" if d else policy.name


def simulate(
    config: EnvConfig,
    policy: Policy,
    episodes: int = 256,
    seed: int | tuple[int, ...] = 0,
    warmup: int = 0,
) -> SimulationSummary:
    """Run ``policy`` on ``episodes`` copies of ``config`` at once (one :func:`rollout`) and
    summarise the KPIs. ``warmup`` days at the start are simulated but not counted (to measure
    steady state). Same ``seed`` -> same numbers; copy ``b`` uses ``SeedSequence(seed).spawn(B)[b]``.
    Used by notebook 06, :mod:`mas_lib.teach.problems` and the benchmarks."""
    acc = KPIAccumulator(episodes, warmup)
    play(rollout(config, policy, copies=episodes, seed=seed), acc)
    return acc.summary(_label(policy))


TRAJECTORY_COLUMNS = (
    "day", "warehouse", "start_stock", "replenish", "transfer_out", "transfer_in", "demand", "sales", "lost",
    "end_stock", "holding_cost", "shortage_cost", "ordering_cost", "transport_cost", "total_cost", "fill_rate",
)


def trajectory(config: EnvConfig, policy: Policy, seed: int = 0) -> pd.DataFrame:
    """One episode as a tidy frame: a row per day and warehouse with stock, demand, sales, lost
    sales, orders, transfers and every cost (units and money). For the plots of notebook 02 and of :mod:`mas_lib.teach.problems`.
    The episode is copy 0 of ``seed`` (the path ``MultiWarehouseEnv.reset(seed=seed)`` plays)."""
    names = list(config.network.names)
    frames = []

    def record(step: Step) -> None:
        r = step.result
        cols = {
            "start_stock": step.state.on_hand[0], "replenish": r.ordered[0], "transfer_out": r.shipped_out[0],
            "transfer_in": r.received_transfers[0], "demand": r.demand[0], "sales": r.sales[0], "lost": r.lost[0],
            "end_stock": r.on_hand[0], "holding_cost": r.holding_cost[0], "shortage_cost": r.shortage_cost[0],
            "ordering_cost": r.ordering_cost[0], "transport_cost": r.transport_cost[0],
            "total_cost": r.total_cost[0], "fill_rate": r.fill_rate[0],
        }
        frames.append(pd.DataFrame({"day": step.day, "warehouse": names, **cols}))

    play(rollout(config, policy, copies=1, seed=seed), record)
    out = pd.concat(frames, ignore_index=True)[list(TRAJECTORY_COLUMNS)]
    ints = ["start_stock", "replenish", "transfer_out", "transfer_in", "demand", "sales", "lost", "end_stock"]
    return out.astype({c: "int64" for c in ints} | {c: "float64" for c in TRAJECTORY_COLUMNS[10:]})


def compare(config: EnvConfig, policies: dict[str, Policy], episodes: int = 200, seed: int = 0) -> pd.DataFrame:
    """Simulate each named policy on the same demand paths (common random numbers) and return a
    table of KPIs, one row per policy: daily cost [money/day] with its 95% CI, fill rate, the cost
    breakdown [money/day] -- holding, shortage, ordering and transport, which add up to the daily
    cost -- and the mean stock [units]. Notebook 02 and :mod:`mas_lib.teach.problems`."""
    rows = []
    for name, pol in policies.items():
        s = simulate(config, pol, episodes=episodes, seed=seed).summary()
        s["policy"] = name
        rows.append(s)
    cols = ["policy", "daily_cost", "daily_cost_ci", "fill_rate", *KPIAccumulator.COST_PARTS, "mean_on_hand"]
    return pd.DataFrame(rows)[cols].set_index("policy")
