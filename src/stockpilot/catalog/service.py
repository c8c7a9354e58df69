"""Items, units of measure, suppliers, customers, lots, statuses and reason codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.schemas import CustomerCreate, ItemCreate, ItemUpdate, SupplierCreate
from stockpilot.persistence import journal
from stockpilot.persistence.tables import (
    customer,
    item,
    item_uom,
    lot,
    reason_code,
    stock_status,
    supplier,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, ValidationFailed
from stockpilot.shared.sql import edit_versioned, insert_id, insert_ignore

DEFAULT_STATUSES = (
    ("available", "Saleable stock", True),
    ("quarantine", "Held pending a decision", False),
    ("inspection", "Awaiting quality inspection", False),
    ("damaged", "Damaged, not saleable", False),
    ("hold", "Blocked by a person", False),
)
DEFAULT_REASONS = (
    ("RECEIPT", "Goods received", "receipt"),
    ("OPENING", "Opening balance", "receipt"),
    ("MOVE", "Bin to bin move", "move"),
    ("STATUS", "Status change", "status"),
    ("COUNT", "Cycle count adjustment", "adjustment"),
    ("DAMAGE", "Damaged in warehouse", "adjustment"),
    ("FOUND", "Found stock", "adjustment"),
    ("PICK", "Picked for an order", "issue"),
    ("TRANSFER", "Transfer between sites", "transfer"),
    ("TRANSFER_SHORT", "Shipped but not arrived", "transfer"),
    ("TRANSFER_OVER", "Arrived but not shipped", "transfer"),
    ("RETURN", "Customer return received", "receipt"),
    ("RMA-SALEABLE", "Return inspected: back to saleable stock", "return"),
    ("RMA-REPAIR", "Return inspected: to repair", "return"),
    ("RMA-SCRAP", "Return inspected: scrapped", "return"),
    ("RMA-RTV", "Return inspected: returned to the vendor", "return"),
)


@dataclass(frozen=True)
class ItemRef:
    id: int
    sku: str
    base_uom: str
    lot_tracked: bool
    serial_tracked: bool
    shelf_life_days: int | None


def seed_reference_data(conn: Connection) -> None:
    insert_ignore(
        conn,
        stock_status,
        [{"code": c, "description": d, "allocatable": a} for c, d, a in DEFAULT_STATUSES],
    )
    insert_ignore(
        conn, reason_code, [{"code": c, "description": d, "kind": k} for c, d, k in DEFAULT_REASONS]
    )


def item_row(cmd: ItemCreate, supplier_id: int | None) -> dict[str, Any]:
    row = cmd.model_dump(exclude={"units", "supplier"})
    row["supplier_id"] = supplier_id
    return row


def create_item(conn: Connection, actor: Actor, cmd: ItemCreate) -> int:
    if conn.execute(sa.select(item.c.id).where(item.c.sku == cmd.sku)).scalar() is not None:
        raise Conflict(f"item {cmd.sku!r} already exists", field="sku")
    supplier_id = supplier_id_by_code(conn, cmd.supplier) if cmd.supplier else None
    item_id = insert_id(conn, item.insert().values(**item_row(cmd, supplier_id)))
    if cmd.units:
        conn.execute(item_uom.insert(), [uom_row(item_id, u.uom, u.factor) for u in cmd.units])
    journal.record(
        conn,
        actor,
        action="item.created",
        entity_type="item",
        entity_id=item_id,
        detail={"sku": cmd.sku},
        topic="item.created",
    )
    return item_id


def uom_row(item_id: int, uom: str, factor: Decimal) -> dict[str, Any]:
    exact = Fraction(factor)
    return {
        "item_id": item_id,
        "uom": uom,
        "factor_numerator": exact.numerator,
        "factor_denominator": exact.denominator,
    }


def update_item(
    conn: Connection, actor: Actor, item_id: int, expected_version: int, cmd: ItemUpdate
) -> None:
    values = cmd.model_dump(exclude_unset=True)
    edit_versioned(conn, item, item_id, expected_version, values, what="item")
    journal.record(
        conn,
        actor,
        action="item.updated",
        entity_type="item",
        entity_id=item_id,
        detail=values,  # JSON as sent: null stays null, true stays true
        topic="item.updated",
    )


def item_by_sku(conn: Connection, sku: str, *, field: str = "sku") -> ItemRef:
    row = conn.execute(
        sa.select(
            item.c.id,
            item.c.sku,
            item.c.base_uom,
            item.c.lot_tracked,
            item.c.serial_tracked,
            item.c.shelf_life_days,
        ).where(item.c.sku == sku)
    ).first()
    if row is None:
        raise ValidationFailed(f"unknown sku {sku!r}", field=field)
    return ItemRef(**row._mapping)


def items_by_sku(conn: Connection, skus: set[str]) -> dict[str, ItemRef]:
    rows = conn.execute(
        sa.select(
            item.c.id,
            item.c.sku,
            item.c.base_uom,
            item.c.lot_tracked,
            item.c.serial_tracked,
            item.c.shelf_life_days,
        ).where(item.c.sku.in_(sorted(skus)))
    )
    return {r.sku: ItemRef(**r._mapping) for r in rows}


class UnitFactors:
    """Every conversion factor a document needs, read in one query (not one per line)."""

    def __init__(self, conn: Connection, wanted: list[tuple[ItemRef, str | None]]) -> None:
        pairs = {(itm.id, uom) for itm, uom in wanted if uom is not None and uom != itm.base_uom}
        self._factors: dict[tuple[int, str], Fraction] = {}
        if pairs:
            rows = conn.execute(
                sa.select(
                    item_uom.c.item_id,
                    item_uom.c.uom,
                    item_uom.c.factor_numerator,
                    item_uom.c.factor_denominator,
                ).where(
                    item_uom.c.item_id.in_(sorted({i for i, _ in pairs})),
                    item_uom.c.uom.in_(sorted({u for _, u in pairs})),
                )
            )
            self._factors = {
                (r.item_id, r.uom): Fraction(r.factor_numerator, r.factor_denominator) for r in rows
            }

    def factor(self, itm: ItemRef, uom: str | None, *, field: str = "uom") -> Fraction:
        """Base units in one ``uom`` of the item (1 for the base unit itself)."""
        if uom is None or uom == itm.base_uom:
            return Fraction(1)
        found = self._factors.get((itm.id, uom))
        if found is None:
            raise ValidationFailed(f"{itm.sku} has no unit of measure {uom!r}", field=field)
        return found


def create_customer(conn: Connection, actor: Actor, cmd: CustomerCreate) -> int:
    return _create_party(conn, actor, customer, "customer", cmd)


def create_supplier(conn: Connection, actor: Actor, cmd: SupplierCreate) -> int:
    return _create_party(conn, actor, supplier, "supplier", cmd)


def _create_party(
    conn: Connection,
    actor: Actor,
    table: sa.Table,
    kind: str,
    cmd: CustomerCreate | SupplierCreate,
) -> int:
    if conn.execute(sa.select(table.c.id).where(table.c.code == cmd.code)).scalar():
        raise Conflict(f"{kind} {cmd.code!r} already exists", field="code")
    party_id = insert_id(conn, table.insert().values(**cmd.model_dump()))
    journal.record(
        conn,
        actor,
        action=f"{kind}.created",
        entity_type=kind,
        entity_id=party_id,
        detail={"code": cmd.code},
        topic=f"{kind}.created",
    )
    return party_id


def customer_by_code(conn: Connection, code: str, *, field: str = "customer") -> tuple[int, int]:
    row = conn.execute(
        sa.select(customer.c.id, customer.c.priority).where(customer.c.code == code)
    ).first()
    if row is None:
        raise ValidationFailed(f"unknown customer {code!r}", field=field)
    return int(row.id), int(row.priority)


def supplier_id_by_code(conn: Connection, code: str, *, field: str = "supplier") -> int:
    found = conn.execute(sa.select(supplier.c.id).where(supplier.c.code == code)).scalar()
    if found is None:
        raise ValidationFailed(f"unknown supplier {code!r}", field=field)
    return int(found)


def require_reason_code(conn: Connection, code: str, *, field: str = "reason_code") -> str:
    """``code`` if it is a configured reason code; otherwise a 422 naming ``field``."""
    found = conn.execute(sa.select(reason_code.c.code).where(reason_code.c.code == code)).scalar()
    if found is None:
        raise ValidationFailed(f"unknown reason code {code!r}", field=field)
    return code


def status_allocatable(conn: Connection, code: str, *, field: str = "status") -> bool:
    found = conn.execute(
        sa.select(stock_status.c.allocatable).where(stock_status.c.code == code)
    ).first()
    if found is None:
        raise ValidationFailed(f"unknown status {code!r}", field=field)
    return bool(found.allocatable)


def ensure_lot(
    conn: Connection, itm: ItemRef, lot_code: str, expiry_date: date | None, *, field: str = "lot"
) -> int:
    """The lot's id, creating it on first receipt; a second receipt may not change its expiry."""
    if not lot_code:
        raise ValidationFailed(f"{itm.sku} is lot-tracked: a lot is required", field=field)
    insert_ignore(
        conn,
        lot,
        [
            {
                "item_id": itm.id,
                "lot_code": lot_code,
                "expiry_date": expiry_date,
                "created_at": utcnow(),
            }
        ],
    )
    row = conn.execute(
        sa.select(lot.c.id, lot.c.expiry_date).where(
            lot.c.item_id == itm.id, lot.c.lot_code == lot_code
        )
    ).one()
    if expiry_date is not None and row.expiry_date is not None and row.expiry_date != expiry_date:
        raise ValidationFailed(
            f"lot {lot_code} of {itm.sku} already has expiry {row.expiry_date}",
            field="expiry_date",
        )
    return int(row.id)
