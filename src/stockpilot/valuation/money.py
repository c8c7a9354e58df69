"""Exact money in micro-units (10^-6 of the currency): what the valuation tables store.

Costs arrive as ``Decimal``; a value is ``unit cost × quantity`` rounded half-even to the
micro-unit once, where it is first computed, and every later split of a value (a part of a
layer, a part of an average balance) is an exact integer share, so sums never drift.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

MICROS = 10**6
MAX_VALUE = 10**18
"""No single move carries more than 10^12 currency units (the tables hold 64-bit integers)."""

_ONE = Decimal(1)
_CENT = Decimal("0.01")


def to_micros(amount: Decimal) -> int:
    """``amount`` in micro-units, rounded half-even."""
    with localcontext() as ctx:
        ctx.prec = 80
        return int((amount * MICROS).quantize(_ONE, rounding=ROUND_HALF_EVEN))


def cost_value(unit_cost: Decimal, quantity: int) -> int:
    """The value of ``quantity`` base units at ``unit_cost`` (micro-units)."""
    with localcontext() as ctx:
        ctx.prec = 80
        return int((unit_cost * quantity * MICROS).quantize(_ONE, rounding=ROUND_HALF_EVEN))


def share(value: int, part: int, whole: int) -> int:
    """``value × part / whole`` rounded half-even; all of ``value`` when ``part == whole``."""
    if part == whole:
        return value
    quotient, remainder = divmod(value * part, whole)
    twice = 2 * remainder
    if twice > whole or (twice == whole and quotient % 2):
        quotient += 1
    return quotient


def unit_of(value: int, quantity: int) -> Decimal:
    """The unit cost of ``value`` over ``quantity`` units, to the micro-unit."""
    if quantity <= 0:
        return Decimal(0)
    return from_micros(share(value, 1, quantity))


def from_micros(micros: int) -> Decimal:
    """Micro-units as a decimal amount: at least two decimals, more only when they matter."""
    amount = Decimal(micros).scaleb(-6)
    cents = amount.quantize(_CENT)
    return cents if cents == amount else amount.normalize()


def render(micros: int | None) -> str | None:
    """An amount as the API and CSV write it (``"85.00"``, ``"0.333333"``): ``from_micros``
    in integer arithmetic (reports render one per row)."""
    if micros is None:
        return None
    whole, fraction = divmod(abs(int(micros)), MICROS)
    sign = "-" if micros < 0 else ""
    if fraction % 10_000 == 0:
        return f"{sign}{whole}.{fraction // 10_000:02d}"
    return f"{sign}{whole}.{fraction:06d}".rstrip("0")
