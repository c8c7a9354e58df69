"""Work waiting in the demo warehouse, so that `make run` opens on a live site.

After the history and the opening stock: pick faces (min/max) for the faster items' forward
bins, delivery routes with cut-off times per site, GTINs for a share of the items, open
purchase orders at the hub and the branches (confirmed, some partially received, so putaway
tasks wait at the dock), one ASN on its way with SSCC pallet codes, and open sales orders on
routes with priorities, promised dates and channels.

The `plan_*` functions are pure (a seeded generator in, rows out); `load_work` writes them,
in bulk where the rows are many and through the inbound services where a document's rules
matter (a receipt posts moves and putaway tasks; an ASN checks its PO lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.demo import catalogue
from stockpilot.inbound.scan import gs1_check_digit
from stockpilot.persistence.tables import item, sales_order, sales_order_line
from stockpilot.persistence.warehouse_tables import item_gtin, pick_face, route
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.clock import utcnow

ROUTES = (("AM", "Morning run", "10:30"), ("PM", "Afternoon run", "15:00"))
HUB_ROUTES = (*ROUTES, ("TRUNK", "Night trunk to the branches", "20:00"))
CHANNELS = ("field_sales", "branch_counter", "ecommerce", "edi")
GTIN_PREFIX = "0401234"  # indicator digit 0 + a demo GS1 company prefix; 6 digits item ref
SSCC_PREFIX = "0401234"  # extension digit 0 + the same company prefix; 10 digits serial ref
GTIN_SHARE = 0.35
FAST_SHARE = 0.25  # the share of a site's stocked items that get a pick face
FACE_MAX = catalogue.PICK_CAPACITY // 2  # what the opening stock put in each forward bin
FACE_MIN = FACE_MAX // 5
PARTIAL_RECEIPTS = 4


@dataclass(frozen=True)
class WorkInputs:
    """What the loader already built, by position (site index, item index)."""

    today: date
    site_ids: Sequence[int]
    site_codes: Sequence[str]
    item_ids: np.ndarray[Any, np.dtype[np.int64]]
    items: catalogue.Items
    opening: np.ndarray[Any, np.dtype[np.int64]]  # (items, sites) units placed
    pick_bins: Sequence[Sequence[int]]  # forward-pick bin ids per site
    customer_ids: np.ndarray[Any, np.dtype[np.int64]]
    customer_weights: np.ndarray[Any, np.dtype[np.float64]]
    supplier_ids: Sequence[int]  # by supplier index
    lead_days: Sequence[float]  # mean lead time by supplier index
    seed: int


# --- pure plans ---------------------------------------------------------------------------------


def customer_terms(n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Per customer: ship complete (one in eight), a minimum remaining shelf life (one in six:
    90, 180 or 365 days) and whether substitutes are welcome (three in ten)."""
    complete = rng.random(n) < 0.125
    shelf = np.where(rng.random(n) < 1 / 6, rng.choice(np.array([90, 180, 365]), n), 0)
    substitutes = rng.random(n) < 0.3
    return [
        {
            "ship_complete": bool(complete[i]),
            "min_shelf_life_days": int(shelf[i]) or None,
            "allow_substitutes": bool(substitutes[i]),
        }
        for i in range(n)
    ]


def gtin_of(index: int) -> str:
    """The demo GTIN-14 of item ``index`` (check digit by GS1 mod 10)."""
    body = f"{GTIN_PREFIX}{index:06d}"
    return body + str(gs1_check_digit(body))


def sscc_of(serial: int) -> str:
    """The demo SSCC-18 of pallet ``serial``."""
    body = f"{SSCC_PREFIX}{serial:010d}"
    return body + str(gs1_check_digit(body))


def plan_gtins(n_items: int, rng: np.random.Generator) -> list[int]:
    """The item indexes that carry a GTIN."""
    return np.nonzero(rng.random(n_items) < GTIN_SHARE)[0].tolist()


def plan_pick_faces(w: WorkInputs) -> list[dict[str, Any]]:
    """Min/max on the forward bin of each site's fastest stocked items (hazardous and cool
    items live in their cages, not on the pick faces)."""
    caged = w.items.hazardous | w.items.cool
    rows = []
    for s, bins in enumerate(w.pick_bins):
        stocked = np.nonzero((w.opening[:, s] > 0) & ~caged)[0]
        if not len(stocked) or not bins:
            continue
        fast = stocked[np.argsort(-w.opening[stocked, s], kind="stable")]
        for i in fast[: max(1, int(len(fast) * FAST_SHARE))].tolist():
            rows.append(
                {
                    "location_id": int(bins[i % len(bins)]),
                    "item_id": int(w.item_ids[i]),
                    "min_quantity": FACE_MIN,
                    "max_quantity": FACE_MAX,
                }
            )
    return rows


@dataclass(frozen=True)
class OrderPlan:
    """One purchase order to create: its supplier, lines (item index, quantity), expected
    date, and how much of its first lines arrived already."""

    site: int
    supplier: int
    lines: list[tuple[int, int]]
    expected_date: date
    received: list[tuple[int, int]]  # (line index, quantity) received so far


def plan_purchase_orders(w: WorkInputs, rng: np.random.Generator) -> list[OrderPlan]:
    """Open orders of plain items (no lot or serial) from one supplier each: more at the hub,
    a third of those partially received; expected dates within the supplier's lead time, a
    few already late."""
    plain = ~(w.items.lot_tracked | w.items.serial_tracked)
    by_supplier = [
        np.nonzero(plain & (w.items.supplier == k))[0] for k in range(len(w.supplier_ids))
    ]
    usable = [k for k, found in enumerate(by_supplier) if len(found)]
    if not usable:
        return []
    n_hub = max(6, min(40, len(w.items.rows) // 200))
    plans = []
    for s in range(len(w.site_ids)):
        for k in range(n_hub if s == 0 else max(2, n_hub // 4)):
            sup = usable[int(rng.integers(len(usable)))]
            pool = by_supplier[sup]
            count = min(len(pool), int(rng.integers(3, 13)))
            chosen = rng.choice(pool, size=count, replace=False).tolist()
            lines = [(i, _order_quantity(w.items, i, rng)) for i in chosen]
            offset = round(w.lead_days[sup] * rng.uniform(0.2, 1.0)) - int(rng.integers(0, 4))
            received = []
            # A third of the hub's orders partially received (half of the first line or two),
            # at most PARTIAL_RECEIPTS: each receipt reads the hub's bin table for its putaway.
            # Only the hub buys in the history, so branch orders are still all on their way.
            if s == 0 and k % 3 == 1 and k < 3 * PARTIAL_RECEIPTS:
                received = [(j, max(1, q // 2)) for j, (_, q) in enumerate(lines[:2])]
            plans.append(OrderPlan(s, sup, lines, w.today + timedelta(days=offset), received))
    return plans


def _order_quantity(items: catalogue.Items, i: int, rng: np.random.Generator) -> int:
    pack = max(1, int(items.pack_size[i]))
    return max(int(items.moq[i]), pack * int(rng.integers(2, 12)))


@dataclass(frozen=True)
class SalesPlan:
    site: int
    customer: int  # position in customer_ids
    route: int  # position in the site's routes
    priority: int | None
    channel: str
    requested_date: date
    promised_date: date
    lines: list[tuple[int, int]]  # (item index, quantity)


def plan_sales_orders(
    w: WorkInputs, routes_per_site: Sequence[int], rng: np.random.Generator
) -> list[SalesPlan]:
    """Open orders of stocked items per site (more at the hub), for customers weighted as in
    the history, on the site's routes; one in ten carries an urgent priority of its own."""
    n_hub = max(10, min(150, len(w.items.rows) // 40))
    weights = w.customer_weights / w.customer_weights.sum()
    channel_p = {True: [0.5, 0.1, 0.25, 0.15], False: [0.35, 0.4, 0.2, 0.05]}
    plans = []
    for s in range(len(w.site_ids)):
        stocked = np.nonzero((w.opening[:, s] > 0) & ~w.items.serial_tracked)[0]
        if not len(stocked):
            continue
        for _ in range(n_hub if s == 0 else n_hub // 2):
            count = min(len(stocked), int(rng.integers(1, 7)))
            chosen = rng.choice(stocked, size=count, replace=False).tolist()
            lines = [
                (i, int(rng.integers(1, max(2, int(w.opening[i, s]) // 8) + 1))) for i in chosen
            ]
            requested = w.today + timedelta(days=int(rng.integers(0, 6)))
            plans.append(
                SalesPlan(
                    site=s,
                    customer=int(rng.choice(len(weights), p=weights)),
                    route=int(rng.integers(routes_per_site[s])),
                    priority=1 if rng.random() < 0.1 else None,
                    channel=str(rng.choice(CHANNELS, p=channel_p[s == 0])),
                    requested_date=requested,
                    promised_date=requested + timedelta(days=int(rng.integers(0, 3))),
                    lines=lines,
                )
            )
    return plans


# --- writing ------------------------------------------------------------------------------------


def load_work(conn: Connection, w: WorkInputs) -> dict[str, int]:
    """Write the waiting work; returns what was created, by kind."""
    rng = np.random.default_rng([w.seed, 7])  # its own stream: the distributor stays the same
    gtins = plan_gtins(len(w.items.rows), rng)
    if gtins:
        conn.execute(
            item_gtin.insert(),
            [{"gtin": gtin_of(i), "item_id": int(w.item_ids[i]), "uom": "EA"} for i in gtins],
        )
    faces = plan_pick_faces(w)
    if faces:
        conn.execute(pick_face.insert(), faces)
    route_ids = _routes(conn, w)
    orders, asn_count = _purchase_orders(conn, w, plan_purchase_orders(w, rng))
    sales = _sales_orders(
        conn, w, route_ids, plan_sales_orders(w, [len(r) for r in route_ids], rng)
    )
    transfers, in_transit = _transfers(conn, w)
    return {
        "gtins": len(gtins),
        "pick_faces": len(faces),
        "routes": sum(len(r) for r in route_ids),
        "purchase_orders": orders,
        "asns": asn_count,
        "sales_orders": sales,
        "transfer_orders": transfers,
        "transfer_units_in_transit": in_transit,
    }


def plan_transfers(w: WorkInputs, lines: int = 5) -> list[tuple[int, list[tuple[int, int]]]]:
    """Two transfers from the hub (site 0) to the first branch: ``(branch index, [(item
    index, quantity)])`` of the hub's best-stocked items, a tenth of the hub's units each (at
    least one)."""
    if len(w.site_ids) < 2 or not len(w.item_ids):
        return []
    hub = w.opening[:, 0]
    ranked = [int(i) for i in np.argsort(-hub, kind="stable")[: 2 * lines] if hub[i] >= 10]
    return [
        (1, [(i, max(1, int(hub[i]) // 10)) for i in ranked[k::2]])
        for k in range(2)
        if ranked[k::2]
    ]


def _transfers(conn: Connection, w: WorkInputs) -> tuple[int, int]:
    """Replenishment of the first branch through the transfer service: one order shipped (its
    stock in transit, waiting to be received at the branch), one confirmed at the hub."""
    from stockpilot.transfers import service as transfers
    from stockpilot.transfers.schemas import TransferOrderCreate

    plans = plan_transfers(w)
    skus = dict(
        conn.execute(
            sa.select(item.c.id, item.c.sku).where(
                item.c.id.in_([int(w.item_ids[i]) for _, lines in plans for i, _ in lines])
            )
        ).all()
    )
    in_transit = 0
    for k, (branch, lines) in enumerate(plans):
        cmd = TransferOrderCreate.model_validate(
            {
                "from_site": w.site_codes[0],
                "to_site": w.site_codes[branch],
                "lines": [{"sku": skus[int(w.item_ids[i])], "quantity": q} for i, q in lines],
            }
        )
        order_id = transfers.create(conn, SYSTEM, cmd)
        if k == 0:
            body = transfers.ship_transfer(conn, SYSTEM, order_id)
            in_transit += sum(ln["quantity_in_transit"] for ln in body["lines"])
    return len(plans), in_transit


def _routes(conn: Connection, w: WorkInputs) -> list[list[int]]:
    rows = [
        {"site_id": site_id, "code": code, "name": name, "cutoff_time": cutoff}
        for s, site_id in enumerate(w.site_ids)
        for code, name, cutoff in (HUB_ROUTES if s == 0 else ROUTES)
    ]
    conn.execute(route.insert(), rows)
    found = conn.execute(sa.select(route.c.site_id, route.c.id).order_by(route.c.id)).all()
    return [[int(r.id) for r in found if r.site_id == site_id] for site_id in w.site_ids]


def _purchase_orders(conn: Connection, w: WorkInputs, plans: list[OrderPlan]) -> tuple[int, int]:
    """Orders through the purchase-order service, partial receipts through the receiving
    service (moves, dock stock, putaway tasks), and one ASN for the first untouched hub order."""
    from stockpilot.inbound.purchase_orders import (
        DraftLine,
        PurchaseOrderDraft,
        create_purchase_order,
    )
    from stockpilot.inbound.receiving import receive_goods
    from stockpilot.inbound.schemas import ReceiptCreate, ReceiptLineCreate

    skus = w.items.skus
    asn_for: tuple[int, OrderPlan] | None = None
    for n, plan in enumerate(plans, start=1):
        cost = [Decimal(str(w.items.rows[i]["unit_cost"])) for i, _ in plan.lines]
        draft = PurchaseOrderDraft(
            site_id=w.site_ids[plan.site],
            supplier_id=w.supplier_ids[plan.supplier],
            lines=[
                DraftLine(int(w.item_ids[i]), q, c, plan.expected_date)
                for (i, q), c in zip(plan.lines, cost, strict=True)
            ],
            number=f"PO-{w.site_codes[plan.site]}-{n:04d}",
            order_date=_order_date(w, plan),
        )
        order_id = create_purchase_order(conn, SYSTEM, draft)
        if plan.received:
            lines = [
                ReceiptLineCreate(
                    sku=skus[plan.lines[j][0]], quantity=Decimal(q), purchase_order_line=j + 1
                )
                for j, q in plan.received
            ]
            cmd = ReceiptCreate(site=w.site_codes[plan.site], purchase_order=order_id, lines=lines)
            receive_goods(conn, SYSTEM, cmd, max_lines=len(lines))
        elif plan.site == 0 and asn_for is None:
            asn_for = (order_id, plan)
    if asn_for is None:
        return len(plans), 0
    _asn(conn, w, *asn_for)
    return len(plans), 1


def _order_date(w: WorkInputs, plan: OrderPlan) -> date:
    """About one lead time ago. A partial receipt is dated by the clock (receipt history
    learns lead times from it), so its order is dated by the clock too, even when the demo's
    calendar is pinned to another day."""
    lead = timedelta(days=max(1, round(w.lead_days[plan.supplier])))
    return (utcnow().date() if plan.received else w.today) - lead


def _asn(conn: Connection, w: WorkInputs, order_id: int, plan: OrderPlan) -> None:
    """The supplier's notice for the whole order, its lines on two pallets."""
    from stockpilot.inbound.asn_schemas import AsnCreate, AsnLineCreate
    from stockpilot.inbound.asns import AsnDocument, create_asns

    half = (len(plan.lines) + 1) // 2
    lines = [
        AsnLineCreate(
            purchase_order=order_id,
            po_line=j + 1,
            sku=w.items.skus[i],
            quantity=Decimal(q),
            sscc=sscc_of(1 if j < half else 2),
        )
        for j, (i, q) in enumerate(plan.lines)
    ]
    cmd = AsnCreate(
        number=f"ASN-{order_id:05d}",
        ship_date=w.today - timedelta(days=1),
        expected_date=w.today + timedelta(days=1),
        lines=lines,
    )
    create_asns(conn, SYSTEM, [AsnDocument(cmd, origin="api")])


def _sales_orders(
    conn: Connection, w: WorkInputs, route_ids: list[list[int]], plans: list[SalesPlan]
) -> int:
    """Open orders in two statements (orders, then all their lines)."""
    if not plans:
        return 0
    now = utcnow()
    order_ids = [
        int(r[0])
        for r in conn.execute(
            sales_order.insert().returning(sales_order.c.id, sort_by_parameter_order=True),
            [
                {
                    "number": f"SO-{w.site_codes[p.site]}-{k:05d}",
                    "site_id": w.site_ids[p.site],
                    "customer_id": int(w.customer_ids[p.customer]),
                    "requested_date": p.requested_date,
                    "promised_date": p.promised_date,
                    "status": "open",
                    "route_id": route_ids[p.site][p.route],
                    "channel": p.channel,
                    "priority": p.priority,
                    "created_at": now,
                }
                for k, p in enumerate(plans, start=1)
            ],
        )
    ]
    lines = [
        (p, order_id, no, i, q)
        for p, order_id in zip(plans, order_ids, strict=True)
        for no, (i, q) in enumerate(p.lines, start=1)
    ]
    # No demand rows for these lines (the sales-order service writes one per line): the
    # history ends with the last whole week, and a partial current week of a few orders
    # would read as a collapse in demand to every plan made on the demo.
    conn.execute(
        sales_order_line.insert(),
        [
            {
                "order_id": order_id,
                "line_no": no,
                "item_id": int(w.item_ids[i]),
                "quantity": q,
                "uom": "EA",
                "quantity_entered": str(q),
            }
            for _, order_id, no, i, q in lines
        ],
    )
    return len(plans)
