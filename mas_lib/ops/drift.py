"""Drift detection on forecast errors (paper 3.2.6: notice when the market moves, then retrain).

Three classic detectors, each vectorised over ``n`` series (one per node of the twin) and fed one
day of errors ``actual - forecast`` (units/day) at a time; ``update`` returns which series raise
an alarm today and ``reset`` restarts chosen series (after a retrain):

* :class:`TrackingSignal` -- cumulative forecast error divided by the mean absolute deviation
  (MAD); alarm when ``|TS| > threshold`` (4 is the textbook rule). Needs no scale.
* :class:`Cusum` -- two-sided CUSUM of standardised errors, slack ``k`` and threshold ``h``
  (in standard deviations).
* :class:`PageHinkley` -- the Page-Hinkley test on standardised errors: the cumulative deviation
  from the running mean, minus a tolerance ``delta``, compared with ``threshold``.

CUSUM and Page-Hinkley standardise by a scale learned during a short ``warmup`` after each reset
(the MAD of the first errors, at least ``min_scale``). Closed days (``mask`` False) are skipped.
:func:`detection_study` measures detection delay and false alarms on a synthetic series with a
known change point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..validation import check_number, check_whole, not_allowed

__all__ = ["DriftDetector", "TrackingSignal", "Cusum", "PageHinkley", "make_detector", "detection_study"]


class DriftDetector:
    """Base class: per-series state, ``update(errors, mask) -> alarms`` and ``reset(which)``."""

    name = "detector"

    def __init__(self, n: int):
        self.n = check_whole(n, f"{type(self).__name__}.n", low=1, unit="series")
        self.statistic = np.zeros(self.n)
        self.reset(np.ones(self.n, dtype=bool))

    def reset(self, which: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, errors: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _args(self, errors, mask) -> tuple[np.ndarray, np.ndarray]:
        e = np.asarray(errors, dtype=float).reshape(self.n)
        m = np.ones(self.n, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask, dtype=bool), (self.n,))
        return np.where(m, e, 0.0), m & np.isfinite(e)


class TrackingSignal(DriftDetector):
    """``TS = sum of errors / MAD`` since the last reset; MAD smoothed with ``alpha`` (units/day).

    Alarm when ``|TS| > threshold`` after at least ``min_days`` observed days.
    """

    name = "tracking signal"

    def __init__(self, n: int, threshold: float = 4.0, alpha: float = 0.1, min_days: int = 7, min_mad: float = 0.5):
        self.threshold = check_number(threshold, "TrackingSignal.threshold", low=0, low_inclusive=False)
        self.alpha = check_number(alpha, "TrackingSignal.alpha", low=0, high=1, low_inclusive=False)
        self.min_days = check_whole(min_days, "TrackingSignal.min_days", low=1, unit="days")
        self.min_mad = check_number(min_mad, "TrackingSignal.min_mad", low=0, low_inclusive=False, unit="units/day")
        super().__init__(n)

    def reset(self, which):
        which = np.asarray(which, dtype=bool)
        if not hasattr(self, "cfe"):
            self.cfe, self.mad, self.count = np.zeros(self.n), np.zeros(self.n), np.zeros(self.n, dtype=int)
        self.cfe[which], self.mad[which], self.count[which] = 0.0, 0.0, 0
        self.statistic[which] = 0.0

    def update(self, errors, mask=None):
        e, m = self._args(errors, mask)
        first = m & (self.count == 0)
        self.mad = np.where(first, np.abs(e), np.where(m, (1 - self.alpha) * self.mad + self.alpha * np.abs(e), self.mad))
        self.cfe = self.cfe + np.where(m, e, 0.0)
        self.count = self.count + m
        self.statistic = self.cfe / np.maximum(self.mad, self.min_mad)
        return m & (self.count >= self.min_days) & (np.abs(self.statistic) > self.threshold)


class _Standardised(DriftDetector):
    """Shared warm-up: the scale is the MAD (x 1.25 ~ sd) of the first ``warmup`` observed errors."""

    def __init__(self, n: int, warmup: int = 14, min_scale: float = 0.5):
        self.warmup = check_whole(warmup, f"{type(self).__name__}.warmup", low=2, unit="days")
        self.min_scale = check_number(min_scale, f"{type(self).__name__}.min_scale", low=0, low_inclusive=False)
        super().__init__(n)

    def _reset_scale(self, which):
        if not hasattr(self, "buf"):
            self.buf = np.full((self.n, self.warmup), np.nan)
            self.count = np.zeros(self.n, dtype=int)
            self.scale = np.full(self.n, np.nan)
        self.buf[which] = np.nan
        self.count[which] = 0
        self.scale[which] = np.nan

    def _standardise(self, e, m) -> tuple[np.ndarray, np.ndarray]:
        """``(z, ready)``: standardised errors of the series whose warm-up is over."""
        warming = m & (self.count < self.warmup)
        idx = np.flatnonzero(warming)
        self.buf[idx, self.count[idx]] = e[idx]
        self.count = self.count + m
        done = warming & (self.count == self.warmup)
        if done.any():
            b = self.buf[done]
            med = np.median(b, axis=1)
            self.scale[done] = np.maximum(1.25 * np.mean(np.abs(b - med[:, None]), axis=1), self.min_scale)
        ready = m & (self.count > self.warmup)
        return np.where(ready, e / np.where(np.isfinite(self.scale), self.scale, 1.0), 0.0), ready


class Cusum(_Standardised):
    """Two-sided CUSUM: ``g+ = max(0, g+ + z - k)``, ``g- = max(0, g- - z - k)``; alarm when either > h."""

    name = "CUSUM"

    def __init__(self, n: int, k: float = 0.5, h: float = 8.0, warmup: int = 14, min_scale: float = 0.5):
        self.k = check_number(k, "Cusum.k", low=0)
        self.h = check_number(h, "Cusum.h", low=0, low_inclusive=False)
        super().__init__(n, warmup, min_scale)

    def reset(self, which):
        which = np.asarray(which, dtype=bool)
        self._reset_scale(which)
        if not hasattr(self, "gp"):
            self.gp, self.gm = np.zeros(self.n), np.zeros(self.n)
        self.gp[which] = self.gm[which] = 0.0
        self.statistic[which] = 0.0

    def update(self, errors, mask=None):
        e, m = self._args(errors, mask)
        z, ready = self._standardise(e, m)
        self.gp = np.where(ready, np.maximum(0.0, self.gp + z - self.k), self.gp)
        self.gm = np.where(ready, np.maximum(0.0, self.gm - z - self.k), self.gm)
        self.statistic = np.where(self.gp >= self.gm, self.gp, -self.gm)
        return ready & (np.maximum(self.gp, self.gm) > self.h)


class PageHinkley(_Standardised):
    """Two-sided Page-Hinkley on standardised errors: ``m_t = sum (z - mean_t -/+ delta)``; alarm
    when ``m_t - min m`` (upward) or ``max m - m_t`` (downward) exceeds ``threshold``."""

    name = "Page-Hinkley"

    def __init__(self, n: int, delta: float = 0.25, threshold: float = 10.0, warmup: int = 14, min_scale: float = 0.5):
        self.delta = check_number(delta, "PageHinkley.delta", low=0)
        self.threshold = check_number(threshold, "PageHinkley.threshold", low=0, low_inclusive=False)
        super().__init__(n, warmup, min_scale)

    def reset(self, which):
        which = np.asarray(which, dtype=bool)
        self._reset_scale(which)
        if not hasattr(self, "mean"):
            self.mean, self.k = np.zeros(self.n), np.zeros(self.n, dtype=int)
            self.up, self.up_min, self.dn, self.dn_max = (np.zeros(self.n) for _ in range(4))
        for a in (self.mean, self.up, self.up_min, self.dn, self.dn_max, self.statistic):
            a[which] = 0.0
        self.k[which] = 0

    def update(self, errors, mask=None):
        e, m = self._args(errors, mask)
        z, ready = self._standardise(e, m)
        self.k = self.k + ready
        self.mean = np.where(ready, self.mean + (z - self.mean) / np.maximum(self.k, 1), self.mean)
        self.up = np.where(ready, self.up + z - self.mean - self.delta, self.up)
        self.dn = np.where(ready, self.dn + z - self.mean + self.delta, self.dn)
        self.up_min = np.minimum(self.up_min, self.up)
        self.dn_max = np.maximum(self.dn_max, self.dn)
        ph_up, ph_dn = self.up - self.up_min, self.dn_max - self.dn
        self.statistic = np.where(ph_up >= ph_dn, ph_up, -ph_dn)
        return ready & (np.maximum(ph_up, ph_dn) > self.threshold)


_KINDS = {"tracking signal": TrackingSignal, "cusum": Cusum, "page-hinkley": PageHinkley}


def make_detector(kind: str, n: int, **settings) -> DriftDetector:
    """A detector by name: ``"tracking signal"``, ``"cusum"`` or ``"page-hinkley"``."""
    key = str(kind).lower()
    if key not in _KINDS:
        raise not_allowed("detector", kind, f"one of {list(_KINDS)}")
    return _KINDS[key](n, **settings)


def detection_study(
    kind: str = "page-hinkley", n_series: int = 200, n_days: int = 300, change_day: int = 150,
    level: float = 20.0, shift: float = 0.5, seed: int = 0, **settings,
) -> pd.DataFrame:
    """Detection delay and false alarms on synthetic series with a known change point (notebook 08).

    ``n_series`` Poisson series at ``level`` units/day whose mean jumps by ``shift`` (0.5 =
    +50 %) on ``change_day``. The forecast is the pre-change mean of the first 28 days (a model
    fitted once, never retrained), so errors are centred until the change. The detector is reset
    after every alarm. Returns one row per series: ``false_alarms`` (alarms before the change),
    ``delay`` (days from the change to the first alarm on or after it; NaN = missed).
    """
    n_days = check_whole(n_days, "n_days", low=30, unit="days")
    change_day = check_whole(change_day, "change_day", low=29, high=n_days - 1, unit="days")
    rng = np.random.default_rng(seed)
    lam = np.full((n_days, n_series), float(level))
    lam[change_day:] *= 1.0 + float(shift)
    y = rng.poisson(lam).astype(float)
    forecast = y[:28].mean(axis=0)
    det = make_detector(kind, n_series, **settings)
    false_alarms = np.zeros(n_series, dtype=int)
    delay = np.full(n_series, np.nan)
    for t in range(28, n_days):
        alarm = det.update(y[t] - forecast)
        if t < change_day:
            false_alarms += alarm
        else:
            first = alarm & np.isnan(delay)
            delay[first] = t - change_day
        det.reset(alarm)
    return pd.DataFrame({"series": np.arange(n_series), "false_alarms": false_alarms, "delay": delay})
