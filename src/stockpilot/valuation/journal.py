"""Accounting entries from the value ledger: every valued move end yields balanced journal
lines for its company.

Each value entry of ``value`` v into (v > 0) or out of (v < 0) an area, with price variance
``p``, is three lines that sum to zero:

    the area's account     (inventory, or inventory in transit)   debit v
    price variance                                                debit p
    the counter-account of its kind (GRNI, COGS, adjustment, …)   credit v + p

so the inventory account summed to any date is the value report at that date, and purchases
are credited to goods received not invoiced at what was paid. Amounts are micro-units here and
decimal strings in the export.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.tables import company
from stockpilot.persistence.valuation_tables import valuation_entry
from stockpilot.valuation.money import render
from stockpilot.valuation.reports import Filters, currency_of, end_of

DEFAULT_ACCOUNTS: Mapping[str, str] = {
    "inventory": "1300",
    "in_transit": "1310",
    "grni": "2100",
    "cogs": "5000",
    "price_variance": "5100",
    "adjustment": "5200",
    "scrap": "5210",
    "kitting": "1320",
    "transfer_clearing": "1390",
}
"""Account codes by role; ``Settings.accounts`` overrides any of them."""

_COUNTER = {
    "receipt": "grni",
    "cogs": "cogs",
    "adjustment": "adjustment",
    "scrap": "scrap",
    "kitting": "kitting",
    "transfer": "transfer_clearing",
    "revaluation": "adjustment",
    "landed_cost": "grni",
}


@dataclass(frozen=True, slots=True)
class JournalLine:
    company: str
    day: date
    account: str
    debit: int
    credit: int
    document_type: str
    document_id: int | None
    line_no: int | None


def lines_of(
    kind: str, in_transit: bool, value: int, variance: int, accounts: Mapping[str, str]
) -> list[tuple[str, int]]:
    """The signed amounts (debit > 0) of one entry, per account; they sum to zero."""
    area = accounts["in_transit" if in_transit else "inventory"]
    out = [(area, value)]
    if variance:
        out.append((accounts["price_variance"], variance))
    out.append((accounts[_COUNTER.get(kind, "adjustment")], -(value + variance)))
    return out


def journal(
    conn: Connection,
    filters: Filters,
    date_from: date | None,
    date_to: date | None,
    accounts: Mapping[str, str] | None = None,
) -> Iterator[JournalLine]:
    """Journal lines of the entries effective within the period, in entry order."""
    chart = {**DEFAULT_ACCOUNTS, **(accounts or {})}
    ve = valuation_entry
    query = (
        sa.select(
            company.c.code, ve.c.effective_at, ve.c.kind, ve.c.transit_location_id, ve.c.value,
            ve.c.price_variance, ve.c.document_type, ve.c.document_id, ve.c.line_no,
        )
        .join(company, company.c.id == ve.c.company_id)
        .where(sa.or_(ve.c.value != 0, ve.c.price_variance != 0))
        .order_by(ve.c.id)
    )  # fmt: skip
    if filters.site_ids is not None:
        query = query.where(ve.c.site_id.in_(list(filters.site_ids)))
    if filters.item_id is not None:
        query = query.where(ve.c.item_id == filters.item_id)
    if date_from is not None:
        query = query.where(ve.c.effective_at >= datetime.combine(date_from, time.min))
    if date_to is not None:
        query = query.where(ve.c.effective_at < end_of(date_to))
    for r in conn.execute(query):
        at = (
            r.effective_at
            if isinstance(r.effective_at, datetime)
            else datetime.fromisoformat(str(r.effective_at))
        )
        for account, amount in lines_of(
            r.kind, bool(r.transit_location_id), int(r.value), int(r.price_variance), chart
        ):
            if amount:
                yield JournalLine(
                    r.code, at.date(), account, max(amount, 0), max(-amount, 0),
                    r.document_type, r.document_id, r.line_no,
                )  # fmt: skip


def journal_totals(
    conn: Connection,
    filters: Filters,
    date_from: date | None,
    date_to: date | None,
    accounts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The body of ``GET /valuation/journal``: debit and credit per company and account."""
    totals: dict[tuple[str, str], list[int]] = {}
    for line in journal(conn, filters, date_from, date_to, accounts):
        acc = totals.setdefault((line.company, line.account), [0, 0])
        acc[0] += line.debit
        acc[1] += line.credit
    return {
        "from": None if date_from is None else date_from.isoformat(),
        "to": None if date_to is None else date_to.isoformat(),
        "currency": currency_of(conn, filters.site_ids),
        "accounts": [
            {"company": c, "account": a, "debit": render(d), "credit": render(k)}
            for (c, a), (d, k) in sorted(totals.items())
        ],
    }
