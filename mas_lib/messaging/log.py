"""Reading a message log: messages per day (a KPI) and a sequence diagram of one day (notebook 07).

A log is the DataFrame of :meth:`mas_lib.messaging.bus.MessageBus.log` (one row per message:
``day, deliver_day, sender, receiver, type, content, status``). Paper 3.1.1(4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..validation import check_whole, not_allowed
from .bus import LOG_COLUMNS, SENT_STATUSES

__all__ = ["messages_per_day", "message_counts", "plot_sequence"]


def _check_log(log: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(log, pd.DataFrame) or not set(LOG_COLUMNS) <= set(log.columns):
        raise not_allowed("log", type(log).__name__, f"a DataFrame with columns {LOG_COLUMNS}", ValueError)
    return log


def messages_per_day(log: pd.DataFrame, days: int | None = None) -> float:
    """Mean number of messages sent per day [messages/day] (dropped ones included: they were sent;
    the status rows a reader adds -- ``"trimmed to ..."``, ``"stale"`` -- are not messages and are
    not counted). ``days`` defaults to the days spanned by the log. Notebook 07."""
    log = _check_log(log)
    if days is None:
        days = int(log["day"].max()) + 1 if len(log) else 1
    days = check_whole(days, "messages_per_day.days", low=1, unit="days", error=ValueError)
    return int(log["status"].isin(SENT_STATUSES).sum()) / days


def message_counts(log: pd.DataFrame) -> pd.DataFrame:
    """Log rows per type and status (a small table): messages delivered and dropped, and the status
    rows of messages trimmed or discarded as stale. Notebook 07."""
    log = _check_log(log)
    return log.groupby(["type", "status"]).size().unstack(fill_value=0)


def plot_sequence(log: pd.DataFrame, day: int, names: Sequence[str] | None = None, ax=None):
    """Draw the messages sent on ``day`` as a sequence diagram: one vertical lifeline per warehouse,
    one arrow per message from sender to receiver, top to bottom in sending order, labelled with its
    type and content; dropped messages dashed and marked ``x``. Returns the matplotlib axes.
    Notebook 07."""
    import matplotlib.pyplot as plt

    log = _check_log(log)
    day = check_whole(day, "plot_sequence.day", unit="days", error=ValueError)
    rows = log[log["day"] == day]
    names = list(names) if names is not None else sorted(set(log["sender"]) | set(log["receiver"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(1.8 * max(len(names), 2) + 2, 0.45 * max(len(rows), 4) + 1))
    xs = {n: k for k, n in enumerate(names)}
    n_rows = max(len(rows), 1)
    for n, k in xs.items():
        ax.plot([k, k], [0, n_rows + 1], color="0.6", lw=1)
        ax.text(k, n_rows + 1.2, n, ha="center", va="bottom", fontweight="bold")
    for y, (_, r) in zip(np.arange(n_rows, 0, -1), rows.iterrows(), strict=False):
        a, b = xs[r["sender"]], xs[r["receiver"]]
        dropped = r["status"] == "dropped"
        ax.annotate("", xy=(b, y), xytext=(a, y),
                    arrowprops=dict(arrowstyle="->", ls="--" if dropped else "-",
                                    color="tab:red" if dropped else "tab:blue"))
        text = ", ".join(f"{k}={v}" for k, v in r["content"].items() if k not in ("forecast", "values"))
        ax.text((a + b) / 2, y + 0.12, f"{r['type']}{' (dropped)' if dropped else ''}: {text}",
                ha="center", va="bottom", fontsize=7)
    ax.set_xlim(-0.7, len(names) - 0.3)
    ax.set_ylim(0, n_rows + 2)
    ax.axis("off")
    ax.set_title(f"messages on day {day} ({len(rows)})")
    return ax
