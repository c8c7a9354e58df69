"""Response bodies of the reference-data routes (api/routers/reference.py)."""

from __future__ import annotations

from stockpilot.api.models import Out


class Company(Out):
    id: int
    code: str
    name: str
    currency: str = "EUR"


class Zone(Out):
    id: int
    site: str
    code: str
    name: str
    temperature_class: str | None
    hazard_class: str | None


class Status(Out):
    code: str
    description: str
    allocatable: bool
    version: int


class ReasonCode(Out):
    code: str
    description: str
    kind: str
