"""Load the demo distributor into an empty database, in one transaction.

Master data goes in with Core executemany; history rows (millions at the large sizes) with
driver-level executemany on SQLite and COPY on PostgreSQL; opening stock is posted to the
ledger through ``post_moves`` in chunks, so ``ledger verify`` holds from the first minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.demo import catalogue, demand, warehouse
from stockpilot.governance.users import add_user, issue_token
from stockpilot.importing.bulk import ids_by
from stockpilot.importing.stock import post_opening
from stockpilot.ledger import operations
from stockpilot.ledger.keys import MoveLine
from stockpilot.network import service as network
from stockpilot.persistence import journal
from stockpilot.persistence.bulk import deferred_checks
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import (
    app_user,
    customer,
    demand_history,
    item,
    item_uom,
    location,
    lot,
    receipt_history,
    site,
    supplier,
)
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.clock import today
from stockpilot.shared.errors import Conflict

Progress = Callable[[str, int, int], None]
ADMIN = "demo-admin"
ITEMS_PER_CHUNK = 2500
ROWS_PER_WRITE = 20000


@dataclass(frozen=True)
class DemoSpec:
    """Size and seed of the demo; ``today`` pins the calendar (history ends the week before)."""

    skus: int = 2000
    sites: int = 4
    years: int = 2
    seed: int = 42
    today: date | None = None

    @property
    def weeks(self) -> int:
        return self.years * 52

    def site_codes(self) -> list[str]:
        return ["HUB"] + [f"BR{i}" for i in range(1, self.sites)]


@dataclass
class DemoResult:
    spec: DemoSpec
    counts: dict[str, int] = field(default_factory=dict)
    patterns: dict[str, int] = field(default_factory=dict)  # items per demand pattern
    admin_name: str = ADMIN
    admin_token: str = ""
    seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        counts = ", ".join(f"{v:,} {k}" for k, v in self.counts.items())
        patterns = ", ".join(f"{v:,} {k}" for k, v in self.patterns.items())
        return [
            f"demo distributor loaded in {self.seconds:.1f} s: {counts}",
            f"items by demand pattern: {patterns}",
        ]


def has_items(db: Database) -> bool:
    with db.read() as conn:
        return conn.execute(sa.select(item.c.id).limit(1)).first() is not None


def build_demo(
    db: Database, spec: DemoSpec | None = None, *, progress: Progress | None = None, **options: Any
) -> DemoResult:
    """Build the demo into ``db`` (which must have no items yet). ``options`` override ``spec``
    fields, e.g. ``build_demo(db, skus=60, seed=7)``."""
    spec = replace(spec or DemoSpec(), **options)
    if has_items(db):
        raise Conflict("the database already has items: the demo loads into an empty one")
    started = time.perf_counter()
    result = db.run(lambda conn: _Loader(conn, spec, progress or _silent).load())
    result.seconds = time.perf_counter() - started
    return result


def _silent(_phase: str, _done: int, _total: int) -> None:
    return None


class _Loader:
    def __init__(self, conn: Connection, spec: DemoSpec, progress: Progress) -> None:
        self.conn, self.spec, self.progress = conn, spec, progress
        self.rng = np.random.default_rng(spec.seed)
        end = spec.today or today()
        self.end = end - timedelta(days=end.weekday())  # history stops at this Monday
        self.start = self.end - timedelta(weeks=spec.weeks)
        self.result = DemoResult(spec)

    def load(self) -> DemoResult:
        self.progress("master data", 0, 5)
        self._sites()
        self._parties()
        self.progress("master data", 2, 5)
        self._items()
        self.progress("master data", 3, 5)
        self._bins()
        self.progress("master data", 5, 5)
        with deferred_checks(self.conn, [demand_history, receipt_history]):
            opening = self._history()
        self._opening_stock(opening)
        self.progress("work waiting", 0, 1)
        self.result.counts.update(warehouse.load_work(self.conn, self._work_inputs(opening)))
        self.progress("work waiting", 1, 1)
        self._admin()
        journal.record(
            self.conn,
            SYSTEM,
            action="demo.loaded",
            entity_type="demo",
            entity_id=None,
            detail={"seed": self.spec.seed, **self.result.counts},
            topic="demo.loaded",
        )
        return self.result

    def _sites(self) -> None:
        names = ["Import hub"] + [f"Branch {i}" for i in range(1, self.spec.sites)]
        self.site_ids: list[int] = []
        for i, code in enumerate(self.spec.site_codes()):
            hub = i == 0
            self.site_ids.append(
                network.create_site(
                    self.conn, SYSTEM, code, names[i], kind="hub" if hub else "branch",
                    replenished_from=None if hub else "HUB",
                )
            )  # fmt: skip
        self.result.counts["sites"] = len(self.site_ids)

    def _parties(self) -> None:
        n_sup = max(4, min(80, self.spec.skus // 150))
        self.suppliers = catalogue.make_suppliers(n_sup, self.rng)
        n_cus = max(20, min(3000, self.spec.skus // 10))
        customers = catalogue.make_customers(n_cus, self.rng)
        # Terms come from a stream of their own, so the rest of the distributor is unchanged.
        terms = warehouse.customer_terms(n_cus, np.random.default_rng([self.spec.seed, 5]))
        customers = [c | t for c, t in zip(customers, terms, strict=True)]
        self.conn.execute(supplier.insert(), self.suppliers)
        self.conn.execute(customer.insert(), customers)
        self.supplier_ids = ids_by(self.conn, supplier.c.code, [s["code"] for s in self.suppliers])
        cus_ids = ids_by(self.conn, customer.c.code, [c["code"] for c in customers])
        self.customer_ids = np.array([cus_ids[c["code"]] for c in customers], dtype=np.int64)
        # Key accounts (priority 1) order far more often than cash customers (priority 4).
        priority = np.array([c["priority"] for c in customers])
        self.customer_weights = np.array([8.0, 4.0, 2.0, 1.0])[priority - 1]
        self.result.counts.update(suppliers=n_sup, customers=n_cus)

    def _items(self) -> None:
        self.items = catalogue.make_items(self.spec.skus, len(self.suppliers), self.rng)
        sup_ids = [self.supplier_ids[s["code"]] for s in self.suppliers]
        rows = [
            {**r, "supplier_id": sup_ids[int(self.items.supplier[i])]}
            for i, r in enumerate(self.items.rows)
        ]
        _insert(self.conn, item, rows)
        found = ids_by(self.conn, item.c.sku, self.items.skus)
        self.item_ids = np.array([found[s] for s in self.items.skus], dtype=np.int64)
        _insert(
            self.conn,
            item_uom,
            [
                {"item_id": int(self.item_ids[i]), "uom": u, "factor_numerator": f}
                for i, u, f in self.items.units
            ],
        )
        self.result.counts["items"] = self.spec.skus

    def _bins(self) -> None:
        self.bins: list[dict[str, list[int]]] = []
        self._bin_codes: list[dict[int, str]] = []
        total = 0
        for index, site_id in enumerate(self.site_ids):
            plan = catalogue.bin_plan(self.spec.skus, hub=index == 0)
            bins = catalogue.make_bins(plan)
            zones = {b["zone"] for b in bins}
            zone_ids = {
                z: network.ensure_zone(self.conn, site_id, z, **_zone_attrs(z))
                for z in sorted(zones)
            }
            rows = [
                {**{k: v for k, v in b.items() if k != "zone"}, "site_id": site_id,
                 "zone_id": zone_ids[b["zone"]], "is_virtual": False}
                for b in bins
            ]  # fmt: skip
            _insert(self.conn, location, rows)
            ids = {
                r.code: int(r.id)
                for r in self.conn.execute(
                    sa.select(location.c.code, location.c.id).where(location.c.site_id == site_id)
                )
            }
            by_zone: dict[str, list[int]] = {}
            for b in bins:
                by_zone.setdefault(b["zone"], []).append(ids[b["code"]])
            self.bins.append(by_zone)
            self._bin_codes.append({v: k for k, v in ids.items()})
            total += len(bins)
        self.result.counts["bins"] = total

    def _history(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Demand lines for every item-site and hub receipts, chunk by chunk of items."""
        n, n_sites, weeks = self.spec.skus, self.spec.sites, self.spec.weeks
        patterns = demand.assign_patterns(n, self.rng)
        counts = np.bincount(patterns, minlength=len(demand.PATTERNS))
        self.result.patterns = dict(zip(demand.PATTERNS, counts.tolist(), strict=True))
        base = self.rng.lognormal(np.log(6.0), 1.1, n)
        site_scale = np.concatenate([[1.0], self.rng.uniform(0.3, 0.9, n_sites - 1)])
        lead_mean = np.array([s["lead_time_days"] for s in self.suppliers])[self.items.supplier]
        lead_std = np.array([s["lead_time_std_days"] for s in self.suppliers])[self.items.supplier]
        sup_ids = np.array([self.supplier_ids[s["code"]] for s in self.suppliers])
        days = [(self.start + timedelta(days=d)).isoformat() for d in range(weeks * 7 + 400)]
        opening = np.zeros((n, n_sites), dtype=np.int64)
        demand_rows = receipt_rows = 0
        for lo in range(0, n, ITEMS_PER_CHUNK):
            hi = min(n, lo + ITEMS_PER_CHUNK)
            rng = np.random.default_rng([self.spec.seed, lo])
            level = (base[lo:hi, None] * site_scale[None, :]).ravel()
            level = level * rng.lognormal(0.0, 0.3, len(level))
            pattern = np.repeat(patterns[lo:hi], n_sites)
            matrix = demand.weekly_demand(pattern, level, weeks, rng)
            demand_rows += self._write_demand(matrix, lo, n_sites, days, rng)
            per_item = matrix.reshape(hi - lo, n_sites, weeks).sum(axis=1)
            got = demand.hub_receipts(
                per_item, self.items.pack_size[lo:hi], self.items.moq[lo:hi],
                lead_mean[lo:hi], lead_std[lo:hi], rng,
            )  # fmt: skip
            receipt_rows += self._write_receipts(got, lo, sup_ids, days)
            serial = np.repeat(self.items.serial_tracked[lo:hi], n_sites)
            opening[lo:hi] = demand.opening_quantity(matrix, serial, rng).reshape(hi - lo, n_sites)
            self.progress("demand and receipts", hi, n)
        self.result.counts.update(demand_lines=demand_rows, receipts=receipt_rows)
        return opening

    def _write_demand(
        self, matrix: Any, lo: int, n_sites: int, days: list[str], rng: np.random.Generator
    ) -> int:
        lines = demand.demand_lines(matrix, self.customer_weights, rng)
        item_ids = self.item_ids[lo + lines.series // n_sites].tolist()
        site_ids = np.array(self.site_ids)[lines.series % n_sites].tolist()
        customers = self.customer_ids[lines.customer].tolist()
        rows = zip(
            item_ids,
            site_ids,
            customers,
            [days[d] for d in lines.day.tolist()],
            lines.quantity.tolist(),
            lines.quantity_fulfilled.tolist(),
            strict=True,
        )
        columns = ("item_id", "site_id", "customer_id", "requested_date", "quantity",
                   "quantity_fulfilled")  # fmt: skip
        _append(self.conn, "demand_history", columns, [(*r, "demo") for r in rows])
        return len(lines.quantity)

    def _write_receipts(self, got: demand.Receipts, lo: int, sup_ids: Any, days: list[str]) -> int:
        index = lo + got.item
        rows = zip(
            self.item_ids[index].tolist(),
            [self.site_ids[0]] * len(index),
            sup_ids[self.items.supplier[index]].tolist(),
            [days[d] for d in got.order_day.tolist()],
            [days[d] for d in got.receipt_day.tolist()],
            got.quantity.tolist(),
            strict=True,
        )
        columns = ("item_id", "site_id", "supplier_id", "order_date", "receipt_date", "quantity")
        _append(self.conn, "receipt_history", columns, [(*r, "demo") for r in rows])
        return len(index)

    def _opening_stock(self, opening: Any) -> None:
        """Receipts into bins: forward pick first (up to its capacity), the rest to reserve;
        hazardous and cool items into their cages; lot-tracked items with a dated lot."""
        lots = self._lots()
        owners = {
            int(r.id): int(r.company_id)
            for r in self.conn.execute(sa.select(site.c.id, site.c.company_id))
        }
        moves: list[MoveLine] = []
        serial_lines: list[tuple[int, operations.StockLine]] = []
        costs = [r["unit_cost"] for r in self.items.rows]
        for s, site_id in enumerate(self.site_ids):
            supplier_loc = network.virtual_location(self.conn, site_id, "supplier")
            for i in np.nonzero(opening[:, s])[0].tolist():
                for bin_id, qty in self._placement(s, i, int(opening[i, s])):
                    if self.items.serial_tracked[i]:
                        serial_lines.append((s, self._serial_line(s, i, bin_id, qty)))
                        continue
                    moves.append(
                        MoveLine(
                            item_id=int(self.item_ids[i]), from_location_id=supplier_loc,
                            to_location_id=bin_id, quantity=qty, owner_id=owners[site_id],
                            lot_id=lots.get(i, 0), uom="EA", quantity_entered=str(qty),
                            unit_cost=costs[i],
                        )
                    )  # fmt: skip
        total = len(moves)
        for start in range(0, total, 20000):
            post_opening(self.conn, SYSTEM, moves[start : start + 20000])
            self.progress("opening stock", min(total, start + 20000), total)
        for s in range(len(self.site_ids)):
            lines = [ln for site_index, ln in serial_lines if site_index == s]
            if lines:
                operations.receive(
                    self.conn, SYSTEM, self.spec.site_codes()[s], lines,
                    document_type="opening", reason_code="OPENING",
                )  # fmt: skip
        self.result.counts["stock_lines"] = total + len(serial_lines)

    def _work_inputs(self, opening: Any) -> warehouse.WorkInputs:
        return warehouse.WorkInputs(
            today=self.spec.today or today(),
            site_ids=self.site_ids,
            site_codes=self.spec.site_codes(),
            item_ids=self.item_ids,
            items=self.items,
            opening=opening,
            pick_bins=[zones["PICK"] for zones in self.bins],
            customer_ids=self.customer_ids,
            customer_weights=self.customer_weights,
            supplier_ids=[self.supplier_ids[s["code"]] for s in self.suppliers],
            lead_days=[float(s["lead_time_days"]) for s in self.suppliers],
            seed=self.spec.seed,
        )

    def _placement(self, s: int, i: int, quantity: int) -> list[tuple[int, int]]:
        zones = self.bins[s]
        if self.items.hazardous[i]:
            return [(_pick(zones["HAZ"], i), quantity)]
        if self.items.cool[i]:
            return [(_pick(zones["COOL"], i), quantity)]
        forward = min(quantity, catalogue.PICK_CAPACITY // 2)
        places = [(_pick(zones["PICK"], i), forward)]
        if quantity > forward:
            places.append((_pick(zones["BULK"], i), quantity - forward))
        return places

    def _serial_line(self, s: int, i: int, bin_id: int, qty: int) -> operations.StockLine:
        sku = self.items.skus[i]
        serials = [f"SN-{sku}-{self.spec.site_codes()[s]}-{k + 1:02d}" for k in range(qty)]
        code = self._bin_codes[s][bin_id]
        return operations.StockLine(sku=sku, quantity=qty, location=code, serials=serials)

    def _lots(self) -> dict[int, int]:
        """One current lot per lot-tracked item (shared by its sites), expiring within its
        shelf life."""
        indexes = np.nonzero(self.items.lot_tracked)[0]
        if not len(indexes):
            return {}
        remaining = self.rng.uniform(0.3, 0.9, len(indexes)) * self.items.shelf_life_days[indexes]
        made = self.end - timedelta(weeks=2)
        rows = [
            {
                "item_id": int(self.item_ids[i]),
                "lot_code": f"L{made:%y%m}-{int(i) % 997:03d}",
                "expiry_date": self.end + timedelta(days=int(r)),
                "created_at": made,
            }
            for i, r in zip(indexes.tolist(), remaining.tolist(), strict=True)
        ]
        _insert(self.conn, lot, rows)
        found = {
            int(r.item_id): int(r.id) for r in self.conn.execute(sa.select(lot.c.item_id, lot.c.id))
        }
        item_index = {int(self.item_ids[i]): int(i) for i in indexes.tolist()}
        return {item_index[k]: v for k, v in found.items() if k in item_index}

    def _admin(self) -> None:
        existing = self.conn.execute(
            sa.select(app_user.c.id).where(app_user.c.name == ADMIN)
        ).scalar()
        if existing is not None:
            self.result.admin_token = issue_token(self.conn, int(existing))
        else:
            _, self.result.admin_token = add_user(self.conn, SYSTEM, ADMIN, "admin")


def _pick(bins: Sequence[int], i: int) -> int:
    return bins[i % len(bins)]


def _zone_attrs(code: str) -> dict[str, Any]:
    if code == "HAZ":
        return {"hazard_class": "3", "name": "Flammables cage"}
    if code == "COOL":
        return {"temperature_class": "cool", "name": "Cool room"}
    names = {"DOCK": "Docks", "STG": "Staging", "PICK": "Forward pick", "BULK": "Bulk reserve"}
    return {"name": names.get(code, code)}


def _insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), ROWS_PER_WRITE):
        conn.execute(table.insert(), rows[start : start + ROWS_PER_WRITE])


def _append(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append history rows: COPY on PostgreSQL, executemany of plain tuples on SQLite."""
    names = ", ".join((*columns, "source"))
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in range(len(columns) + 1))
    batch = list(rows)
    for start in range(0, len(batch), ROWS_PER_WRITE * 5):
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",
            batch[start : start + ROWS_PER_WRITE * 5],
        )
