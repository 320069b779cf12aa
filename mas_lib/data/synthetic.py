"""Synthetic cross-border daily demand with a visible ground truth (paper 3.1.1(1), 3.2.2).

The real UCI Online Retail table (:mod:`mas_lib.data`) is what the notebooks prefer. When it is
not available -- and always in the unit tests -- this module makes a stand-in with the *same*
columns (``date, market, stock_code, units, open``) plus the truth that produced it:

* ``true_mean``  -- the expected units/day before noise (0 on closed days);
* ``promo``      -- whether the product was on promotion that day;
* ``holiday``    -- ``"black_friday"``, ``"singles_day"``, ``"christmas"`` or ``"none"``;
* ``is_outlier`` -- an injected outlier (a bulk order, units multiplied);
* ``is_missing`` -- an injected gap (``units`` is NaN there);
* ``price``      -- the selling price (GBP/unit), lower during promotions.

The expected demand of product ``p`` in market ``m`` on day ``t`` is a product of factors::

    true_mean = level[p] * market_scale[m] * trend(t) * weekly[dow(t)] * yearly(t)
                * holiday_lift(t, m) * promo_lift(p, t) * open(t)

Observed units are negative-binomial around it (``dispersion = 0`` gives Poisson), with an
extra chance of a zero day for intermittent (Croston-style) products; the zero chance is built
into ``true_mean`` so ``true_mean`` stays the expectation of ``units`` (outliers aside).

Used in notebook 04 (fallback data and the ground truth behind each forecasting idea), in
notebook 03 (fallback daily table when the real data is absent) and by the tests of
:mod:`mas_lib.forecast`. Argument checks use :mod:`mas_lib.validation`: a bad value raises a
``ConfigError`` (a ``ValueError``) naming the field, the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..validation import (
    ConfigError,
    Validated,
    as_given,
    check_number,
    check_whole,
    checked,
    items,
    not_allowed,
    number,
    probability,
    whole,
)

__all__ = [
    "SyntheticDemandConfig",
    "generate_demand",
    "holiday_calendar",
    "black_friday",
]


def black_friday(year: int) -> pd.Timestamp:
    """Black Friday of ``year`` (a day): the day after the fourth Thursday of November.

    Used by :func:`holiday_calendar` (paper section 3.2.2, seasonal peaks; no notebook calls it).
    """
    nov1 = pd.Timestamp(year=year, month=11, day=1)
    first_thu = nov1 + pd.Timedelta(days=(3 - nov1.day_of_week) % 7)
    return first_thu + pd.Timedelta(days=22)


def holiday_calendar(index: pd.DatetimeIndex) -> pd.Series:
    """Name the shopping peak each day falls in (paper section 3.2.2: seasonality features).

    Used by :func:`generate_demand` and by the calendar features of :mod:`mas_lib.forecast`
    (no notebook calls it directly).

    Returns a string Series on ``index``: ``"black_friday"`` (Black Friday to Cyber Monday),
    ``"singles_day"`` (11 November, China's 11.11), ``"christmas"`` (1-23 December, the
    pre-Christmas rush) or ``"none"``. Pure calendar arithmetic: no data is looked at.
    """
    index = pd.DatetimeIndex(index).normalize()
    out = np.full(len(index), "none", dtype=object)
    month, day = index.month.to_numpy(), index.day.to_numpy()
    out[(month == 12) & (day <= 23)] = "christmas"
    out[(month == 11) & (day == 11)] = "singles_day"
    for year in np.unique(index.year):
        bf = black_friday(int(year))
        window = (index >= bf) & (index <= bf + pd.Timedelta(days=3))
        out[window] = "black_friday"
    return pd.Series(out, index=index, name="holiday")


def _weekly_profile(value, field: str, error: type[Exception] = ConfigError):
    """7 multipliers >= 0 (Mon..Sun), not all 0; kept as given."""
    try:
        w = np.asarray(value, dtype=float)
        ok = w.shape == (7,) and bool(np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise not_allowed(field, value, "7 multipliers >= 0 (Mon..Sun), not all 0", error)
    return value


def _market_scale(value, field: str, error: type[Exception] = ConfigError):
    """``(market, multiplier > 0)`` pairs, at least one; kept as given."""
    try:
        scales = dict(value)
        ok = bool(scales) and all(_is_positive(v) for v in scales.values())
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise not_allowed(field, value, "(market, multiplier > 0) pairs, at least one", error)
    return value


def _lift(default: float):
    """A multiplier > 0 (1 = no effect)."""
    return number(default, low=0, low_inclusive=False, unit="multiplier")


def _rate(default: float):
    """A probability in [0, 1)."""
    return number(default, low=0, high=1, high_inclusive=False, unit="probability")


@dataclass(frozen=True)
class SyntheticDemandConfig(Validated):
    """Knobs of the synthetic demand generator; every field is checked when the config is made.

    Levels are in units/day; lifts and scales are multipliers (1 = no effect); rates are
    probabilities per product-day. Notebook 04 varies it to show each forecasting difficulty
    (paper sections 3.1.1(1) and 3.2.2). A bad field raises ``ConfigError`` (a ``ValueError``)
    naming ``SyntheticDemandConfig.<field>``, the value and what is allowed.
    """

    #: median expected units/day of a product on an ordinary open day
    base_level: float = number(20.0, low=0, low_inclusive=False, unit="units/day")
    product_level_sd: float = number(0.6, low=0)  #: spread (log scale) of product levels around base_level
    market_scale: tuple[tuple[str, float], ...] = checked(_market_scale, (("domestic", 1.0), ("overseas", 0.35)))
    trend_per_year: float = number(0.15, low=-1, low_inclusive=False)  #: relative growth per year (0.15 = +15 %/year)
    weekly_profile: tuple[float, ...] = checked(_weekly_profile, (1.1, 1.15, 1.2, 1.25, 0.8, 1.0, 0.5))  #: Mon..Sun
    #: relative swing of the yearly cycle, below 1 (demand stays > 0)
    yearly_amplitude: float = number(0.3, low=0, high=1, high_inclusive=False)
    #: day of the year when the yearly cycle peaks (mid-November)
    yearly_peak_doy: int = as_given(number(320, low=1, high=366, unit="day of the year"))
    black_friday_lift: float = _lift(1.8)
    singles_day_lift: float = _lift(2.5)  #: applies to the "overseas" market only (cross-border)
    christmas_lift: float = _lift(1.4)
    promo_rate: float = _rate(0.02)  #: probability a promotion starts on a product-day
    promo_length: int = whole(5, low=1, unit="days")  #: days a promotion lasts
    promo_lift: float = _lift(1.6)
    promo_discount: float = _rate(0.2)  #: price cut during a promotion (0.2 = 20 % off)
    dispersion: float = number(0.3, low=0)  #: negative-binomial alpha (variance = mu + alpha mu^2); 0 = Poisson
    zero_prob: float = _rate(0.0)  #: chance of a zero-demand open day for every product
    intermittent_fraction: float = probability(0.0)  #: share of products that are sparse (Croston-style)
    intermittent_zero_prob: float = _rate(0.75)  #: chance of a zero open day for a sparse product
    #: 0 = Monday; the UCI retailer never trades Saturdays
    closed_weekdays: tuple[int, ...] = items((5,), whole(low=0, high=6, unit="0 = Mon .. 6 = Sun"))
    christmas_break: bool = True  #: closed 24 Dec - 3 Jan like the UCI retailer
    missing_rate: float = _rate(0.01)  #: share of product-days whose units are NaN
    outlier_rate: float = _rate(0.005)  #: share of open product-days with a bulk-order outlier
    outlier_scale: float = _lift(8.0)  #: outlier units = this multiple of the ordinary draw (+ 1)

    def _check_together(self) -> None:
        """One weekday at least is open."""
        if len(set(self.closed_weekdays)) >= 7:
            raise not_allowed(
                "SyntheticDemandConfig.closed_weekdays", self.closed_weekdays, "at most 6 weekdays (one must be open)"
            )

    def describe(self) -> pd.DataFrame:
        """The config as a two-column table (field, value) for display (no notebook calls it yet)."""
        return pd.DataFrame(
            [(f.name, getattr(self, f.name)) for f in fields(self)], columns=["field", "value"]
        )


def _is_positive(value) -> bool:
    try:
        check_number(value, "value", low=0, low_inclusive=False)
    except ConfigError:
        return False
    return True


def _open_calendar(index: pd.DatetimeIndex, cfg: SyntheticDemandConfig) -> np.ndarray:
    is_open = ~np.isin(index.day_of_week.to_numpy(), list(cfg.closed_weekdays))
    if cfg.christmas_break:
        m, d = index.month.to_numpy(), index.day.to_numpy()
        is_open &= ~(((m == 12) & (d >= 24)) | ((m == 1) & (d <= 3)))
    return is_open


def generate_demand(
    config: SyntheticDemandConfig | None = None,
    start: str | pd.Timestamp = "2010-12-01",
    n_days: int = 365,
    markets: Sequence[str] = ("domestic", "overseas"),
    n_products: int = 5,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Generate tidy daily demand (units/day) with its ground truth (paper 3.1.1(1), 3.2.2).

    Notebook 04 forecasts it (and falls back on it without the real data); notebook 03 uses it
    as its fallback daily table.

    Returns one row per (market, product, day), sorted that way, with the columns of
    :func:`mas_lib.data.load_daily_demand` (``date, market, stock_code, units, open``) plus
    ``true_mean, promo, holiday, price, is_outlier, is_missing``. ``units`` is float because
    injected gaps are NaN; otherwise it holds whole units >= 0. Closed days have ``units = 0``
    and ``true_mean = 0``. The same ``seed`` (or an equally seeded ``rng``) gives the same frame.
    """
    cfg = SyntheticDemandConfig() if config is None else config
    if not isinstance(cfg, SyntheticDemandConfig):
        raise not_allowed("config", cfg, "a SyntheticDemandConfig or None", TypeError)
    n_days = check_whole(n_days, "n_days", low=1, unit="days")
    n_products = check_whole(n_products, "n_products", low=1, unit="products")
    markets = tuple(markets)
    scales = dict(cfg.market_scale)
    if not markets or any(m not in scales for m in markets):
        raise not_allowed(
            "markets", markets, f"one or more of the markets in config.market_scale: {sorted(scales)}"
        )
    if rng is None:
        rng = np.random.default_rng(seed)

    index = pd.date_range(pd.Timestamp(start).normalize(), periods=n_days, freq="D")
    is_open = _open_calendar(index, cfg)
    dow = index.day_of_week.to_numpy()
    t_years = np.arange(n_days) / 365.25
    weekly = np.asarray(cfg.weekly_profile, dtype=float)
    weekly = weekly / weekly[np.setdiff1d(np.arange(7), cfg.closed_weekdays)].mean()
    doy = index.day_of_year.to_numpy()
    season = (1 + cfg.trend_per_year) ** t_years * weekly[dow] * (
        1 + cfg.yearly_amplitude * np.cos(2 * np.pi * (doy - cfg.yearly_peak_doy) / 365.25)
    )
    holiday = holiday_calendar(index).to_numpy()
    lift_all = np.ones(n_days)
    lift_all[holiday == "black_friday"] = cfg.black_friday_lift
    lift_all[holiday == "christmas"] = cfg.christmas_lift

    levels = cfg.base_level * np.exp(cfg.product_level_sd * rng.standard_normal(n_products))
    prices = np.round(rng.uniform(0.5, 5.0, n_products), 2)
    sparse = rng.random(n_products) < cfg.intermittent_fraction
    codes = [f"SYN{p + 1:03d}" for p in range(n_products)]

    frames = []
    for market in markets:
        lift = lift_all.copy()
        if market == "overseas":
            lift[holiday == "singles_day"] = cfg.singles_day_lift
        for p in range(n_products):
            starts = rng.random(n_days) < cfg.promo_rate
            promo = np.convolve(starts, np.ones(int(cfg.promo_length)), mode="full")[:n_days] > 0
            promo &= is_open
            p_zero = 1 - (1 - cfg.zero_prob) * (
                1 - (cfg.intermittent_zero_prob if sparse[p] else 0.0)
            )
            mu = levels[p] * scales[market] * season * lift
            mu = mu * np.where(promo, cfg.promo_lift, 1.0) * is_open
            true_mean = mu * (1 - p_zero)
            if cfg.dispersion > 1e-9:  # smaller alphas are Poisson to machine precision
                shape = 1.0 / cfg.dispersion
                lam = rng.gamma(shape, mu / shape + 1e-300)
            else:
                lam = mu
            units = rng.poisson(lam).astype(float)
            units[rng.random(n_days) < p_zero] = 0.0
            units[~is_open] = 0.0
            outlier = is_open & (rng.random(n_days) < cfg.outlier_rate)
            units[outlier] = np.round(units[outlier] * cfg.outlier_scale + 1)
            missing = rng.random(n_days) < cfg.missing_rate
            units[missing] = np.nan
            frames.append(
                pd.DataFrame(
                    {
                        "date": index,
                        "market": market,
                        "stock_code": codes[p],
                        "units": units,
                        "open": is_open,
                        "true_mean": true_mean,
                        "promo": promo,
                        "holiday": holiday,
                        "price": np.where(promo, prices[p] * (1 - cfg.promo_discount), prices[p]),
                        "is_outlier": outlier & ~missing,
                        "is_missing": missing,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
