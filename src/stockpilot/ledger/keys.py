"""Stock keys and balance deltas: pure values, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple


class StockKey(NamedTuple):
    """(item, location, lot, status, owner): the grain of every balance. ``lot_id`` 0 = no lot."""

    item_id: int
    location_id: int
    lot_id: int
    status: str
    owner_id: int


@dataclass(frozen=True, slots=True)
class MoveLine:
    """One movement of ``quantity`` base units from one stock key to another."""

    item_id: int
    from_location_id: int
    to_location_id: int
    quantity: int
    owner_id: int
    lot_id: int = 0
    from_status: str = "available"
    to_status: str = "available"
    line_no: int | None = None
    uom: str | None = None
    quantity_entered: str | None = None
    unit_cost: Decimal | None = None
    serial_id: int | None = None
    reason_code: str | None = None
    # Units of the source key's allocation this move consumes (a pick posts its allocation).
    consumes_allocated: int = 0

    @property
    def from_key(self) -> StockKey:
        return StockKey(
            self.item_id, self.from_location_id, self.lot_id, self.from_status, self.owner_id
        )

    @property
    def to_key(self) -> StockKey:
        return StockKey(
            self.item_id, self.to_location_id, self.lot_id, self.to_status, self.owner_id
        )


# A stock key as a plain tuple ``(item_id, location_id, lot_id, status, owner_id)``: what posting
# passes around, built once per line (posting.post_moves nets each document's changes by it).
Key = tuple[int, int, int, str, int]


@dataclass(frozen=True)
class PostingContext:
    """What every move of one document shares: the document, who, when and why."""

    document_type: str
    document_id: int | None = None
    user_id: int | None = None
    reason_code: str | None = None
    effective_at: datetime | None = None
