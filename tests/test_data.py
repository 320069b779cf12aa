"""Tests of mas_lib.data: loader, download pieces, cleaning steps, calendar and daily demand.

Everything except the real-data tests runs on tiny frames and files built here; nothing in this
file is derived from the UCI file. The real-data tests (fixtures ``retail_*`` from
``tests/conftest.py``, loaded and cleaned once per session) pin the facts listed in the data's
README and skip when the file is not available (set MAS_LIB_ONLINE_RETAIL).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import data as D
from mas_lib.data import daily as daily_module

# ------------------------------------------------------------------------------------------
# Hand-made raw frames
# ------------------------------------------------------------------------------------------

COLS = list(D.RAW_COLUMNS)


def make_raw(rows) -> pd.DataFrame:
    """rows: (InvoiceNo, StockCode, Quantity, 'YYYY-MM-DD HH:MM', UnitPrice, CustomerID, Country)."""
    recs = [
        {
            "InvoiceNo": inv,
            "StockCode": code,
            "Description": f"ITEM {code}",
            "Quantity": qty,
            "InvoiceDate": pd.Timestamp(when),
            "UnitPrice": price,
            "CustomerID": cust,
            "Country": country,
        }
        for inv, code, qty, when, price, cust, country in rows
    ]
    df = pd.DataFrame(recs, columns=COLS)
    return df.astype(
        {
            "InvoiceNo": "str",
            "StockCode": "str",
            "Description": "str",
            "Quantity": "int64",
            "UnitPrice": "float64",
            "CustomerID": "Int64",
            "Country": "str",
        }
    )


UK, FR = "United Kingdom", "France"


def step(report: pd.DataFrame, name: str) -> pd.Series:
    return report.set_index("step").loc[name]


def test_duplicates_removed_once():
    line = ("500001", "10001", 5, "2011-03-01 10:00", 1.0, 1, UK)
    raw = make_raw([line, line, line, ("500001", "10002", 5, "2011-03-01 10:00", 1.0, 1, UK)])
    res = D.clean_online_retail(raw)
    r = step(res.report, "duplicates")
    assert (r.rows_before, r.rows_removed, r.units_removed) == (4, 2, 10)
    assert len(res.frame) == 2


def test_stock_code_case_counts_changed_rows():
    raw = make_raw(
        [
            ("500001", "85123a", 2, "2011-03-01 10:00", 1.0, 1, UK),
            ("500002", "85123A", 3, "2011-03-01 11:00", 1.0, 2, UK),
            ("500003", "gift_0001_10", 1, "2011-03-01 11:00", 10.0, 2, UK),
        ]
    )
    res = D.clean_online_retail(raw)
    assert step(res.report, "stock_code_case").rows_changed == 2
    assert step(res.report, "stock_code_case").rows_removed == 0
    assert res.frame["stock_code"].tolist() == ["85123A", "85123A"]
    assert step(res.report, "non_product").rows_removed == 1  # GIFT_0001_10


def test_cancellation_nets_exact_order_and_drops_other_returns():
    raw = make_raw(
        [
            # a huge order cancelled minutes later: both go
            ("541431", "23166", 74215, "2011-01-18 10:01", 1.04, 12346, UK),
            ("C541433", "23166", -74215, "2011-01-18 10:17", 1.04, 12346, UK),
            # a partial return: the order stays, the return line is dropped
            ("500010", "10001", 10, "2011-02-01 09:00", 1.0, 7, FR),
            ("C500011", "10001", -3, "2011-02-02 09:00", 1.0, 7, FR),
            # cancellation of an order placed before the data starts: dropped
            ("C500012", "10002", -6, "2011-02-03 09:00", 1.0, 8, UK),
            # same quantity but another customer: not matched
            ("500013", "10003", 4, "2011-02-04 09:00", 1.0, 9, UK),
            ("C500014", "10003", -4, "2011-02-04 10:00", 1.0, 10, UK),
            # a bad-debt adjustment
            ("A563185", "B", 1, "2011-08-12 14:50", 11062.06, None, UK),
        ]
    )
    res = D.clean_online_retail(raw)
    rep = res.report
    assert step(rep, "cancelled_orders").rows_removed == 1
    assert step(rep, "cancelled_orders").units_removed == 74215
    assert step(rep, "cancellation_lines").rows_removed == 4
    assert step(rep, "cancellation_lines").units_removed == -(74215 + 3 + 6 + 4)
    assert step(rep, "bad_debt").rows_removed == 1
    assert sorted(res.frame["invoice_no"]) == ["500010", "500013"]
    assert res.frame["quantity"].sum() == 14
    # units are conserved through the report
    assert raw["Quantity"].sum() - rep["units_removed"].sum() == res.frame["quantity"].sum()


def test_each_order_line_is_cancelled_at_most_once():
    raw = make_raw(
        [
            ("500001", "10001", 5, "2011-03-01 10:00", 1.0, 1, UK),
            ("C500002", "10001", -5, "2011-03-01 11:00", 1.0, 1, UK),
            ("C500003", "10001", -5, "2011-03-01 12:00", 1.0, 1, UK),
            ("500004", "10001", 5, "2011-03-01 13:00", 1.0, 1, UK),  # after both: kept
        ]
    )
    res = D.clean_online_retail(raw)
    assert step(res.report, "cancelled_orders").rows_removed == 1
    assert res.frame["invoice_no"].tolist() == ["500004"]


def test_non_product_codes_follow_the_documented_rule():
    codes = ["POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS",
             "DCGSSGIRL", "DCGS0066P", "gift_0001_20", "85123A", "15056BL", "22423", "79323LP"]  # fmt: skip
    flags = D.is_product_code(pd.Series(codes))
    assert flags.tolist() == [False] * 13 + [True] * 4
    raw = make_raw([(f"5000{i:02d}", c, 1, "2011-03-01 10:00", 1.0, 1, UK) for i, c in enumerate(codes)])
    res = D.clean_online_retail(raw)
    assert step(res.report, "non_product").rows_removed == 13
    assert "POST" in step(res.report, "non_product").reason
    listed = D.non_product_codes(raw)
    assert set(listed["stock_code"]) == {c.upper() for c in codes[:13]}


def test_non_positive_quantity_or_price_removed():
    raw = make_raw(
        [
            ("500001", "10001", -12, "2011-03-01 10:00", 0.0, None, UK),  # write-off
            ("500002", "10001", 3, "2011-03-01 10:00", 0.0, 5, UK),  # free item
            ("500003", "10001", 0, "2011-03-01 10:00", 1.0, 5, UK),
            ("500004", "10001", 2, "2011-03-01 10:00", 1.0, 5, UK),
        ]
    )
    res = D.clean_online_retail(raw)
    r = step(res.report, "non_positive")
    assert (r.rows_removed, r.units_removed) == (3, -9)
    assert res.frame["quantity"].tolist() == [2]


def _outlier_frame() -> pd.DataFrame:
    rows = [(f"5000{i:02d}", "10001", 10, f"2011-03-{i + 1:02d} 10:00", 1.0, i, UK) for i in range(9)]
    rows.append(("500099", "10001", 2000, "2011-03-20 10:00", 1.0, 99, UK))  # 200 x median
    rows.append(("500098", "10002", 900, "2011-03-20 10:00", 1.0, 98, UK))  # alone: median itself
    return make_raw(rows)


def test_outlier_rule_drop_clip_keep():
    raw = _outlier_frame()
    dropped = D.clean_online_retail(raw)
    r = step(dropped.report, "outliers")
    assert (r.rows_removed, r.units_removed) == (1, 2000)
    assert dropped.outliers["quantity"].tolist() == [2000]
    assert dropped.outliers["product_median"].tolist() == [10.0]
    clipped = D.clean_online_retail(raw, outliers="clip")
    r = step(clipped.report, "outliers")
    assert (r.rows_removed, r.rows_changed, r.units_removed) == (0, 1, 1500)
    assert clipped.frame["quantity"].max() == 900 and 500 in clipped.frame["quantity"].tolist()
    kept = D.clean_online_retail(raw, outliers="keep")
    assert step(kept.report, "outliers").rows_removed == 0
    assert kept.frame["quantity"].sum() == raw["Quantity"].sum()
    # the absolute floor: a 20x line below outlier_min_units is not an outlier
    small = D.clean_online_retail(raw, outlier_min_units=5000)
    assert step(small.report, "outliers").rows_removed == 0
    with pytest.raises(ValueError, match="outliers = 'cap' is not allowed; allowed: 'drop'"):
        D.clean_online_retail(raw, outliers="cap")


def test_missing_customer_kept_and_reported():
    raw = make_raw(
        [
            ("500001", "10001", 4, "2011-03-01 10:00", 1.0, None, UK),
            ("500002", "10001", 6, "2011-03-01 11:00", 1.0, 3, FR),
        ]
    )
    res = D.clean_online_retail(raw)
    r = step(res.report, "missing_customer")
    assert r.rows_removed == 0 and "kept 1 lines (4 units)" in r.reason
    assert res.frame["customer_id"].isna().sum() == 1
    assert list(res.frame.columns) == list(D.CLEAN_COLUMNS)
    assert res.frame["market"].tolist() == ["domestic", "overseas"]
    assert list(res.report.columns) == [
        "step", "rule", "rows_before", "rows_removed", "rows_changed", "units_removed", "reason"
    ]  # fmt: skip


def test_markets():
    assert D.market_of("United Kingdom") == "domestic"
    for c in ("France", "EIRE", "Unspecified", "European Community", "Atlantis"):
        assert D.market_of(c) == "overseas"
    assert len(D.MARKETS) == 38 and set(D.MARKETS.values()) == {"domestic", "overseas"}
    assert [c for c, m in D.MARKETS.items() if m == "domestic"] == ["United Kingdom"]
    with pytest.raises(TypeError, match="country = None is not allowed"):
        D.market_of(None)


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


def test_validate_raw_names_the_field():
    raw = make_raw([("500001", "10001", 4, "2011-03-01 10:00", 1.0, None, UK)])
    with pytest.raises(D.DataFormatError, match=r"lacks columns \['Quantity'\].*columns seen"):
        D.clean_online_retail(raw.rename(columns={"Quantity": "Qty"}))
    with pytest.raises(D.DataFormatError, match="'Quantity' has dtype .*integer"):
        D.clean_online_retail(raw.astype({"Quantity": "float64"}))
    with pytest.raises(D.DataFormatError, match="'InvoiceDate' has dtype .*datetime64"):
        D.clean_online_retail(raw.assign(InvoiceDate="2011-03-01"))
    with pytest.raises(D.DataFormatError, match="'CustomerID' has a non-integer value 1.5"):
        D.clean_online_retail(raw.assign(CustomerID=[1.5]))
    with pytest.raises(D.DataFormatError, match="expected a pandas DataFrame"):
        D.clean_online_retail([1, 2, 3])


def test_daily_demand_bad_arguments():
    res = D.clean_online_retail(
        make_raw([("500001", "10001", 4, "2011-03-01 10:00", 1.0, None, UK)])
    )
    with pytest.raises(ValueError, match=r"by = \('warehouse',\) is not allowed.*'market'"):
        D.daily_demand(res, by=("warehouse",))
    with pytest.raises(ValueError, match="repeated"):
        D.daily_demand(res, by=("market", "market"))
    with pytest.raises(D.DataFormatError, match="lacks columns"):
        D.daily_demand(res.frame.drop(columns="market"))
    with pytest.raises(D.DataFormatError, match="'quantity' has dtype"):
        D.daily_demand(res.frame.astype({"quantity": "float64"}))
    with pytest.raises(D.DataFormatError, match="raw UCI lines"):
        D.daily_demand(make_raw([("500001", "10001", 4, "2011-03-01 10:00", 1.0, None, UK)]))
    with pytest.raises(ValueError, match="calendar covers"):
        D.daily_demand(res, start="2011-01-01")
    with pytest.raises(ValueError, match="by = 'price' is not allowed"):
        D.top_products(D.daily_demand(res, by=("stock_code",)), by="price")
    with pytest.raises(ValueError, match="n = 0 is not allowed; allowed: a whole number >= 1"):
        D.top_products(res, n=0)
    with pytest.raises(ValueError, match="measure = 'weight' is not allowed"):
        D.cross_border_share(res, measure="weight")


# ------------------------------------------------------------------------------------------
# Calendar and daily demand
# ------------------------------------------------------------------------------------------


def test_trading_calendar_reasons():
    days = ["2010-12-23", "2011-01-04", "2011-01-06", "2011-04-21", "2011-04-26", "2011-04-28"]
    raw = make_raw([(f"5{i:05d}", "10001", 1, f"{d} 10:00", 1.0, 1, UK) for i, d in enumerate(days)])
    cal = D.trading_calendar(raw)
    assert list(cal.columns) == ["date", "open", "reason"]
    assert cal["date"].diff().dropna().eq(pd.Timedelta(days=1)).all()
    reason = cal.set_index(cal["date"].dt.strftime("%Y-%m-%d"))["reason"]
    assert reason["2010-12-23"] == "open"
    assert reason["2010-12-24"] == "christmas break"
    assert reason["2011-01-03"] == "christmas break"
    assert reason["2011-01-08"] == "saturday"
    assert reason["2011-01-05"] == "no invoices"
    assert reason["2011-04-22"] == "bank holiday"  # Good Friday
    assert reason["2011-04-24"] == "holiday"  # Easter Sunday
    assert reason["2011-04-25"] == "bank holiday"
    assert cal["open"].sum() == len(days)
    assert (cal["open"] == (cal["reason"] == "open")).all()


def _tiny_clean() -> D.CleaningResult:
    raw = make_raw(
        [
            ("500001", "10001", 4, "2011-03-01 10:00", 1.0, 1, UK),
            ("500002", "10002", 6, "2011-03-03 10:00", 1.0, 2, FR),
            ("500003", "10001", 5, "2011-03-07 10:00", 1.0, 3, FR),
            ("C500004", "10001", -1, "2011-03-04 10:00", 1.0, 3, FR),  # a day with only a return
        ]
    )
    return D.clean_online_retail(raw)


def test_daily_demand_full_grid_and_open_flags():
    res = _tiny_clean()
    daily = D.daily_demand(res, by=("market", "stock_code"))
    assert list(daily.columns) == ["date", "market", "stock_code", "units", "open"]
    assert daily["units"].dtype == np.int64 and daily["open"].dtype == bool
    assert pd.api.types.is_datetime64_dtype(daily["date"].dtype)
    series = daily.groupby(["market", "stock_code"]).size()
    assert series.to_dict() == {
        ("domestic", "10001"): 7, ("overseas", "10001"): 7, ("overseas", "10002"): 7
    }  # fmt: skip
    by_date = daily.drop_duplicates("date").set_index("date")["open"]
    assert by_date[pd.Timestamp("2011-03-04")]  # the raw calendar sees the return invoice
    assert not by_date[pd.Timestamp("2011-03-05")]  # Saturday
    assert not by_date[pd.Timestamp("2011-03-02")]  # no invoice at all
    assert daily["units"].sum() == 15
    market = D.daily_demand(res)
    assert list(market.columns) == ["date", "market", "units", "open"]
    total = D.daily_demand(res, by=())
    assert list(total.columns) == ["date", "units", "open"] and len(total) == 7
    window = D.daily_demand(res, by="stock_code", start="2011-03-03", end="2011-03-04")
    assert window["units"].sum() == 6 and window["stock_code"].tolist() == ["10002", "10002"]


def test_top_products_and_share_on_tiny_frame():
    res = _tiny_clean()
    daily = D.daily_demand(res, by=("market", "stock_code"))
    top = D.top_products(daily, n=5)
    assert top["stock_code"].tolist() == ["10001", "10002"]
    assert top["units"].tolist() == [9, 6] and top["rank"].tolist() == [1, 2]
    top_clean = D.top_products(res, n=1, by="revenue")
    assert top_clean.loc[0, "description"] == "ITEM 10001"
    assert D.cross_border_share(res) == pytest.approx(11 / 15)
    assert D.cross_border_share(daily) == pytest.approx(11 / 15)


@st.composite
def clean_frames(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    day = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    qty = draw(st.lists(st.integers(1, 500), min_size=n, max_size=n))
    code = draw(st.lists(st.sampled_from(["10001", "10002", "20003A"]), min_size=n, max_size=n))
    mkt = draw(st.lists(st.sampled_from(["domestic", "overseas"]), min_size=n, max_size=n))
    dates = pd.Timestamp("2011-05-01") + pd.to_timedelta(day, unit="D")
    return pd.DataFrame(
        {"date": dates, "stock_code": code, "market": mkt, "quantity": np.array(qty, dtype="int64")}
    )


@settings(max_examples=60, deadline=None)
@given(clean_frames(), st.sampled_from([("market",), ("market", "stock_code"), ("stock_code",), ()]))
def test_daily_demand_conserves_units(frame, by):
    daily = D.daily_demand(frame, by=by)
    n_days = (frame["date"].max() - frame["date"].min()).days + 1
    n_series = frame.groupby(list(by)).ngroups if by else 1
    assert len(daily) == n_days * n_series
    assert daily["units"].sum() == frame["quantity"].sum()
    assert (daily["units"] >= 0).all()
    assert (daily.loc[~daily["open"], "units"] == 0).all()
    if by:
        per_series = daily.groupby(list(by))["date"].nunique()
        assert (per_series == n_days).all()
        expected = frame.groupby(list(by))["quantity"].sum()
        got = daily.groupby(list(by))["units"].sum()
        pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


# ------------------------------------------------------------------------------------------
# Loader errors
# ------------------------------------------------------------------------------------------


def _write_csv_gz(path, text: str) -> None:
    with gzip.open(path, "wb") as fh:
        fh.write(text.encode("utf-8"))


TINY_CSV = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    'C536379,D,"DISCOUNT, ""X""",-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n'
    "536414,22139,,56,2010-12-01 11:52:00,0.0,,United Kingdom\n"
    "536415,NA,NA,1,2010-12-01 11:53:00,1.0,,France\n"
)


def test_missing_file_message_lists_the_three_ways(tmp_path, monkeypatch):
    with pytest.raises(D.DataUnavailableError) as err:
        D.load_online_retail(tmp_path / "nope")
    msg = str(err.value)
    assert str(tmp_path / "nope") in msg
    assert "path=" in msg and D.ENV_PATH in msg and "download_online_retail()" in msg
    monkeypatch.setenv(D.ENV_PATH, str(tmp_path / "elsewhere"))
    monkeypatch.setenv(D.ENV_CACHE, str(tmp_path / "cache"))
    assert not D.online_retail_available()
    with pytest.raises(D.DataUnavailableError, match="elsewhere") as err:
        D.load_online_retail()
    assert str(tmp_path / "cache") in str(err.value)
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, D.DataError)


def test_env_folder_and_cache_are_found(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    _write_csv_gz(folder / D.FILE_NAME, TINY_CSV)
    monkeypatch.setenv(D.ENV_PATH, str(folder))
    assert D.resolve_online_retail_path() == folder / D.FILE_NAME
    monkeypatch.delenv(D.ENV_PATH)
    monkeypatch.setenv(D.ENV_CACHE, str(folder))
    assert D.resolve_online_retail_path() == folder / D.FILE_NAME
    assert D.online_retail_available()


def test_tiny_file_parses_with_sensible_dtypes(tmp_path):
    p = tmp_path / D.FILE_NAME
    _write_csv_gz(p, TINY_CSV)
    raw = D.load_online_retail(tmp_path, expected_sha256=None)
    assert list(raw.columns) == list(D.RAW_COLUMNS) and len(raw) == 4
    assert raw["InvoiceNo"].tolist() == ["536365", "C536379", "536414", "536415"]
    assert raw["StockCode"].tolist()[3] == "NA"  # not turned into a missing value
    assert raw["Description"].isna().tolist() == [False, False, True, False]
    assert raw["Description"][1] == 'DISCOUNT, "X"'
    assert str(raw["CustomerID"].dtype) == "Int64" and raw["CustomerID"].isna().sum() == 2
    assert raw["Quantity"].dtype == np.int64 and raw["UnitPrice"].dtype == np.float64
    assert raw["InvoiceDate"][0] == pd.Timestamp("2010-12-01 08:26:00")
    sha = hashlib.sha256(TINY_CSV.encode()).hexdigest()
    assert len(D.load_online_retail(p, expected_sha256=sha)) == 4


def test_wrong_checksum_message(tmp_path):
    p = tmp_path / D.FILE_NAME
    _write_csv_gz(p, TINY_CSV)
    seen = hashlib.sha256(TINY_CSV.encode()).hexdigest()
    with pytest.raises(D.ChecksumError) as err:
        D.load_online_retail(p)
    msg = str(err.value)
    assert seen in msg and D.CSV_SHA256 in msg and str(p) in msg
    assert D.ENV_PATH in msg and "download_online_retail()" in msg


def test_wrong_columns_message(tmp_path):
    p = tmp_path / D.FILE_NAME
    _write_csv_gz(p, "Invoice,StockCode,Quantity\n1,2,3\n")
    with pytest.raises(D.DataFormatError, match=r"columns \['Invoice', 'StockCode', 'Quantity'\]"):
        D.load_online_retail(p)


def test_corrupt_and_unparsable_files(tmp_path):
    p = tmp_path / D.FILE_NAME
    good = gzip.compress(TINY_CSV.encode())
    p.write_bytes(good[: len(good) // 2])  # truncated gzip
    with pytest.raises(D.DataFormatError, match="truncated or corrupt"):
        D.load_online_retail(p)
    p.write_bytes(b"\x1f\x8bnot really gzip at all")
    with pytest.raises(D.DataFormatError, match="not a readable gzip"):
        D.load_online_retail(p)
    _write_csv_gz(p, TINY_CSV.replace(",6,2010", ",six,2010"))
    with pytest.raises(D.DataFormatError, match="could not be parsed"):
        D.load_online_retail(p, expected_sha256=None)


# ------------------------------------------------------------------------------------------
# xlsx -> csv.gz conversion, checksum and download (never the network)
# ------------------------------------------------------------------------------------------


def _tiny_workbook(path) -> None:
    """Write a workbook typed like UCI's: numbers where Excel stores numbers."""
    book = pd.DataFrame(
        {
            "InvoiceNo": [536365, "C536379", 536414],
            "StockCode": ["85123A", "D", 22139],
            "Description": ["WHITE HANGING HEART", 'DISCOUNT, "X"', None],
            "Quantity": [6, -1, 56],
            "InvoiceDate": pd.to_datetime(
                ["2010-12-01 08:26", "2010-12-01 09:41", "2010-12-01 11:52"]
            ),
            "UnitPrice": [2.55, 27.5, 0.0],
            "CustomerID": [17850.0, 14527.0, np.nan],
            "Country": ["United Kingdom"] * 3,
        }
    )
    book.to_excel(path, index=False, engine="openpyxl")


EXPECTED_TINY = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    'C536379,D,"DISCOUNT, ""X""",-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n'
    "536414,22139,,56,2010-12-01 11:52:00,0.0,,United Kingdom\n"
)


def test_xlsx_to_csv_gz_matches_the_shared_format(tmp_path):
    xlsx = tmp_path / "Online Retail.xlsx"
    _tiny_workbook(xlsx)
    out = tmp_path / "out" / D.FILE_NAME
    sha = D.xlsx_to_csv_gz(xlsx, out)
    text = gzip.decompress(out.read_bytes()).decode("utf-8")
    assert text == EXPECTED_TINY
    assert sha == hashlib.sha256(EXPECTED_TINY.encode()).hexdigest() == D.sha256_of_csv_gz(out)
    assert D.verify_checksum(out, sha) == sha
    with pytest.raises(D.ChecksumError, match=sha):
        D.verify_checksum(out, "0" * 64)
    raw = D.load_online_retail(out, expected_sha256=sha)
    assert raw["CustomerID"].isna().tolist() == [False, False, True]
    assert D.xlsx_to_csv_gz(xlsx, tmp_path / "again.csv.gz") == sha  # deterministic


def test_xlsx_with_wrong_columns(tmp_path):
    xlsx = tmp_path / "bad.xlsx"
    pd.DataFrame({"Invoice": [1], "Qty": [2]}).to_excel(xlsx, index=False)
    with pytest.raises(D.DataFormatError, match=r"lacks columns.*'InvoiceNo'.*columns seen"):
        D.xlsx_to_csv_gz(xlsx, tmp_path / "x.csv.gz")


def _tiny_zip(tmp_path):
    xlsx = tmp_path / "Online Retail.xlsx"
    _tiny_workbook(xlsx)
    zpath = tmp_path / "online+retail.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(xlsx, "Online Retail.xlsx")
    return zpath


def test_download_from_file_url_caches_verified_file(tmp_path):
    zpath = _tiny_zip(tmp_path)
    sha = hashlib.sha256(EXPECTED_TINY.encode()).hexdigest()
    cache = tmp_path / "cache"
    got = D.download_online_retail(cache, url=zpath.as_uri(), expected_sha256=sha)
    assert got == cache / D.FILE_NAME and D.sha256_of_csv_gz(got) == sha
    assert sorted(x.name for x in cache.iterdir()) == [D.FILE_NAME]  # no temporary left
    # cached: no second fetch
    def boom(url, dest):
        raise AssertionError("fetched again")

    assert D.download_online_retail(cache, url="x", expected_sha256=sha, fetch=boom) == got


def test_download_wrong_checksum_writes_nothing(tmp_path):
    zpath = _tiny_zip(tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(D.ChecksumError, match="nothing was written"):
        D.download_online_retail(cache, url=zpath.as_uri())
    assert not (cache / D.FILE_NAME).exists()


def test_download_failures_are_clear(tmp_path):
    def offline(url, dest):
        raise OSError("Network is unreachable")

    with pytest.raises(D.DataUnavailableError, match="Could not download .*unreachable"):
        D.download_online_retail(tmp_path, fetch=offline)

    def not_a_zip(url, dest):
        dest.write_bytes(b"<html>error page</html>")

    with pytest.raises(D.DataFormatError, match="did not deliver a zip"):
        D.download_online_retail(tmp_path, fetch=not_a_zip)

    def empty_zip(url, dest):
        with zipfile.ZipFile(dest, "w") as zf:
            zf.writestr("readme.txt", "hi")

    with pytest.raises(D.DataFormatError, match=r"no \.xlsx.*readme.txt"):
        D.download_online_retail(tmp_path, fetch=empty_zip)


# ------------------------------------------------------------------------------------------
# The cleaning table and the memoised loaders (on a tiny file)
# ------------------------------------------------------------------------------------------


def test_cleaning_steps_table_drives_the_report():
    names = [s.name for s in D.CLEANING_STEPS]
    assert names == [
        "duplicates", "stock_code_case", "cancelled_orders", "cancellation_lines", "bad_debt",
        "non_product", "non_positive", "outliers", "missing_customer",
    ]  # fmt: skip
    assert all(s.rule and s.reason and callable(s.apply) for s in D.CLEANING_STEPS)
    res = _tiny_clean()
    assert res.report["step"].tolist() == names
    rules = dict(zip(res.report["step"], res.report["rule"], strict=True))
    assert rules["outliers"] == "quantity > 50 x product median and >= 1,000 units"
    assert rules["duplicates"] == D.CLEANING_STEPS[0].rule
    assert D.PRODUCT_CODE_PATTERN.match("85123A") and not D.PRODUCT_CODE_PATTERN.match("POST")


def test_cleaning_settings_name_field_value_and_allowed():
    raw = _outlier_frame()
    with pytest.raises(ValueError, match=r"outlier_factor = 0 is not allowed; allowed: .*> 0"):
        D.clean_online_retail(raw, outlier_factor=0)
    with pytest.raises(ValueError, match=r"outlier_min_units = -5 is not allowed.*units"):
        D.clean_online_retail(raw, outlier_min_units=-5)
    with pytest.raises(ValueError, match="outlier_factor = nan"):
        D.clean_online_retail(raw, outlier_factor=float("nan"))


def test_cleaning_result_copy_is_independent():
    res = _tiny_clean()
    dup = res.copy()
    dup.frame.loc[0, "quantity"] = -1
    dup.report.loc[0, "rows_removed"] = -1
    assert res.frame.loc[0, "quantity"] == 4 and res.report.loc[0, "rows_removed"] == 0


def test_window_end_before_start_is_refused():
    res = _tiny_clean()
    with pytest.raises(ValueError, match=r"end = '2011-03-01' is not allowed; allowed: a day on or after start \(2011-03-03\)"):
        D.daily_demand(res, start="2011-03-03", end="2011-03-01")
    with pytest.raises(ValueError, match="end = '2011-03-01' is not allowed"):
        D.trading_calendar(res, start="2011-03-03", end="2011-03-01")


@pytest.fixture
def tiny_retail_file(tmp_path, monkeypatch):
    """A tiny data file the memoised loaders read without the sha256 check (monkeypatched)."""
    p = tmp_path / D.FILE_NAME
    _write_csv_gz(p, TINY_CSV)

    def unchecked(path):
        return D.load_online_retail(path, expected_sha256=None)

    monkeypatch.setattr(daily_module, "load_online_retail", unchecked)
    return p


def test_load_clean_online_retail_hands_out_copies(tiny_retail_file):
    first = D.load_clean_online_retail(tiny_retail_file)
    assert first.frame["quantity"].tolist() == [6]  # only the 85123A line is a sale
    first.frame.loc[0, "quantity"] = -1
    first.report.loc[0, "rows_removed"] = 99
    first.calendar["open"] = False
    first.outliers.loc[0, "quantity"] = 5
    again = D.load_clean_online_retail(tiny_retail_file)
    assert again.frame["quantity"].tolist() == [6]
    assert again.report.loc[0, "rows_removed"] == 0
    assert again.calendar["open"].tolist() == [True] and again.outliers.empty
    assert again is not first and again.frame is not first.frame


def test_load_daily_demand_hands_out_copies(tiny_retail_file):
    first = D.load_daily_demand(tiny_retail_file, by="stock_code")
    assert first["units"].tolist() == [6]
    first.loc[0, "units"] = -1
    first["extra"] = 1
    again = D.load_daily_demand(tiny_retail_file, by=("stock_code",))
    assert again["units"].tolist() == [6]
    assert list(again.columns) == ["date", "stock_code", "units", "open"]
    # the daily table is built from the same memoised cleaning, unaffected by a mutated copy
    clean = D.load_clean_online_retail(tiny_retail_file)
    clean.frame.loc[0, "quantity"] = 1_000
    assert D.load_daily_demand(tiny_retail_file, by="market")["units"].sum() == 6


# ------------------------------------------------------------------------------------------
# The real data (README facts); skipped without the file
# ------------------------------------------------------------------------------------------


def test_real_file_checksum(retail_path):
    assert D.sha256_of_csv_gz(retail_path) == D.CSV_SHA256


def test_readme_facts(retail_raw):
    raw = retail_raw
    assert raw.shape == (541_909, 8)
    assert raw["Country"].nunique() == 38
    assert set(raw["Country"]) == set(D.MARKETS)
    assert raw["InvoiceNo"].nunique() == 25_900
    assert raw["CustomerID"].nunique() == 4_372
    assert raw["StockCode"].nunique() == 4_070
    assert raw["StockCode"].str.upper().nunique() == 3_958
    assert raw["InvoiceDate"].min() == pd.Timestamp("2010-12-01 08:26")
    assert raw["InvoiceDate"].max() == pd.Timestamp("2011-12-09 12:50")
    days = raw["InvoiceDate"].dt.normalize()
    assert days.nunique() == 305 and not (days.dt.day_of_week == 5).any()
    assert raw["CustomerID"].isna().sum() == 135_080
    assert raw["Description"].isna().sum() == 1_454
    assert raw.duplicated().sum() == 5_268
    canc = raw["InvoiceNo"].str.startswith("C")
    assert canc.sum() == 9_288 and raw.loc[canc, "InvoiceNo"].nunique() == 3_836
    assert raw.loc[raw["InvoiceNo"].str.startswith("A"), "InvoiceNo"].nunique() == 3
    assert raw["Quantity"].sum() == 5_176_450
    assert raw.loc[raw["Quantity"] > 0, "Quantity"].sum() == 5_660_981
    assert (raw["Quantity"] * raw["UnitPrice"]).sum() == pytest.approx(9_747_747.93, abs=0.01)
    codes = set(D.non_product_codes(raw)["stock_code"])
    assert {"POST", "DOT", "M", "C2", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK",
            "PADS"} <= codes  # fmt: skip
    assert any(c.startswith("DCGS") for c in codes) and any(c.startswith("GIFT_") for c in codes)


def test_real_cleaning_report(retail_raw, retail_clean):
    raw, cleaned = retail_raw, retail_clean
    rep = cleaned.report.set_index("step")
    assert list(rep.index) == [
        "duplicates", "stock_code_case", "cancelled_orders", "cancellation_lines", "bad_debt",
        "non_product", "non_positive", "outliers", "missing_customer",
    ]  # fmt: skip
    assert rep.loc["duplicates", "rows_removed"] == 5_268
    assert rep.loc["bad_debt", "rows_removed"] == 3
    # the whole report, pinned (a refactor of the cleaning must not move any of these)
    assert rep["rows_removed"].tolist() == [5_268, 0, 2_860, 9_251, 3, 2_348, 2_480, 83, 0]
    assert rep["rows_changed"].tolist() == [0, 1_977, 0, 0, 0, 0, 0, 0, 0]
    assert rep["units_removed"].tolist() == [
        13_948, 0, 223_410, -275_560, 3, 15_538, -138_880, 141_352, 0
    ]  # fmt: skip
    # every cancellation line left after de-duplication is dropped
    assert rep.loc["cancellation_lines", "rows_removed"] == (
        raw.drop_duplicates()["InvoiceNo"].str.startswith("C").sum()
    )
    # the two huge orders cancelled minutes later go with their cancellations
    assert rep.loc["cancelled_orders", "units_removed"] >= 80_995 + 74_215
    frame = cleaned.frame
    assert not frame["quantity"].isin([80_995, 74_215]).any()
    big = raw[raw["Quantity"].isin([80_995, 74_215])]
    assert sorted(big["StockCode"]) == ["23166", "23843"]
    # what is left is clean
    assert (frame["quantity"] > 0).all() and (frame["unit_price"] > 0).all()
    assert not frame["invoice_no"].str[0].isin(["C", "A"]).any()
    assert D.is_product_code(frame["stock_code"]).all()
    assert frame["stock_code"].eq(frame["stock_code"].str.upper()).all()
    assert frame["customer_id"].isna().sum() > 100_000  # anonymous demand is kept
    assert raw["Quantity"].sum() - rep["units_removed"].sum() == frame["quantity"].sum()
    assert 500_000 < len(frame) < 530_000
    assert 0.15 < D.cross_border_share(cleaned) < 0.19
    assert 0.13 < D.cross_border_share(cleaned, "revenue") < 0.17


def test_real_calendar_and_daily_table(retail_clean, retail_daily):
    cleaned = retail_clean
    cal = cleaned.calendar
    assert len(cal) == 374 and cal["open"].sum() == 305
    assert set(cal.loc[~cal["open"], "reason"]) == {
        "saturday", "christmas break", "bank holiday", "holiday"
    }  # fmt: skip
    daily = retail_daily  # = D.daily_demand(cleaned, by=("market", "stock_code")), see below
    n_series = cleaned.frame.groupby(["market", "stock_code"]).ngroups
    assert len(daily) == n_series * 374
    assert daily.groupby(["market", "stock_code"])["date"].nunique().eq(374).all()
    assert (daily["units"] >= 0).all() and (daily.loc[~daily["open"], "units"] == 0).all()
    assert daily["units"].sum() == cleaned.frame["quantity"].sum()
    top = D.top_products(daily, n=20)
    assert len(top) == 20 and top["units"].is_monotonic_decreasing
    assert top["units"].iloc[0] == daily.groupby("stock_code")["units"].sum().max()


def test_load_daily_demand_is_memoised_and_returns_copies(retail_clean, retail_daily):
    hits = daily_module._daily_cached.cache_info().hits
    a = D.load_daily_demand(by=("market", "stock_code"))
    b = D.load_daily_demand(by=["market", "stock_code"])
    assert daily_module._daily_cached.cache_info().hits == hits + 2  # memoised, not rebuilt
    assert a is not b
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, retail_daily)
    # the memoised table is the documented pipeline: clean, then daily_demand
    pd.testing.assert_frame_equal(a, D.daily_demand(retail_clean, by=("market", "stock_code")))
    a.loc[0, "units"] = -1
    assert D.load_daily_demand(by=("market", "stock_code")).loc[0, "units"] >= 0
    assert list(a.columns) == ["date", "market", "stock_code", "units", "open"]


def test_load_clean_online_retail_returns_copies(retail_clean):
    report = retail_clean.report.set_index("step")
    assert report.loc["duplicates", "rows_removed"] == 5_268
    got = D.load_clean_online_retail()
    assert got is not retail_clean and got.frame is not retail_clean.frame
    got.frame.loc[0, "quantity"] = -1
    got.report.loc[0, "rows_removed"] = -1
    got.calendar.loc[0, "open"] = not got.calendar.loc[0, "open"]
    got.outliers.loc[0, "quantity"] = -1
    again = D.load_clean_online_retail()
    for name in ("frame", "report", "calendar", "outliers"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(retail_clean, name))
    assert again.report.loc[0, "rows_removed"] == 5_268


def test_conversion_reproduces_real_lines_byte_for_byte(tmp_path, retail_path):
    """Round-trip some real lines through an xlsx typed like UCI's (built at run time only)."""
    path = retail_path
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        lines = [next(fh) for _ in range(300)]
    text = "".join(lines)
    sample = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    book = pd.DataFrame(
        {
            "InvoiceNo": [int(x) if x.isdigit() else x for x in sample["InvoiceNo"]],
            "StockCode": [int(x) if x.isdigit() else x for x in sample["StockCode"]],
            "Description": sample["Description"].replace("", None),
            "Quantity": sample["Quantity"].astype(int),
            "InvoiceDate": pd.to_datetime(sample["InvoiceDate"]),
            "UnitPrice": sample["UnitPrice"].astype(float),
            "CustomerID": pd.to_numeric(sample["CustomerID"].replace("", None)),
            "Country": sample["Country"],
        }
    )
    xlsx = tmp_path / "sample.xlsx"
    book.to_excel(xlsx, index=False)
    out = tmp_path / "sample.csv.gz"
    D.xlsx_to_csv_gz(xlsx, out)
    assert gzip.decompress(out.read_bytes()).decode("utf-8") == text
