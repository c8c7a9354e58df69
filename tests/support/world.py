"""Builders for small warehouses used across the test layers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Connection

from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import CustomerCreate, ItemCreate, UnitOfMeasure
from stockpilot.ledger import operations
from stockpilot.network import service as network
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM


@dataclass(frozen=True)
class World:
    site: str = "WH1"
    other_site: str = "WH2"
    bins: tuple[str, ...] = ("A-01", "A-02", "B-01")
    customer: str = "C1"


def build_world(db: Database, world: World = World()) -> World:
    """Two sites with three bins each, a customer, a plain item, a lot item and a case unit."""

    def work(conn: Connection) -> None:
        network.create_site(conn, SYSTEM, world.site, kind="hub")
        network.create_site(conn, SYSTEM, world.other_site, replenished_from=world.site)
        for site in (world.site, world.other_site):
            for i, code in enumerate(world.bins):
                network.create_location(
                    conn, SYSTEM, site, code, "pick" if i == 0 else "storage", walk_sequence=i
                )
        catalog.create_customer(conn, SYSTEM, CustomerCreate(code=world.customer, name="First"))
        catalog.create_customer(conn, SYSTEM, CustomerCreate(code="C2", name="Second", priority=1))
        catalog.create_item(
            conn,
            SYSTEM,
            ItemCreate(sku="SKU-1", units=[UnitOfMeasure(uom="CS", factor=Decimal(12))]),
        )
        catalog.create_item(conn, SYSTEM, ItemCreate(sku="SKU-2", base_uom="G"))
        catalog.create_item(conn, SYSTEM, ItemCreate(sku="LOT-1", lot_tracked=True))
        catalog.create_item(conn, SYSTEM, ItemCreate(sku="SER-1", serial_tracked=True))

    db.run(work)
    return world


def receive(
    db: Database,
    sku: str,
    quantity: int,
    location: str = "A-01",
    site: str = "WH1",
    *,
    lot: str | None = None,
    expiry_date: date | None = None,
    status: str = "available",
) -> None:
    db.run(
        lambda conn: operations.receive(
            conn,
            SYSTEM,
            site,
            [
                operations.StockLine(
                    sku, quantity, location, lot=lot, expiry_date=expiry_date, status=status
                )
            ],
        )
    )
