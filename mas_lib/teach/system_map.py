"""The paper's system as a map: its parts, the paper sections describing them, and where this
collection covers them, notebook and module (notebook 00).

:data:`SYSTEM_PARTS` is the table; :func:`system_map_table` returns it as a frame and
:func:`plot_system_map` draws the diagram of notebook 00: the flow data -> forecasts -> messages
-> decisions -> monitoring around the warehouse agents, each box naming its notebook and module.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..validation import ConfigError, Validated, checked, not_allowed


def _covered_by(value, field: str, error: type[Exception] = ConfigError) -> str:
    """The notebooks or modules that cover a part: a non-blank string (comma-separated)."""
    if not value.strip():
        raise not_allowed(field, value, "the notebooks and modules that cover the part (comma-separated)", error)
    return value

__all__ = ["SystemPart", "SYSTEM_PARTS", "system_map_table", "plot_system_map"]


@dataclass(frozen=True)
class SystemPart(Validated):
    """One part of the paper's system: its name, the paper sections that describe it, and the
    notebooks and ``mas_lib`` modules that cover it (both required)."""

    name: str
    sections: str
    notebooks: str = checked(_covered_by)
    modules: str = checked(_covered_by)


#: The parts in the order data flows through the system (paper sections 2-4).
SYSTEM_PARTS: tuple[SystemPart, ...] = (
    SystemPart("problems of static rules", "2", "01", "mas_lib.teach.problems"),
    SystemPart("sales data: clean, daily demand", "3.2.2", "03", "mas_lib.data"),
    SystemPart("demand forecasts", "3.1.1(1), 3.2.3", "04", "mas_lib.forecast"),
    SystemPart("warehouse agents: state, actions, reward", "3.1.2(1)-(3), 4.1-4.3", "00, 02",
               "mas_lib.sim (MultiWarehouseEnv)"),
    SystemPart("messages between agents", "3.1.1(2)-(4), 3.2.1", "07", "mas_lib.messaging"),
    SystemPart("decisions: replenish and transfer rules", "3.1.1(2)-(3)", "01, 02", "mas_lib.decide.policies"),
    SystemPart("decisions: Q-learning", "3.1.2(4)-(5), 4.4-4.5", "05", "mas_lib.decide.tabular"),
    SystemPart("decisions: deep RL (DQN, policy gradient)", "3.1.2(4)", "09", "mas_lib.decide.deep"),
    SystemPart("yardstick: the exact optimum", "beyond the paper", "05, 06", "mas_lib.decide.planning"),
    SystemPart("monitoring: KPIs, alerts, drift", "3.2.5", "01, 02, 05, 06, 08", "mas_lib.decide.rollout, mas_lib.ops"),
    SystemPart("the system in operation on real data", "3.2.4-3.2.6", "08", "mas_lib.ops"),
)


def system_map_table() -> pd.DataFrame:
    """:data:`SYSTEM_PARTS` as a frame: part, paper sections, notebooks, modules and status
    Notebook 00."""
    return pd.DataFrame([{
        "part of the system": p.name, "paper sections": p.sections, "notebooks": p.notebooks,
        "modules": p.modules,
    } for p in SYSTEM_PARTS])


def _box(ax, x: float, y: float, w: float, h: float, part: SystemPart) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02", linewidth=1.2,
                                facecolor="#dbe9f6", edgecolor="#2b6ca3"))
    detail = f"notebook {part.notebooks}\n{part.modules}"
    ax.text(x + w / 2, y + h - 0.05, part.name, ha="center", va="top", fontsize=8.5, weight="bold", wrap=True)
    where = part.sections if part.sections.startswith("beyond") else f"paper {part.sections}"
    ax.text(x + w / 2, y + 0.04, f"{where}\n{detail}", ha="center", va="bottom", fontsize=7, color="#333333")


def plot_system_map():
    """Draw the paper's system (data, forecasts, agents, messages, decisions, yardstick,
    monitoring, operation) as boxes joined by arrows in the direction information flows; each
    box says its paper sections and its notebook and module.
    Returns the matplotlib figure. Notebook 00 (the whole paper)."""
    import matplotlib.pyplot as plt

    parts = {p.name: p for p in SYSTEM_PARTS}
    w, h = 2.3, 0.62
    where = {  # lower-left corners, laid out as the information flows (left to right, top to bottom)
        "sales data: clean, daily demand": (0.0, 2.2),
        "demand forecasts": (2.8, 2.2),
        "warehouse agents: state, actions, reward": (5.6, 2.2),
        "messages between agents": (8.4, 2.2),
        "decisions: replenish and transfer rules": (2.8, 1.1),
        "decisions: Q-learning": (5.6, 1.1),
        "decisions: deep RL (DQN, policy gradient)": (8.4, 1.1),
        "problems of static rules": (0.0, 1.1),
        "yardstick: the exact optimum": (2.8, 0.0),
        "monitoring: KPIs, alerts, drift": (5.6, 0.0),
        "the system in operation on real data": (8.4, 0.0),
    }
    fig, ax = plt.subplots(figsize=(13, 5.2))
    for name, (x, y) in where.items():
        _box(ax, x, y, w, h, parts[name])

    def arrow(a: str, b: str, side: str = "h") -> None:
        (xa, ya), (xb, yb) = where[a], where[b]
        if side == "h":
            start, end = (xa + w, ya + h / 2), (xb, yb + h / 2)
        else:
            start, end = (xa + w / 2, ya), (xb + w / 2, yb + h)
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color="#444444", lw=1.2))

    arrow("sales data: clean, daily demand", "demand forecasts")
    arrow("demand forecasts", "warehouse agents: state, actions, reward")
    arrow("warehouse agents: state, actions, reward", "messages between agents")
    arrow("warehouse agents: state, actions, reward", "decisions: Q-learning", side="v")
    arrow("problems of static rules", "decisions: replenish and transfer rules")
    arrow("decisions: replenish and transfer rules", "decisions: Q-learning")
    arrow("decisions: Q-learning", "decisions: deep RL (DQN, policy gradient)")
    arrow("decisions: Q-learning", "monitoring: KPIs, alerts, drift", side="v")
    arrow("yardstick: the exact optimum", "monitoring: KPIs, alerts, drift")
    arrow("monitoring: KPIs, alerts, drift", "the system in operation on real data")
    ax.set_xlim(-0.1, 10.8)
    ax.set_ylim(-0.1, 2.9)
    ax.axis("off")
    ax.set_title("The paper's system, part by part: blue = built here (notebook, module); "
                 "grey dashed = not built yet", fontsize=10)
    fig.tight_layout()
    return fig
