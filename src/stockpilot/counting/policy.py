"""Each site's control policy: count frequencies by ABC class, count exceptions, the recount
and approval tolerances of counts and the approval thresholds of adjustments. A site without a
row of its own runs on the defaults of ``rules.ControlPolicy``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Connection

from stockpilot.counting.rules import ControlPolicy, Tolerance
from stockpilot.network.service import site_in_scope
from stockpilot.persistence import journal
from stockpilot.persistence.control_tables import control_policy
from stockpilot.shared.actor import Actor
from stockpilot.shared.fields import BaseQuantity, Command, Count, Money

_COLUMNS = (
    "count_days_a",
    "count_days_b",
    "count_days_c",
    "not_counted_days",
    "value_threshold",
    "recount_quantity",
    "recount_value",
    "approval_quantity",
    "approval_value",
    "adjustment_quantity",
    "adjustment_value",
)


class ControlPolicyUpdate(Command):
    """The whole policy of a site (fields left out take their defaults; ``null`` switches a
    limit off)."""

    count_days_a: Count = Field(default=30, ge=1, le=3660)
    count_days_b: Count = Field(default=90, ge=1, le=3660)
    count_days_c: Count = Field(default=365, ge=1, le=3660)
    not_counted_days: Count | None = Field(default=None, ge=1, le=3660)
    value_threshold: Money | None = None
    recount_quantity: BaseQuantity | None = None
    recount_value: Money | None = None
    approval_quantity: BaseQuantity | None = 0
    approval_value: Money | None = Decimal(0)
    adjustment_quantity: BaseQuantity | None = None
    adjustment_value: Money | None = None


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def load_policy(conn: Connection, site_id: int) -> ControlPolicy:
    row = conn.execute(sa.select(control_policy).where(control_policy.c.site_id == site_id)).first()
    if row is None:
        return ControlPolicy()
    return ControlPolicy(
        count_days_a=row.count_days_a,
        count_days_b=row.count_days_b,
        count_days_c=row.count_days_c,
        not_counted_days=row.not_counted_days,
        value_threshold=_decimal(row.value_threshold),
        recount=Tolerance(row.recount_quantity, _decimal(row.recount_value)),
        approval=Tolerance(row.approval_quantity, _decimal(row.approval_value)),
        adjustment=Tolerance(row.adjustment_quantity, _decimal(row.adjustment_value)),
    )


def render_policy(site_code: str, policy: ControlPolicy) -> dict[str, Any]:
    def money(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "site": site_code,
        "count_days_a": policy.count_days_a,
        "count_days_b": policy.count_days_b,
        "count_days_c": policy.count_days_c,
        "not_counted_days": policy.not_counted_days,
        "value_threshold": money(policy.value_threshold),
        "recount_quantity": policy.recount.quantity,
        "recount_value": money(policy.recount.value),
        "approval_quantity": policy.approval.quantity,
        "approval_value": money(policy.approval.value),
        "adjustment_quantity": policy.adjustment.quantity,
        "adjustment_value": money(policy.adjustment.value),
    }


def get_policy(conn: Connection, actor: Actor, site_code: str) -> dict[str, Any]:
    st = site_in_scope(conn, actor, site_code)
    return render_policy(st.code, load_policy(conn, st.id))


def set_policy(
    conn: Connection, actor: Actor, site_code: str, cmd: ControlPolicyUpdate
) -> dict[str, Any]:
    """Replace the site's policy (audited, with the values before and after)."""
    st = site_in_scope(conn, actor, site_code)
    before = render_policy(st.code, load_policy(conn, st.id))
    values = {name: getattr(cmd, name) for name in _COLUMNS}
    changed = conn.execute(
        sa.update(control_policy)
        .where(control_policy.c.site_id == st.id)
        .values(**values, version=control_policy.c.version + 1)
    ).rowcount
    if not changed:
        conn.execute(control_policy.insert().values(site_id=st.id, **values))
    after = render_policy(st.code, load_policy(conn, st.id))
    journal.record(
        conn,
        actor,
        action="control_policy.set",
        entity_type="control_policy",
        entity_id=st.id,
        site_id=st.id,
        detail={"before": before, "after": after},
    )
    return after
