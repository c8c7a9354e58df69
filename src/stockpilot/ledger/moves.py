"""The ledger's moves as people read them: codes instead of ids, both ends' sites."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from stockpilot.persistence.tables import company, item, location, lot, move, site


@dataclass(frozen=True)
class MovesView:
    """A select of readable moves in id order, and its two ends to filter on."""

    stmt: sa.Select[Any]
    from_location: Any
    to_location: Any

    def in_sites(self, site_ids: list[int]) -> MovesView:
        """Moves with either end in one of ``site_ids``."""
        return MovesView(
            self.stmt.where(
                sa.or_(
                    self.from_location.c.site_id.in_(site_ids),
                    self.to_location.c.site_id.in_(site_ids),
                )
            ),
            self.from_location,
            self.to_location,
        )


def moves_view() -> MovesView:
    from_loc, to_loc = location.alias("from_loc"), location.alias("to_loc")
    from_site, to_site = site.alias("from_site"), site.alias("to_site")
    stmt = (
        sa.select(
            move.c.id,
            move.c.effective_at,
            move.c.recorded_at,
            move.c.document_type,
            move.c.document_id,
            move.c.line_no,
            item.c.sku,
            from_site.c.code.label("from_site"),
            from_loc.c.code.label("from_location"),
            to_site.c.code.label("to_site"),
            to_loc.c.code.label("to_location"),
            lot.c.lot_code.label("lot"),
            move.c.from_status,
            move.c.to_status,
            company.c.code.label("owner"),
            move.c.quantity,
            move.c.uom,
            move.c.quantity_entered,
            move.c.unit_cost,
            move.c.reason_code,
            move.c.reverses_move_id,
            move.c.user_id,
        )
        .join(item, item.c.id == move.c.item_id)
        .join(from_loc, from_loc.c.id == move.c.from_location_id)
        .join(from_site, from_site.c.id == from_loc.c.site_id)
        .join(to_loc, to_loc.c.id == move.c.to_location_id)
        .join(to_site, to_site.c.id == to_loc.c.site_id)
        .join(company, company.c.id == move.c.owner_id)
        .outerjoin(lot, lot.c.id == move.c.lot_id)
        .order_by(move.c.id)
    )
    return MovesView(stmt, from_loc, to_loc)
