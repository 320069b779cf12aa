"""The twin's demand: one daily series per (warehouse, product), from the real UCI data or, when it
is absent, from the synthetic generator -- and the checks that keep bad input out (paper 3.2.2).

:func:`load_twin_data` maps every country to its warehouse (:class:`~mas_lib.ops.network.TwinNetwork`),
keeps the chosen products (default: the top 20 by units sold *before* the twin's start, see
:mod:`mas_lib.ops.products`), and returns a :class:`TwinData`: a
days x nodes table of units/day on every day the data covers -- never a day before its first or
after its last -- and the shop's open flag per day. A day missing from a series (also before a
product's first sale) counts as **zero demand** on an open day (never dropped); closed days
(Saturdays, bank holidays, the Christmas break) have zero demand by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .. import data as D
from ..data import synthetic as S
from ..validation import ConfigError, check_whole, not_allowed
from . import products as P
from .network import TwinNetwork, default_network, node_name
from .products import TWIN_START

__all__ = ["MIN_SIM_DAYS", "DataFingerprint", "TwinData", "load_twin_data", "synthetic_twin_data", "twin_data_from_frame"]

#: the fewest simulated days a twin runs (the recorded demand needs two rows) [days]
MIN_SIM_DAYS = 2


@dataclass(frozen=True)
class DataFingerprint:
    """What a :class:`~mas_lib.ops.forecasting.ForecastPlan` was made for: the products, the
    warehouses (markets) and the simulated days (first, last). :func:`mas_lib.ops.run_twin`
    refuses a plan whose fingerprint is not its data's, also when the shapes agree."""

    products: tuple[str, ...]
    warehouses: tuple[str, ...]
    first: str
    last: str

    def __str__(self) -> str:
        return (f"products {list(self.products)}, warehouses {list(self.warehouses)}, "
                f"days {self.first} .. {self.last}")


@dataclass
class TwinData:
    """Demand of every node of the twin (notebook 08).

    ``units``: DataFrame, daily DatetimeIndex (every calendar day, history included) x node
    columns ``"UK:85123A"`` (warehouse-major), float units/day >= 0; ``open``: bool Series on the
    same index; ``start``: first simulated day (days before it are history only);
    ``products``, ``network``; ``source``: ``"real"`` or ``"synthetic"`` (said plainly
    wherever results are shown).
    """

    units: pd.DataFrame
    open: pd.Series
    start: pd.Timestamp
    products: list[str]
    network: TwinNetwork
    source: str

    @property
    def warehouses(self) -> list[str]:
        """Warehouse names in node order."""
        return self.network.names

    @property
    def nodes(self) -> list[str]:
        """Node names, warehouse-major."""
        return list(self.units.columns)

    @property
    def sim_days(self) -> pd.DatetimeIndex:
        """The simulated days (``start`` to the last day)."""
        return self.units.index[self.units.index >= self.start]

    @property
    def fingerprint(self) -> DataFingerprint:
        """Products, warehouses and simulated days: what a forecast plan made from it is for."""
        days = self.sim_days
        return DataFingerprint(tuple(self.products), tuple(self.warehouses), str(days[0].date()),
                               str(days[-1].date()))

    def subset(self, products: Sequence[str]) -> TwinData:
        """The same data for some of its products (for small, fast runs)."""
        products = list(products)
        unknown = [p for p in products if p not in self.products]
        if unknown or not products:
            raise ConfigError(f"products = {unknown or products!r} is not allowed; allowed: some of {self.products}")
        cols = [node_name(w, p) for w in self.warehouses for p in products]
        return TwinData(self.units[cols].copy(), self.open.copy(), self.start, products, self.network, self.source)


def _window_error(field: str, value: pd.Timestamp, first: pd.Timestamp, last: pd.Timestamp,
                  lo: pd.Timestamp, hi: pd.Timestamp) -> ConfigError:
    """The one message for a window outside the data: names the field, its value, the allowed
    days and the days the data covers."""
    span = (f"the data covers {first.date()} .. {last.date()}; the days before start are the history and "
            f"the twin needs at least {MIN_SIM_DAYS} simulated days")
    return not_allowed(field, str(value.date()), f"a day from {lo.date()} to {hi.date()} ({span})")


def _check_window(index: pd.DatetimeIndex, start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` as days inside ``index`` (the days the data covers): at least one day of
    history before ``start`` and at least :data:`MIN_SIM_DAYS` simulated days up to ``end``
    (default: the data's last day). Raises :class:`ConfigError` naming the data's first and
    last day -- days outside the data are never invented."""
    first, last = index.min(), index.max()
    day = pd.Timedelta(days=1)
    lo = pd.Timestamp(start).normalize()
    latest_start = last - (MIN_SIM_DAYS - 1) * day
    if lo <= first or lo > latest_start:
        raise _window_error("start", lo, first, last, first + day, latest_start)
    hi = pd.Timestamp(end).normalize() if end is not None else last
    if hi < lo + (MIN_SIM_DAYS - 1) * day or hi > last:
        raise _window_error("end", hi, first, last, lo + (MIN_SIM_DAYS - 1) * day, last)
    return lo, hi


def _days_covered(tidy: pd.DataFrame, calendar: pd.Series | None) -> pd.Series:
    """The shop's open flag (bool) on every day the data covers: ``calendar`` if given (it must
    cover every date of ``tidy``), else every day from ``tidy``'s first to its last date, open
    unless its ``open`` column says otherwise."""
    dates = pd.DatetimeIndex(pd.to_datetime(tidy["date"])).as_unit("ns")
    if calendar is None:
        full = pd.date_range(dates.min(), dates.max(), freq="D", unit="ns")
        if "open" in tidy.columns:
            flags = pd.Series(tidy["open"].to_numpy(dtype=bool), index=dates)
            return flags.groupby(level=0).first().reindex(full, fill_value=True).astype(bool)
        return pd.Series(True, index=full)
    if not isinstance(calendar, pd.Series) or not isinstance(calendar.index, pd.DatetimeIndex):
        raise not_allowed("calendar", type(calendar).__name__, "a bool Series of open flags indexed by day")
    cal = pd.Series(calendar.to_numpy(dtype=bool), index=calendar.index.as_unit("ns").normalize())
    full = pd.date_range(cal.index.min(), cal.index.max(), freq="D", unit="ns")
    if dates.min() < full[0] or dates.max() > full[-1]:
        raise not_allowed("calendar", f"{full[0].date()} .. {full[-1].date()}",
                          f"a calendar covering every demand date ({dates.min().date()} .. {dates.max().date()})")
    return cal.groupby(level=0).first().reindex(full, fill_value=True).astype(bool)


def twin_data_from_frame(
    tidy: pd.DataFrame, products: Sequence[str], network: TwinNetwork, start, end=None,
    *, key: str = "warehouse", source: str = "real", calendar: pd.Series | None = None,
) -> TwinData:
    """Build :class:`TwinData` from a tidy table ``date, <key>, stock_code, units[, open]``.

    ``key`` holds warehouse names. ``calendar``: the shop's open flag for every day the data
    covers (a bool Series indexed by day); by default the days from ``tidy``'s first to its last
    date. The table spans the whole calendar, so a product first sold after its first day has
    zero demand -- an open shop, no sale -- on the days before. Missing (date, series) rows and
    NaN units become 0 on open days; rows of closed days are 0. Raises
    :class:`~mas_lib.validation.ConfigError` when ``start``/``end`` fall outside the data (naming
    its first and last day), leave fewer than :data:`MIN_SIM_DAYS` simulated days, or a
    warehouse of the network has no demand at all for the products. Used by
    :func:`load_twin_data` and :func:`synthetic_twin_data`.
    """
    products = list(products)
    tidy = tidy.assign(date=pd.DatetimeIndex(pd.to_datetime(tidy["date"])).as_unit("ns"))
    is_open = _days_covered(tidy, calendar)
    lo, hi = _check_window(is_open.index, start, end)
    is_open = is_open.loc[:hi]
    full = is_open.index
    units = tidy.pivot_table(index="date", columns=[key, "stock_code"], values="units", aggfunc="sum")
    cols = {}
    for w in network.names:
        for p in products:
            s = units[(w, p)] if (w, p) in units.columns else pd.Series(0.0, index=full)
            cols[node_name(w, p)] = s.reindex(full).fillna(0.0)
    frame = pd.DataFrame(cols, index=full).astype(float)
    frame.loc[~is_open.to_numpy()] = 0.0
    for w in network.names:
        if frame[[node_name(w, p) for p in products]].to_numpy().sum() <= 0:
            raise ConfigError(
                f"warehouse {w!r} has no demand series: none of the {len(products)} products sold there "
                f"between {full.min().date()} and {hi.date()}; drop it from the network or choose other products")
    frame.index.name = "date"
    is_open.index.name = "date"
    return TwinData(frame, is_open.rename("open"), lo, products, network, source)


def _check_products(products, clean: pd.DataFrame) -> list[str]:
    products = [str(p).strip().upper() for p in products]
    if not products:
        raise ConfigError("products = [] is not allowed; allowed: at least one stock code, e.g. ['85123A']")
    twice = sorted({p for p in products if products.count(p) > 1})
    if twice:
        raise ConfigError(f"products = {twice!r} (given more than once) is not allowed; allowed: distinct stock codes")
    codes = pd.Series(products)
    bad = codes[~D.is_product_code(codes).to_numpy()].tolist()
    if bad:
        raise ConfigError(
            f"products = {bad!r} is not allowed; allowed: product stock codes (five digits, optional "
            f"letters, e.g. '85123A'); {bad} are non-product lines (postage, fees, ...) or malformed")
    known = set(clean["stock_code"].unique())
    unknown = [p for p in products if p not in known]
    if unknown:
        raise ConfigError(f"products = {unknown!r} is not allowed; allowed: stock codes sold in the clean data "
                          f"(e.g. from mas_lib.data.top_products); these never sold")
    return products


def load_twin_data(
    products: Sequence[str] | None = None, n_products: int = 20, network: TwinNetwork | None = None,
    start: str = TWIN_START, end: str | None = None, path=None, product_set: str | None = None,
) -> TwinData:
    """Real demand for the twin from the UCI Online Retail data (notebook 08, paper 3.2.2).

    ``products``: any list of stock codes; default the top ``n_products`` by units sold
    **before** ``start`` (:func:`~mas_lib.ops.products.ranked_before`), so no product is chosen
    because of the sales the twin then serves -- products first sold on or after ``start`` are
    listed by :func:`~mas_lib.ops.products.new_products` and run only when passed explicitly.
    ``product_set``: one of :data:`~mas_lib.ops.products.PRODUCT_SETS` instead (``"top 1-20"``,
    ``"ranks 21-40"``, ``"ranks 41-60"``, ``"random 20"``; not together with ``products``).
    Unknown, duplicate or non-product codes raise :class:`~mas_lib.validation.ConfigError`
    naming them. History
    starts on the first day of the data (2010-12-01) for every product -- a product first sold
    later has zero demand on the open days before its first sale; simulation from ``start`` to
    ``end`` (default the last day, 2011-12-09). A window outside the data, or shorter than
    :data:`MIN_SIM_DAYS` days, raises :class:`~mas_lib.validation.ConfigError`. Raises
    :class:`mas_lib.data.DataUnavailableError` when the file cannot be found -- use
    :func:`synthetic_twin_data` then, and say so.
    """
    network = default_network() if network is None else network
    res = D.load_clean_online_retail(path)
    clean = res.frame
    if product_set is not None:
        if products is not None:
            raise not_allowed("product_set", product_set, "None when products are given (one or the other)")
        products = P.product_set(product_set, res, start)
    elif products is None:
        ranked = P.ranked_before(res, start)
        n_products = check_whole(n_products, "n_products", low=1, high=len(ranked),
                                 unit=f"products (those sold before {pd.Timestamp(start).date()})")
        products = P.products_by_rank(ranked, 1, n_products)
    products = _check_products(products, clean)
    sub = clean.loc[clean["stock_code"].isin(products), ["date", "country", "stock_code", "quantity"]]
    sub = sub.assign(warehouse=sub["country"].map(network.warehouse_of))
    daily = sub.groupby(["date", "warehouse", "stock_code"], as_index=False)["quantity"].sum()
    daily = daily.rename(columns={"quantity": "units"})
    calendar = pd.Series(res.calendar["open"].to_numpy(dtype=bool), index=pd.DatetimeIndex(res.calendar["date"]))
    return twin_data_from_frame(daily, products, network, start, end, calendar=calendar)


def synthetic_twin_data(
    n_products: int = 5, network: TwinNetwork | None = None, seed: int = 0, n_days: int = 374,
    start: str = "2011-01-01", config: S.SyntheticDemandConfig | None = None,
) -> TwinData:
    """Synthetic stand-in for :func:`load_twin_data` when the real data is absent (notebook 08).

    Demand from :func:`mas_lib.data.synthetic.generate_demand` from 2010-12-01, one "market" per
    warehouse with the real data's rough scale (UK 1, EU 0.15, EIRE 0.05, ROW 0.04); its missing
    days become zero demand on open days. Not the real retailer: results on it say so.
    """
    network = default_network() if network is None else network
    scale = {"UK": 1.0, "EU": 0.15, "EIRE": 0.05, "ROW": 0.04}
    market_scale = tuple((w, scale.get(w, 0.1)) for w in network.names)
    cfg = config if config is not None else S.SyntheticDemandConfig(market_scale=market_scale, base_level=60.0)
    tidy = S.generate_demand(cfg, start="2010-12-01", n_days=n_days, markets=tuple(network.names),
                             n_products=n_products, seed=seed)
    tidy = tidy.rename(columns={"market": "warehouse"})
    products = sorted(tidy["stock_code"].unique())
    return twin_data_from_frame(tidy, products, network, start, source="synthetic")
