"""The vectorised batch core: B copies of the multi-warehouse simulation stepped at once with numpy.

This is the engine behind :class:`mas_lib.sim.env.MultiWarehouseEnv` (which drives one copy through
the PettingZoo API) and behind the vectorised learners of :mod:`mas_lib.decide.tabular`. Both run the
same code, so the per-step API and the batch give identical trajectories for the same seed and
actions (tested in ``tests/test_env.py``).

The rules of a day (docs/dynamics.md: arrivals, decisions, transfers, demand, costs) are written
once, in :func:`mas_lib.sim.day.run_day`; :meth:`BatchCore.step` checks the action (or trims it with
``invalid_action="clip"``) and runs that function on the ``(B,)`` column of every warehouse, the
per-step API's lean path (:mod:`mas_lib.sim.onecopy`) runs it on Python numbers.

Seeding: copy ``b`` of a batch reset with ``seed=s`` draws its demand from
``numpy.random.SeedSequence(s).spawn(B)[b]`` -- independent streams for every copy and every seed
(the old ``default_rng(s + b)`` made copy 1 of seed 0 the same path as copy 0 of seed 1); a single
environment reset with ``seed=s`` is copy 0. The arrays of the network (capacities, costs, lead
times, links) come from ``config.network`` (:class:`mas_lib.sim.network.Network`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..validation import check_bool, check_whole
from .config import EnvConfig
from .day import ARRAYS, DayRules, columns, from_columns, rows_to_fields, run_day
from .network import units_array
from .onecopy import OneCopy, result_from_rows, step_one, write_held
from .state import InvalidActionError, StepResult, SystemState

__all__ = ["BatchCore", "StepResult", "SystemState", "InvalidActionError"]


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a`` (no copy): writing through it raises numpy's "read-only" error,
    while the owner (the core) keeps writing ``a`` itself."""
    view = a.view()
    view.flags.writeable = False
    return view


def _sum_axis(a: np.ndarray, axis: int) -> np.ndarray:
    """``a.sum(axis)`` on the hot path. For a big batch and a short axis (2-3 warehouses) adding
    the slices is ~15x faster than numpy's reduce; for a small array (the per-step API, B = 1)
    numpy's own ``sum`` is cheapest. Either way the result is the same, bit for bit, for integers."""
    n = a.shape[axis]
    if n > 16 or a.size <= 512:
        return a.sum(axis=axis)
    index: list = [slice(None)] * a.ndim
    index[axis] = 0
    out = a[tuple(index)].copy()
    for k in range(1, n):
        index[axis] = k
        out += a[tuple(index)]
    return out


class _CoreArray:
    """A state array of :class:`BatchCore` kept in ``core.__dict__["_" + name]``, with one hook,
    :meth:`_before`, run before every read or assignment from outside the core (the core's own
    code reads ``core.__dict__`` directly)."""

    __slots__ = ("key",)

    def __set_name__(self, owner, name: str) -> None:
        self.key = "_" + name

    def _before(self, core) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __get__(self, core, owner=None):
        if core is None:
            return self
        self._before(core)
        try:
            return core.__dict__[self.key]
        except KeyError:
            raise AttributeError(f"BatchCore has no {self.key[1:]!r} before reset()") from None

    def __set__(self, core, value) -> None:
        self._before(core)
        core.__dict__[self.key] = value


class _Held(_CoreArray):
    """A state array of :class:`BatchCore` that a lean one-copy step may leave as Python lists.

    After :func:`mas_lib.sim.onecopy.step_one`, ``on_hand``, ``backlog``, ``requests``, ``prev_end`` and
    the day's additions to the running totals are kept as the lists the day was computed on
    (``core._held``), so a per-step loop that never reads them pays no array for them. Reading or
    assigning any of them first writes those lists into the arrays
    (:func:`mas_lib.sim.onecopy.write_held`): every reader sees exactly the arrays ``BatchCore.step``
    would have made. ``pipeline`` and ``transit`` are plain attributes, updated in place every day."""

    __slots__ = ()

    def _before(self, core) -> None:
        if core._held is not None:
            write_held(core)


class _Queue(_CoreArray):
    """``pipeline`` or ``transit`` of :class:`BatchCore`: an array updated in place every day.

    Between lean one-copy steps the core also keeps the day's lists of both (``core._lean_queues``),
    to save reading them back. Once either array is read or assigned from outside the core (a
    reference that could be written into later), the lean path reads the arrays afresh every day
    until the next :meth:`BatchCore.reset`; the core's own code reads ``core.__dict__``."""

    __slots__ = ()

    def _before(self, core) -> None:
        core._lean_queues, core._queues_shared = None, True


class BatchCore:
    """``B`` independent copies of the simulation described by an :class:`EnvConfig`.

    State arrays (read them; :meth:`state` hands policies read-only views of them): ``on_hand (B,N)``, ``backlog (B,N)``,
    ``pipeline (B,N,Lmax)`` (``pipeline[b,i,k]`` arrives at the start of day ``t+1+k``),
    ``transit (B,N,Tmax)`` (transfers arriving at warehouse ``i`` at the start of day ``t+1+k``),
    ``requests (B,N,N)`` (``requests[b,s,r]`` = units ``r`` asked ``s`` to send), ``t`` (day).
    Notebook 05 steps it directly; every rollout and the benchmarks (``benchmarks/bench_env.py``) run on it.
    """

    on_hand = _Held()
    backlog = _Held()
    requests = _Held()
    prev_end = _Held()
    #: the lean path's lists not yet written into the arrays (see :class:`_Held`), or None
    _held: tuple | None = None
    pipeline = _Queue()
    transit = _Queue()
    #: the lean path's (pipeline, transit) lists, the same numbers as the arrays, or None (see :class:`_Queue`)
    _lean_queues: tuple | None = None
    #: whether the pipeline or the road has been read or assigned from outside this episode
    _queues_shared = False

    def __init__(self, config: EnvConfig, batch_size: int = 1, *, lean: bool = True):
        """``lean``: with one copy, :meth:`step` runs the day on Python numbers
        (:func:`mas_lib.sim.onecopy.step_one`, the per-step API's path: several times cheaper than
        numpy calls on arrays of one row) whenever the action allows it, and on arrays otherwise;
        ``False`` always runs the array path (the tests' reference). The results are the same, bit
        for bit."""
        self.B = check_whole(batch_size, "BatchCore.batch_size", low=1, error=ValueError)
        lean = check_bool(lean, "BatchCore.lean", error=ValueError)
        self.config = config
        self.net = net = config.network
        self.names = list(net.names)
        self.N = net.N
        self.T = config.episode_length
        self.H = config.forecast_horizon
        # per-config constants of the feasibility test
        self._off_arc = np.flatnonzero(~net.arc.ravel())
        # the bounds of the fast feasibility test, as unsigned numbers (see _validate)
        self._max_order_u = net.max_order.astype(np.uint64)
        self._capacity_u = np.uint64(net.capacity.max())
        self.t = 0
        self.seed: int | tuple[int, ...] | None = None
        self._ready = False
        self.rules = DayRules.for_config(config)
        self._one = OneCopy(self) if self.B == 1 else None
        self._lean_step = lean and self._one is not None
        #: ``(on_hand, backlog, pipeline, transit, requests)`` lists right after a lean one-copy step, for
        #: the observation (None after any other change)
        self._after_one: tuple | None = None
        #: (pipeline, transit, their columns) for :meth:`_queue_columns`
        self._queues: tuple | None = None

    # ------------------------------------------------------------------ reset
    def reset(self, seed: int | Sequence[int] | None = None, *, first_copy: int = 0) -> None:
        """Start a new episode in every copy.

        ``seed`` is an int ``s`` or a tuple ``(s, k1, k2, ...)`` of ints >= 0. Copy ``b`` draws its
        demand from ``SeedSequence(s, spawn_key=(k1, k2, ..., first_copy + b))`` -- numpy's spawn
        tree: with ``seed=s`` copy ``b`` is ``SeedSequence(s).spawn(B)[b]``, and episode ``e`` of a
        training run, seeded ``(s, e)``, is ``SeedSequence(s).spawn(...)[e].spawn(B)[b]``. Every copy
        and every episode is an independent stream (plain entropy lists would not do: numpy pads
        them with zeros, so ``[s, 1]`` and ``[s, 1, 0]`` would give the same path). Copy ``b`` can be
        replayed alone with ``first_copy=b``. ``seed=None`` draws fresh entropy; whichever seed was
        used is recorded in :attr:`seed` so any episode can be replayed.
        """
        cfg, B, N, net = self.config, self.B, self.N, self.net
        self._held = None  # (the episode's state is replaced below)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        words = (seed,) if np.ndim(seed) == 0 else tuple(seed)
        words = tuple(check_whole(w, "seed", error=ValueError) for w in words)
        first_copy = check_whole(first_copy, "first_copy", error=ValueError)
        self.seed = words[0] if len(words) == 1 else words
        rngs = [np.random.default_rng(np.random.SeedSequence(words[0], spawn_key=(*words[1:], first_copy + b)))
                for b in range(B)]
        # read-only once per episode: the core never writes them, so neither may a policy (the forecast
        # it is handed) nor a listener (``StepResult.demand`` is a view of today's demand)
        demand, forecast = cfg.demand.sample_batch(rngs, self.T, self.H)
        self.demand, self.forecast = _read_only(demand), _read_only(forecast)
        self.on_hand = np.tile(net.initial_inventory, (B, 1))
        self.backlog = np.zeros((B, N), dtype=np.int64)
        pipeline = np.zeros((B, N, net.Lmax), dtype=np.int64)
        for i, w in enumerate(cfg.warehouses):
            for k, q in enumerate(w.initial_pipeline):
                pipeline[:, i, k] = q
        transit = np.zeros((B, N, net.Tmax), dtype=np.int64)
        for tr in cfg.in_transit:
            transit[:, net.index(tr.target), tr.days - 1] += tr.units
        self.__dict__.update(_pipeline=pipeline, _transit=transit)  # (not shared: see _Queue)
        self._lean_queues, self._queues_shared = None, False
        self.requests = np.zeros((B, N, N), dtype=np.int64)
        for rq in cfg.requests:
            self.requests[:, net.index(rq.supplier), net.index(rq.requester)] += rq.units
        self.prev_end = self.on_hand.astype(float)
        self.t = 0
        self._totals = np.zeros((3, B, N), dtype=np.int64)  # (ordered, sold, overflow): one add on the lean path
        self._after_one = None
        self.initial_units = self.units_in_system()
        self._ready = True

    @property
    def total_ordered(self) -> np.ndarray:
        """Units ordered so far this episode ``(B, N)`` (a view; read-only attribute)."""
        if self._held is not None:
            write_held(self)
        return self._totals[0]

    @property
    def total_sold(self) -> np.ndarray:
        """Units sold so far this episode ``(B, N)``."""
        if self._held is not None:
            write_held(self)
        return self._totals[1]

    @property
    def total_overflow(self) -> np.ndarray:
        """Units refused above capacity so far this episode ``(B, N)``."""
        if self._held is not None:
            write_held(self)
        return self._totals[2]

    def units_in_system(self) -> np.ndarray:
        """Units on hand + in the replenishment pipeline + on the road, per copy ``(B,)``."""
        d = self.__dict__
        return self.on_hand.sum(1) + d["_pipeline"].sum((1, 2)) + d["_transit"].sum((1, 2))

    def conservation_gap(self) -> np.ndarray:
        """``(start + ordered) - (in system + sold + overflow)`` per copy; always 0 (units)."""
        return (self.initial_units + self.total_ordered.sum(1)) - (
            self.units_in_system() + self.total_sold.sum(1) + self.total_overflow.sum(1)
        )

    # ------------------------------------------------------------ validation
    def _where(self, b: int, i: int) -> str:
        return f"warehouse {self.names[i]!r}" + (f" (copy {b})" if self.B > 1 else "")

    def _fail(self, mask: np.ndarray, field: str, values: np.ndarray, rule: str) -> None:
        b, i = np.argwhere(mask)[0][:2]
        raise InvalidActionError(f"{self._where(b, i)}: {field} = {values[b, i]} is not allowed on day {self.t}; {rule}")

    def _validate(self, q: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The day's action as int64 units ``(q, x, clipped)``, checked (or trimmed with
        ``invalid_action="clip"``). Any dtype is taken (:func:`mas_lib.sim.network.units_array`):
        booleans, strings, NaN and fractions are errors in both modes; a quantity beyond
        ``UNIT_LIMIT`` (1e30, inf, 2**70) counts as that many, so it is an error whose message shows
        the value given, or is trimmed (an order to ``max_order``, transfers to what is on hand)."""
        B, N, net = self.B, self.N, self.net
        given_q, given_x = np.asarray(q), np.asarray(x)
        if given_q.shape != (B, N):
            raise InvalidActionError(f"replenish must have shape (B, N) = {(B, N)}; got {given_q.shape}")
        if given_x.shape != (B, N, N):
            raise InvalidActionError(f"transfer must have shape (B, N, N) = {(B, N, N)}; got {given_x.shape}")
        # a copy (the StepResult keeps it as ``ordered``); int arrays straight, anything else checked
        q = given_q.astype(np.int64) if given_q.dtype.kind == "i" else units_array(
            given_q, lambda k: f"{self._where(*k)}: replenish")
        x = given_x.astype(np.int64, copy=False) if given_x.dtype.kind == "i" else units_array(
            given_x, lambda k: f"{self._where(*k[:2])}: transfer to {self.names[k[2]]!r}")  # only read by the step
        # stock that may leave today: on hand plus a same-day receipt, capped at capacity (Network.available)
        available = net.available(self.on_hand, q)
        out = _sum_axis(x, 2)
        # the fast test first (one pass per condition); the masks only when something is wrong. Seen as
        # unsigned, a negative number is above every bound, so one pass checks both ends; a transfer
        # above the largest capacity can never be shipped, and bounding each one keeps the int64 row
        # sum from wrapping around (two transfers of 2**62 would add up to -2**63)
        if (not (q.view(np.uint64) > self._max_order_u).any() and x.view(np.uint64).max() <= self._capacity_u
                and not x.reshape(B, N * N)[:, self._off_arc].any() and not (out > available).any()):
            return q, x, np.zeros((B, N), dtype=bool)
        if self.config.invalid_action == "clip":
            q2, x2 = net.clip_actions(q, x, self.on_hand)
            return q2, x2, (q2 != q) | (_sum_axis(x2 != x, 2) > 0)  # bool, as StepResult documents
        bad_q = (q < 0) | (q > net.max_order)
        if bad_q.any():
            self._fail(bad_q, "replenish", given_q, f"allowed: 0 to max_order ({net.max_order.tolist()} per warehouse)")
        bad_x = (x < 0) | ((x != 0) & ~net.arc)
        if bad_x.any():
            b, i, j = np.argwhere(bad_x)[0]
            what = "a negative quantity" if x[b, i, j] < 0 else f"no link {self.names[i]}->{self.names[j]}"
            raise InvalidActionError(
                f"{self._where(b, i)}: transfer to {self.names[j]!r} = {given_x[b, i, j]} is not "
                f"allowed ({what}); neighbours: {net.neighbour_names(i)}"
            )
        # every transfer is >= 0 here, so one above the stock also catches a row sum that wrapped around
        b, i = np.argwhere((out > available) | (x.max(axis=2) > available))[0]
        total = sum(given_x[b, i].tolist())  # the units given, added up exactly (Python numbers)
        raise InvalidActionError(f"{self._where(b, i)}: total transfer out = {total} is not allowed on day "
                                 f"{self.t}; only {available[b, i]} units are on hand to ship")

    # ------------------------------------------------------------------ step
    def step(self, replenish: np.ndarray, transfer: np.ndarray) -> StepResult:
        """Advance every copy by one day (the rules: :func:`mas_lib.sim.day.run_day`; with one copy
        and ``lean=True``, on Python numbers through :func:`mas_lib.sim.onecopy.step_one` whenever the
        action is an integer array it can play, with the same results bit for bit).

        Args:
            replenish: ``(B, N)`` whole units each warehouse orders today.
            transfer: ``(B, N, N)`` whole units; ``transfer[b, i, j]`` goes from ``i`` to ``j``
                (must be 0 where there is no link and on the diagonal).

        Returns:
            :class:`StepResult` for the day. Raises :class:`InvalidActionError` for an
            impossible action unless the config asks to clip, and ``RuntimeError`` after the
            episode's last day (call :meth:`reset`). After the last day the state still advances
            to the next morning (tomorrow's arrivals are received), so :meth:`state` is the
            *final observation* a learner bootstraps from on truncation.
        """
        if not self._ready:
            raise RuntimeError("call reset() before step(), and again after the episode's last day")
        if self._lean_step:  # one copy: the day on Python numbers (onecopy.step_one), when it can be
            given_q, given_x = np.asarray(replenish), np.asarray(transfer)
            if (given_q.shape == (1, self.N) and given_x.shape == (1, self.N, self.N)
                    and given_q.dtype.kind in "iu" and given_x.dtype.kind in "iu"):
                day = step_one(self, given_q[0].tolist(), given_x[0].tolist())
                if day is not None:
                    return result_from_rows(day[0])
        self._after_one = None
        q, x, clipped = self._validate(replenish, transfer)
        B, t = self.B, self.t
        # the day on columns: copy b of warehouse i is entry b of every (B,) column
        on_hand, backlog, requests, d = columns(self.on_hand), columns(self.backlog), columns(self.requests), self.demand[:, t, :]
        pipeline, transit = self._queue_columns()
        rows = run_day(self.rules, ARRAYS, on_hand, backlog, pipeline, transit, requests, columns(self.prev_end),
                       columns(q), columns(x), columns(d), columns(clipped))
        # (today's demand as its read-only view, the checked copy of the orders, the trim's flags)
        fields = rows_to_fields(rows, B, {"demand": d, "ordered": q, "clipped": clipped})
        # the new morning: pipeline and road updated in place (np.array reads every slot before any is
        # written), the other arrays new
        self._lean_queues = None
        for queue, cols in ((self.__dict__["_pipeline"], pipeline), (self.__dict__["_transit"], transit)):
            queue[...] = np.array(cols).transpose(2, 0, 1)
        self.on_hand = from_columns(on_hand)
        if self.config.backorders:
            self.backlog = from_columns(backlog)
        self.requests = from_columns(requests)
        self.prev_end = fields["on_hand"].astype(float)
        self._totals += (q, fields["sales"], fields["overflow"])
        self.t = t + 1
        if self.t >= self.T:
            self._ready = False
        return StepResult(**fields)

    def _queue_columns(self) -> tuple[list, list]:
        """The pipeline's and the road's ``(B,)`` columns for :func:`mas_lib.sim.day.run_day`, as fresh
        lists (the day fills them in) of views kept while the core holds the same two arrays: both are
        updated in place, so the views always show today's values and are made once per array."""
        cached, pipeline, transit = self._queues, self.__dict__["_pipeline"], self.__dict__["_transit"]
        if cached is None or cached[0] is not pipeline or cached[1] is not transit:
            cached = self._queues = (pipeline, transit, columns(pipeline), columns(transit))
        return [row[:] for row in cached[2]], [row[:] for row in cached[3]]

    def state(self) -> SystemState:
        """The decision-time state of every copy, as read-only views of the core's arrays (no copy).

        Every policy is handed this (the rollout loop, ``Policy.env_actions``, the tabular trainer): a
        policy that writes into it (``state.on_hand += 10``) gets numpy's "read-only" error instead of
        silently changing the stock and breaking the unit balance. A policy that wants scratch space
        takes a copy. The views follow the core: the pipeline and the road are updated in place by the
        next step, the other arrays are new each day (``docs/dynamics.md``, "State at the start of day t")."""
        return SystemState(
            on_hand=_read_only(self.on_hand), backlog=_read_only(self.backlog),
            pipeline=_read_only(self.__dict__["_pipeline"]), transit=_read_only(self.__dict__["_transit"]),
            requests=_read_only(self.requests), forecast=self.current_forecast(), t=self.t,
        )

    @property
    def done(self) -> bool:
        """True once the episode's last day has been stepped."""
        return self.t >= self.T

    def current_forecast(self) -> np.ndarray:
        """Forecast ``(B, H, N)`` the agents see at the start of today [units/day]; after the last
        day (the final observation) it is the last day's forecast."""
        return self.forecast[:, min(self.t, self.T - 1)]

    # ------------------------------------------------------- discrete actions
    def decode_discrete(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map discrete action indices ``(B, N)`` to ``(replenish (B,N), transfer (B,N,N))`` in units
        (:meth:`mas_lib.sim.network.Network.decode_discrete`)."""
        return self.net.decode_discrete(actions)
