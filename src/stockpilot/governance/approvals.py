"""Who may approve what: the one rule of every approval of the inventory controls.

The pattern is the over-receipt's (inbound.tolerance): an approval counts only when it comes
from a named user whose role grants the approving permission and who is not the person who
asked for it (four eyes). Count variances (``counts:approve``) and adjustments above their
thresholds (``adjustments:approve``) are judged here, by `check_approver`, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

from stockpilot.governance.permissions import allows
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Forbidden


class ApprovalRefused(Forbidden):
    """An approval that does not count: one's own request, or without the right (403)."""


def check_approver(
    approver: Actor,
    *,
    permission: str,
    requested_by: int | None,
    what: str,
    also_excluded: Iterable[int | None] = (),
) -> None:
    """Refuse (403, field ``approved_by``) an approval of ``what`` by ``approver`` unless they
    are a named user, hold ``permission`` and are neither the requester nor one of
    ``also_excluded`` (the operators whose work is being approved)."""
    if approver.user_id is None:
        raise ApprovalRefused(f"approving {what} needs a named user", field="approved_by")
    if approver.user_id == requested_by:
        raise ApprovalRefused(
            f"{approver.name} asked for {what} and cannot approve it themselves",
            field="approved_by",
        )
    if approver.user_id in set(also_excluded):
        raise ApprovalRefused(
            f"{approver.name} did the work of {what} and cannot approve it", field="approved_by"
        )
    if not allows(approver.role, permission):
        raise ApprovalRefused(
            f"role {approver.role} may not approve {what} ({permission})", field="approved_by"
        )
