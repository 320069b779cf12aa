"""From raw invoice lines to clean *sales* lines, with an audit report of every step.

:func:`clean_online_retail` is a short driver: it checks the raw frame, renames and types the
columns, runs the table :data:`mas_lib.data.cleaning_steps.CLEANING_STEPS` in order and writes
one report row per step (lines before, lines removed, lines changed, signed units removed, rule,
reason). Units: ``quantity`` in items ("units"), ``unit_price`` in GBP per unit.

Serves notebook 03 and paper section 3.2.2 (data preparation: remove invalid and abnormal
records).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .calendar import markets_of, trading_calendar
from .cleaning_steps import CLEANING_STEPS, CleaningSettings
from .source import RAW_COLUMNS, validate_raw

__all__ = [
    "CLEAN_COLUMNS",
    "CleaningResult",
    "clean_online_retail",
]

#: Columns of :attr:`CleaningResult.frame` (snake_case: a cleaned frame is told apart at a glance).
CLEAN_COLUMNS: tuple[str, ...] = (
    "invoice_no",
    "invoice_date",
    "date",
    "stock_code",
    "description",
    "quantity",
    "unit_price",
    "customer_id",
    "country",
    "market",
)
_RAW_TO_CLEAN = {
    "InvoiceNo": "invoice_no",
    "InvoiceDate": "invoice_date",
    "StockCode": "stock_code",
    "Description": "description",
    "Quantity": "quantity",
    "UnitPrice": "unit_price",
    "CustomerID": "customer_id",
    "Country": "country",
}
_REPORT_COLUMNS: tuple[str, ...] = (
    "step",
    "rule",
    "rows_before",
    "rows_removed",
    "rows_changed",
    "units_removed",
    "reason",
)


@dataclass(frozen=True)
class CleaningResult:
    """What :func:`clean_online_retail` returns (paper section 3.2.2).

    Attributes:
        frame: the clean invoice lines, columns :data:`CLEAN_COLUMNS`.
        report: one row per cleaning step: ``step``, ``rule``, ``rows_before``,
            ``rows_removed``, ``rows_changed``, ``units_removed`` (signed sum of the quantity of
            the removed lines, so ``raw units - report.units_removed.sum() == clean units``),
            ``reason``.
        calendar: :func:`mas_lib.data.trading_calendar` of the *raw* lines (which days the shop
            traded).
        outliers: the lines the outlier rule flagged (also when they were kept or clipped), with
            their ``product_median`` (units).
    """

    frame: pd.DataFrame
    report: pd.DataFrame
    calendar: pd.DataFrame
    outliers: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The step-by-step report (a copy): what each cleaning step removed or changed."""
        return self.report.copy()

    def summary(self) -> pd.Series:
        """Rows and units before and after cleaning, as a labelled series [rows, units]."""
        r = self.report
        before = int(r["rows_before"].iloc[0]) if len(r) else len(self.frame)
        return pd.Series({"rows before": before, "rows after": len(self.frame),
                          "rows removed": int(r["rows_removed"].sum()),
                          "rows changed": int(r["rows_changed"].sum()),
                          "units removed": float(r["units_removed"].sum())}, name="cleaning")

    def copy(self) -> CleaningResult:
        """A result whose four frames are copies: changing them leaves this one untouched."""
        return CleaningResult(
            frame=self.frame.copy(),
            report=self.report.copy(),
            calendar=self.calendar.copy(),
            outliers=self.outliers.copy(),
        )


def _standardise(raw: pd.DataFrame) -> pd.DataFrame:
    """The 8 raw columns renamed to snake_case and typed; index 0..n-1."""
    df = raw.loc[:, list(RAW_COLUMNS)].rename(columns=_RAW_TO_CLEAN)
    df = df.astype({"invoice_no": "str", "stock_code": "str", "country": "str"})
    df["quantity"] = df["quantity"].astype("int64")
    df["unit_price"] = df["unit_price"].astype("float64")
    df["customer_id"] = df["customer_id"].astype("Int64")
    return df.reset_index(drop=True)


def clean_online_retail(
    raw: pd.DataFrame,
    *,
    outlier_factor: float = 50.0,
    outlier_min_units: int = 1000,
    outliers: str = "drop",
) -> CleaningResult:
    """Turn raw invoice lines into clean *sales* lines (notebook 03, paper section 3.2.2).

    Goal: a line survives only if it is a product a customer bought and kept. The steps of
    :data:`~mas_lib.data.cleaning_steps.CLEANING_STEPS` run in order, each one row of the report:

    1. ``duplicates`` -- drop rows identical to an earlier row in all 8 columns (5,268 lines on
       the real data: the same line keyed in twice inside one invoice).
    2. ``stock_code_case`` -- upper-case and strip stock codes (``85123a`` -> ``85123A``); no
       row removed, ``rows_changed`` counts the codes that changed.
    3. ``cancelled_orders`` -- *netting, done line by line*: an order line that a later
       cancellation of the same customer, product and exact quantity undoes is dropped. This is
       how the 80,995-unit (23843) and 74,215-unit (23166) orders, cancelled minutes later,
       disappear together with their cancellations.
    4. ``cancellation_lines`` -- drop every line of a ``C`` invoice. We *drop* rather than
       subtract the remaining (unmatched) cancellations because most are partial returns or
       returns of goods sold before 2010-12-01: subtracting them would create negative demand
       on the return day, which a warehouse never ships. Demand is booked when it happened.
    5. ``bad_debt`` -- drop the ``A`` invoices (accounting adjustments, stock code ``B``).
    6. ``non_product`` -- drop lines whose stock code is not a product (see
       :data:`~mas_lib.data.cleaning_steps.PRODUCT_CODE_PATTERN`: postage, fees, discounts,
       samples, manual lines, vouchers).
    7. ``non_positive`` -- drop lines with quantity <= 0 (stock write-offs such as "damaged",
       never tied to a customer) or unit price <= 0 (free items, adjustments).
    8. ``outliers`` -- a robust per-product rule: a line is an outlier when its quantity is
       more than ``outlier_factor`` times the product's median line quantity *and* at least
       ``outlier_min_units`` units. The median is robust: one huge line cannot move it.
       ``outliers="drop"`` (default) removes them, ``"clip"`` caps them at factor x median,
       ``"keep"`` only reports them. They are one-off wholesale deals that a replenishment
       policy would serve from a special order, not from stock.
    9. ``missing_customer`` -- lines without ``CustomerID`` are *kept*: an anonymous order is
       still demand the warehouse must serve; the report says how many there are.

    Args:
        raw: frame from :func:`mas_lib.data.load_online_retail` (or any frame with the same
            columns and dtypes).
        outlier_factor: multiple of the product's median line quantity above which a line can
            be an outlier (> 0).
        outlier_min_units: an outlier line has at least this many units (> 0).
        outliers: ``"drop"``, ``"clip"`` or ``"keep"``.

    Returns:
        A :class:`CleaningResult` (frame, report, calendar of the raw lines, flagged outliers).

    Raises:
        DataFormatError: ``raw`` lacks a column or has a wrong dtype.
        ConfigError (a ValueError): unknown ``outliers`` mode or non-positive thresholds.
    """
    validate_raw(raw)
    settings = CleaningSettings(
        outlier_factor=outlier_factor, outlier_min_units=outlier_min_units, outliers=outliers
    )
    calendar = trading_calendar(raw)
    df = _standardise(raw)
    rows: list[dict[str, object]] = []
    flagged = None  # set by the outliers step
    for step in CLEANING_STEPS:
        outcome = step.apply(df, settings)
        before = df if outcome.frame is None else outcome.frame
        removed = np.asarray(outcome.removed, dtype=bool)
        units = outcome.units_removed
        if units is None:
            units = before.loc[removed, "quantity"].sum()
        fill = {**asdict(settings), **outcome.facts}
        rows.append(
            {
                "step": step.name,
                "rule": step.rule.format(**fill),
                "rows_before": len(before),
                "rows_removed": int(removed.sum()),
                "rows_changed": int(outcome.rows_changed),
                "units_removed": int(units),
                "reason": outcome.reason if outcome.reason is not None else step.reason.format(**fill),
            }
        )
        df = before.loc[~removed]
        if outcome.flagged is not None:
            flagged = outcome.flagged

    df = df.assign(date=df["invoice_date"].dt.normalize(), market=markets_of(df["country"]))
    df = df.loc[:, list(CLEAN_COLUMNS)].reset_index(drop=True)
    assert flagged is not None, "CLEANING_STEPS lost its outliers step"
    report = pd.DataFrame(rows, columns=list(_REPORT_COLUMNS))
    return CleaningResult(
        frame=df, report=report, calendar=calendar, outliers=flagged.reset_index(drop=True)
    )
