"""Domain errors. Each carries the data an entry point needs to explain it (RFC 9457 fields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class StockpilotError(Exception):
    """Base class: ``status`` is the HTTP status the API answers with."""

    status: int = 400
    title: str = "Bad request"
    type_suffix: str = "bad-request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://stockpilot.dev/problems/{self.type_suffix}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.field is not None:
            body["field"] = self.field
            body["errors"] = [{"field": self.field, "message": self.detail}]
        body.update(self.extra)
        return body


class ValidationFailed(StockpilotError):
    status = 422
    title = "Invalid input"
    type_suffix = "validation"


class NotFound(StockpilotError):
    status = 404
    title = "Not found"
    type_suffix = "not-found"


class Conflict(StockpilotError):
    status = 409
    title = "Conflict"
    type_suffix = "conflict"


class PreconditionFailed(StockpilotError):
    status = 412
    title = "Precondition failed"
    type_suffix = "precondition-failed"


class PreconditionRequired(StockpilotError):
    status = 428
    title = "Precondition required"
    type_suffix = "precondition-required"


class Unauthorized(StockpilotError):
    status = 401
    title = "Unauthorized"
    type_suffix = "unauthorized"


class Forbidden(StockpilotError):
    status = 403
    title = "Forbidden"
    type_suffix = "forbidden"


class PayloadTooLarge(StockpilotError):
    status = 413
    title = "Payload too large"
    type_suffix = "payload-too-large"


@dataclass(frozen=True)
class Shortage:
    """One stock key (or document line) that could not supply what was asked."""

    line: int | None
    sku: str
    location: str | None
    quantity_requested: int
    quantity_available: int
    reason: str = "insufficient stock"

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "sku": self.sku,
            "location": self.location,
            "quantity_requested": self.quantity_requested,
            "quantity_available": self.quantity_available,
            "reason": self.reason,
        }


class InsufficientStock(StockpilotError):
    status = 409
    title = "Insufficient stock"
    type_suffix = "insufficient-stock"

    def __init__(self, shortages: list[Shortage]) -> None:
        first = shortages[0]
        where = f"line {first.line}: " if first.line is not None else ""
        super().__init__(
            f"{where}{first.sku} at {first.location}: requested {first.quantity_requested}, "
            f"available {first.quantity_available}",
            field=f"lines[{first.line}].quantity" if first.line is not None else "quantity",
            shortages=[s.as_dict() for s in shortages],
        )
        self.shortages = shortages


@dataclass
class RowError(Exception):
    """A bad row in an imported file: names the 1-based data row and the column."""

    file: str
    row: int
    column: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}, column {self.column!r}: {self.message}"
