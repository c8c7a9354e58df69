"""Request bodies of the API that are not already commands of a service module.

Named by direction (``...Create``); unknown fields are refused so that a typo is an error
naming the field rather than a silently ignored value.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from stockpilot.governance.permissions import ROLES
from stockpilot.persistence.tables import PhysicalLocationKind
from stockpilot.shared.fields import (
    MAX_LINES,
    BaseQuantity,
    Boolean,
    Code,
    Command,
    Count,
    Int32,
    IsoDate,
    Money,
    PositiveId,
    Quantity,
    Serials,
    SignedQuantity,
    SiteCode,
)

# Quantities as entered, in any unit of measure; the services convert them exactly, refuse
# fractions of a base unit and bound the base quantity again (stockpilot.shared.fields).


def _lines() -> Any:
    return Field(min_length=1, max_length=MAX_LINES, fail_fast=True)


_Body = Command


class ReceiptLineCreate(_Body):
    sku: Code
    quantity: Quantity
    uom: str | None = Field(default=None, max_length=20)
    location: Code
    lot: str | None = Field(default=None, max_length=60)
    expiry_date: IsoDate | None = None
    status: str = Field(default="available", min_length=1, max_length=20)
    owner: str | None = Field(default=None, max_length=40)
    unit_cost: Money | None = None
    serials: Serials = Field(default_factory=list)


class ReceiptCreate(_Body):
    site: SiteCode
    lines: list[ReceiptLineCreate] = _lines()


class MoveLineCreate(_Body):
    sku: Code
    quantity: Quantity
    uom: str | None = Field(default=None, max_length=20)
    location: Code
    to_location: str | None = Field(default=None, min_length=1, max_length=60)
    status: str = Field(default="available", min_length=1, max_length=20)
    to_status: str | None = Field(default=None, min_length=1, max_length=20)
    lot: str | None = Field(default=None, max_length=60)
    owner: str | None = Field(default=None, max_length=40)
    serials: Serials = Field(default_factory=list)


class MoveCreate(_Body):
    site: SiteCode
    lines: list[MoveLineCreate] = _lines()


class AdjustmentLineCreate(_Body):
    sku: Code
    quantity: SignedQuantity = Field(description="signed: positive adds stock, negative removes")
    uom: str | None = Field(default=None, max_length=20)
    location: Code
    lot: str | None = Field(default=None, max_length=60)
    status: str = Field(default="available", min_length=1, max_length=20)
    owner: str | None = Field(default=None, max_length=40)


class AdjustmentCreate(_Body):
    site: SiteCode
    reason: str = Field(min_length=1, max_length=40, description="a reason code, e.g. COUNT")
    lines: list[AdjustmentLineCreate] = _lines()


class SiteCreate(_Body):
    code: SiteCode
    name: str | None = Field(default=None, max_length=200)
    kind: Literal["hub", "branch"] = "branch"
    owner: str = Field(default="OWN", min_length=1, max_length=40)
    replenished_from: str | None = Field(default=None, max_length=40)


class CompanyCreate(_Body):
    code: Annotated[str, Field(min_length=1, max_length=40)]
    name: str = Field(min_length=1, max_length=200)


class ZoneCreate(_Body):
    site: SiteCode
    code: Annotated[str, Field(min_length=1, max_length=40)]
    name: str | None = Field(default=None, min_length=1, max_length=200)
    temperature_class: str | None = Field(default=None, max_length=20)
    hazard_class: str | None = Field(default=None, max_length=20)


StatusCode = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[a-z][a-z0-9_]*$")]


class StatusCreate(_Body):
    code: StatusCode
    description: str = Field(default="", max_length=200)
    allocatable: Boolean


class StatusUpdate(_Body):
    description: str | None = Field(default=None, max_length=200)
    allocatable: Boolean | None = None


class ReasonCodeCreate(_Body):
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z][A-Z0-9_]*$")]
    description: str = Field(default="", max_length=200)
    kind: str = Field(default="general", min_length=1, max_length=40)


LocationType = PhysicalLocationKind


class LocationCreate(_Body):
    site: SiteCode
    code: Code
    type: LocationType
    zone: str | None = Field(default=None, min_length=1, max_length=40)
    capacity: BaseQuantity | None = None
    hazard_class: str | None = Field(default=None, max_length=20)
    temperature_class: str | None = Field(default=None, max_length=20)
    walk_sequence: Count | None = None
    x: Int32 | None = None
    y: Int32 | None = None
    max_weight_g: BaseQuantity | None = None
    max_volume_cm3: BaseQuantity | None = None


class PickCreate(_Body):
    allocation_id: PositiveId
    quantity: BaseQuantity = Field(description="base units actually picked")


class PickRequest(_Body):
    picks: list[PickCreate] | None = Field(default=None, max_length=MAX_LINES, fail_fast=True)


Role = Literal[ROLES]  # type: ignore[valid-type]


class UserCreate(_Body):
    name: str = Field(min_length=1, max_length=80)
    role: Role
    sites: list[SiteCode] = Field(default_factory=list, max_length=1000)
