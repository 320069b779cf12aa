"""Shared fixtures: the real UCI Online Retail data, loaded and cleaned once per test session.

The fixtures go through the memoised loaders of :mod:`mas_lib.data` (``load_clean_online_retail``
and ``load_daily_demand`` share one cache), so the full data is cleaned once per session, also
for tests in other files that call ``load_daily_demand``. Every real-data fixture skips, with the
reason below, when the file cannot be found.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mas_lib import data as D

REAL_DATA_MISSING = (
    "UCI Online Retail data not available: set MAS_LIB_ONLINE_RETAIL to the folder holding "
    "online_retail.csv.gz (or run mas_lib.data.download_online_retail()) to run this real-data test"
)


@pytest.fixture(scope="session")
def retail_path() -> Path:
    """The real data file; skips the test when it cannot be found."""
    if not D.online_retail_available():
        pytest.skip(REAL_DATA_MISSING)
    return D.resolve_online_retail_path()


@pytest.fixture(scope="session")
def retail_raw(retail_path: Path) -> pd.DataFrame:
    """The 541,909 raw invoice lines (checksum verified). Do not modify: shared by the session."""
    return D.load_online_retail(retail_path)


@pytest.fixture(scope="session")
def retail_clean(retail_path: Path) -> D.CleaningResult:
    """The default cleaning of the real data, through the memoised loader (cleaned once)."""
    return D.load_clean_online_retail(retail_path)


@pytest.fixture(scope="session")
def retail_daily(retail_path: Path, retail_clean: D.CleaningResult) -> pd.DataFrame:
    """Daily demand by (market, stock_code), through the memoised loader (no second cleaning)."""
    return D.load_daily_demand(retail_path, by=("market", "stock_code"))


# ------------------------------------------------------------------ configuration factories
@pytest.fixture
def make_two_warehouses():
    """The factory :func:`factories.two_warehouses` (A and B, one link, Poisson demand)."""
    from factories import two_warehouses

    return two_warehouses


@pytest.fixture
def make_three_warehouses():
    """The factory :func:`factories.three_warehouses` (a chain A - B - C)."""
    from factories import three_warehouses

    return three_warehouses
