"""Tables of inventory valuation: cost layers, the value balance per item × valuation area, and
the value ledger (one entry per valued move end).

Money here is an exact integer count of micro-units of the company's currency (10^-6): both
backends add integers exactly, where SQLite would turn a NUMERIC sum into a float. A
valuation **area** is a site's own stock (``transit_location_id = 0``) or one of its
in-transit locations (goods between two sites keep their value there).
"""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.tables import Id, Money, Qty, metadata

Micros = sa.BigInteger
COST_METHODS = ("fifo", "average", "standard")


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


valuation_balance = sa.Table(
    "valuation_balance",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("transit_location_id", sa.BigInteger, nullable=False, server_default="0"),
    # The method the stock on hand was valued by: an item's new method applies once it is empty.
    sa.Column("cost_method", sa.String(10), nullable=False),
    sa.Column("quantity", Qty, nullable=False, server_default="0"),
    sa.Column("value", Micros, nullable=False, server_default="0"),
    sa.UniqueConstraint(
        "item_id", "site_id", "transit_location_id", name="uq_valuation_balance_area"
    ),
    sa.CheckConstraint("quantity >= 0 AND value >= 0", name="not_negative"),
)

cost_layer = sa.Table(
    "cost_layer",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("transit_location_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quantity_received", Qty, nullable=False),
    sa.Column("quantity_remaining", Qty, nullable=False),
    sa.Column("value_received", Micros, nullable=False),
    sa.Column("value_remaining", Micros, nullable=False),
    sa.Column("unit_cost", Money, nullable=True),
    # When the goods were first received (kept through transfers: layer aging).
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("document_type", sa.String(30), nullable=False),
    sa.Column("document_id", sa.BigInteger, nullable=True),
    sa.Column("line_no", sa.Integer, nullable=True),
    sa.CheckConstraint(
        "quantity_received > 0 AND quantity_remaining >= 0 "
        "AND quantity_remaining <= quantity_received AND value_remaining >= 0",
        name="remaining",
    ),
)
# Not on quantity_remaining: consuming a layer then rewrites only its row, never the index.
sa.Index("ix_cost_layer_area", cost_layer.c.item_id, cost_layer.c.site_id)

ENTRY_KINDS = (
    "receipt",  # supplier location <-> stock (purchases, returns to vendor)
    "cogs",  # stock <-> customer location (shipments, customer returns)
    "adjustment",  # inventory-loss location <-> stock (counts, found, lost)
    "scrap",  # stock -> scrap location
    "kitting",  # kitting location <-> stock
    "transfer",  # area -> area (site -> in-transit -> site)
    "revaluation",  # value only (standard-cost change, write-down)
    "landed_cost",  # value only: freight, duty … after the receipt (the rest is variance)
)

valuation_entry = sa.Table(
    "valuation_entry",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("transit_location_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("company_id", Id, sa.ForeignKey("company.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("document_type", sa.String(30), nullable=False),
    sa.Column("document_id", sa.BigInteger, nullable=True),
    sa.Column("line_no", sa.Integer, nullable=True),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    # Signed: into the area > 0, out of it < 0.
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("value", Micros, nullable=False),
    # Standard cost: what came in above (> 0) or below the standard value booked.
    sa.Column("price_variance", Micros, nullable=False, server_default="0"),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("effective_at", sa.DateTime, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
)
sa.Index(
    "ix_valuation_entry_area",
    valuation_entry.c.site_id,
    valuation_entry.c.item_id,
    valuation_entry.c.effective_at,
)

# A change of the value of one item's stock at a site to a new unit cost (a write-down of
# obsolete or damaged stock, a write-up, a standard-cost change), with its reason; above the
# approval threshold it waits for a second person with valuation:approve.
revaluation = sa.Table(
    "revaluation",
    metadata,
    _id(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("unit_cost", Money, nullable=False),
    sa.Column("reason_code", sa.String(40), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("value_change", Micros, nullable=False),
    sa.Column("requested_by", sa.BigInteger, nullable=True),
    sa.Column("approved_by", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("posted_at", sa.DateTime, nullable=True),
    sa.CheckConstraint("status IN ('pending', 'posted')", name="status"),
)
