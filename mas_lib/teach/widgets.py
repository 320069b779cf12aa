"""A teaching panel for Q-learning with the paper's reward weights (notebook 05; paper 4.3-4.5).

The work is done by one pure, validated and cached function, :func:`run_experiment`: it trains
the joint (central) tabular Q-learner of :mod:`mas_lib.decide.tabular` with the **paper's reward**
``c1 * satisfaction + c2 * inventory-cost reduction - c3 * transport cost`` built from the chosen
weights, then judges the learned greedy policy by what it *costs*: fill rate, holding and
transport cost per day (simulated) and, when :mod:`mas_lib.decide.planning` can solve the instance, the
exact gap to the cost-optimal policy. :func:`make_panel` wraps it in an ``ipywidgets`` panel
(sliders, a Run button, a progress bar, plots and a KPI table); :func:`plot_experiment` draws a
result with matplotlib.

**State this module keeps** (nothing else, and nothing hidden):

* :data:`RESULT_CACHE`, a :class:`ResultCache`: results keyed *only* by the validated settings,
  least-recently-used first out, bounded by the bytes of the numpy arrays and frames the
  results hold (default 256 MiB; one paper-instance result holds ~16.1 MiB, almost all of it the
  Q-table and visit counts of 546 states x 1,936 actions, so about 15 results fit). Every call
  returns a fresh copy, so a caller that edits a result cannot change what later calls return.
* the exact model and optimal value per ``(instance, gamma)`` come from the package's one cache of
  references, :func:`mas_lib.decide.planning.reference` (one memory bound for every caller).

Progress reporting is passed down the call (``run_experiment(progress=..., on_step=...)`` hands
both listeners to :func:`mas_lib.decide.tabular.train`); it is never part of the cache key.
"""

from __future__ import annotations

import copy
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..decide.rollout import Step, simulate
from ..decide.tabular import QLearningConfig, QPolicy, train
from ..display import figure_png
from ..sim.state import SystemState
from ..validation import ConfigError, check_choice, check_number, check_whole, not_allowed

__all__ = [
    "ExperimentResult", "RANGES", "ResultCache", "RESULT_CACHE", "run_experiment", "plot_experiment", "policy_map",
    "make_panel", "QLearningPanel", "PANEL_DEFAULTS",
]

#: Allowed range of every numeric setting of :func:`run_experiment` (inclusive).
RANGES = {
    "epsilon": (0.0, 1.0),
    "c1": (0.0, 100.0),
    "c2": (0.0, 100.0),
    "c3": (0.0, 100.0),
    "alpha": (0.001, 1.0),
    "gamma": (0.0, 0.99),
    "steps": (10, 20000),
    "seed": (0, 2**31 - 1),
}
INSTANCE_NAMES = ("paper", "cross_border")
SCHEDULES = ("constant", "decaying")
BATCH = 512  # environment copies trained together
EVAL_EPISODES = 200
RESULT_CACHE_BYTES = 256 * 2**20  # memory budget of the result cache [bytes]
STEPS_MAX_PANEL = 2000  # the panel's longest run [days per copy]: about 1 million transitions

#: The panel's starting settings. Chosen by measurement (seeds 0-3, paper instance, about 2 s a run)
#: so that every slider visibly moves the outcome from here: c1 = 10 serves less (fill rate about
#: 0.94 against 0.97-0.99), c2 = 5 holds far less stock (4-13 against 38-121 units), c3 = 0 ships
#: at random (transport 74-94 against under 1 money/day), epsilon = 0.6 makes learning dearer
#: (last learning-curve point 961-994 against 773-816 money/day). ``c1 = 30``, not the paper's
#: 1: a fill rate in [0, 1] must be worth money to compete with the money-valued other terms
#: (notebook 05, section 12). ``tests/test_widgets.py`` asserts these directions.
PANEL_DEFAULTS = dict(epsilon=0.1, c1=30.0, c2=0.5, c3=0.2, alpha=0.1, gamma=0.95, steps=300,
                      schedule="decaying")


@dataclass(frozen=True)
class ExperimentResult:
    """One training run of the panel (what :func:`run_experiment` returns).

    Attributes:
        settings: the validated arguments.
        curve: learning curve (``step`` transitions, ``mean_daily_cost`` [money/day] while
            exploring, ``mean_daily_reward`` in paper-reward units, ``epsilon``).
        policy_map: one row per (stock A, stock B) [units] with the learned greedy action:
            ``order_A``, ``order_B``, ``transfer_A_to_B``, ``transfer_B_to_A`` [units].
        kpis: fill rate, daily cost and its parts [money/day] of the greedy policy (simulated,
            ``EVAL_EPISODES`` episodes) and, if available, the exact discounted daily cost, the
            optimum's and the ``gap_percent``.
        policy: the learned :class:`mas_lib.decide.tabular.QPolicy`.
        seconds: training + evaluation time [s] of the run that computed this result.
        cached: True when this call did not run anything: the result was computed earlier (in
            ``seconds``) and copied from :data:`RESULT_CACHE`.

    Every result handed out is the caller's own copy: editing it changes nothing in the cache.
    """

    settings: dict
    curve: pd.DataFrame
    policy_map: pd.DataFrame
    kpis: pd.Series
    policy: QPolicy
    seconds: float
    cached: bool = False

    @property
    def nbytes(self) -> int:
        """Memory held by the result's arrays and frames [bytes] (Q-tables, visit counts, curve,
        policy map, KPIs): what :class:`ResultCache` charges against its budget."""
        p = self.policy
        arrays = [*p.tables, *(p.tables2 or []), *p.visits]
        frames = sum(int(f.memory_usage(deep=True).sum()) for f in (self.curve, self.policy_map))
        return sum(a.nbytes for a in arrays) + frames + int(self.kpis.memory_usage(deep=True))

    def to_frame(self) -> pd.DataFrame:
        """The learning curve (a copy)."""
        return self.curve.copy()

    def summary(self) -> pd.Series:
        """The KPIs (a copy): a labelled series of the run's measured numbers."""
        return self.kpis.copy()

    def copy(self, cached: bool | None = None) -> ExperimentResult:
        """An independent copy (frames, settings and the policy's tables copied), optionally
        with a different ``cached`` flag."""
        return ExperimentResult(
            dict(self.settings), self.curve.copy(), self.policy_map.copy(), self.kpis.copy(),
            copy.deepcopy(self.policy), self.seconds, self.cached if cached is None else cached,
        )

    def heatmap(self, column: str = "order_A") -> pd.DataFrame:
        """``policy_map[column]`` as a table: rows stock A, columns stock B [units]."""
        if column not in self.policy_map.columns[2:]:
            raise ValueError(f"column must be one of {list(self.policy_map.columns[2:])}; got {column!r}")
        return self.policy_map.pivot(index="stock_A", columns="stock_B", values=column)


def _instance(name: str):
    from ..decide import instances

    return instances.paper_instance() if name == "paper" else instances.cross_border_instance()


def _check(name: str, value, integer: bool = False):
    lo, hi = RANGES[name]
    if name == "seed":  # ``check_number`` prints bounds with ``:g``: 2**31 - 1 would read 2.14748e+09
        try:
            whole = check_whole(value, name, low=lo)
        except ConfigError:
            whole = None
        if whole is None or whole > hi:
            raise not_allowed(name, value, f"a whole number in [{lo}, {hi}]")
        return whole
    return check_number(value, name, low=lo, high=hi, integer=integer)


def _validate(epsilon, c1, c2, c3, alpha, gamma, steps, instance, seed, schedule) -> tuple:
    vals = tuple(_check(n, v) for n, v in
                 (("epsilon", epsilon), ("c1", c1), ("c2", c2), ("c3", c3), ("alpha", alpha), ("gamma", gamma)))
    steps = _check("steps", steps, integer=True)
    seed = _check("seed", seed, integer=True)
    check_choice(instance, "instance", INSTANCE_NAMES)
    check_choice(schedule, "schedule", SCHEDULES)
    return (*vals, steps, instance, seed, schedule)


class ResultCache:
    """A least-recently-used store of :class:`ExperimentResult` keyed by the validated settings
    and bounded in memory: after each insertion the least recently used results are dropped
    until the held bytes (:attr:`ExperimentResult.nbytes`) fit in ``max_bytes``; a result larger
    than the whole budget is not stored. :meth:`get` returns the stored object itself --
    :func:`run_experiment` copies it before handing it out."""

    def __init__(self, max_bytes: int = RESULT_CACHE_BYTES):
        self.max_bytes = check_whole(max_bytes, "ResultCache.max_bytes", unit="bytes")
        self._items: OrderedDict[Hashable, tuple[ExperimentResult, int]] = OrderedDict()
        self.nbytes = 0  # bytes held now

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def get(self, key: Hashable) -> ExperimentResult | None:
        """The stored result for ``key`` (marked most recently used), or None."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key][0]

    def put(self, key: Hashable, result: ExperimentResult) -> None:
        """Store ``result`` under ``key`` and evict least-recently-used results over budget."""
        if key in self._items:
            self.nbytes -= self._items.pop(key)[1]
        size = result.nbytes
        if size > self.max_bytes:
            return
        self._items[key] = (result, size)
        self.nbytes += size
        while self.nbytes > self.max_bytes:
            self.nbytes -= self._items.popitem(last=False)[1][1]

    def clear(self) -> None:
        """Forget every result."""
        self._items.clear()
        self.nbytes = 0


#: The results of :func:`run_experiment` (see the module docstring); ``RESULT_CACHE.clear()`` empties it.
RESULT_CACHE = ResultCache()


def _optimum(instance: str, gamma: float):
    """The exact model and optimal value for ``instance`` at ``gamma``, from the one shared cache
    (:func:`mas_lib.decide.planning.reference`)."""
    from ..decide.planning.reference_cache import reference

    return reference(_instance(instance), gamma=gamma)


def policy_map(policy: QPolicy, config) -> pd.DataFrame:
    """The greedy action of a 2-warehouse ``policy`` in every (stock A, stock B) state: a frame
    with ``stock_A, stock_B, order_A, order_B, transfer_A_to_B, transfer_B_to_A`` [units]
    (the heat maps of notebook 05 and of the panel; paper 4.4-4.5)."""
    unit = policy.encoder.unit
    caps = [w.capacity for w in config.warehouses]
    a, b = np.meshgrid(np.arange(0, caps[0] + 1, unit), np.arange(0, caps[1] + 1, unit), indexing="ij")
    on = np.stack([a.ravel(), b.ravel()], axis=1).astype(np.int64)
    M = on.shape[0]
    lmax = max(1, max(w.lead_time for w in config.warehouses))
    state = SystemState(
        on_hand=on, backlog=np.zeros((M, 2), np.int64), pipeline=np.zeros((M, 2, lmax), np.int64),
        transit=np.zeros((M, 2, 1), np.int64), requests=np.zeros((M, 2, 2), np.int64),
        forecast=np.broadcast_to(config.demand.expected(1)[0], (M, config.forecast_horizon, 2)).copy(), t=0,
    )
    q, x = policy.act(state)
    return pd.DataFrame({
        "stock_A": on[:, 0], "stock_B": on[:, 1], "order_A": q[:, 0], "order_B": q[:, 1],
        "transfer_A_to_B": x[:, 0, 1], "transfer_B_to_A": x[:, 1, 0],
    })


def _run(epsilon, c1, c2, c3, alpha, gamma, steps, instance, seed, schedule,
         progress: Callable[[int, int], None] | None, on_step: Callable[[Step], None] | None) -> ExperimentResult:
    t0 = time.perf_counter()
    inst = _instance(instance)
    common = dict(form="central", gamma=gamma, reward="paper", c1=c1, c2=c2, c3=c3, steps=steps, batch=BATCH,
                  seed=seed, episode_length=200, log_every=max(1, steps // 50))
    if schedule == "constant":  # the paper's learner: constant alpha and epsilon, Q starts at 0
        qcfg = QLearningConfig(alpha="constant", alpha0=alpha, epsilon="constant", epsilon_start=epsilon,
                               epsilon_end=epsilon, q_init=0.0, **common)
    else:  # 1/n^0.6 learning rates, epsilon decaying from 1 to the chosen value, sensible start
        qcfg = QLearningConfig(alpha="polynomial", alpha_power=0.6, epsilon="linear", epsilon_start=1.0,
                               epsilon_end=epsilon, q_init="auto", **common)
    res = train(inst.config, qcfg, progress=progress, on_step=on_step)
    summary = simulate(inst.config, res.policy, episodes=EVAL_EPISODES, seed=seed + 1)
    kpis = {
        "fill rate [-]": summary.fill_rate,
        "daily cost (simulated) [money/day]": summary.daily_cost,
        "holding cost [money/day]": summary.holding_cost,
        "shortage cost [money/day]": summary.shortage_cost,
        "ordering cost [money/day]": summary.ordering_cost,
        "transport cost [money/day]": summary.transport_cost,
        "mean stock on hand [units]": summary.mean_on_hand,
    }
    opt = _optimum(instance, gamma)
    if opt is not None:
        from ..decide import planning

        model, best = opt
        value = planning.evaluate_policy(model, res.policy)
        kpis["exact discounted daily cost [money/day]"] = value.daily_cost
        kpis["optimum [money/day]"] = best.daily_cost
        kpis["gap to optimum [%]"] = planning.gap(value, best)
    settings = dict(epsilon=epsilon, c1=c1, c2=c2, c3=c3, alpha=alpha, gamma=gamma, steps=steps,
                    instance=instance, seed=seed, schedule=schedule)
    return ExperimentResult(settings, res.curve, policy_map(res.policy, inst.config), pd.Series(kpis, name="value"),
                            res.policy, time.perf_counter() - t0)


def run_experiment(
    epsilon: float = 0.1,
    c1: float = 1.0,
    c2: float = 0.5,
    c3: float = 0.2,
    alpha: float = 0.1,
    gamma: float = 0.95,
    steps: int = 1000,
    instance: str = "paper",
    seed: int = 0,
    schedule: str = "constant",
    progress: Callable[[int, int], None] | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> ExperimentResult:
    """Train the joint Q-learner with the paper's reward (weights ``c1, c2, c3``) and measure it.

    Args:
        epsilon: exploration rate in [0, 1] (the final one with ``schedule="decaying"``).
        c1, c2, c3: the paper's reward weights for satisfaction, inventory-cost reduction and
            transport cost, each in [0, 100] (paper 4.3: 1.0, 0.5, 0.2).
        alpha: constant learning rate in [0.001, 1] (used by ``schedule="constant"``).
        gamma: discount factor per day in [0, 0.99].
        steps: training days per copy in [10, 20000]; ``BATCH`` copies learn together, so the
            learner sees ``steps * BATCH`` transitions.
        instance: ``"paper"`` or ``"cross_border"`` (:mod:`mas_lib.decide.instances`).
        seed: random seed (training and evaluation).
        schedule: ``"constant"`` (the paper's learner: constant alpha and epsilon, Q starts at 0)
            or ``"decaying"`` (``1/n^0.6`` learning rates, epsilon decaying from 1, Q starting at
            the value of random play).
        progress: optional ``progress(days_done, days_total)`` [days per copy], called by the
            trainer every ``steps // 50`` days (the panel's progress bar).
        on_step: optional listener called with every :class:`~mas_lib.decide.rollout.Step` of
            the training stream. Neither listener is part of the cache key; a cached result
            returns at once without calling them.

    Returns:
        A fresh :class:`ExperimentResult` (the caller's own copy). Results are cached in
        :data:`RESULT_CACHE` on the validated arguments: asking again for the same settings
        (``1`` and ``1.0`` are the same) returns an equal copy at once with ``cached=True``.
        Raises :class:`~mas_lib.validation.ConfigError` (a ``ValueError``) naming the field, the
        value and the allowed range for a bad argument. Notebook 05 (its weight comparison and
        its panel).
    """
    key = _validate(epsilon, c1, c2, c3, alpha, gamma, steps, instance, seed, schedule)
    hit = RESULT_CACHE.get(key)
    if hit is not None:
        return hit.copy(cached=True)
    result = _run(*key, progress=progress, on_step=on_step)
    RESULT_CACHE.put(key, result)
    return result.copy(cached=False)


def plot_experiment(result: ExperimentResult):
    """Learning curve [money/day against millions of transitions] and the learned policy as heat
    maps over (stock A, stock B) [units]; returns the matplotlib figure. The curve's title says
    how the cost while learning moved (first to last logged point), the dashed line is the learned
    greedy policy's simulated daily cost, and net transfers use a diverging colour map centred on 0.
    Drawn by the notebook-05 panel (paper 4.4-4.5)."""
    from matplotlib.figure import Figure

    from .plotting import plot_policy_heatmap

    # a Figure outside pyplot: the inline backend's end-of-cell hooks never touch it, so a figure
    # drawn from a widget callback cannot come out blank (the real-browser test caught that)
    fig = Figure(figsize=(11, 8))
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    c = result.curve
    first, last = float(c["mean_daily_cost"].iloc[0]), float(c["mean_daily_cost"].iloc[-1])
    ax.plot(c["step"] / 1e6, c["mean_daily_cost"], color="tab:blue", label="while learning (exploring)")
    greedy = result.kpis.get("daily cost (simulated) [money/day]")
    if greedy is not None:
        ax.axhline(greedy, color="k", ls="--", label="learned greedy policy (simulated)")
    ax.set_xlabel("transitions seen [millions]")
    ax.set_ylabel("mean daily cost [money/day]")
    ax.set_title(f"Cost while learning: {first:,.0f} -> {last:,.0f} money/day")
    ax.legend(fontsize=8, loc="best")
    pm = result.policy_map.assign(net_transfer=result.policy_map.transfer_A_to_B - result.policy_map.transfer_B_to_A)
    for col, label, ax in [("order_A", "A orders [units]", axes[0, 1]), ("order_B", "B orders [units]", axes[1, 0])]:
        plot_policy_heatmap(ax, pm, col, label, title=f"Learned policy: {label.split(' [')[0]}")
    plot_policy_heatmap(axes[1, 1], pm, "net_transfer", "net transfer A to B [units]", cmap="coolwarm", center=0.0,
                        title="Learned policy: net transfer (red: A to B)")
    s = result.settings
    fig.suptitle(f"{s['instance']}: epsilon={s['epsilon']:g}, c=({s['c1']:g}, {s['c2']:g}, {s['c3']:g}), "
                 f"alpha={s['alpha']:g}, gamma={s['gamma']:g}, {s['steps']} days x {BATCH} copies, {s['schedule']}")
    fig.tight_layout()
    return fig


def _widgets():
    import ipywidgets

    return ipywidgets


class QLearningPanel:
    """The notebook-05 panel (paper 4.3-4.5); ``.widget`` is the ``ipywidgets.VBox`` to display (the panel also
    displays itself). Controls are in ``.controls`` (name -> widget), starting at
    :data:`PANEL_DEFAULTS`; the Run button is ``.button``, the progress bar ``.progress``, the
    training budget of the current settings ``.budget`` (HTML: transitions, and the time they
    should take at the speed of the last run), messages go to ``.message`` (HTML: "done in" or
    "cached", with the KPIs), plots and tables to ``.output``; the last result is ``.result``.
    A run blocks the kernel, so the budget is shown before it starts and capped at
    ``STEPS_MAX_PANEL`` days per copy."""

    def __init__(self, instance: str = "paper", run: Callable[..., ExperimentResult] = run_experiment, show_plots: bool = True):
        w = _widgets()
        self._run = run
        self.show_plots = show_plots
        self._seconds_per_transition: float | None = None
        style = {"description_width": "150px"}
        layout = w.Layout(width="420px")
        d = PANEL_DEFAULTS

        def fs(name, step, desc):
            lo, hi = RANGES[name]
            return w.FloatSlider(value=d[name], min=lo, max=hi, step=step, description=desc, continuous_update=False,
                                 readout_format=".3g", style=style, layout=layout)

        self.controls = {
            "epsilon": fs("epsilon", 0.01, "epsilon (explore)"),
            "c1": fs("c1", 0.5, "c1 satisfaction"),
            "c2": fs("c2", 0.1, "c2 inventory-cost cut"),
            "c3": fs("c3", 0.1, "c3 transport"),
            "alpha": fs("alpha", 0.01, "alpha (learning rate)"),
            "gamma": fs("gamma", 0.01, "gamma (discount)"),
            "steps": w.IntSlider(value=d["steps"], min=RANGES["steps"][0], max=STEPS_MAX_PANEL, step=10,
                                 continuous_update=False, description="days per copy", style=style, layout=layout),
            "schedule": w.Dropdown(options=list(SCHEDULES), value=d["schedule"], description="schedule", style=style),
            "instance": w.Dropdown(options=list(INSTANCE_NAMES), value=instance, description="instance", style=style),
        }
        self.button = w.Button(description="Run", button_style="primary", icon="play")
        self.progress = w.IntProgress(value=0, min=0, max=100, description="training")
        self.budget = w.HTML("")
        self.message = w.HTML("")
        self.output = w.Output()
        self.result: ExperimentResult | None = None
        self.button.on_click(self._on_click)
        self.controls["steps"].observe(lambda _change: self._show_budget(), names="value")
        self._show_budget()
        self.widget = w.VBox([*self.controls.values(), self.budget, w.HBox([self.button, self.progress]),
                              self.message, self.output])

    def values(self) -> dict:
        """The current settings of the controls."""
        return {k: c.value for k, c in self.controls.items()}

    def _show_budget(self) -> None:
        days = int(self.controls["steps"].value)
        n = days * BATCH
        est = (f"; about {n * self._seconds_per_transition:.0f} s at the speed of your last run"
               if self._seconds_per_transition else "; the first run also solves the exact optimum (a few seconds)")
        self.budget.value = (f"budget: {days:,} days x {BATCH} copies = <b>{n:,} transitions</b>{est}. "
                             "The kernel is busy until the run ends.")

    def _tick(self, done: int, total: int) -> None:
        self.progress.max = total
        self.progress.value = done

    def _on_click(self, _button=None) -> None:
        self.message.value = "training ..."
        self.progress.value = 0
        try:
            res = self._run(**self.values(), progress=self._tick)
        except ValueError as err:
            self.message.value = f"<b style='color:#b00'>Refused:</b> {err}"
            return
        self.result = res
        self.progress.value = self.progress.max
        if not res.cached:
            self._seconds_per_transition = res.seconds / (res.settings["steps"] * BATCH)
            self._show_budget()
        k = res.kpis
        gap = k.get("gap to optimum [%]")
        gap_txt = f"; gap to the optimum {gap:.1f}%" if gap is not None else ""
        when = f"cached (computed earlier in {res.seconds:.1f} s)" if res.cached else f"done in {res.seconds:.1f} s"
        self.message.value = (f"{when}: fill rate {k['fill rate [-]']:.1%}, mean stock "
                              f"{k['mean stock on hand [units]']:.0f} units, transport "
                              f"{k['transport cost [money/day]']:.1f} money/day{gap_txt}")
        self.output.clear_output()
        with self.output:
            from IPython.display import display

            display(k.round(3).to_frame())
            if self.show_plots:
                display(figure_png(plot_experiment(res)))

    def click(self) -> None:
        """Press Run (what the button does; for scripts and tests)."""
        self.button.click()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def make_panel(instance: str = "paper", run: Callable[..., ExperimentResult] = run_experiment,
               show_plots: bool = True) -> QLearningPanel:
    """Build the notebook-05 panel: sliders for epsilon, c1, c2, c3, the learning rate, the
    discount and the training length (``continuous_update=False``, starting at
    :data:`PANEL_DEFAULTS`), the training budget of the current settings, a Run button, an
    ``IntProgress`` bar while training, then the KPI table, the learning curve and the policy
    heat maps. Bad values are refused with a message in the panel. Display the returned
    :class:`QLearningPanel` (or its ``.widget``). Paper 4.3-4.5."""
    check_choice(instance, "instance", INSTANCE_NAMES)
    return QLearningPanel(instance, run, show_plots)
