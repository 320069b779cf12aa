"""Which products the twin runs, chosen from the data *before* the twin's first day (notebook 08,
``benchmarks/bench_system.py``; paper 3.2.2: which series the agents forecast).

Ranking products on the whole period would pick them because of the very sales the twin then
tries to serve: a product first sold in 2011 would enter the top 20 only because of its 2011
sales, and a model that never retrains would forecast 0 for it all year. So:

* :func:`ranked_before` -- every product with net units > 0 before ``start``, ranked by those
  units (ties by stock code, :func:`mas_lib.forecast.select_products`'s order);
* :func:`product_sets` -- the named sets, fixed before anything is scored: ``"top 1-20"``,
  ``"ranks 21-40"``, ``"ranks 41-60"`` (all ranked before ``start``) and ``"random 20"`` (drawn
  with seed :data:`RANDOM_SEED` from the products with sales before ``start``);
* :func:`new_products` -- the separate, stated case of products **without** sales before
  ``start``: listed on their own, never mixed into a default set.

The functions take the clean frame (or a :class:`mas_lib.data.CleaningResult`) so that one load
of the data serves them all; :func:`mas_lib.ops.load_twin_data` calls them for its default.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..data import CleaningResult
from ..forecast import select_products
from ..validation import ConfigError, check_whole, not_allowed

__all__ = ["PRODUCT_SETS", "RANDOM_SEED", "SET_SIZE", "TWIN_START", "new_products", "product_set",
           "product_sets", "products_by_rank", "ranked_before"]

#: the twin's first simulated day by default; products are ranked on the days before it
TWIN_START = "2011-01-01"
#: the seed of the ``"random 20"`` set (a numpy ``default_rng`` draw without replacement)
RANDOM_SEED = 2011
#: products per named set
SET_SIZE = 20
#: the named product sets, in the order tables show them
PRODUCT_SETS: tuple[str, ...] = ("top 1-20", "ranks 21-40", "ranks 41-60", "random 20")


def _frame(clean: pd.DataFrame | CleaningResult) -> pd.DataFrame:
    frame = clean.frame if isinstance(clean, CleaningResult) else clean
    missing = [c for c in ("date", "stock_code", "quantity") if c not in frame.columns]
    if missing:
        raise not_allowed("clean", f"a frame with columns {list(frame.columns)}",
                          "a clean frame (date, stock_code, quantity) or a CleaningResult")
    return frame


def _units_before(frame: pd.DataFrame, start) -> pd.Series:
    past = frame[pd.to_datetime(frame["date"]) < pd.Timestamp(start)]
    return past.groupby("stock_code", sort=True)["quantity"].sum()


def ranked_before(clean: pd.DataFrame | CleaningResult, start=TWIN_START) -> pd.DataFrame:
    """Every product with net units > 0 on the days before ``start``, best first.

    Columns ``rank`` (1, 2, ...), ``stock_code``, ``units`` (net units before ``start``). The
    order is :func:`mas_lib.forecast.select_products`'s (units, ties by stock code). A product
    that never sold before ``start`` is not in the table (see :func:`new_products`).
    """
    frame = _frame(clean)
    units = _units_before(frame, start)
    units = units[units > 0]
    daily = pd.DataFrame({"date": pd.Timestamp(start) - pd.Timedelta(days=1), "stock_code": units.index,
                          "units": units.to_numpy()})
    order = select_products(daily, start, 1, max(len(units), 1)) if len(units) else []
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "stock_code": order,
                         "units": units.reindex(order).to_numpy(dtype=float)})


def products_by_rank(ranked: pd.DataFrame, first: int, last: int) -> list[str]:
    """Stock codes ranked ``first .. last`` (inclusive) in a :func:`ranked_before` table.

    Raises :class:`~mas_lib.validation.ConfigError` naming the rank when ``first`` or ``last``
    is not a whole number in ``1 .. len(ranked)`` or ``last < first``."""
    n = len(ranked)
    if n == 0:
        raise ConfigError("ranked = (empty table) is not allowed; allowed: products with sales before the start")
    first = check_whole(first, "first", low=1, high=n, unit="rank")
    last = check_whole(last, "last", low=first, high=n, unit="rank")
    return ranked["stock_code"].iloc[first - 1:last].astype(str).tolist()


def _random_set(ranked: pd.DataFrame, n: int, seed: int | np.random.Generator) -> list[str]:
    if n > len(ranked):
        raise not_allowed("n", n, f"at most {len(ranked)} (the products with sales before the start)")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    codes = np.sort(ranked["stock_code"].astype(str).to_numpy())
    return sorted(rng.choice(codes, size=n, replace=False).tolist())


def product_set(name: str, clean: pd.DataFrame | CleaningResult, start=TWIN_START,
                seed: int | np.random.Generator = RANDOM_SEED) -> list[str]:
    """The stock codes of the named set ``name`` (one of :data:`PRODUCT_SETS`), chosen from
    the data before ``start`` only. ``"random 20"`` is drawn with ``seed`` (default
    :data:`RANDOM_SEED`) from every product with sales before ``start``, returned sorted.
    An unknown name raises :class:`~mas_lib.validation.ConfigError` naming it."""
    if name not in PRODUCT_SETS:
        raise not_allowed("product_set", name, f"one of {list(PRODUCT_SETS)}")
    ranked = ranked_before(clean, start)
    if name.startswith("random"):
        return _random_set(ranked, SET_SIZE, seed)
    first, last = (int(x) for x in name.split()[-1].split("-"))
    return products_by_rank(ranked, first, last)


def product_sets(clean: pd.DataFrame | CleaningResult, start=TWIN_START,
                 seed: int | np.random.Generator = RANDOM_SEED,
                 names: Sequence[str] = PRODUCT_SETS) -> dict[str, list[str]]:
    """``{name: stock codes}`` for every named set in ``names`` (default all of
    :data:`PRODUCT_SETS`), each chosen before ``start`` (see :func:`product_set`). Fixed
    before any run is scored: notebook 08 and the benchmark compare strategies on them."""
    return {name: product_set(name, clean, start, seed) for name in names}


def new_products(clean: pd.DataFrame | CleaningResult, start=TWIN_START, n: int | None = None) -> list[str]:
    """Products with **no** net sales before ``start`` but sales on or after it: the new
    products, a case of their own (a model fitted before ``start`` knows nothing of them).

    Ranked by their units from ``start`` on -- that is the future, which is why this list is
    never a default set: use it only to study new products, and say so. ``n``: keep the first
    ``n`` (default all)."""
    frame = _frame(clean)
    before = _units_before(frame, start)
    later = frame[pd.to_datetime(frame["date"]) >= pd.Timestamp(start)]
    units = later.groupby("stock_code", sort=True)["quantity"].sum()
    units = units[(units > 0) & ~units.index.isin(before.index[before > 0])]
    order = units.reset_index().sort_values(["quantity", "stock_code"], ascending=[False, True], kind="stable")
    codes = order["stock_code"].astype(str).tolist()
    if n is not None:
        codes = codes[:check_whole(n, "n", low=1, unit="products")]
    return codes
