"""Exact quantities: integers in the item's base unit, converted from any unit by exact factors."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import MAX_FACTOR, MAX_QUANTITY


def parse_exact(value: object, *, field: str) -> Fraction:
    """Parse a number without ever passing through binary floating point."""
    if isinstance(value, bool):
        raise ValidationFailed(f"{field} must be a number", field=field)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        # JSON numbers arrive as floats; repr() gives the shortest exact decimal the sender meant.
        value = repr(value)
    if isinstance(value, Decimal | str):
        try:
            dec = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationFailed(f"{field} is not a number: {value!r}", field=field) from None
        if not dec.is_finite():
            raise ValidationFailed(f"{field} must be finite", field=field)
        return Fraction(dec)
    raise ValidationFailed(f"{field} must be a number", field=field)


def to_base_units(quantity: object, factor: Fraction, *, field: str, positive: bool = True) -> int:
    """Convert ``quantity`` (in a unit worth ``factor`` base units) to whole base units.

    A result that is not a whole number of base units is rejected, never rounded.
    """
    exact = parse_exact(quantity, field=field) * factor
    if exact.denominator != 1:
        raise ValidationFailed(
            f"{field} is not a whole number of base units ({float(exact):g})", field=field
        )
    base = int(exact)
    if positive and base <= 0:
        raise ValidationFailed(f"{field} must be positive", field=field)
    if base < 0:
        raise ValidationFailed(f"{field} must not be negative", field=field)
    return _bounded(base, field)


def _bounded(base: int, field: str) -> int:
    """The limit holds in base units, after conversion: 9,223 pallets of 10^15 each are not a
    quantity even though 9,223 is."""
    if abs(base) > MAX_QUANTITY:
        raise ValidationFailed(
            f"{field} is {abs(base)} base units; at most {MAX_QUANTITY} per line", field=field
        )
    return base


def parse_factor(value: object, *, field: str) -> Fraction:
    factor = parse_exact(value, field=field)
    if factor <= 0:
        raise ValidationFailed(f"{field} must be positive", field=field)
    if factor.numerator > MAX_FACTOR or factor.denominator > MAX_FACTOR:
        raise ValidationFailed(
            f"{field} must lie between 1/{MAX_FACTOR} and {MAX_FACTOR} base units", field=field
        )
    return factor


def to_signed_base_units(quantity: object, factor: Fraction, *, field: str) -> int:
    """Like ``to_base_units`` for a signed quantity (adjustments): zero is refused."""
    exact = parse_exact(quantity, field=field) * factor
    if exact.denominator != 1:
        raise ValidationFailed(
            f"{field} is not a whole number of base units ({float(exact):g})", field=field
        )
    if exact == 0:
        raise ValidationFailed(f"{field} must not be zero", field=field)
    return _bounded(int(exact), field)
