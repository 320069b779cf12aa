"""Matplotlib figures shared by the notebooks (labelled axes with units, titles that say what to see).

``matplotlib.pyplot`` is imported when a figure is drawn, not when this module is imported.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["plot_trajectory", "plot_by_policy", "plot_tradeoff", "plot_daily_costs", "plot_policy_heatmap", "plot_gap_curves",
           "LEARNER_COLOURS"]


def plot_trajectory(traj: pd.DataFrame, title: str = "Stock and demand, day by day", axes=None):
    """One panel per warehouse: closing stock, demand and lost sales [units] against the day.

    ``traj`` is a frame from :func:`mas_lib.decide.rollout.trajectory`. Returns the axes. Used
    in notebook 02 (paper section 4.5's scenario played for 60 days).
    """
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(traj["warehouse"]))
    if axes is None:
        _, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 3.6), sharey=True, squeeze=False)
        axes = axes[0]
    for ax, name in zip(axes, names, strict=False):
        d = traj[traj["warehouse"] == name]
        ax.plot(d["day"], d["end_stock"], label="closing stock", color="tab:blue")
        ax.step(d["day"], d["demand"], where="mid", label="demand", color="tab:gray", alpha=0.8)
        ax.bar(d["day"], d["lost"], label="lost sales", color="tab:red", alpha=0.6)
        ax.set_xlabel("day")
        ax.set_ylabel("units")
        ax.set_title(f"warehouse {name}")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left", fontsize=8)
    axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes


def plot_by_policy(traj: pd.DataFrame, column: str = "end_stock", ylabel: str = "closing stock [units]",
                   title: str = "", warehouses: list[str] | None = None):
    """Compare policies: ``column`` of a trajectory frame with a ``policy`` column (units as in
    ``ylabel``) against the day, one line per policy, one panel per warehouse; returns the axes.
    Notebook 01 (paper section 2)."""
    import matplotlib.pyplot as plt

    names = warehouses or list(dict.fromkeys(traj["warehouse"]))
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 3.6), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for pol, d in traj[traj["warehouse"] == name].groupby("policy", sort=False):
            ax.plot(d["day"], d[column], label=pol)
        ax.set_xlabel("day")
        ax.set_ylabel(ylabel)
        ax.set_title(f"warehouse {name}")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return axes[0]


def plot_tradeoff(df: pd.DataFrame, title: str = "More stock buys fewer stock-outs, at a price"):
    """The risk trade-off: fill rate [%] and daily cost [money/day] against mean stock held
    [units], one point per safety stock (a :func:`mas_lib.teach.problems.risk_tradeoff` frame);
    returns the left axis. Notebook 01 (paper section 2, problem 4)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(df["mean_on_hand"], 100 * df["fill_rate"], "o-", color="tab:blue")
    for r in df.itertuples():
        ax.annotate(f"{r.safety_stock:.0f}", (r.mean_on_hand, 100 * r.fill_rate), fontsize=7,
                    textcoords="offset points", xytext=(3, -10))
    ax.set_xlabel("mean stock on hand, all warehouses together [units]")
    ax.set_ylabel("fill rate [%]", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(df["mean_on_hand"], df["daily_cost"], "s--", color="tab:red")
    ax2.set_ylabel("total cost [money/day]", color="tab:red")
    ax.set_title(title + "\n(labels: safety stock in units)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return ax


def plot_daily_costs(traj: pd.DataFrame, title: str = "Where the money goes, day by day"):
    """Stacked daily costs [money/day] of a trajectory frame, summed over warehouses: holding,
    shortage, ordering, transport; returns the axis. Notebook 02 (paper section 4)."""
    cols = ["holding_cost", "shortage_cost", "ordering_cost", "transport_cost"]
    per_day = traj.groupby("day")[cols].sum()
    ax = per_day.plot.bar(stacked=True, figsize=(9, 3.6), width=0.9)
    ax.set_xlabel("day")
    ax.set_ylabel("cost [money/day]")
    ax.set_title(title)
    ax.set_xticks(ax.get_xticks()[::5])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # beside the bars, never over them
    ax.figure.tight_layout()
    return ax


def plot_policy_heatmap(ax, table: pd.DataFrame, column: str, label: str, title: str = "", cmap: str = "viridis",
                        center: float | None = None):
    """A policy over two warehouses' stock as a heat map: ``table`` has one row per state with
    ``stock_A``, ``stock_B`` and ``column`` (e.g. an order or a transfer) [units]. Draws on ``ax``
    with a colour bar labelled ``label`` and returns the image. With ``center`` (use a diverging
    ``cmap`` such as ``"coolwarm"``, e.g. for net transfers) the colour limits are symmetric about
    it, so ``center`` is the neutral colour. Used by notebooks 05, 06 and the widget panel (paper
    sections 4.4-4.5: what the learned and the optimal policies do)."""
    import numpy as np

    grid = table.pivot(index="stock_A", columns="stock_B", values=column)
    values = grid.to_numpy(dtype=float)
    limits = {}
    if center is not None:
        half = max(float(np.nanmax(np.abs(values - center))), 1e-9)
        limits = {"vmin": center - half, "vmax": center + half}
    im = ax.imshow(values, origin="lower", aspect="auto", cmap=cmap, **limits,
                   extent=(grid.columns.min(), grid.columns.max(), grid.index.min(), grid.index.max()))
    ax.figure.colorbar(im, ax=ax, label=label, fraction=0.08, pad=0.02)
    ax.set_xlabel("stock at B [units]")
    ax.set_ylabel("stock at A [units]")
    ax.set_title(title or label)
    return im


#: Line colours of the sample-efficiency chart, by learner.
LEARNER_COLOURS = {"PPO": "tab:blue", "DQN": "tab:orange", "REINFORCE": "tab:purple", "tabular Q (central)": "tab:green"}


def plot_gap_curves(curve: pd.DataFrame, baselines: pd.DataFrame | None = None, floor: float = 5.0, goal: float = 2.0,
                    axes=None):
    """The sample-efficiency chart of notebook 09 and ``benchmarks/bench_deep_rl.py`` (paper
    3.1.2(4)): one panel per instance, the exact gap to the optimum [%] against transitions
    (days x copies), one line per learner and seed, log axes (gaps capped at 100%).
    ``curve`` has columns ``instance, learner, seed, transitions, gap_pct``; ``baselines``
    (optional) ``instance, gap_pct`` drawn as a red line (the best tuned (s, S)); ``floor`` and
    ``goal`` [%] as grey dashed and dotted lines. Returns the axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    order = ("paper", "cross_border", "long_lead")
    names = sorted(set(curve["instance"]), key=lambda n: (order.index(n) if n in order else len(order), n))
    if axes is None:
        _, axes = plt.subplots(1, len(names), figsize=(4.8 * len(names), 3.8), squeeze=False)
        axes = axes[0]
    for ax, name in zip(axes, names, strict=True):
        sub = curve[curve["instance"] == name]
        for (learner, seed), g in sub.groupby(["learner", "seed"]):
            first = seed == sub[sub["learner"] == learner]["seed"].min()
            ax.plot(g["transitions"], g["gap_pct"].clip(upper=100), "o-", ms=3,
                    color=LEARNER_COLOURS.get(learner, "tab:grey"), label=learner if first else None)
        if baselines is not None and (baselines["instance"] == name).any():
            g = float(baselines.loc[baselines["instance"] == name, "gap_pct"].iloc[0])
            ax.axhline(g, color="tab:red", lw=1.2, label=f"best (s, S): {g:.1f}%")
        ax.axhline(floor, ls="--", c="grey", lw=1, label=f"{floor:g}% floor")
        ax.axhline(goal, ls=":", c="grey", lw=1, label=f"{goal:g}% goal")
        ax.set(xscale="log", yscale="log", title=f"{name}: the gap falls with experience",
               xlabel="transitions (days x copies)", ylabel="gap to the optimum [%] (capped at 100)")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=7)
    return axes
