"""The standalone CSV contract of ``stockpilot plan --from-csv DIR``.

* ``DIR/demand.csv`` (required): ``item,site,date,quantity`` — one row per order line or per
  period; ISO dates (``YYYY-MM-DD``); quantity ≥ 0.
* ``DIR/receipts.csv`` (optional): ``item,site,supplier,order_date,receipt_date,quantity``
  (optional ``promised_date``).
* ``DIR/items.csv`` (optional): ``item,site`` plus any of ``unit_cost, moq, pack_size,
  service_level, lead_time_days, lead_time_std_days, review_period_days, storage_capacity,
  criticality, supplier, policy_type`` (``stock``, ``make_to_order``, ``transfer_fulfilled``,
  ``phase_out``), ``replenished_from`` (the hub of a branch), ``family``.
* ``DIR/events.csv`` (optional): ``start,end,uplift_pct`` plus any of ``item,family,site``
  (blank: every) — known events as forecast uplifts (:mod:`stockpilot.planning.events`).

Errors raise :class:`CsvContractError` naming the file, the row — **1-based data row, the
header not counted** (data row 1 is line 2 of the file) — and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from stockpilot.planning.segment_policy import POLICY_TYPES

__all__ = ["CsvContractError", "PlanInputs", "read_plan_inputs", "write_policies"]

DEMAND_COLUMNS = {"item": pl.Utf8, "site": pl.Utf8, "date": pl.Date, "quantity": pl.Float64}
RECEIPT_COLUMNS = {
    "item": pl.Utf8, "site": pl.Utf8, "supplier": pl.Utf8, "order_date": pl.Date,
    "receipt_date": pl.Date, "quantity": pl.Float64,
}  # fmt: skip
ITEM_NUMERIC = (
    "unit_cost", "moq", "pack_size", "service_level", "lead_time_days", "lead_time_std_days",
    "review_period_days", "storage_capacity",
)  # fmt: skip
ITEM_TEXT = ("criticality", "supplier", "policy_type", "replenished_from", "family")


class CsvContractError(ValueError):
    """A CSV input that breaks the contract; carries ``file``, ``row`` (1-based data row) and
    ``column`` (either may be None when not applicable)."""

    def __init__(
        self, file: str, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.file, self.row, self.column = file, row, column
        where = file
        if row is not None:
            where += f", data row {row} (1-based, header excluded)"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class PlanInputs:
    """Validated frames: ``demand`` and optional ``receipts`` / ``items``."""

    demand: pl.DataFrame
    receipts: pl.DataFrame | None
    items: pl.DataFrame | None
    events: pl.DataFrame | None = None


def _read_raw(path: Path) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # polars raises several error types for malformed files
        raise CsvContractError(path.name, f"cannot be parsed as CSV ({exc})") from exc


def _convert(frame: pl.DataFrame, name: str, column: str, dtype: pl.DataType | type) -> pl.Series:
    raw = frame[column].str.strip_chars()
    if dtype == pl.Utf8:
        bad = raw.is_null() | (raw == "")
        converted = raw
        message = "is empty"
    elif dtype == pl.Date:
        converted = raw.str.to_date("%Y-%m-%d", strict=False)
        bad = converted.is_null()
        message = "is not an ISO date (YYYY-MM-DD)"
    else:
        converted = raw.cast(pl.Float64, strict=False)
        bad = converted.is_null() | converted.is_nan()
        message = "is not a number"
    if bad.any():
        row = int(bad.arg_true()[0]) + 1
        value = frame[column][row - 1]
        raise CsvContractError(name, f"value {value!r} {message}", row, column)
    return converted


def _typed(path: Path, columns: dict[str, Any]) -> pl.DataFrame:
    frame = _read_raw(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CsvContractError(path.name, f"missing required column(s) {missing}", None, missing[0])
    out = frame.with_columns(
        [_convert(frame, path.name, c, t).alias(c) for c, t in columns.items()]
    )
    if "quantity" in columns:
        negative = out["quantity"] < 0
        if negative.any():
            row = int(negative.arg_true()[0]) + 1
            raise CsvContractError(path.name, "quantity must be ≥ 0", row, "quantity")
    return out


def read_plan_inputs(directory: Path) -> PlanInputs:
    """Read and validate ``demand.csv`` (+ optional ``receipts.csv``, ``items.csv``)."""
    demand_path = directory / "demand.csv"
    if not demand_path.is_file():
        raise CsvContractError("demand.csv", f"not found in {directory}")
    demand = _typed(demand_path, DEMAND_COLUMNS).select(list(DEMAND_COLUMNS))
    receipts = None
    if (directory / "receipts.csv").is_file():
        receipts = _typed(directory / "receipts.csv", RECEIPT_COLUMNS)
        if "promised_date" in receipts.columns:
            receipts = receipts.with_columns(
                _convert(receipts, "receipts.csv", "promised_date", pl.Date)
            )
        late = receipts["receipt_date"] < receipts["order_date"]
        if late.any():
            raise CsvContractError(
                "receipts.csv",
                "receipt_date is before order_date",
                int(late.arg_true()[0]) + 1,
                "receipt_date",
            )
    items = None
    if (directory / "items.csv").is_file():
        base = {"item": pl.Utf8, "site": pl.Utf8}
        raw = _read_raw(directory / "items.csv")
        numeric = {c: pl.Float64 for c in ITEM_NUMERIC if c in raw.columns}
        text = [c for c in ITEM_TEXT if c in raw.columns]
        # Text columns may be empty (no criticality, no override): kept as given, trimmed.
        items = _typed(directory / "items.csv", {**base, **numeric}).with_columns(
            pl.col(c).str.strip_chars() for c in text
        )
        if "policy_type" in text:
            given = items["policy_type"].fill_null("")
            bad = ~given.is_in(["", *POLICY_TYPES])
            if bad.any():
                raise CsvContractError(
                    "items.csv",
                    f"policy_type must be one of {', '.join(POLICY_TYPES)} (or empty)",
                    int(bad.arg_true()[0]) + 1,
                    "policy_type",
                )
        if "service_level" in numeric:
            out = (items["service_level"] <= 0) | (items["service_level"] >= 1)
            if out.any():
                raise CsvContractError(
                    "items.csv",
                    "service_level must be in (0, 1)",
                    int(out.arg_true()[0]) + 1,
                    "service_level",
                )
    return PlanInputs(demand, receipts, items, _read_events(directory))


def _read_events(directory: Path) -> pl.DataFrame | None:
    """``events.csv``: ``start, end, uplift_pct`` and any of ``item, family, site`` (blank:
    every). An uplift below −100 % or an end before its start is refused."""
    path = directory / "events.csv"
    if not path.is_file():
        return None
    raw = _read_raw(path)
    events = _typed(path, {"start": pl.Date, "end": pl.Date, "uplift_pct": pl.Float64})
    for column in ("item", "family", "site"):
        if column in raw.columns:
            events = events.with_columns(pl.col(column).fill_null("").str.strip_chars())
        else:
            events = events.with_columns(pl.lit("").alias(column))
    for bad, column, message in (
        (events["end"] < events["start"], "end", "end is before start"),
        (events["uplift_pct"] < -100, "uplift_pct", "uplift_pct must be at least -100"),
    ):
        if bad.any():
            raise CsvContractError("events.csv", message, int(bad.arg_true()[0]) + 1, column)
    return events.select("item", "family", "site", "start", "end", "uplift_pct")


def write_policies(policies: pl.DataFrame, path: Path) -> None:
    """Write the policy frame as CSV (one row per item-location)."""
    policies.write_csv(path)
