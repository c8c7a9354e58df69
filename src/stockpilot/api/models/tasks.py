"""Response bodies of the task queue."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from stockpilot.api.models import Out


class Task(Out):
    """A warehouse task: what to move, from where to where, how urgent and why."""

    id: int
    type: str = Field(description="putaway, pick, replenish, count or move")
    site: str
    sku: str
    lot: str | None
    stock_status: str
    quantity: int | None = Field(description="null for count tasks: counts are blind")
    from_location: str
    to_location: str | None = Field(description="the directed bin (null when none fits)")
    zone: str | None
    priority: float
    priority_reasons: list[str]
    status: str = Field(description="open, assigned, done or cancelled")
    assigned_to: int | None
    document_type: str | None
    document_id: int | None
    document_line_id: int | None
    wave_id: int | None
    pick_list: int | None
    sequence: int | None
    due_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    confirmed_at: datetime | None
    confirmed_quantity: int | None
    exception: str | None


class NextTask(Out):
    """The caller's next task, or null when nothing waits."""

    task: Task | None


class ConfirmedTask(Task):
    """A confirmed task, with the follow-up tasks its confirmation created."""

    follow_up_tasks: list[int] = Field(default_factory=list)
    count: int | None = Field(default=None, description="the count a count task belongs to")
