"""Kitting decisions as pure functions: how many kits the components allow, what an order
consumes and produces, which stock it takes, and which state changes are legal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TRANSITIONS: frozenset[tuple[str, str]] = frozenset({("open", "done"), ("open", "cancelled")})


@dataclass(frozen=True, slots=True)
class Component:
    item_id: int
    quantity: int  # base units of the component in one kit


def buildable(components: Sequence[Component], available: Mapping[int, int]) -> int:
    """Kits the available components make: the scarcest component decides.

    >>> buildable([Component(1, 2), Component(2, 3)], {1: 9, 2: 10})
    3
    >>> buildable([Component(1, 2)], {})
    0
    """
    if not components:
        return 0
    return min(max(available.get(c.item_id, 0), 0) // c.quantity for c in components)


def needs(components: Sequence[Component], kits: int) -> list[tuple[int, int]]:
    """``(item_id, base units)`` of each component for ``kits`` kits, in BOM order.

    >>> needs([Component(1, 2), Component(2, 3)], 4)
    [(1, 8), (2, 12)]
    """
    return [(c.item_id, c.quantity * kits) for c in components]


@dataclass(frozen=True, slots=True)
class Source:
    """Stock an order may take: one balance and what of it is free."""

    balance_id: int
    lot_id: int
    free: int


def take(quantity: int, sources: Sequence[Source]) -> list[tuple[Source, int]] | None:
    """Take ``quantity`` from ``sources`` in their order (the caller sorts: FEFO, then the
    oldest balance); None when they do not hold enough.

    >>> take(5, [Source(1, 0, 3), Source(2, 0, 4)])
    [(Source(balance_id=1, lot_id=0, free=3), 3), (Source(balance_id=2, lot_id=0, free=4), 2)]
    >>> take(8, [Source(1, 0, 3), Source(2, 0, 4)]) is None
    True
    """
    taken: list[tuple[Source, int]] = []
    left = quantity
    for source in sources:
        if left == 0:
            break
        if source.free <= 0:
            continue
        part = min(left, source.free)
        taken.append((source, part))
        left -= part
    return None if left else taken
