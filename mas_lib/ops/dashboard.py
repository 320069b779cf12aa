"""The twin's dashboard (paper 3.2.5): one matplotlib figure for the book and an ipywidgets panel
that switches warehouse, product, policy and week **without re-running the simulation** -- every
run and its KPI table are computed once and the panel only redraws (notebook 08).

The figure has four panels for one (warehouse, product) of one run: stock on hand against the
policy's levels -- the order-up-to level of base-stock; for (s, S) both the reorder point ``s``
and the order-up-to level ``S`` -- and the demand; the morning forecast against the demand; the
weekly fill rate with its target; the weekly cost by kind. The chosen week is shaded.

More lines for the stock panel (e.g. a bound computed with hindsight) plug in through
``extra_lines``: ``{label: f}`` with ``f(run, node) -> (T,)`` units per simulated day, drawn with
the label given; :class:`TwinDashboard` passes them on to every redraw. Given the hindsight bounds
(:mod:`mas_lib.ops.hindsight`), :class:`TwinDashboard` adds the clairvoyant plan's closing stock
as such a line and the policy's gap to the bound (network, bounded products) to the title.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ..display import figure_png
from ..validation import ConfigError, not_allowed
from .hindsight import ClairvoyantPlans, TwinBounds, clairvoyant_stock_line, hindsight_gap
from .monitor import ALERT_RULES, alerts, weekly_kpis
from .policies import REVIEW_DAYS
from .twin import TwinRun

__all__ = ["ExtraLine", "CLAIRVOYANT_LINE", "plot_dashboard", "first_week_with_demand", "stock_levels", "hindsight_note", "TwinDashboard"]

#: the label of the clairvoyant plan's line in the stock panel
CLAIRVOYANT_LINE = "clairvoyant plan's closing stock (knows the future)"

#: an extra line of the stock panel: ``f(run, node index) -> (T,)`` units per simulated day
ExtraLine = Callable[[TwinRun, int], np.ndarray]


def _node(run: TwinRun, warehouse: str, product: str) -> int:
    if warehouse not in run.warehouses:
        raise ConfigError(f"warehouse = {warehouse!r} is not allowed; allowed: one of {run.warehouses}")
    if product not in run.products:
        raise ConfigError(f"product = {product!r} is not allowed; allowed: one of {run.products}")
    return run.warehouses.index(warehouse) * len(run.products) + run.products.index(product)


def stock_levels(run: TwinRun, node: int) -> dict[str, np.ndarray]:
    """The levels the policy of ``run`` steered node ``node`` by, ``{label: (T,) units}``:
    base-stock (with or without transfers): ``"order-up-to level"``; (s, S): ``"reorder point s"``
    (the recorded level) and ``"order-up-to level S"`` (``s`` + :data:`REVIEW_DAYS` days of the
    morning's mean forecast, as :class:`~mas_lib.ops.policies.PlannedSs` orders). Another
    policy's recorded level is labelled ``"level"``."""
    level = run.arrays["level"][:, node]
    if run.policy == "(s, S)":
        S = level + REVIEW_DAYS * run.plan.mean[:, :, node].mean(axis=1)
        return {"reorder point s": level, "order-up-to level S": S}
    if run.policy.startswith("base-stock"):
        return {"order-up-to level": level}
    return {"level": level}


def first_week_with_demand(kpis: pd.DataFrame, warehouse: str, product: str) -> int:
    """Index (0 = first week) of the first week with demand > 0 at (``warehouse``, ``product``)
    in a :func:`weekly_kpis` table; 0 when the node has none."""
    k = kpis[(kpis["warehouse"] == warehouse) & (kpis["product"] == product)].reset_index(drop=True)
    busy = np.flatnonzero(k["demand"].to_numpy() > 0)
    return int(busy[0]) if len(busy) else 0


def hindsight_note(run: TwinRun, bounds: TwinBounds, plans: ClairvoyantPlans | None = None) -> str:
    """The title note of the dashboard: ``run``'s gap to the hindsight bound [%] over the bounded
    products of the network (and to the best known clairvoyant plan with ``plans``)."""
    net = hindsight_gap(run, bounds, plans=plans).loc["network"]
    note = f"{net['gap %']:,.0f} % above the hindsight bound ({len(bounds.products)} products, network)"
    if plans is not None:
        note += f", {net['gap to plan %']:,.0f} % above the best known clairvoyant plan"
    return note


def plot_dashboard(run: TwinRun, warehouse: str, product: str, week: int = 0, kpis: pd.DataFrame | None = None,
                   fig=None, extra_lines: Mapping[str, ExtraLine] | None = None, note: str = ""):
    """Draw the dashboard of one node of ``run`` (see the module docstring); ``week`` is the
    index of the week to shade (0 = first). ``kpis``: a cached :func:`weekly_kpis` table.
    ``extra_lines``: more lines for the stock panel, ``{label: f(run, node) -> (T,) units}``.
    ``note``: a second title line (e.g. :func:`hindsight_note`). Returns the figure. Notebook 08."""
    import matplotlib.pyplot as plt

    i = _node(run, warehouse, product)
    kpis = weekly_kpis(run) if kpis is None else kpis
    k = kpis[(kpis["warehouse"] == warehouse) & (kpis["product"] == product)].reset_index(drop=True)
    weeks = k["week"]
    week = int(np.clip(week, 0, len(weeks) - 1))
    if fig is None:
        fig = plt.figure(figsize=(11, 6.5))
    fig.clear()
    ax = fig.subplots(2, 2, sharex=True).ravel()
    a, dates = run.arrays, run.dates
    ax[0].plot(dates, a["on_hand"][:, i], lw=1, label="on hand")
    for (label, line), style in zip(stock_levels(run, i).items(), ("--", ":"), strict=False):
        ax[0].plot(dates, line, lw=1, ls=style, label=label)
    for label, f in (extra_lines or {}).items():
        line = np.asarray(f(run, i), dtype=float)
        if line.shape != (len(dates),):
            raise not_allowed(f"extra_lines[{label!r}]", f"a line of shape {line.shape}",
                              f"one value per simulated day, shape ({len(dates)},)")
        ax[0].plot(dates, line, lw=1, label=label)
    ax[0].bar(dates, a["demand"][:, i], color="0.6", width=1, label="demand")
    ax[0].set_ylabel("units")
    ax[0].legend(fontsize=7, loc="upper left")
    ax[1].plot(dates, a["demand"][:, i], color="0.5", lw=0.8, label="demand")
    ax[1].plot(dates, a["forecast"][:, i], lw=1.2, label="forecast that morning")
    refits = dates[run.plan.refit[:, i]]
    ax[1].plot(refits, np.zeros(len(refits)), "|", color="k", ms=8, label="re-fit")
    ax[1].set_ylabel("units/day")
    ax[1].legend(fontsize=7, loc="upper left")
    ax[2].step(weeks, k["fill_rate"], where="post", label="fill rate")
    ax[2].axhline(float(ALERT_RULES.loc[ALERT_RULES["kpi"] == "fill_rate", "threshold"].iloc[0]), color="r", lw=0.8,
                  ls=":", label="target")
    ax[2].set_ylim(-0.02, 1.05)
    ax[2].set_ylabel("fill rate [-]")
    ax[2].legend(fontsize=7, loc="lower left")
    bottom = np.zeros(len(k))
    for col in ("holding", "shortage", "ordering", "transport"):
        ax[3].bar(weeks, k[col], bottom=bottom, width=6, label=col)
        bottom += k[col].to_numpy()
    ax[3].set_ylabel("cost per week [money]")
    ax[3].legend(fontsize=7, loc="upper left")
    lo = weeks.iloc[week]
    for axis in ax:
        axis.axvspan(lo, lo + pd.Timedelta(days=7), color="gold", alpha=0.3)
        axis.tick_params(axis="x", labelrotation=30, labelsize=7)
    fig.suptitle(f"{warehouse} / {product} -- {run.policy}, retrain {run.strategy} ({run.source} data); "
                 f"week of {lo.date()}" + (f"\n{note}" if note else ""), fontsize=10)
    fig.tight_layout()
    return fig


def _coverage(run: TwinRun) -> str:
    return (f"days {run.dates[0].date()} .. {run.dates[-1].date()} ({len(run.dates)} days), "
            f"warehouses {run.warehouses}, products {run.products}")


def _check_same_days_and_nodes(runs: Mapping[str, TwinRun]) -> None:
    """Every run covers the days and nodes of the first one, else :class:`ConfigError` naming
    both (a panel over other days would show an empty week table)."""
    name0, run0 = next(iter(runs.items()))
    for name, run in runs.items():
        same = (len(run.dates) == len(run0.dates) and (run.dates == run0.dates).all()
                and run.warehouses == run0.warehouses and run.products == run0.products)
        if not same:
            raise not_allowed(f"runs[{name!r}]", _coverage(run),
                              f"a run over the same days and nodes as runs[{name0!r}] ({_coverage(run0)})")


class TwinDashboard:
    """ipywidgets dashboard over finished runs: pick warehouse, product, policy and a week.

    ``runs`` maps a policy label to a :class:`TwinRun`; all must cover the same days and nodes
    (else :class:`~mas_lib.validation.ConfigError` naming each one's range). The panel opens on
    ``policy`` (default ``"(s, S)"`` when there is one -- the policy notebook 08 discusses --
    else the first) and on the first week with demand of the first warehouse and product.
    ``extra_lines`` go to :func:`plot_dashboard` on every redraw. With ``bounds`` (a
    :class:`~mas_lib.ops.TwinBounds` of these runs' twin, optionally ``plans``) the stock panel also
    shows the clairvoyant plan's closing stock (:func:`~mas_lib.ops.clairvoyant_stock_line`) and the
    title each policy's gap to the bound (:func:`hindsight_note`, computed once). KPI tables and
    alerts are computed once here; :meth:`update` only redraws, so moving the slider never
    re-runs the simulation. :attr:`controls`, :attr:`table` (HTML of the week's KPIs and alerts)
    and :attr:`widget` (the whole panel) can be used headlessly (tested). Notebook 08.
    """

    def __init__(self, runs: Mapping[str, TwinRun], policy: str | None = None,
                 extra_lines: Mapping[str, ExtraLine] | None = None, bounds: TwinBounds | None = None,
                 plans: ClairvoyantPlans | None = None):
        import ipywidgets as W

        if not runs:
            raise ConfigError("runs = {} is not allowed; allowed: at least one TwinRun")
        self.runs = dict(runs)
        if policy is None:
            policy = "(s, S)" if "(s, S)" in self.runs else next(iter(self.runs))
        elif policy not in self.runs:
            raise not_allowed("policy", policy, f"one of the runs {list(self.runs)}")
        self.extra_lines = dict(extra_lines or {})
        first = next(iter(self.runs.values()))
        _check_same_days_and_nodes(self.runs)
        if bounds is not None:
            self.extra_lines.setdefault(CLAIRVOYANT_LINE, clairvoyant_stock_line(bounds, plans))
        elif plans is not None:
            raise not_allowed("plans", "given without bounds", "plans together with the bounds they round")
        self.notes = {name: hindsight_note(r, bounds, plans) if bounds is not None else ""
                      for name, r in self.runs.items()}
        self.kpis = {name: weekly_kpis(r) for name, r in self.runs.items()}
        self.alerts = {name: alerts(k) for name, k in self.kpis.items()}
        self.weeks = sorted(self.kpis[next(iter(self.kpis))]["week"].unique())
        self.warehouse = W.Dropdown(options=first.warehouses, description="warehouse")
        self.product = W.Dropdown(options=first.products, description="product")
        self.policy = W.Dropdown(options=list(self.runs), value=policy, description="policy")
        start = first_week_with_demand(self.kpis[policy], first.warehouses[0], first.products[0])
        self.week = W.IntSlider(min=0, max=len(self.weeks) - 1, value=start, description="week")
        self.controls = W.HBox([self.warehouse, self.product, self.policy, self.week])
        self.table = W.HTML()
        self.plot = W.Output()
        self.widget = W.VBox([self.controls, self.table, self.plot])
        self.redraws = 0
        self._fig = None
        for c in (self.warehouse, self.product, self.policy, self.week):
            c.observe(lambda _change: self.update(), names="value")
        self.update()

    def week_table(self) -> pd.DataFrame:
        """The chosen node's KPIs of the chosen week (one row) for the chosen policy."""
        k = self.kpis[self.policy.value]
        wk = self.weeks[self.week.value]
        sel = (k["warehouse"] == self.warehouse.value) & (k["product"] == self.product.value) & (k["week"] == wk)
        return k.loc[sel]

    def week_alerts(self) -> pd.DataFrame:
        """Every alert of the chosen policy in the chosen week (all nodes)."""
        a = self.alerts[self.policy.value]
        return a[a["week"] == self.weeks[self.week.value]]

    def update(self) -> None:
        """Redraw the table and the figure for the current choices (no simulation)."""
        from matplotlib.figure import Figure

        row = self.week_table().drop(columns=["warehouse", "product"])
        al = self.week_alerts()
        fmt = "{:.3f}".format
        self.table.value = (row.to_html(index=False, float_format=fmt) + f"<p>{len(al)} alert(s) this week</p>"
                            + al.head(10).to_html(index=False, float_format=fmt))
        with self.plot:
            self.plot.clear_output(wait=True)
            if self._fig is None:
                # a Figure outside pyplot: the inline backend would otherwise show it a second time,
                # below the widget, when the cell finishes (caught by the real-browser test)
                self._fig = Figure(figsize=(11, 6.5))
            plot_dashboard(self.runs[self.policy.value], self.warehouse.value, self.product.value,
                           self.week.value, self.kpis[self.policy.value], fig=self._fig,
                           extra_lines=self.extra_lines, note=self.notes[self.policy.value])
            try:
                from IPython.display import display

                # PNG bytes, not the Figure: a kernel without pyplot shows a Figure as text
                display(figure_png(self._fig))
            except ImportError:  # pragma: no cover
                pass
        self.redraws += 1
