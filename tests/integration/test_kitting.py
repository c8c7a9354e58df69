"""Kitting on a real database: assembly and disassembly through ``@KITTING``, reservations of
an open order, availability from the components, and races (0 lost or doubled moves)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Literal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import ItemCreate
from stockpilot.kitting import kits, orders
from stockpilot.kitting.schemas import KitComponentIn, KitCreate, KitOrderCreate
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import allocation, balance, location, move
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import Conflict, InsufficientStock, ValidationFailed
from tests.integration.test_races import race
from tests.integration.test_statement_counts import _bulk_items, _receipt, _statements
from tests.support.world import build_world, receive


def kit_world(db: Database) -> None:
    """A gift box (KIT-1) of 2 SKU-1 and 3 SKU-2, its components in stock at WH1."""
    build_world(db)
    db.run(lambda c: catalog.create_item(c, SYSTEM, ItemCreate(sku="KIT-1")))
    cmd = KitCreate(
        sku="KIT-1",
        description="gift box",
        components=[
            KitComponentIn(sku="SKU-1", quantity=2),
            KitComponentIn(sku="SKU-2", quantity=3),
        ],
    )
    db.run(lambda c: kits.create_kit(c, SYSTEM, cmd))
    receive(db, "SKU-1", 10, "A-01")
    receive(db, "SKU-1", 10, "A-02")
    receive(db, "SKU-2", 30, "B-01")


def order(
    db: Database,
    quantity: int,
    kind: Literal["assemble", "disassemble"] = "assemble",
    complete: bool = True,
) -> int:
    cmd = KitOrderCreate(
        kit="KIT-1", kind=kind, site="WH1", location="B-01", quantity=quantity, complete=complete
    )
    return db.run(lambda c: orders.create_order(c, SYSTEM, cmd))


def availability(db: Database) -> dict[str, Any]:
    with db.read() as conn:
        return kits.kit_availability(conn, SYSTEM, "KIT-1", "WH1")


def on_hand(db: Database, sku: str, code: str) -> int:
    with db.read() as conn:
        item_id = catalog.item_by_sku(conn, sku).id
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(balance.c.quantity_on_hand), 0))
                .join(location, location.c.id == balance.c.location_id)
                .where(balance.c.item_id == item_id, location.c.code == code)
            ).scalar_one()
        )


def test_kit_availability_is_its_stock_plus_what_the_scarcest_component_makes(
    db: Database,
) -> None:
    kit_world(db)
    got = availability(db)
    assert (got["quantity_available"], got["quantity_buildable"]) == (0, 10)
    assert [(c["sku"], c["kits"]) for c in got["components"]] == [("SKU-1", 10), ("SKU-2", 10)]


def test_an_assembly_consumes_components_into_kitting_and_puts_kits_in_the_bin(
    db: Database,
) -> None:
    kit_world(db)
    order_id = order(db, 4)
    assert on_hand(db, "KIT-1", "B-01") == 4
    assert on_hand(db, "SKU-1", "@KITTING") == 8 and on_hand(db, "KIT-1", "@KITTING") == -4
    assert on_hand(db, "SKU-2", "B-01") == 30 - 12
    got = availability(db)
    assert (got["quantity_available"], got["quantity_buildable"], got["quantity_total"]) == (
        4,
        6,
        10,
    )
    with db.read() as conn:
        shown = orders.get_order(conn, SYSTEM, order_id)
        assert verify(conn).ok
        mine = sa.and_(move.c.document_type == "kit_order", move.c.document_id == order_id)
        moves = conn.execute(sa.select(sa.func.count()).select_from(move).where(mine)).scalar()
    assert shown["state"] == "done"
    assert shown["components"] == [
        {"sku": "SKU-1", "quantity": 8, "quantity_reserved": 0},
        {"sku": "SKU-2", "quantity": 12, "quantity_reserved": 0},
    ]
    assert moves == 3  # SKU-1 from A-01, SKU-2 from B-01, the kits out of @KITTING


def test_an_open_order_reserves_its_components_and_a_cancel_gives_them_back(
    db: Database,
) -> None:
    kit_world(db)
    order_id = order(db, 6, complete=False)
    assert availability(db)["quantity_buildable"] == 4  # 12 of 20 SKU-1 reserved
    with db.read() as conn:
        assert orders.get_order(conn, SYSTEM, order_id)["components"][0]["quantity_reserved"] == 12
    with pytest.raises(InsufficientStock):
        order(db, 5)  # only 4 more can be made: nothing is written
    db.run(lambda c: orders.cancel_order(c, SYSTEM, order_id))
    assert availability(db)["quantity_buildable"] == 10
    with pytest.raises(Conflict):
        db.run(lambda c: orders.complete_order(c, SYSTEM, order_id))
    with db.read() as conn:
        assert verify(conn).ok
        assert conn.execute(
            sa.select(sa.func.count()).select_from(move).where(move.c.document_type == "kit_order")
        ).scalar() == 0  # fmt: skip


def test_a_disassembly_takes_kits_from_the_bin_and_returns_the_components(db: Database) -> None:
    kit_world(db)
    order(db, 3)
    order(db, 2, kind="disassemble")
    assert on_hand(db, "KIT-1", "B-01") == 1
    assert on_hand(db, "SKU-2", "B-01") == 30 - 9 + 6
    assert on_hand(db, "SKU-1", "B-01") == 4
    with pytest.raises(InsufficientStock):
        order(db, 2, kind="disassemble")
    with db.read() as conn:
        assert verify(conn).ok


def test_a_kit_needs_known_distinct_components_and_an_untracked_kit_item(db: Database) -> None:
    kit_world(db)
    db.run(lambda c: catalog.create_item(c, SYSTEM, ItemCreate(sku="KIT-2")))
    bad = [
        (KitCreate(sku="KIT-2", components=[KitComponentIn(sku="NOPE", quantity=1)]),
         "components[0].sku"),
        (KitCreate(sku="KIT-2", components=[KitComponentIn(sku="KIT-2", quantity=1)]),
         "components[0].sku"),
        (KitCreate(sku="KIT-2", components=[KitComponentIn(sku="SKU-1", quantity=1),
                                            KitComponentIn(sku="SKU-1", quantity=2)]),
         "components[1].sku"),
        (KitCreate(sku="LOT-1", components=[KitComponentIn(sku="SKU-1", quantity=1)]), "sku"),
    ]  # fmt: skip
    for cmd, field in bad:
        with pytest.raises(ValidationFailed) as err:
            db.run(partial(kits.create_kit, actor=SYSTEM, cmd=cmd))
        assert err.value.field == field


@pytest.fixture
def race_db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, pool_size=10, max_overflow=10)
    yield database
    database.dispose()


@pytest.mark.slow
def test_concurrent_assemblies_never_lose_or_double_a_move(race_db: Database) -> None:
    kit_world(race_db)  # components for exactly 10 kits
    result = race([lambda: order(race_db, 1) for _ in range(16)])
    assert all(isinstance(e, InsufficientStock) for e in result.errors), result.errors
    made = len(result.values)
    assert made == 10
    assert on_hand(race_db, "KIT-1", "B-01") == made
    assert on_hand(race_db, "SKU-1", "A-01") + on_hand(race_db, "SKU-1", "A-02") == 20 - 2 * made
    with race_db.read() as conn:
        moves = conn.execute(
            sa.select(move.c.document_id, sa.func.count(), sa.func.sum(move.c.quantity))
            .where(move.c.document_type == "kit_order")
            .group_by(move.c.document_id)
        ).all()
        assert verify(conn).ok
    # Each kit: 2 SKU-1 from one bin (A-01 first, then A-02), 3 SKU-2 and the kit: 3 moves, 6 units.
    assert sorted(tuple(m) for m in moves) == sorted((i, 3, 6) for i in result.values)


@pytest.mark.slow
def test_of_two_concurrent_completions_of_one_order_exactly_one_posts(race_db: Database) -> None:
    kit_world(race_db)
    order_id = order(race_db, 2, complete=False)
    result = race([lambda: race_db.run(lambda c: orders.complete_order(c, SYSTEM, order_id))] * 4)
    assert len(result.values) == 1
    assert len(result.errors) == 3 and all(isinstance(e, Conflict) for e in result.errors)
    assert on_hand(race_db, "KIT-1", "B-01") == 2
    with race_db.read() as conn:
        assert verify(conn).ok
        open_left = conn.execute(
            sa.select(sa.func.count()).select_from(allocation).where(allocation.c.state == "open")
        ).scalar()
    assert open_left == 0


def test_an_order_costs_as_many_statements_for_a_198_component_kit_as_for_a_2_component_kit(
    db: Database,
) -> None:
    build_world(db)
    skus = _bulk_items(db, 200)
    db.run(_receipt(skus, "A-02"))
    db.run(_receipt(skus, "B-01"))  # two bins per component: the takes span both
    db.run(_receipt(skus[:2], "A-02"))

    def declare(kit_sku: str, parts: list[str]) -> None:
        db.run(lambda c: catalog.create_item(c, SYSTEM, ItemCreate(sku=kit_sku)))
        cmd = KitCreate(sku=kit_sku, components=[KitComponentIn(sku=s, quantity=3) for s in parts])
        db.run(lambda c: kits.create_kit(c, SYSTEM, cmd))

    declare("SMALL", skus[:2])
    declare("LARGE", skus[2:])

    def assemble(kit_sku: str) -> Callable[[Connection], object]:
        cmd = KitOrderCreate(
            kit=kit_sku, site="WH1", location="A-01", quantity=2, complete=True
        )  # 6 units of each component: 5 from A-02, 1 from B-01 (the first order of each kit)
        return lambda c: orders.create_order(c, SYSTEM, cmd)

    _statements(db, assemble("SMALL"))  # warm the caches (location flags)
    small = _statements(db, assemble("SMALL"))
    large = _statements(db, assemble("LARGE"))
    assert len(large) == len(small), (small, large)
    with db.read() as conn:
        assert verify(conn).ok
