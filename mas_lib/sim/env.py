"""``MultiWarehouseEnv``: the paper's warehouses as agents, behind PettingZoo's ``ParallelEnv`` API.

Each warehouse is an agent (paper sections 3.1, 4). Every day every agent observes its own stock,
its pipeline, the forecast for the next ``H`` days and -- with information sharing -- its
neighbours' stock and forecast; then it chooses a replenishment quantity and a transfer to each
neighbour (section 4.2). The simulation itself is :class:`mas_lib.sim.core.BatchCore` with one copy.

Actions per agent, in whichever form is handiest:

* a ``MultiDiscrete`` array ``[replenish, transfer_to_neighbour_1, ...]`` (units; the default
  action space, neighbours in the order of :meth:`MultiWarehouseEnv.neighbours`);
* a ``dict`` ``{"replenish": 20, "transfer": {"B": 30}}``;
* an ``int`` index when the config has ``order_grid``/``transfer_grid`` (``Discrete`` space).

Notebooks 00 and 02 use it; ``tests/test_env.py`` runs PettingZoo's ``parallel_api_test``.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import repeat
from operator import itemgetter

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from ..validation import check_whole
from .config import EnvConfig
from .core import BatchCore
from .network import whole_units
from .observe import ObservationSpec
from .onecopy import result_from_rows, step_one
from .state import InvalidActionError, StepResult

__all__ = ["MultiWarehouseEnv", "InvalidActionError"]


class MultiWarehouseEnv(ParallelEnv):
    """A day-by-day multi-warehouse inventory simulation (PettingZoo parallel API).

    Args:
        config: the :class:`mas_lib.sim.config.EnvConfig` to simulate.
        render_mode: ``None`` or ``"ansi"`` (a text table of the day).

    ``infos[agent]`` after a step holds the day's demand, sales, lost sales, fill rate, holding,
    shortage, ordering and transport cost, overflow and the paper's reward terms (see
    :class:`mas_lib.sim.core.StepResult` for units).
    """

    metadata = {"name": "multi_warehouse_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, config: EnvConfig, render_mode: str | None = None):
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode = {render_mode!r} is not allowed; allowed: None | 'ansi'")
        self.config = config
        self.render_mode = render_mode
        self.core = BatchCore(config, batch_size=1)
        self.net = net = config.network
        self.spec = ObservationSpec(config)
        self.possible_agents = list(net.names)
        self.agents: list[str] = []
        self._obs_spaces = {
            a: spaces.Box(low=0.0, high=np.inf, shape=(self.spec.sizes[i],), dtype=np.float32)
            for i, a in enumerate(self.possible_agents)
        }
        if net.has_discrete_actions:
            self._act_spaces = {a: spaces.Discrete(n) for a, n in zip(self.possible_agents, net.discrete_sizes, strict=True)}
        else:
            self._act_spaces = {}
            for i, a in enumerate(self.possible_agents):
                highs = [int(net.max_order[i]) + 1] + [int(net.capacity[i]) + 1 for _ in net.neighbours[i]]
                self._act_spaces[a] = spaces.MultiDiscrete(np.array(highs, dtype=np.int64))
        self._last: StepResult | None = None
        self._last_rows: list[list] | None = None
        # the short path of MultiDiscrete actions: per agent its name, its action length ``size`` and a
        # getter of its transfer row (x[i][j] for every j) from the action's values with a 0 appended
        # (entry ``size``, read for every warehouse it has no link to)
        self._array_actions = not net.has_discrete_actions
        self._parse = []
        for i, a in enumerate(self.possible_agents):
            size = 1 + len(net.neighbours[i])
            slots = [size] * net.N
            for k, j in enumerate(net.neighbours[i]):
                slots[j] = 1 + k
            self._parse.append((a, size, itemgetter(*slots) if net.N > 1 else itemgetter(slice(size, None))))
        self._none_done = dict.fromkeys(self.possible_agents, False)  # copied for each day's flags
        self._forecast: tuple = (None, None)  # (core.forecast, its copy-0 view) for _observe

    @property
    def last_result(self) -> StepResult | None:
        """The :class:`StepResult` of the last day (``B = 1`` arrays), ``None`` right after a reset."""
        if self._last is None and self._last_rows is not None:
            self._last = result_from_rows(self._last_rows)
        return self._last

    @last_result.setter
    def last_result(self, value: StepResult | None) -> None:
        self._last, self._last_rows = value, None

    # ------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_spaces[agent]

    def neighbours(self, agent: str) -> list[str]:
        """The warehouses ``agent`` can ship to, in action order."""
        return self.net.neighbour_names(agent)

    def observation_labels(self, agent: str) -> list[str]:
        """A name for every entry of ``agent``'s observation vector (units in brackets)."""
        return list(self.spec.labels[self.net.index(agent)])

    # -------------------------------------------------------- observations
    def _observe(self) -> dict[str, np.ndarray]:
        c = self.core
        if c._after_one is not None:  # right after a lean one-copy step: build from its lists
            if c.forecast is not self._forecast[0]:  # copy 0's forecasts, a view kept per array
                self._forecast = (c.forecast, c.forecast[0])
            day = self._forecast[1][min(c.t, c.T - 1)].ravel().tolist()
            obs = self.spec.observe_one(*c._after_one, day, c.t)
            return dict(zip(self.possible_agents, obs))  # noqa: B905 (same length; strict= is slow here)
        return {a: o[0] for a, o in zip(self.possible_agents, self.spec.observe(c.state()), strict=True)}

    def state(self) -> np.ndarray:
        """Global state: every agent's observation, concatenated (float32)."""
        return np.concatenate(self.spec.observe(self.core.state()), axis=1)[0]

    # ---------------------------------------------------------------- API
    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode. Same ``seed`` -> same demand path (copy 0 of a batch reset with it).

        ``options`` may hold ``"copy": b`` to replay copy ``b`` of a batch reset with the same seed,
        and ``"stream": (k, ...)`` extra seed words (episode ``e`` of a multi-episode rollout or of
        training is ``(e,)``); other keys are ignored. With
        ``seed=None`` a fresh seed is drawn and recorded in ``env.core.seed``.
        """
        options = dict(options or {})  # other keys are ignored (PettingZoo leaves options to the env)
        stream = tuple(options.get("stream", ()))
        if seed is not None and stream:
            seed = (seed, *stream)
        self.core.reset(seed=seed, first_copy=options.get("copy", 0))
        self.agents = list(self.possible_agents)
        self.last_result = None
        return self._observe(), {a: {} for a in self.agents}

    def _to_lists(self, actions: Mapping[str, object]) -> tuple[list[int], list, tuple | None]:
        """The actions as ``(q, x)`` of Python ints (``x`` a list of rows, lists or tuples), plus the
        ``(q, x)`` arrays of :meth:`_to_arrays` when that general parser was needed. Integer arrays
        of the right size (the ``MultiDiscrete`` form) take a short path; if such an action must then
        go through the batch step (to be rejected, or with a number of 2**53 units or more),
        :meth:`step` parses it again with :meth:`_to_arrays`, so every number and every error
        message is the general parser's."""
        if self._array_actions and len(actions) == len(self.possible_agents):
            q = []
            x = []
            try:
                for a, size, row_of in self._parse:
                    act = actions[a]
                    if type(act) is not np.ndarray or act.size != size or act.dtype.kind not in "iu":
                        break
                    vals = act.tolist() if act.ndim == 1 else act.ravel().tolist()
                    vals.append(0)
                    q.append(vals[0])
                    x.append(row_of(vals))
                else:
                    return q, x, None
            except KeyError:
                pass
        arrays = self._to_arrays(actions)
        return arrays[0][0].tolist(), arrays[1][0].tolist(), arrays

    def _to_arrays(self, actions: Mapping[str, object]) -> tuple[np.ndarray, np.ndarray]:
        c = self.core
        missing = [a for a in self.agents if a not in actions]
        unknown = [a for a in actions if a not in self.possible_agents]
        if unknown:
            raise InvalidActionError(f"actions for unknown warehouse(s) {unknown}; agents are {self.possible_agents}")
        if missing:
            raise InvalidActionError(f"no action for warehouse(s) {missing}; every live agent must act each day")
        if self.net.has_discrete_actions and all(
            np.ndim(actions[a]) == 0 and not isinstance(actions[a], Mapping) for a in self.agents
        ):
            idx = np.array([[check_whole(actions[a], f"warehouse {a!r}: discrete action", high=n - 1,
                                         error=InvalidActionError)
                             for a, n in zip(self.possible_agents, self.net.discrete_sizes, strict=True)]])
            return c.decode_discrete(idx)
        names = self.possible_agents
        q: list = [0] * c.N
        x: list = [[0] * c.N for _ in range(c.N)]
        for i, a in enumerate(names):
            act = actions[a]
            nb = self.net.neighbours[i]
            if isinstance(act, Mapping):
                extra = set(act) - {"replenish", "transfer"}
                if extra:
                    raise InvalidActionError(f"warehouse {a!r}: unknown action field(s) {sorted(extra)}; allowed: replenish, transfer")
                q[i] = whole_units(act.get("replenish", 0), f"warehouse {a!r}: replenish")
                for target, units in dict(act.get("transfer", {})).items():
                    if target not in names:
                        raise InvalidActionError(f"warehouse {a!r}: transfer to unknown warehouse {target!r}; known: {names}")
                    x[i][self.net.index(target)] = whole_units(units, f"warehouse {a!r}: transfer to {target!r}")
            else:
                vals = np.asarray(act, dtype=object).reshape(-1).tolist()  # the values as given (True stays True)
                if len(vals) != 1 + len(nb):
                    raise InvalidActionError(
                        f"warehouse {a!r}: action must have {1 + len(nb)} entries "
                        f"[replenish, transfer to {self.neighbours(a)}]; got {vals}"
                    )
                q[i] = whole_units(vals[0], f"warehouse {a!r}: replenish")
                for k, j in enumerate(nb):
                    x[i][j] = whole_units(vals[1 + k], f"warehouse {a!r}: transfer to {names[j]!r}")
        return _units_array([q]), _units_array([x])

    def step(self, actions: Mapping[str, object]):
        """One day for every agent: ``(observations, rewards, terminations, truncations, infos)``."""
        if not self.agents:
            raise RuntimeError("the episode is over (or reset() was not called): call reset()")
        q, x, arrays = self._to_lists(actions)
        names = self.possible_agents  # (every live agent: all of them until the episode ends)
        day = step_one(self.core, q, x)
        # plain zips below (one row and one info per agent, one value per field): strict= costs ~2 us a call
        if day is None:  # an action to reject, a number too big for the lean path, or a big network
            res = self.core.step(*(arrays or self._to_arrays(actions)))
            self._last, self._last_rows = res, None
            rows = list(zip(*[getattr(res, name)[0].tolist() for name in _FIELDS], strict=True))
            infos = dict(zip(names, map(dict, map(zip, repeat(_FIELDS), rows))))  # noqa: B905
        else:
            rows, info_list = day
            self._last, self._last_rows = None, rows
            infos = dict(zip(names, info_list))  # noqa: B905
        rewards = dict(zip(names, map(_reward_of, rows)))  # noqa: B905
        obs = self._observe()
        terminations = self._none_done.copy()
        if self.core.t >= self.core.T:  # the episode's last day (BatchCore.done)
            truncations = dict.fromkeys(names, True)
            self.agents = []
        else:
            truncations = self._none_done.copy()
        return obs, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        """A text table of the last day (``render_mode="ansi"``)."""
        if self.render_mode is None:
            return None
        r = self.last_result
        lines = [f"day {self.core.t}"]
        if r is None:
            for i, a in enumerate(self.possible_agents):
                lines.append(f"  {a}: on hand {self.core.on_hand[0, i]}")
            return "\n".join(lines)
        lines.append("  agent  demand  sold  lost  on_hand  cost")
        for i, a in enumerate(self.possible_agents):
            lines.append(
                f"  {a:<6} {r.demand[0, i]:>6} {r.sales[0, i]:>5} {r.lost[0, i]:>5} "
                f"{r.on_hand[0, i]:>8} {r.total_cost[0, i]:>7.1f}"
            )
        return "\n".join(lines)

    def close(self) -> None:
        pass


_FIELDS = StepResult.field_names()
_REWARD = _FIELDS.index("reward")
_reward_of = itemgetter(_REWARD)


def _units_array(values: list) -> np.ndarray:
    """The parsed quantities as int64, or -- when one does not fit (inf, 1e30, 2**70) -- as the values
    given, in an object array that ``BatchCore.step`` checks (its message shows the value given) or
    trims (``units_array``)."""
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return np.array(values, dtype=object)
