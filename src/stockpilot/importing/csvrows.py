"""Reading CSV files for import: header checks, empty cells, and errors that name row and column.

Rows are numbered from 1 for the first data row (the header is not counted), the way a person
counts records in a spreadsheet below its title row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from stockpilot.shared.errors import RowError, StockpilotError, ValidationFailed

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class HeaderError(ValidationFailed):
    """The header of an imported file lacks a required column or has an unknown one."""


@dataclass(frozen=True)
class CsvRows:
    """The data rows of one file: each a dict of the non-empty cells, keyed by column."""

    name: str
    header: tuple[str, ...]
    rows: list[dict[str, str]]

    def numbered(self) -> Iterator[tuple[int, dict[str, str]]]:
        """``(row_number, cells)`` with 1-based data row numbers."""
        return enumerate(self.rows, start=1)


def read_csv(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    aliases: dict[str, str] | None = None,
    ignored: Sequence[str] = (),
) -> CsvRows:
    """Read ``path``; columns outside ``required``/``optional``/``ignored`` are refused.

    ``aliases`` renames columns (an export's ``quantity_on_hand`` reads as ``quantity``).
    Empty cells are left out of each row's dict so that model defaults apply.
    """
    aliases = aliases or {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            raw_header = next(reader)
        except StopIteration:
            raise HeaderError(f"{path.name}: the file is empty", field="header") from None
        header = tuple(aliases.get(h.strip(), h.strip()) for h in raw_header)
        _check_header(path.name, header, required, optional, ignored)
        keep = [(i, h) for i, h in enumerate(header) if h not in ignored]
        rows: list[dict[str, str]] = []
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue  # a blank line (often the last one) is not a record
            if len(cells) > len(header):
                raise RowError(path.name, number, header[-1], "more cells than header columns")
            rows.append(
                {h: cells[i].strip() for i, h in keep if i < len(cells) and cells[i].strip()}
            )
    return CsvRows(path.name, tuple(h for _, h in keep), rows)


def _check_header(
    name: str,
    header: tuple[str, ...],
    required: Sequence[str],
    optional: Sequence[str],
    ignored: Sequence[str],
) -> None:
    known = set(required) | set(optional) | set(ignored)
    for column in header:
        if column not in known:
            raise HeaderError(
                f"{name}: unknown column {column!r} (expected {', '.join(required)}"
                f"{', ' if optional else ''}{', '.join(optional)})",
                field=column,
            )
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise HeaderError(f"{name}: column {column!r} appears twice", field=column)
        seen.add(column)
    for column in required:
        if column not in header:
            raise HeaderError(f"{name}: missing required column {column!r}", field=column)


def validate(model: type[M], file: str, number: int, cells: dict[str, Any]) -> M:
    """Validate one row with ``model``; a failure becomes a RowError naming the column."""
    try:
        # Cells are text: the strict edge types accept plain written numbers and booleans.
        return model.model_validate(cells, context={"text": True})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc") or ("?",)
        column = str(loc[0])
        raise RowError(file, number, column, _message(first)) from None


def _message(error: Any) -> str:
    message = str(error.get("msg", "invalid value"))
    value = error.get("input")
    if isinstance(value, str | int | float):
        return f"{message} (got {value!r})"
    return message


def as_row_error(exc: StockpilotError, file: str, number: int, column: str) -> RowError:
    """Re-express a domain error raised for one cell as a RowError."""
    return RowError(file, number, column, exc.detail)


def chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def parse_list(text: str | None) -> list[str]:
    """``"A;B; C"`` → ``["A", "B", "C"]`` (the separator inside one CSV cell)."""
    if not text:
        return []
    return [part.strip() for part in text.split(";") if part.strip()]
