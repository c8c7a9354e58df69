"""Request bodies of the API that are not already commands of a service module.

Named by direction (``...Create``); unknown fields are refused so that a typo is an error
naming the field rather than a silently ignored value.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from stockpilot.governance.permissions import ROLES
from stockpilot.persistence.tables import PhysicalLocationKind

Code = Annotated[str, Field(min_length=1, max_length=60)]
SiteCode = Annotated[str, Field(min_length=1, max_length=40)]
# Quantities as entered, in any unit of measure; the services convert them exactly and refuse
# fractions of a base unit. The bound keeps every base quantity inside a 64-bit integer.
Quantity = Annotated[Decimal, Field(gt=0, le=10**15, max_digits=24, decimal_places=9)]
SignedQuantity = Annotated[Decimal, Field(ge=-(10**15), le=10**15, max_digits=24, decimal_places=9)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
Serials = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=80)]], Field(max_length=10000)
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class ReceiptLineCreate(_Body):
    sku: Code
    quantity: Quantity
    uom: str | None = Field(default=None, max_length=20)
    location: Code
    lot: str | None = Field(default=None, max_length=60)
    expiry_date: date | None = None
    status: str = Field(default="available", min_length=1, max_length=20)
    owner: str | None = Field(default=None, max_length=40)
    unit_cost: Money | None = None
    serials: Serials = Field(default_factory=list)


class ReceiptCreate(_Body):
    site: SiteCode
    lines: list[ReceiptLineCreate] = Field(min_length=1)


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
    lines: list[MoveLineCreate] = Field(min_length=1)


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
    lines: list[AdjustmentLineCreate] = Field(min_length=1)


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
    allocatable: bool


class StatusUpdate(_Body):
    description: str | None = Field(default=None, max_length=200)
    allocatable: bool | None = None


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
    capacity: int | None = Field(default=None, ge=0, le=10**15)
    hazard_class: str | None = Field(default=None, max_length=20)
    temperature_class: str | None = Field(default=None, max_length=20)
    walk_sequence: int | None = Field(default=None, ge=0, le=2**31 - 1)
    x: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    y: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)


class PickCreate(_Body):
    allocation_id: int = Field(ge=1)
    quantity: int = Field(ge=0, le=10**15, description="base units actually picked")


class PickRequest(_Body):
    picks: list[PickCreate] | None = None


Role = Literal[ROLES]  # type: ignore[valid-type]


class UserCreate(_Body):
    name: str = Field(min_length=1, max_length=80)
    role: Role
    sites: list[SiteCode] = Field(default_factory=list, max_length=1000)
