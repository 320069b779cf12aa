"""The cleaning rules as a table: one named step per rule, with the rule and the reason for it.

:data:`CLEANING_STEPS` lists the nine steps that :func:`mas_lib.data.clean_online_retail` runs,
in order. Each :class:`CleaningStep` has a ``name`` (the report's ``step``), a ``rule`` (what it
tests, as a template filled with the :class:`CleaningSettings`), a ``reason`` (why the rule
exists, a template filled with what the step counted) and an ``apply`` function. ``apply`` gets
the lines that survived the previous steps and returns a :class:`StepOutcome`: which lines to
drop, and, for the two steps that change values (upper-casing codes, clipping outliers), the
changed lines. Every step works on the clean column names (``invoice_no``, ``stock_code``,
``quantity`` in units, ``unit_price`` in GBP per unit, ...).

Goal of the table: a line survives only if it is a product a customer bought and kept (paper
section 3.2.2: remove invalid and abnormal records). ``CleaningResult.report`` is the audit it
produces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..validation import Validated, as_given, choice, number

__all__ = [
    "PRODUCT_CODE_PATTERN",
    "OUTLIER_MODES",
    "is_product_code",
    "non_product_codes",
    "CleaningSettings",
    "StepOutcome",
    "CleaningStep",
    "CLEANING_STEPS",
]

#: A *product* stock code is five digits, optionally followed by letters (85123A, 15056BL,
#: 79323LP), compared after upper-casing. Everything else is a non-product line: postage
#: (POST, C2 carriage), DOT (dotcom postage), M (manual), D (discount), S (samples),
#: B (bad debt), BANK CHARGES, AMAZONFEE, CRUK (charity commission), PADS, DCGS* and GIFT_*.
PRODUCT_CODE_PATTERN = re.compile(r"^\d{5}[A-Z]*$")

#: What the ``outliers`` step does with a flagged line: remove it, cap it, or only report it.
OUTLIER_MODES: tuple[str, ...] = ("drop", "clip", "keep")


def _upper(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.upper()


def is_product_code(codes: pd.Series) -> pd.Series:
    """Boolean Series: does each stock code name a product (see :data:`PRODUCT_CODE_PATTERN`)?

    The rule of the ``non_product`` cleaning step of :func:`mas_lib.data.clean_online_retail`
    (paper section 3.2.2). Codes are compared upper-cased and stripped.
    """
    return _upper(codes).str.match(PRODUCT_CODE_PATTERN.pattern)


def non_product_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """Non-product stock codes in a raw or clean frame with their number of lines, most first.

    Columns ``stock_code`` and ``lines`` (a count of invoice lines). Lists what the
    ``non_product`` step removes (paper section 3.2.2; no notebook calls it, the report's reason
    names the codes).
    """
    col = "StockCode" if "StockCode" in frame.columns else "stock_code"
    codes = _upper(frame[col])
    bad = codes[~codes.str.match(PRODUCT_CODE_PATTERN.pattern)]
    counts = bad.value_counts()
    return pd.DataFrame({"stock_code": counts.index.astype(str), "lines": counts.to_numpy()})


@dataclass(frozen=True)
class CleaningSettings(Validated):
    """The knobs of the cleaning (the keyword arguments of ``clean_online_retail``).

    ``outlier_factor`` is a multiple of a product's median line quantity (> 0);
    ``outlier_min_units`` the smallest quantity an outlier line has (> 0 units); ``outliers`` one
    of :data:`OUTLIER_MODES`. Exercise 1 of the data-preparation notebook varies
    ``outliers`` through ``clean_online_retail``; paper section 3.2.2. Checked when made: a bad value raises a ``ConfigError`` (a
    ``ValueError``) naming the field, the value and what is allowed.
    """

    outlier_factor: float = number(50.0, low=0, low_inclusive=False)
    #: kept as given: the report writes it as ``{outlier_min_units:,}`` (1,000, not 1,000.0)
    outlier_min_units: float = as_given(number(1000, low=0, low_inclusive=False, unit="units"))
    outliers: str = choice("drop", OUTLIER_MODES)

    def _owner(self) -> str:
        return ""  # the fields are the keyword arguments of clean_online_retail: named bare


@dataclass(frozen=True, eq=False)
class StepOutcome:
    """What one step did to the lines it was given (the driver turns it into a report row).

    Attributes:
        removed: one bool per line given: drop it.
        frame: the lines with values changed (same index and order), when the step changes
            values; ``None`` when it only drops lines.
        rows_changed: how many lines had a value changed.
        units_removed: overrides the report's ``units_removed`` (by default the signed sum of the
            dropped lines' quantity); the clip mode reports the units it cut.
        facts: numbers and words the step measured, filled into the step's ``reason`` template.
        reason: replaces the step's ``reason`` (a mode-specific reason of the outliers step).
        flagged: lines the step flagged, dropped or not (the outliers step).
    """

    removed: np.ndarray
    frame: pd.DataFrame | None = None
    rows_changed: int = 0
    units_removed: int | None = None
    facts: Mapping[str, object] = field(default_factory=dict)
    reason: str | None = None
    flagged: pd.DataFrame | None = None


@dataclass(frozen=True)
class CleaningStep:
    """One row of :data:`CLEANING_STEPS`: a name, its rule, the reason for it, and the code.

    ``rule`` is a ``str.format`` template filled with the :class:`CleaningSettings` fields;
    ``reason`` is filled with the settings and the step's :attr:`StepOutcome.facts`. The table
    behind the cleaning report (paper section 3.2.2).
    """

    name: str
    rule: str
    reason: str
    apply: Callable[[pd.DataFrame, CleaningSettings], StepOutcome]


def _keep_all(df: pd.DataFrame) -> np.ndarray:
    return np.zeros(len(df), dtype=bool)


def _invoice_starts_with(df: pd.DataFrame, letter: str) -> np.ndarray:
    return df["invoice_no"].str.upper().str.startswith(letter).to_numpy(dtype=bool)


def _duplicates(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    return StepOutcome(removed=df.duplicated(keep="first").to_numpy())


def _stock_code_case(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    norm = _upper(df["stock_code"])
    changed = int((norm != df["stock_code"]).sum())
    return StepOutcome(removed=_keep_all(df), frame=df.assign(stock_code=norm), rows_changed=changed)


def _match_cancellations(df: pd.DataFrame, is_c: pd.Series) -> pd.Index:
    """Index labels of the order lines that a later cancellation line exactly undoes.

    A cancellation line (customer c, product s, quantity -q, time t) undoes the most recent order
    line of the same customer and product with quantity exactly q at or before t. An order line
    is undone at most once (a second cancellation matching the same line undoes nothing).
    Anonymous cancellations are not matched: without a customer there is no telling whose order
    they undo.
    """
    keys = ["customer_id", "stock_code", "q"]
    canc = df.loc[is_c & df["customer_id"].notna(), ["invoice_date", "customer_id", "stock_code"]]
    canc = canc.assign(q=-df.loc[canc.index, "quantity"])
    orders = df.loc[~is_c & (df["quantity"] > 0) & df["customer_id"].notna()]
    orders = orders[["invoice_date", "customer_id", "stock_code"]].assign(
        q=df.loc[orders.index, "quantity"], order_label=orders.index.to_numpy()
    )
    if canc.empty or orders.empty:
        return pd.Index([])
    for frame in (canc, orders):
        frame["customer_id"] = frame["customer_id"].astype("int64")
        frame["stock_code"] = frame["stock_code"].astype(str)
        frame["q"] = frame["q"].astype("int64")
    matched = pd.merge_asof(
        canc.sort_values("invoice_date"),
        orders.sort_values("invoice_date"),
        on="invoice_date",
        by=keys,
        direction="backward",
    )
    labels = matched["order_label"].dropna().astype("int64")
    return pd.Index(labels.drop_duplicates().to_numpy())


def _cancelled_orders(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    is_c = pd.Series(_invoice_starts_with(df, "C"), index=df.index)
    undone = _match_cancellations(df, is_c)
    return StepOutcome(removed=df.index.isin(undone), facts={"n_undone": len(undone)})


def _cancellation_lines(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    return StepOutcome(removed=_invoice_starts_with(df, "C"))


def _bad_debt(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    return StepOutcome(removed=_invoice_starts_with(df, "A"))


def _non_product(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    prod = df["stock_code"].str.match(PRODUCT_CODE_PATTERN.pattern)
    bad_codes = df.loc[~prod, "stock_code"].value_counts()
    listing = ", ".join(bad_codes.index[:12].astype(str))
    if len(bad_codes) > 12:
        listing += f", ... ({len(bad_codes)} codes)"
    return StepOutcome(removed=(~prod).to_numpy(dtype=bool), facts={"codes": listing or "none"})


def _non_positive(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    return StepOutcome(removed=((df["quantity"] <= 0) | (df["unit_price"] <= 0)).to_numpy())


def _outliers(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    median = df.groupby("stock_code", sort=False)["quantity"].transform("median")
    cap = settings.outlier_factor * median
    flag = (df["quantity"] > cap) & (df["quantity"] >= settings.outlier_min_units)
    flagged = df.loc[flag].assign(product_median=median[flag])
    if settings.outliers == "drop":
        return StepOutcome(removed=flag.to_numpy(), flagged=flagged)
    if settings.outliers == "clip":
        clipped = np.floor(cap[flag]).astype("int64")
        excess = int((df.loc[flag, "quantity"] - clipped).sum())
        frame = df.copy()
        frame.loc[flag, "quantity"] = clipped
        return StepOutcome(
            removed=_keep_all(df),
            frame=frame,
            rows_changed=int(flag.sum()),
            units_removed=excess,
            reason="single huge wholesale lines capped at factor x median",
            flagged=flagged,
        )
    return StepOutcome(
        removed=_keep_all(df),
        reason=f"{int(flag.sum())} lines flagged and kept (outliers='keep')",
        flagged=flagged,
    )


def _missing_customer(df: pd.DataFrame, settings: CleaningSettings) -> StepOutcome:
    anon = df["customer_id"].isna()
    facts = {"n_anon": int(anon.sum()), "units_anon": int(df.loc[anon, "quantity"].sum())}
    return StepOutcome(removed=_keep_all(df), facts=facts)


#: The cleaning pipeline, in the order it runs (each step is one row of the cleaning report).
CLEANING_STEPS: tuple[CleaningStep, ...] = (
    CleaningStep(
        "duplicates",
        "all 8 columns equal to an earlier line",
        "the same line keyed twice; keeping both would double-count the units",
        _duplicates,
    ),
    CleaningStep(
        "stock_code_case",
        "upper-case and strip StockCode",
        "85123a and 85123A are the same product",
        _stock_code_case,
    ),
    CleaningStep(
        "cancelled_orders",
        "order line undone by a later 'C' line (same customer, product, quantity)",
        "{n_undone:,} orders were cancelled in full, e.g. the 80,995 and 74,215 unit orders; "
        "they never became sales",
        _cancelled_orders,
    ),
    CleaningStep(
        "cancellation_lines",
        "InvoiceNo starts with 'C'",
        "returns and cancellations: dropped, not subtracted (unmatched ones mostly return goods "
        "sold earlier or before the data starts; subtracting would make negative demand)",
        _cancellation_lines,
    ),
    CleaningStep(
        "bad_debt",
        "InvoiceNo starts with 'A'",
        "accounting adjustments for bad debt, not goods",
        _bad_debt,
    ),
    CleaningStep(
        "non_product",
        "StockCode is not 5 digits + optional letters",
        "postage, fees, discounts, samples, vouchers: {codes}",
        _non_product,
    ),
    CleaningStep(
        "non_positive",
        "Quantity <= 0 or UnitPrice <= 0",
        "stock write-offs and free or adjustment lines, not sales",
        _non_positive,
    ),
    CleaningStep(
        "outliers",
        "quantity > {outlier_factor:g} x product median and >= {outlier_min_units:,} units",
        "single huge wholesale lines; served by special order, not from stock",
        _outliers,
    ),
    CleaningStep(
        "missing_customer",
        "CustomerID is missing",
        "kept {n_anon:,} lines ({units_anon:,} units) with no CustomerID: an anonymous order "
        "is still demand",
        _missing_customer,
    ),
)
