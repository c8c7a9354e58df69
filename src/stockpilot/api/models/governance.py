"""Response bodies of the user and audit routes (api/routers/governance.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from stockpilot.api.models import Out
from stockpilot.api.schemas import Role


class User(Out):
    """A user of the API, and the sites they are bound to."""

    id: int
    name: str
    role: Role
    all_sites: bool = Field(description="true when the user is bound to no site and sees all")
    active: bool
    created_at: datetime = Field(description="UTC, without offset")
    sites: list[str] = Field(description="codes of the user's sites, empty when all_sites")


class NewUser(User):
    """A user just created, with their first bearer token."""

    token: str | None = Field(
        default=None,
        description="the bearer token, shown in this response only: absent on a replay",
    )


class AuditEntry(Out):
    """One audit row: who did what, when, from where and why."""

    id: int
    at: datetime = Field(description="UTC, without offset")
    user_id: int | None
    user: str | None = Field(description="name of the user, null for the system")
    action: str
    entity_type: str
    entity_id: str | None
    site: str | None
    reason: str | None
    origin: str | None
    detail: dict[str, Any] | None = Field(
        description="what the action recorded, free-form; cost fields need cost:read"
    )
