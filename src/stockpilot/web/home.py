"""What a person's home page shows: the work waiting for them, read through the same services
as the API (task queue, proposals), each only when their role may read it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from stockpilot.governance.permissions import allows
from stockpilot.replenishment import queries as planning
from stockpilot.shared.actor import Actor
from stockpilot.tasks import service as tasks

CAP = 100  # counts are shown as "100+" beyond this: the home page never counts a whole table


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    link: str

    @property
    def text(self) -> str:
        return f"{CAP}+" if self.count > CAP else str(self.count)


def figures(conn: Connection, actor: Actor) -> list[Figure]:
    out: list[Figure] = []
    if allows(actor.role, "tasks:read"):
        for status in ("open", "assigned"):
            rows = tasks.list_tasks(
                conn, actor, tasks.TaskFilter(status=status), after_id=None, limit=CAP + 1
            )
            out.append(Figure(f"tasks {status}", len(rows), "/tasks"))
    if allows(actor.role, "planning:read"):
        for status, label in (
            ("proposed", "proposals to review"),
            ("pending_approval", "proposals waiting for approval"),
        ):
            found = planning.list_proposals(
                conn, actor, after_id=None, limit=CAP + 1, status=status
            )
            out.append(Figure(label, len(found), f"/proposals?status={status}"))
    return out
