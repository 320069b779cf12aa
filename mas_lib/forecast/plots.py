"""Pictures of forecasts: history, forecast mean, interval band and actuals (notebook 04;
paper 3.1.1(1))."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..validation import check_whole
from .base import Forecast

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_forecast"]


def plot_forecast(
    history: pd.Series,
    forecast: Forecast,
    actual: pd.Series | None = None,
    ax: Axes | None = None,
    show_days: int = 42,
    interval: tuple[float, float] = (0.05, 0.95),
    title: str | None = None,
) -> Axes:
    """Plot the last ``show_days`` of history, a forecast's mean and interval, and the actuals.

    Notebook 04 (paper 3.1.1(1)). Units/day on the y axis; the shaded band spans the
    ``interval`` quantiles (both must be levels stored in ``forecast``). Returns the
    matplotlib Axes.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    show_days = check_whole(show_days, "show_days", low=1, unit="days")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.2))
    h = history.iloc[-show_days:]
    ax.plot(h.index, h.to_numpy(), color="0.35", lw=1, marker=".", label="history")
    lo, hi = forecast.quantile(interval[0]), forecast.quantile(interval[1])
    width = int(round(100 * (interval[1] - interval[0])))
    ax.fill_between(forecast.index, lo, hi, color="C0", alpha=0.25, step="mid",
                    label=f"{width} % interval")
    ax.plot(forecast.index, forecast.mean, color="C0", marker="o", ms=3, label="forecast mean")
    if actual is not None:
        a = actual.reindex(forecast.index)
        ax.plot(a.index, a.to_numpy(), "x", color="C3", ms=7, label="actual")
    locator = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("date")
    ax.set_ylabel("units / day")
    ax.set_title(title or "forecast with interval")
    ax.legend(loc="upper left", fontsize=8)
    return ax
