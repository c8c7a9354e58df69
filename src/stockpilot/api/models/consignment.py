"""Response bodies of the consignment routes (api/routers/consignment.py)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from stockpilot.api.models import Out


class ConsumptionRecord(Out):
    id: int
    owner: str = Field(description="the company (supplier) that owns the goods")
    site: str
    sku: str
    lot: str | None
    quantity: int
    document_type: str = Field(description="what used them, e.g. shipment")
    document_id: int
    consumed_at: datetime


class ConsumptionTotal(Out):
    owner: str
    sku: str
    quantity: int


class Consumption(Out):
    """Consigned stock used in a period: what each owner invoices."""

    owner: str | None
    site: str | None
    from_: date | None = Field(alias="from")
    to: date | None
    records: list[ConsumptionRecord]
    totals: list[ConsumptionTotal]
