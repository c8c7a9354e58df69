"""Strict value types for everything that enters from outside (API bodies, query strings, CSV).

The edge takes a value only in its plain written form: a quantity is a JSON integer or a decimal
string of ASCII digits (``"12"``, ``"0.5"``), never ``"1_000"``, a full-width ``"１"``, an
Arabic-Indic ``"٣"``, ``1e3`` or ``false``; a boolean is ``true``/``false``; a date is
``YYYY-MM-DD``. CSV cells arrive as text, so the same types accept the plain text forms of
numbers and booleans as well — one set of rules for both ways in.

Every quantity is bounded twice: as entered (``MAX_QUANTITY``) and in base units after unit
conversion (``stockpilot.shared.quantities``), and balances are kept inside
``MAX_BALANCE`` (a CHECK constraint), so no sum of them can leave the 64-bit integer range.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema

MAX_QUANTITY: Final = 10**15
"""The largest quantity one line may carry, as entered and in base units."""
MAX_BALANCE: Final = 10**18
"""The largest magnitude of any balance: far below 2**63 - 1 even after one more document."""
MAX_FACTOR: Final = 10**9
"""Bound of a unit-of-measure factor (numerator and denominator alike)."""
MAX_FRACTION_DIGITS: Final = 9
MAX_LINES: Final = 5_000
"""No document body may hold more lines than this, whatever the configured batch limit: the
schema refuses a longer list before validating its lines, and validation of the lines stops at
the first invalid one (``fail_fast``), so refusing a document costs little however bad it is."""
MAX_ERRORS: Final = 50
"""A refusal lists at most this many errors (and says how many there were)."""

_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_DECIMAL = re.compile(r"-?[0-9]{1,19}(\.[0-9]{1,9})?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?)?",
    re.ASCII,
)
_BOOLEANS = {"true": True, "false": False}


def _from_text(info: ValidationInfo) -> bool:
    """CSV cells are text: importers validate with ``context={"text": True}``."""
    return bool(info.context and info.context.get("text"))


def _integer(value: Any, info: ValidationInfo) -> int:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _from_text(info) and _INTEGER.fullmatch(value):
        return int(value)
    raise ValueError("must be an integer")


def _number(value: Any, info: ValidationInfo) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _from_text(info) and _DECIMAL.fullmatch(value):
        return float(value)
    raise ValueError("must be a number")


def _boolean(value: Any, info: ValidationInfo) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and _from_text(info) and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    raise ValueError("must be true or false")


def _decimal(value: Any) -> Decimal:
    """An exact decimal from a JSON integer or a plain decimal string (never a float)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, int):
        if abs(value) > 10**19:
            raise ValueError("is too large")
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    if isinstance(value, float):
        raise ValueError('send a fraction as a decimal string, e.g. "0.5"')
    raise ValueError('must be an integer or a decimal string of digits, e.g. 12 or "0.5"')


def _iso_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a calendar date") from None
    raise ValueError("must be a date written YYYY-MM-DD")


def _iso_datetime(value: Any) -> datetime:
    """A date or date-time in ISO 8601 form; without an offset it is taken as UTC. Returned as
    a naive UTC value, the way the database stores time."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _DATETIME.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("is not a valid date-time") from None
    else:
        raise ValueError("must be a date-time written YYYY-MM-DDTHH:MM:SS with an offset")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _schema(**schema: Any) -> WithJsonSchema:
    return WithJsonSchema(schema)


_QUANTITY_TEXT = r"^(?=[0.]*[1-9])[0-9]{1,15}(\.[0-9]{1,9})?$"
_SIGNED_TEXT = r"^-?[0-9]{1,15}(\.[0-9]{1,9})?$"

Quantity = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    Field(gt=0, le=MAX_QUANTITY, decimal_places=MAX_FRACTION_DIGITS),
    _schema(
        anyOf=[
            {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
            {"type": "string", "pattern": _QUANTITY_TEXT},
        ],
        description="a positive quantity in the unit given (a JSON integer or a decimal string)",
    ),
]
"""A positive quantity as entered, in any unit of measure."""

SignedQuantity = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, decimal_places=MAX_FRACTION_DIGITS),
    _schema(
        anyOf=[
            {"type": "integer", "minimum": -MAX_QUANTITY, "maximum": MAX_QUANTITY},
            {"type": "string", "pattern": _SIGNED_TEXT},
        ],
        description="a signed quantity (a JSON integer or a decimal string)",
    ),
]

BaseQuantity = Annotated[int, BeforeValidator(_integer), Field(ge=0, le=MAX_QUANTITY)]
"""A quantity in base units (whole), zero allowed."""

Factor = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    Field(gt=0, le=MAX_FACTOR, decimal_places=MAX_FRACTION_DIGITS),
    _schema(
        anyOf=[
            {"type": "integer", "minimum": 1, "maximum": MAX_FACTOR},
            {"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,9})?$"},
        ],
        description="base units per one of this unit, exact",
    ),
]

Money = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    Field(ge=0, max_digits=18, decimal_places=6),
    _schema(
        anyOf=[
            {"type": "integer", "minimum": 0, "maximum": 10**12 - 1},
            {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,6})?$"},
        ]
    ),
]


StrictInt = Annotated[int, BeforeValidator(_integer)]
"""An integer that is a JSON integer (never ``false``, ``1.0`` or ``"1"``); bounds at the use."""
StrictFloat = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]
"""A finite JSON number (never ``false`` or a string); bounds at the use."""
PositiveId = Annotated[int, BeforeValidator(_integer), Field(ge=1, le=2**63 - 1)]
Int32 = Annotated[int, BeforeValidator(_integer), Field(ge=-(2**31), le=2**31 - 1)]
Count = Annotated[int, BeforeValidator(_integer), Field(ge=0, le=2**31 - 1)]
"""A non-negative count or measure (days, millimetres, grams, walk order)."""
Boolean = Annotated[bool, BeforeValidator(_boolean), _schema(type="boolean")]
IsoDate = Annotated[date, BeforeValidator(_iso_date), _schema(type="string", format="date")]
IsoDateTime = Annotated[
    datetime, BeforeValidator(_iso_datetime), _schema(type="string", format="date-time")
]


class Command(BaseModel):
    """A request body: unknown fields are refused (a typo is an error naming the field),
    text is stripped, and infinities and NaN are not numbers."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


Code = Annotated[str, Field(min_length=1, max_length=60)]
"""A code of an item, bin or document as the API takes it."""
SiteCode = Annotated[str, Field(min_length=1, max_length=40)]
Serials = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=80)]], Field(max_length=10000)
]


def iso_utc(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as RFC 3339 text with its offset: ``2026-12-01T15:02:19Z``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"
