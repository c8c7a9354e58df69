"""Planner actions on proposals: override with a reason, accept (draft purchase or transfer
orders), approve or reject above thresholds — every action audited — and the later scoring of
overrides against what actually happened.

States: ``proposed`` → (override keeps it ``proposed`` with a new quantity and a reason) →
``accept`` → ``accepted`` (a draft document exists) or ``pending_approval`` when the group's
value is above ``approval_value_threshold`` or an override moved the quantity by more than
``approval_override_ratio`` → ``approve`` (by another person with ``planning:approve``) →
``accepted``; or ``reject`` → ``rejected``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import require_reason_code
from stockpilot.inbound.purchase_orders import DraftLine, PurchaseOrderDraft, create_purchase_order
from stockpilot.persistence import journal
from stockpilot.persistence.planning_tables import (
    planning_run,
    proposal,
    proposal_action,
)
from stockpilot.persistence.tables import demand_history, site
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today, utcnow
from stockpilot.shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from stockpilot.transfers.transfer_orders import TransferLine, create_transfer_order


@dataclass(frozen=True)
class Thresholds:
    value: float = 10000.0
    override_ratio: float = 0.5


@dataclass(frozen=True)
class ProposalOverridden:
    id: int
    quantity: int
    status: str
    reason_code: str


@dataclass(frozen=True)
class DraftDocument:
    """A draft purchase or transfer order made from one group of accepted proposals."""

    document_type: str
    id: int
    group: str
    lines: int
    value: float


@dataclass(frozen=True)
class Accepted:
    documents: list[DraftDocument]
    pending_approval: list[int]


@dataclass(frozen=True)
class Approved:
    documents: list[DraftDocument]


@dataclass(frozen=True)
class Rejected:
    rejected: list[int]


@dataclass(frozen=True)
class OverrideScore:
    """An overridden proposal against hindsight (see :func:`score_overrides`)."""

    proposal_id: int
    reason_code: str
    quantity_suggested: int
    quantity_override: int
    actual_demand: float
    hindsight_quantity: float
    error_suggested: float
    error_override: float
    verdict: str
    site: str


@dataclass(frozen=True)
class PolicyOverrideSet:
    sku: str
    site: str
    service_level: float | None
    criticality: str | None
    reason_code: str
    comment: str | None
    policy_type: str | None = None


def _load(conn: Connection, actor: Actor, ids: Sequence[int]) -> list[Any]:
    rows = conn.execute(
        sa.select(proposal)
        .where(proposal.c.id.in_(sorted(set(ids))))
        .order_by(proposal.c.id)
        .with_for_update()
    ).all()
    found = {r.id for r in rows}
    for pid in ids:
        if pid not in found:
            raise NotFound(f"proposal {pid} not found", field="proposal_ids")
    for r in rows:
        if not actor.can_see_site(r.site_id):
            raise NotFound(f"proposal {r.id} not found", field="proposal_ids")
    return list(rows)


def _log(conn: Connection, actor: Actor, row: Any, action: str, **values: Any) -> None:
    conn.execute(
        proposal_action.insert().values(
            proposal_id=row.id, action=action, at=utcnow(), user_id=actor.user_id, **values
        )
    )


def _needs_approval(row: Any, thresholds: Thresholds) -> bool:
    suggested = row.quantity_suggested or 0
    moved = abs(row.quantity - suggested) / suggested if suggested else float(row.quantity > 0)
    return moved > thresholds.override_ratio


def override(
    conn: Connection,
    actor: Actor,
    proposal_id: int,
    quantity: int,
    reason: str,
    comment: str | None = None,
) -> ProposalOverridden:
    """Change a proposal's quantity; a reason code is mandatory."""
    if quantity < 0:
        raise ValidationFailed("quantity must not be negative", field="quantity")
    require_reason_code(conn, reason)
    (row,) = _load(conn, actor, [proposal_id])
    if row.status != "proposed":
        raise Conflict(f"proposal {proposal_id} is {row.status}", field="status")
    conn.execute(
        sa.update(proposal)
        .where(proposal.c.id == proposal_id)
        .values(quantity=quantity, reason_code=reason, version=proposal.c.version + 1)
    )
    _log(
        conn,
        actor,
        row,
        "override",
        quantity_before=row.quantity,
        quantity_after=quantity,
        reason_code=reason,
        comment=comment,
    )
    journal.record(
        conn,
        actor,
        action="proposal.overridden",
        entity_type="proposal",
        entity_id=proposal_id,
        site_id=row.site_id,
        reason=reason,
        detail={"suggested": row.quantity_suggested, "before": row.quantity, "after": quantity},
        topic="proposal.overridden",
    )
    return ProposalOverridden(proposal_id, quantity, "proposed", reason)


def accept(
    conn: Connection, actor: Actor, proposal_ids: Sequence[int], thresholds: Thresholds
) -> Accepted:
    """Accept proposals: groups within the limits become draft documents now; the rest wait
    for approval."""
    rows = _load(conn, actor, proposal_ids)
    for r in rows:
        if r.status != "proposed":
            raise Conflict(f"proposal {r.id} is {r.status}", field="proposal_ids")
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        groups[r.group_key].append(r)
    created: list[DraftDocument] = []
    waiting: list[int] = []
    for key, members in sorted(groups.items()):
        value = sum(float(m.unit_cost or 0) * m.quantity for m in members)
        if value > thresholds.value or any(_needs_approval(m, thresholds) for m in members):
            _set_status(conn, actor, members, "pending_approval", "accept")
            waiting.extend(m.id for m in members)
            continue
        created.append(_materialise(conn, actor, key, members))
    return Accepted(created, waiting)


def approve(conn: Connection, actor: Actor, proposal_ids: Sequence[int]) -> Approved:
    rows = _load(conn, actor, proposal_ids)
    for r in rows:
        if r.status != "pending_approval":
            raise Conflict(f"proposal {r.id} is {r.status}", field="proposal_ids")
        accepted_by = conn.execute(
            sa.select(proposal_action.c.user_id)
            .where(proposal_action.c.proposal_id == r.id, proposal_action.c.action == "accept")
            .order_by(proposal_action.c.id.desc())
        ).scalar()
        if accepted_by is not None and accepted_by == actor.user_id:
            raise Forbidden("a proposal cannot be approved by the person who accepted it")
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        groups[r.group_key].append(r)
    return Approved([_materialise(conn, actor, k, m) for k, m in sorted(groups.items())])


def reject(
    conn: Connection, actor: Actor, proposal_ids: Sequence[int], reason: str | None
) -> Rejected:
    rows = _load(conn, actor, proposal_ids)
    for r in rows:
        if r.status not in ("proposed", "pending_approval"):
            raise Conflict(f"proposal {r.id} is {r.status}", field="proposal_ids")
    _set_status(conn, actor, rows, "rejected", "reject", reason)
    return Rejected([r.id for r in rows])


def _set_status(
    conn: Connection,
    actor: Actor,
    rows: Sequence[Any],
    status: str,
    action: str,
    reason: str | None = None,
) -> None:
    for r in rows:
        conn.execute(
            sa.update(proposal)
            .where(proposal.c.id == r.id)
            .values(status=status, version=proposal.c.version + 1)
        )
        _log(
            conn,
            actor,
            r,
            action,
            quantity_before=r.quantity,
            quantity_after=r.quantity,
            reason_code=reason,
        )
    journal.record(
        conn,
        actor,
        action=f"proposal.{action}",
        entity_type="proposal",
        entity_id=",".join(str(r.id) for r in rows)[:80],
        site_id=rows[0].site_id,
        reason=reason,
        detail={"proposals": [r.id for r in rows], "status": status},
        topic=f"proposal.{status}",
    )


def _materialise(conn: Connection, actor: Actor, key: str, rows: Sequence[Any]) -> DraftDocument:
    """One draft document for a group: a purchase order per supplier and site, a transfer
    order per route."""
    lines = [r for r in rows if r.quantity > 0]
    first = rows[0]
    if first.kind == "purchase":
        if first.supplier_id is None:
            raise ValidationFailed(
                f"proposal {first.id} has no supplier: set the item's supplier first",
                field="proposal_ids",
            )
        # A planner's accepted proposal is a draft the buyer confirms (inbound owns the order).
        doc_id = create_purchase_order(
            conn,
            actor,
            PurchaseOrderDraft(
                site_id=first.site_id,
                supplier_id=first.supplier_id,
                status="draft",
                lines=[
                    DraftLine(r.item_id, r.quantity, r.unit_cost, r.due_date, r.id) for r in lines
                ],
            ),
        )
        doc_type = "purchase_order"
    else:
        doc_id = create_transfer_order(
            conn,
            actor,
            first.from_site_id,
            first.site_id,
            [TransferLine(r.item_id, r.quantity, r.due_date, r.id) for r in lines],
        )
        doc_type = "transfer_order"
    for r in rows:
        conn.execute(
            sa.update(proposal)
            .where(proposal.c.id == r.id)
            .values(
                status="accepted",
                document_type=doc_type,
                document_id=doc_id,
                version=proposal.c.version + 1,
            )
        )
        _log(conn, actor, r, "accepted", quantity_before=r.quantity, quantity_after=r.quantity)
    value = sum(Decimal(str(r.unit_cost or 0)) * r.quantity for r in rows)
    journal.record(
        conn,
        actor,
        action=f"{doc_type}.drafted",
        entity_type=doc_type,
        entity_id=doc_id,
        site_id=first.site_id,
        detail={"group": key, "lines": len(lines), "value": str(value)},
        topic=f"{doc_type}.drafted",
    )
    return DraftDocument(doc_type, doc_id, key, len(lines), float(value))


@dataclass(frozen=True)
class ScoredOverrides:
    """One page of scored overrides; ``after_id`` continues the walk (None: nothing left)."""

    items: list[OverrideScore]
    after_id: int | None


def score_overrides(
    conn: Connection,
    actor: Actor,
    as_of: date | None = None,
    *,
    after_id: int | None = None,
    limit: int = 1000,
) -> ScoredOverrides:
    """Score the overridden proposals whose horizon has passed against hindsight, ``limit``
    overrides at a time in proposal order (those still inside their horizon are passed over,
    so a page may hold fewer). Two queries a page, whatever its size.

    The hindsight order is ``max(0, D_actual(L+R) + SS − IP)``: what an order-up-to policy
    would have ordered had it known the demand of the protection horizon that followed. Each
    override is compared with the suggestion on absolute error to that order.
    """
    as_of = as_of or today()
    stmt = (
        sa.select(proposal, planning_run.c.as_of, planning_run.c.period, site.c.code)
        .join(planning_run, planning_run.c.id == proposal.c.run_id)
        .join(site, site.c.id == proposal.c.site_id)
        .where(
            proposal.c.reason_code.is_not(None),
            proposal.c.quantity != proposal.c.quantity_suggested,
        )
        .order_by(proposal.c.id)
        .limit(limit + 1)
    )
    if after_id is not None:
        stmt = stmt.where(proposal.c.id > after_id)
    if not actor.all_sites:
        stmt = stmt.where(proposal.c.site_id.in_(sorted(actor.site_ids)))
    candidates = conn.execute(stmt).all()
    more = len(candidates) > limit
    candidates = candidates[:limit]
    due = []  # (row, explanation inputs, horizon end)
    for r in candidates:
        inputs = (r.explanation or {}).get("inputs", {}) if isinstance(r.explanation, dict) else {}
        days_per = 7 if r.period == "week" else 30.4375
        end = r.as_of + timedelta(days=((inputs.get("lead_time_periods") or 0) + 1) * days_per)
        if end <= as_of:
            due.append((r, inputs, end))
    demand = _daily_demand(conn, due)
    out: list[OverrideScore] = []
    for r, inputs, end in due:
        actual = sum(q for day, q in demand.get((r.item_id, r.site_id), ()) if r.as_of < day <= end)
        ideal = max(
            0.0,
            float(actual)
            + float(inputs.get("safety_stock") or 0)
            - float(inputs.get("inventory_position") or 0),
        )
        err_suggested = abs(r.quantity_suggested - ideal)
        err_override = abs(r.quantity - ideal)
        verdict = (
            "better"
            if err_override < err_suggested
            else ("worse" if err_override > err_suggested else "same")
        )
        out.append(
            OverrideScore(
                proposal_id=r.id,
                reason_code=r.reason_code,
                quantity_suggested=r.quantity_suggested,
                quantity_override=r.quantity,
                actual_demand=float(actual),
                hindsight_quantity=round(ideal, 3),
                error_suggested=round(err_suggested, 3),
                error_override=round(err_override, 3),
                verdict=verdict,
                site=r.code,
            )
        )
    return ScoredOverrides(out, candidates[-1].id if more else None)


def _daily_demand(
    conn: Connection, due: Sequence[tuple[Any, Any, date]]
) -> dict[tuple[int, int], list[tuple[date, int]]]:
    """Demand per day of the item-sites of ``due`` over the span of their horizons (one query;
    the item and site lists may pair more than needed, the caller sums each one's range)."""
    if not due:
        return {}
    items = sorted({r.item_id for r, _, _ in due})
    sites = sorted({r.site_id for r, _, _ in due})
    rows = conn.execute(
        sa.select(
            demand_history.c.item_id,
            demand_history.c.site_id,
            demand_history.c.requested_date,
            sa.func.sum(demand_history.c.quantity),
        )
        .where(
            demand_history.c.item_id.in_(items),
            demand_history.c.site_id.in_(sites),
            demand_history.c.requested_date > min(r.as_of for r, _, _ in due),
            demand_history.c.requested_date <= max(end for _, _, end in due),
        )
        .group_by(
            demand_history.c.item_id, demand_history.c.site_id, demand_history.c.requested_date
        )
    ).all()
    out: dict[tuple[int, int], list[tuple[date, int]]] = defaultdict(list)
    for item_id, site_id, day, quantity in rows:
        out[(item_id, site_id)].append((day, int(quantity)))
    return out


def set_policy_override(
    conn: Connection,
    actor: Actor,
    sku: str,
    site_code: str,
    *,
    service_level: float | None,
    criticality: str | None,
    reason: str,
    comment: str | None = None,
    policy_type: str | None = None,
    keep_others: bool = False,
) -> PolicyOverrideSet:
    """Override the segment's service level, criticality or policy type (``stock``,
    ``make_to_order``, ``transfer_fulfilled``, ``phase_out``) of one item-location; the next
    planning run uses it whatever the segment rules say. The override replaces the
    item-location's previous one; with ``keep_others`` the fields given as ``None`` keep their
    previous value (the CLI sets one field at a time)."""
    from stockpilot.catalog.service import item_by_sku
    from stockpilot.network.service import site_by_code
    from stockpilot.persistence.planning_tables import policy_override
    from stockpilot.planning.segment_policy import POLICY_TYPES
    from stockpilot.shared.sql import insert_ignore

    if service_level is not None and not 0.5 < service_level < 1.0:
        raise ValidationFailed("service_level must be between 0.5 and 1", field="service_level")
    if policy_type is not None and policy_type not in POLICY_TYPES:
        raise ValidationFailed(
            f"policy_type must be one of {', '.join(POLICY_TYPES)}", field="policy_type"
        )
    require_reason_code(conn, reason)
    itm = item_by_sku(conn, sku)
    st = site_by_code(conn, site_code)
    if not actor.can_see_site(st.id):
        raise ValidationFailed(f"unknown site {site_code!r}", field="site")
    if keep_others:
        before = conn.execute(
            sa.select(
                policy_override.c.service_level,
                policy_override.c.criticality,
                policy_override.c.policy_type,
            ).where(policy_override.c.item_id == itm.id, policy_override.c.site_id == st.id)
        ).first()
        if before is not None:
            service_level = service_level if service_level is not None else before.service_level
            criticality = criticality if criticality is not None else before.criticality
            policy_type = policy_type if policy_type is not None else before.policy_type
    values = {
        "service_level": service_level,
        "criticality": criticality,
        "policy_type": policy_type,
        "reason_code": reason,
        "comment": comment,
        "created_at": utcnow(),
        "user_id": actor.user_id,
    }
    insert_ignore(conn, policy_override, [{"item_id": itm.id, "site_id": st.id, **values}])
    conn.execute(
        sa.update(policy_override)
        .where(policy_override.c.item_id == itm.id, policy_override.c.site_id == st.id)
        .values(**values)
    )
    journal.record(
        conn,
        actor,
        action="policy.overridden",
        entity_type="policy_override",
        entity_id=f"{sku}@{site_code}",
        site_id=st.id,
        reason=reason,
        detail={
            "service_level": service_level,
            "criticality": criticality,
            "policy_type": policy_type,
        },
        topic="policy.overridden",
    )
    return PolicyOverrideSet(
        sku, site_code, service_level, criticality, reason, comment, policy_type=policy_type
    )
