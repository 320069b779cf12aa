"""Where the real data comes from: find, download, convert, checksum, read and check the raw lines.

The UCI "Online Retail" data set (Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning
Repository. https://doi.org/10.24432/C5BW33, CC BY 4.0) holds every invoice line of a UK online
gift retailer from 2010-12-01 to 2011-12-09, sold to customers in 38 countries. The project never
ships the file; :func:`load_online_retail` finds it in one of three ways:

1. a ``path`` argument (the ``online_retail.csv.gz`` file or a folder that holds it);
2. the environment variable ``MAS_LIB_ONLINE_RETAIL`` (file or folder);
3. the cache folder (``$MAS_LIB_CACHE`` or ``~/.cache/mas_lib``), which
   :func:`download_online_retail` fills from UCI for a user who is online.

Every failure raises a :class:`DataError` whose message says what was seen and repeats the three
ways. Units: ``Quantity`` is an item count ("units"), ``UnitPrice`` is GBP per unit.
Serves notebook 03 and paper section 3.2.2 (data preparation).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import shutil
import tempfile
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import atomic_write
from ..validation import check_bool

__all__ = [
    "UCI_URL",
    "CSV_SHA256",
    "FILE_NAME",
    "ENV_PATH",
    "ENV_CACHE",
    "RAW_COLUMNS",
    "DataError",
    "DataUnavailableError",
    "DataFormatError",
    "ChecksumError",
    "cache_dir",
    "resolve_online_retail_path",
    "online_retail_available",
    "load_online_retail",
    "download_online_retail",
    "xlsx_to_csv_gz",
    "sha256_of_csv_gz",
    "verify_checksum",
    "validate_raw",
]

#: Where UCI distributes the original (a zip holding ``Online Retail.xlsx``, about 23 MB).
UCI_URL = "https://archive.ics.uci.edu/static/public/352/online+retail.zip"
#: sha256 of the *uncompressed* CSV (the gzip bytes depend on the compressor, the CSV does not).
CSV_SHA256 = "959c8b3847939247e4007cbbd6dfcf3fdc78bc8236a08eba94565e15679914d8"
#: File name looked for inside a folder (argument, environment variable or cache).
FILE_NAME = "online_retail.csv.gz"
#: Environment variable naming the data file or the folder holding it.
ENV_PATH = "MAS_LIB_ONLINE_RETAIL"
#: Environment variable naming the cache folder (default ``~/.cache/mas_lib``).
ENV_CACHE = "MAS_LIB_CACHE"
#: The 8 columns of the UCI file, in order.
RAW_COLUMNS: tuple[str, ...] = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
#: How ``InvoiceDate`` is written in the CSV.
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


_HOW_TO = (
    "Provide the UCI Online Retail data in one of three ways:\n"
    "  1. pass it: load_online_retail(path='/path/to/online_retail.csv.gz') (file or folder);\n"
    f"  2. set the environment variable {ENV_PATH} to the file or the folder holding "
    f"{FILE_NAME};\n"
    "  3. if you are online, run mas_lib.data.download_online_retail() once: it fetches the "
    f"original from UCI and caches it in ${ENV_CACHE} (default ~/.cache/mas_lib)."
)


class DataError(Exception):
    """Base class of every error raised by :mod:`mas_lib.data` (notebook 03 catches it to fall
    back on synthetic demand; paper section 3.2.2)."""


class DataUnavailableError(DataError, FileNotFoundError):
    """The data file was not found anywhere (or could not be downloaded)."""


class DataFormatError(DataError, ValueError):
    """A file or DataFrame does not have the expected columns, types or contents."""


class ChecksumError(DataFormatError):
    """The file was read but its sha256 differs from the expected one."""


# --------------------------------------------------------------------------------------------
# Finding and loading the file
# --------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """The cache folder: ``$MAS_LIB_CACHE`` if set, else ``~/.cache/mas_lib`` (not created).

    Where :func:`download_online_retail` writes and :func:`resolve_online_retail_path` looks last
    (paper section 3.2.2, data collection).
    """
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mas_lib"


_default_cache_dir = cache_dir  # download_online_retail's argument shadows the name


def _as_file(p: Path) -> Path:
    return p / FILE_NAME if p.is_dir() else p


def resolve_online_retail_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the data file to read, trying the argument, ``$MAS_LIB_ONLINE_RETAIL``, the cache.

    Notebook 03 prints it; paper section 3.2.2 (data collection). An explicit ``path`` must exist (no silent fallback). If the environment variable points
    to nothing, the cache is still tried and the error lists everything that was looked at.

    Raises:
        DataUnavailableError: nothing found; the message lists the places tried and the three
            ways to provide the data.
    """
    if path is not None:
        p = _as_file(Path(path).expanduser())
        if p.is_file():
            return p
        raise DataUnavailableError(f"No data file at {p} (from the path argument).\n{_HOW_TO}")
    tried = []
    env = os.environ.get(ENV_PATH)
    if env:
        p = _as_file(Path(env).expanduser())
        if p.is_file():
            return p
        tried.append(f"{p} (from ${ENV_PATH}={env!r}): not found")
    else:
        tried.append(f"${ENV_PATH}: not set")
    p = cache_dir() / FILE_NAME
    if p.is_file():
        return p
    tried.append(f"{p} (cache): not found")
    raise DataUnavailableError(
        "UCI Online Retail data not found. Looked at:\n  - " + "\n  - ".join(tried) + "\n" + _HOW_TO
    )


def online_retail_available(path: str | os.PathLike[str] | None = None) -> bool:
    """True when :func:`resolve_online_retail_path` finds a file (its checksum is not checked).

    Notebook 04 uses it to choose real or synthetic demand (paper section 3.2.2).
    """
    try:
        resolve_online_retail_path(path)
    except DataUnavailableError:
        return False
    return True


def _read_bytes(p: Path) -> bytes:
    """The uncompressed CSV bytes of ``p`` (``.gz`` is decompressed; anything else read as is)."""
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataUnavailableError(f"Cannot read {p}: {exc}\n{_HOW_TO}") from exc
    if p.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFormatError(
                f"{p} is not a readable gzip file ({type(exc).__name__}: {exc}); it is probably "
                f"truncated or corrupt. Replace it.\n{_HOW_TO}"
            ) from exc
    return data


def load_online_retail(
    path: str | os.PathLike[str] | None = None, *, expected_sha256: str | None = CSV_SHA256
) -> pd.DataFrame:
    """Read the 541,909 raw invoice lines of UCI Online Retail (notebook 03, paper section 3.2.2).

    Args:
        path: the ``online_retail.csv.gz`` file or a folder holding it. ``None`` tries
            ``$MAS_LIB_ONLINE_RETAIL`` and then the cache (see :func:`resolve_online_retail_path`).
        expected_sha256: sha256 of the uncompressed CSV the file must have; ``None`` skips the
            check (for your own extract or a test file).

    Returns:
        The 8 UCI columns: ``InvoiceNo``, ``StockCode``, ``Description``, ``Country`` as strings
        (``Description`` missing on 1,454 lines), ``Quantity`` int64 (units; negative on
        cancellations), ``InvoiceDate`` datetime64, ``UnitPrice`` float64 (GBP per unit),
        ``CustomerID`` nullable ``Int64`` (missing on 135,080 lines).

    Raises:
        DataUnavailableError: no file found. DataFormatError: corrupt file, wrong columns or
        unparsable values. ChecksumError: the file is readable but is not the expected one.
    """
    p = resolve_online_retail_path(path)
    data = _read_bytes(p)
    header = data[: data.find(b"\n")].decode("utf-8", errors="replace").strip()
    seen = [c.strip('"') for c in header.split(",")]
    if tuple(seen) != RAW_COLUMNS:
        raise DataFormatError(
            f"{p} has columns {seen[:12]} but the UCI Online Retail file has "
            f"{list(RAW_COLUMNS)} (in this order).\n{_HOW_TO}"
        )
    if expected_sha256 is not None:
        seen_sha = hashlib.sha256(data).hexdigest()
        if seen_sha != expected_sha256.lower():
            raise ChecksumError(
                f"{p} has sha256 {seen_sha} (of the uncompressed CSV) but {expected_sha256} was "
                "expected: it is not the UCI Online Retail file this project was checked "
                "against (pass expected_sha256=None to read it anyway).\n" + _HOW_TO
            )
    try:
        raw = pd.read_csv(
            io.BytesIO(data),
            dtype={
                "InvoiceNo": str,
                "StockCode": str,
                "Description": str,
                "Quantity": "int64",
                "InvoiceDate": str,
                "UnitPrice": "float64",
                "CustomerID": "Int64",
                "Country": str,
            },
            keep_default_na=False,
            na_values={"Description": [""], "CustomerID": [""]},
            encoding="utf-8",
        )
        raw["InvoiceDate"] = pd.to_datetime(raw["InvoiceDate"], format=_DATE_FORMAT)
    except (ValueError, TypeError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataFormatError(
            f"{p} has the right header but a value could not be parsed: {exc}\n{_HOW_TO}"
        ) from exc
    return raw


# --------------------------------------------------------------------------------------------
# Download, conversion and checksum
# --------------------------------------------------------------------------------------------


def sha256_of_csv_gz(path: str | os.PathLike[str]) -> str:
    """sha256 (hex) of the *uncompressed* content of a ``.csv.gz`` file, read in 1 MB chunks.

    Proves a copy of the data is the one the project was checked against (paper section 3.2.2;
    no notebook calls it, :func:`load_online_retail` checks the same digest).
    """
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as fh:
            for chunk in iter(functools.partial(fh.read, 1 << 20), b""):
                h.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{path} is not a readable gzip file: {exc}") from exc
    return h.hexdigest()


def verify_checksum(path: str | os.PathLike[str], expected: str = CSV_SHA256) -> str:
    """Check that the uncompressed CSV in ``path`` has sha256 ``expected``; return the digest.

    Used by :func:`download_online_retail` before the cache is touched (paper section 3.2.2;
    no notebook calls it).

    Raises:
        ChecksumError: the digest differs (the message shows both).
    """
    seen = sha256_of_csv_gz(path)
    if seen != expected.lower():
        raise ChecksumError(
            f"{path}: sha256 of the uncompressed CSV is {seen}, expected {expected}."
        )
    return seen


def xlsx_to_csv_gz(xlsx_path: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> str:
    """Convert UCI's ``Online Retail.xlsx`` to the project's ``online_retail.csv.gz`` format.

    Same 8 columns, UTF-8, ``InvoiceDate`` as ``YYYY-MM-DD HH:MM:SS``, ``CustomerID`` written as
    an integer and left empty where missing, gzip with a fixed header time (reproducible bytes).
    Reading the full 23 MB workbook with openpyxl takes a minute or two; it is done once, by
    :func:`download_online_retail` (paper section 3.2.2; no notebook calls it).

    Returns:
        The sha256 of the uncompressed CSV written.
    """
    try:
        book = pd.read_excel(
            xlsx_path,
            engine="openpyxl",
            dtype={"InvoiceNo": str, "StockCode": str, "Description": str, "Country": str},
        )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"Cannot read {xlsx_path} as an Excel workbook: {exc}") from exc
    missing = [c for c in RAW_COLUMNS if c not in book.columns]
    if missing:
        raise DataFormatError(
            f"{xlsx_path} lacks columns {missing}; columns seen: {list(book.columns)}"
        )
    out = book.loc[:, list(RAW_COLUMNS)].copy()
    out["Quantity"] = out["Quantity"].astype("int64")
    out["UnitPrice"] = out["UnitPrice"].astype("float64")
    out["CustomerID"] = out["CustomerID"].astype("Float64").round().astype("Int64")
    out["InvoiceDate"] = pd.to_datetime(out["InvoiceDate"]).dt.strftime(_DATE_FORMAT)
    text = out.to_csv(index=False, lineterminator="\n").encode("utf-8")
    with atomic_write(out_path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(text)
    return hashlib.sha256(text).hexdigest()


def _fetch(url: str, dest: Path, timeout: float = 120.0) -> None:
    """Copy ``url`` (https or file) to ``dest``. Replaced by a fake in the tests."""
    with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as fh:  # noqa: S310
        shutil.copyfileobj(resp, fh)


def download_online_retail(
    cache_dir: str | os.PathLike[str] | None = None,
    url: str = UCI_URL,
    *,
    expected_sha256: str | None = CSV_SHA256,
    force: bool = False,
    fetch: Callable[[str, Path], None] | None = None,
) -> Path:
    """Download UCI's zip, convert ``Online Retail.xlsx`` once, cache ``online_retail.csv.gz``.

    For a reader who is online and has no copy of the data. The converted file is checked
    (sha256 of the uncompressed CSV, :func:`verify_checksum`) *before* it replaces anything in
    the cache, so a failed or unexpected download never leaves a half-written file behind.
    Paper section 3.2.2 (data collection); the loader's error message (shown when the data is missing)
    and ``data/README.md`` point readers to it.

    Args:
        cache_dir: folder to write into; default :func:`mas_lib.data.cache_dir`.
        url: where to fetch the zip (``file://`` URLs work too).
        expected_sha256: expected sha256 of the CSV; ``None`` skips the check.
        force: download again even if the cache already holds the file.
        fetch: function ``(url, destination_path)`` that downloads; default uses urllib.

    Returns:
        Path of the cached ``online_retail.csv.gz``.

    Raises:
        DataUnavailableError: the download failed. DataFormatError: the zip has no ``.xlsx``
        or the workbook has the wrong columns. ChecksumError: the result is not the expected file.
    """
    force = check_bool(force, "force")
    folder = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
    target = folder / FILE_NAME
    if target.is_file() and not force:
        if expected_sha256 is not None:
            verify_checksum(target, expected_sha256)
        return target
    fetch = fetch or _fetch
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        zpath = Path(tmp) / "online_retail.zip"
        try:
            fetch(url, zpath)
        except OSError as exc:  # URLError, HTTPError, timeouts are OSErrors
            raise DataUnavailableError(f"Could not download {url}: {exc}\n{_HOW_TO}") from exc
        try:
            with zipfile.ZipFile(zpath) as zf:
                members = [n for n in zf.namelist() if n.lower().endswith(".xlsx")]
                if not members:
                    raise DataFormatError(f"{url} holds no .xlsx file; members: {zf.namelist()}")
                xlsx = Path(zf.extract(members[0], tmp))
        except zipfile.BadZipFile as exc:
            raise DataFormatError(f"{url} did not deliver a zip file: {exc}") from exc
        out = Path(tmp) / FILE_NAME
        seen = xlsx_to_csv_gz(xlsx, out)
        if expected_sha256 is not None and seen != expected_sha256.lower():
            raise ChecksumError(
                f"The CSV converted from {url} has sha256 {seen}, expected {expected_sha256}; "
                "nothing was written to the cache. Pass expected_sha256=None to keep it anyway."
            )
        os.replace(out, target)
    return target


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _is_stringish(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) or (
        s.dtype == object and s.dropna().map(type).eq(str).all()
    )


def validate_raw(raw: pd.DataFrame) -> None:
    """Check that ``raw`` has the 8 UCI columns with usable dtypes (``Quantity`` integer units,
    ``UnitPrice`` numeric GBP per unit, ``InvoiceDate`` datetime64, whole ``CustomerID``).

    The first thing :func:`mas_lib.data.clean_online_retail` does (paper section 3.2.2).

    Raises:
        DataFormatError: names the column, the dtype seen and what is allowed.
    """
    if not isinstance(raw, pd.DataFrame):
        raise DataFormatError(f"expected a pandas DataFrame of raw lines, got {type(raw).__name__}")
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise DataFormatError(
            f"raw data lacks columns {missing}; columns seen: {list(raw.columns)}; "
            f"required: {list(RAW_COLUMNS)}"
        )
    checks = {
        "InvoiceNo": (_is_stringish, "strings (e.g. '536365', 'C536379')"),
        "StockCode": (_is_stringish, "strings (e.g. '85123A')"),
        "Country": (_is_stringish, "strings"),
        "Quantity": (lambda s: pd.api.types.is_integer_dtype(s.dtype), "an integer dtype (units)"),
        "UnitPrice": (
            lambda s: pd.api.types.is_numeric_dtype(s.dtype) and not s.dtype == bool,
            "a numeric dtype (GBP per unit)",
        ),
        "InvoiceDate": (
            lambda s: pd.api.types.is_datetime64_dtype(s.dtype),
            "datetime64 (parse with pd.to_datetime)",
        ),
        "CustomerID": (
            lambda s: pd.api.types.is_numeric_dtype(s.dtype) or s.isna().all(),
            "a numeric dtype such as Int64 (missing allowed)",
        ),
    }
    for col, (ok, allowed) in checks.items():
        if not ok(raw[col]):
            raise DataFormatError(f"column {col!r} has dtype {raw[col].dtype}; it must be {allowed}")
    if raw["Quantity"].isna().any():
        raise DataFormatError("column 'Quantity' has missing values; every line needs a quantity")
    cust = raw["CustomerID"].dropna()
    if pd.api.types.is_float_dtype(cust.dtype) and not np.all(np.mod(cust.to_numpy(), 1) == 0):
        bad = cust[np.mod(cust.to_numpy(), 1) != 0].iloc[0]
        raise DataFormatError(f"column 'CustomerID' has a non-integer value {bad}; ids are whole")
