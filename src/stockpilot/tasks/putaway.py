"""Directed putaway: which bin of a site should receive this item, and why.

Plain data in, a decision with its reasons out; no database. The service builds one
:class:`BinTable` per site (columnar NumPy arrays, reused for every decision until the bins
change), tells :func:`choose_bin` which bins already hold the item (and its lot), and stores the
chosen bin and reasons on the putaway task. :func:`check_bin` answers "may the operator confirm
this other bin?" with the hard constraints it breaks, so the API can refuse with a 4xx naming
them.

Hard constraints filter, in this order (the order names the constraint that excluded a bin in a
"no bin fits" answer): storage kind allowed for the purpose, hazard class, temperature class,
remaining capacity in units, volume and weight. Soft scores rank what is left (see
:class:`Weights` and docs/design/warehouse-rules.md).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from stockpilot.shared.errors import ValidationFailed

__all__ = [
    "ALLOWED_KINDS",
    "STORAGE_KINDS",
    "BinRow",
    "BinScore",
    "BinTable",
    "Holdings",
    "Purpose",
    "PutawayDecision",
    "PutawayItem",
    "PutawayRequest",
    "VelocityClass",
    "Violation",
    "Weights",
    "check_bin",
    "choose_bin",
    "choose_bins",
]

# The physical location kinds of persistence.tables (kept as plain strings: no SQLAlchemy here).
StorageKind = Literal["storage", "pick", "bulk", "staging", "dock"]
STORAGE_KINDS: tuple[str, ...] = get_args(StorageKind)

Purpose = Literal["putaway", "reserve", "pick_face", "staging"]
# Which kinds of bin may receive stock for each purpose. A receipt's putaway may go to reserve,
# bulk or straight to a pick face; replenishment overflow only to reserve; cross-dock to staging.
ALLOWED_KINDS: Mapping[str, frozenset[str]] = {
    "putaway": frozenset({"storage", "bulk", "pick"}),
    "reserve": frozenset({"storage", "bulk"}),
    "pick_face": frozenset({"pick"}),
    "staging": frozenset({"staging", "dock"}),
}

VelocityClass = Literal["A", "B", "C"]
AMBIENT = "ambient"
CONSTRAINTS: tuple[str, ...] = ("kind", "hazard", "temperature", "units", "volume", "weight")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _temperature(value: str | None) -> str:
    # An unset temperature class means ambient, on items and bins alike.
    return AMBIENT if value is None or value == "" else value


@dataclass(frozen=True)
class PutawayItem:
    """The item being put away: its classes, unit dimensions and the lot received."""

    item_id: int
    sku: str = ""
    velocity_class: VelocityClass = "C"
    hazard_class: str | None = None
    temperature_class: str | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    weight_g: int | None = None
    lot_id: int | None = None

    def __post_init__(self) -> None:
        if self.velocity_class not in ("A", "B", "C"):
            raise ValidationFailed("velocity_class must be A, B or C", field="velocity_class")
        for name in ("length_mm", "width_mm", "height_mm", "weight_g"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValidationFailed(f"{name} must not be negative", field=name)

    @property
    def unit_volume_mm3(self) -> int | None:
        """Volume of one base unit, or None when a dimension is unknown."""
        dims = (self.length_mm, self.width_mm, self.height_mm)
        if any(d is None for d in dims):
            return None
        length, width, height = (int(d or 0) for d in dims)
        return length * width * height

    @property
    def label(self) -> str:
        return self.sku or f"item {self.item_id}"


@dataclass(frozen=True)
class BinRow:
    """One candidate bin as the service reads it (None = no limit / unknown).

    ``hazard_class`` and ``temperature_class`` are the effective classes (the bin's own, else
    its zone's). ``items_held`` counts the distinct items in the bin now; ``distance`` is the
    walk distance (or walk sequence) from the dispatch side.
    """

    location_id: int
    code: str
    kind: str
    zone: str | None = None
    hazard_class: str | None = None
    temperature_class: str | None = None
    capacity_units: int | None = None
    max_volume_mm3: int | None = None
    max_weight_g: int | None = None
    units: int = 0
    volume_mm3: int = 0
    weight_g: int = 0
    items_held: int = 0
    distance: float | None = None
    x: float | None = None
    y: float | None = None


def _limit(values: Iterable[int | None]) -> FloatArray:
    return np.array([np.inf if v is None else float(v) for v in values], dtype=np.float64)


def _codes(values: Sequence[str | None]) -> tuple[npt.NDArray[np.int32], tuple[str | None, ...]]:
    labels = tuple(dict.fromkeys(values))
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[v] for v in values], dtype=np.int32), labels


def _frozen(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    array.setflags(write=False)
    return array


def _frozen_floats(array: FloatArray) -> FloatArray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class BinTable:
    """The candidate bins of one site as columns, sorted by location id (read-only arrays).

    Build it once per site with :meth:`from_rows` and reuse it; rebuild after bins change.
    Unlimited capacities are ``inf``; a bin without a distance counts as the farthest one.
    """

    location_id: IntArray
    code: tuple[str, ...]
    zone: tuple[str | None, ...]
    kind: npt.NDArray[np.int32]
    hazard: npt.NDArray[np.int32]
    hazard_labels: tuple[str | None, ...]
    temperature: npt.NDArray[np.int32]
    temperature_labels: tuple[str | None, ...]
    capacity_units: FloatArray
    max_volume_mm3: FloatArray
    max_weight_g: FloatArray
    units: FloatArray
    volume_mm3: FloatArray
    weight_g: FloatArray
    items_held: IntArray
    distance: FloatArray
    distance_norm: FloatArray
    x: FloatArray
    y: FloatArray

    @classmethod
    def from_rows(cls, rows: Sequence[BinRow]) -> BinTable:
        """Columns from bin rows; a duplicate id or an unknown kind is refused.

        >>> table = BinTable.from_rows([BinRow(2, "B", "storage"), BinRow(1, "A", "pick")])
        >>> table.code, len(table)
        (('A', 'B'), 2)
        """
        ordered = sorted(rows, key=lambda r: r.location_id)
        ids = np.array([r.location_id for r in ordered], dtype=np.int64)
        if len(ids) > 1 and bool(np.any(np.diff(ids) == 0)):
            raise ValidationFailed("bins repeat a location id", field="location_id")
        for r in ordered:
            if r.kind not in STORAGE_KINDS:
                raise ValidationFailed(
                    f"bin {r.code}: kind must be one of {', '.join(STORAGE_KINDS)}", field="kind"
                )
        hazard, hazard_labels = _codes([r.hazard_class or None for r in ordered])
        temp, temp_labels = _codes([_temperature(r.temperature_class) for r in ordered])
        raw = np.array(
            [np.nan if r.distance is None else r.distance for r in ordered], dtype=np.float64
        )
        known = raw[~np.isnan(raw)]
        low = float(known.min()) if known.size else 0.0
        high = float(known.max()) if known.size else 0.0
        distance = np.where(np.isnan(raw), high, raw)
        span = high - low
        norm = (distance - low) / span if span > 0 else np.zeros_like(distance)
        arrays = {
            "location_id": ids,
            "kind": np.array([STORAGE_KINDS.index(r.kind) for r in ordered], dtype=np.int32),
            "hazard": hazard,
            "temperature": temp,
            "capacity_units": _limit(r.capacity_units for r in ordered),
            "max_volume_mm3": _limit(r.max_volume_mm3 for r in ordered),
            "max_weight_g": _limit(r.max_weight_g for r in ordered),
            "units": np.array([r.units for r in ordered], dtype=np.float64),
            "volume_mm3": np.array([r.volume_mm3 for r in ordered], dtype=np.float64),
            "weight_g": np.array([r.weight_g for r in ordered], dtype=np.float64),
            "items_held": np.array([r.items_held for r in ordered], dtype=np.int64),
            "distance": distance,
            "distance_norm": norm,
            "x": np.array([np.nan if r.x is None else r.x for r in ordered], dtype=np.float64),
            "y": np.array([np.nan if r.y is None else r.y for r in ordered], dtype=np.float64),
        }
        return cls(
            code=tuple(r.code for r in ordered),
            zone=tuple(r.zone for r in ordered),
            hazard_labels=hazard_labels,
            temperature_labels=temp_labels,
            **{k: _frozen(v) for k, v in arrays.items()},  # type: ignore[arg-type]
        )

    def __len__(self) -> int:
        return int(self.location_id.size)

    def with_contents(
        self, location_id: int, *, units: int, volume_mm3: int, weight_g: int, items_held: int
    ) -> BinTable:
        """A copy with one bin's current contents changed (after a putaway or a pick), so a
        site's table stays current without being rebuilt from its rows.

        >>> table = BinTable.from_rows([BinRow(1, "A", "storage", capacity_units=10)])
        >>> table.with_contents(1, units=4, volume_mm3=0, weight_g=0, items_held=1).units.tolist()
        [4.0]
        """
        idx = self.index_of([location_id])
        if idx.size == 0:
            raise ValidationFailed(
                f"location {location_id} is not in the table", field="location_id"
            )
        changed: dict[str, npt.NDArray[np.generic]] = {}
        for name, value in (
            ("units", units),
            ("volume_mm3", volume_mm3),
            ("weight_g", weight_g),
            ("items_held", items_held),
        ):
            array = getattr(self, name).copy()
            array[idx[0]] = value
            changed[name] = _frozen(array)
        return replace(self, **changed)  # type: ignore[arg-type]

    def index_of(self, location_ids: Collection[int]) -> IntArray:
        """Row indexes of the given location ids (ids not in the table are skipped)."""
        if not location_ids or not len(self):
            return np.empty(0, dtype=np.int64)
        wanted = np.fromiter(location_ids, dtype=np.int64, count=len(location_ids))
        pos = np.minimum(np.searchsorted(self.location_id, wanted), len(self) - 1)
        return pos[self.location_id[pos] == wanted]


@dataclass(frozen=True)
class Holdings:
    """Bins (location ids) of the site that already hold the item, and those holding its lot."""

    same_item: frozenset[int] = frozenset()
    same_lot: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Weights:
    """Soft-score weights; each part is in [0, 1] and the score is their weighted sum.

    ``velocity``: A items near dispatch, C items far, B in the middle. ``consolidation``: 1 for
    the same item and lot (or the same item when no lot), 0.5 for the same item with another
    lot. ``fill``: the bin's fullest dimension after putaway (best fit). ``mixing`` is subtracted:
    min(other items held, 3) / 3.
    """

    velocity: float = 3.0
    consolidation: float = 4.0
    fill: float = 2.0
    mixing: float = 3.0


@dataclass(frozen=True)
class BinScore:
    """A feasible bin with its score and the parts the score is made of (before weights)."""

    location_id: int
    code: str
    score: float
    velocity: float
    consolidation: float
    fill: float
    mixing: float


@dataclass(frozen=True)
class PutawayDecision:
    """The chosen bin (None when nothing fits), why, and the next best bins.

    ``excluded`` counts the bins each hard constraint removed, each bin under the first
    constraint it fails (order of ``CONSTRAINTS``), so the counts add up to ``candidates -
    feasible``.
    """

    chosen: BinScore | None
    reasons: tuple[str, ...]
    alternatives: tuple[BinScore, ...]
    excluded: Mapping[str, int]
    candidates: int
    feasible: int

    @property
    def fits(self) -> bool:
        return self.chosen is not None


@dataclass(frozen=True)
class Violation:
    """A hard constraint a bin breaks for this putaway, in words an operator can act on."""

    constraint: str
    message: str


def _validate(quantity: int, purpose: str) -> frozenset[str]:
    if isinstance(quantity, bool) or not isinstance(quantity, int | np.integer):
        raise ValidationFailed("quantity must be a whole number of base units", field="quantity")
    if quantity <= 0:
        raise ValidationFailed("quantity must be positive", field="quantity")
    if purpose not in ALLOWED_KINDS:
        raise ValidationFailed(
            f"purpose must be one of {', '.join(ALLOWED_KINDS)}", field="purpose"
        )
    return ALLOWED_KINDS[purpose]


def _label_code(labels: tuple[str | None, ...], value: str | None) -> int:
    return labels.index(value) if value in labels else -1


def _masks(
    item: PutawayItem, quantity: int, bins: BinTable, idx: IntArray | slice, allowed: frozenset[str]
) -> list[tuple[str, BoolArray]]:
    """Pass masks of each hard constraint, in funnel order, over the rows ``idx``."""
    kind_ok = np.array([k in allowed for k in STORAGE_KINDS])
    hazard = _label_code(bins.hazard_labels, item.hazard_class or None)
    temp = _label_code(bins.temperature_labels, _temperature(item.temperature_class))
    masks: list[tuple[str, BoolArray]] = [
        ("kind", kind_ok[bins.kind[idx]]),
        ("hazard", bins.hazard[idx] == hazard),
        ("temperature", bins.temperature[idx] == temp),
        ("units", bins.capacity_units[idx] - bins.units[idx] >= quantity),
    ]
    volume = item.unit_volume_mm3
    if volume is not None:
        need = float(volume) * quantity
        masks.append(("volume", bins.max_volume_mm3[idx] - bins.volume_mm3[idx] >= need))
    if item.weight_g is not None:
        need = float(item.weight_g) * quantity
        masks.append(("weight", bins.max_weight_g[idx] - bins.weight_g[idx] >= need))
    return masks


def _parts(
    item: PutawayItem, quantity: int, bins: BinTable, idx: IntArray, holdings: Holdings
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Velocity, consolidation, fill and mixing parts (each in [0, 1]) of the rows ``idx``."""
    d = bins.distance_norm[idx]
    velocity = {"A": 1.0 - d, "B": 1.0 - 2.0 * np.abs(d - 0.5), "C": d}[item.velocity_class]
    same_item = np.isin(idx, bins.index_of(holdings.same_item))
    same_lot = np.isin(idx, bins.index_of(holdings.same_lot)) & same_item
    if item.lot_id is None:
        consolidation = same_item.astype(np.float64)
    else:
        consolidation = np.where(same_lot, 1.0, np.where(same_item, 0.5, 0.0))
    fill = np.full(idx.size, -1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        afters = [(bins.units[idx] + quantity, bins.capacity_units[idx])]
        if item.unit_volume_mm3 is not None:
            afters.append(
                (bins.volume_mm3[idx] + item.unit_volume_mm3 * quantity, bins.max_volume_mm3[idx])
            )
        if item.weight_g is not None:
            afters.append((bins.weight_g[idx] + item.weight_g * quantity, bins.max_weight_g[idx]))
        for used, limit in afters:
            ratio = np.where(np.isfinite(limit) & (limit > 0), used / limit, -1.0)
            fill = np.fmax(fill, ratio)
    # A bin with no known limit is neither a tight nor a loose fit.
    fill = np.where(fill < 0, 0.5, np.minimum(fill, 1.0))
    others = bins.items_held[idx] - same_item.astype(np.int64)
    mixing = np.minimum(np.maximum(others, 0), 3) / 3.0
    return velocity, consolidation, fill, mixing


def choose_bin(
    item: PutawayItem,
    quantity: int,
    bins: BinTable,
    *,
    holdings: Holdings = Holdings(),
    purpose: Purpose = "putaway",
    alternatives: int = 3,
    weights: Weights = Weights(),
) -> PutawayDecision:
    """The best bin for ``quantity`` base units of ``item``, its reasons and the runners-up.

    Ties on score go to the bin nearer dispatch, then the lower location id, so the same
    input always gives the same answer.

    >>> bins = BinTable.from_rows([
    ...     BinRow(1, "R-01", "storage", capacity_units=100, distance=5),
    ...     BinRow(2, "R-02", "storage", capacity_units=100, distance=50),
    ...     BinRow(3, "F-01", "storage", capacity_units=100, distance=5,
    ...            temperature_class="frozen"),
    ... ])
    >>> fast = PutawayItem(item_id=7, sku="SKU-7", velocity_class="A")
    >>> decision = choose_bin(fast, 40, bins)
    >>> decision.chosen.code, [a.code for a in decision.alternatives]
    ('R-01', ['R-02'])
    >>> decision.excluded["temperature"]
    1
    >>> choose_bin(fast, 400, bins).reasons[0]
    'no bin fits 400 units of SKU-7 among 3 bins'
    """
    allowed = _validate(quantity, purpose)
    every = slice(None)
    passing = np.ones(len(bins), dtype=bool)
    excluded: dict[str, int] = dict.fromkeys(CONSTRAINTS, 0)
    for name, ok in _masks(item, quantity, bins, every, allowed):
        excluded[name] = int(np.count_nonzero(passing & ~ok))
        passing &= ok
    feasible = np.flatnonzero(passing)
    if feasible.size == 0:
        return PutawayDecision(
            None,
            _no_fit_reasons(item, quantity, bins, excluded, allowed),
            (),
            excluded,
            len(bins),
            0,
        )
    velocity, consolidation, fill, mixing = _parts(item, quantity, bins, feasible, holdings)
    total = (
        weights.velocity * velocity
        + weights.consolidation * consolidation
        + weights.fill * fill
        - weights.mixing * mixing
    )
    top = _top(total, bins.distance[feasible], bins.location_id[feasible], alternatives + 1)
    scores = [
        BinScore(
            int(bins.location_id[feasible[i]]),
            bins.code[feasible[i]],
            float(total[i]),
            float(velocity[i]),
            float(consolidation[i]),
            float(fill[i]),
            float(mixing[i]),
        )
        for i in top
    ]
    chosen = scores[0]
    reasons = _chosen_reasons(item, quantity, bins, int(feasible[top[0]]), chosen, purpose)
    reasons.append(f"score {chosen.score:.2f}; {feasible.size:,} of {len(bins):,} bins fit")
    return PutawayDecision(
        chosen, tuple(reasons), tuple(scores[1:]), excluded, len(bins), int(feasible.size)
    )


def _top(total: FloatArray, distance: FloatArray, ids: IntArray, k: int) -> IntArray:
    """Positions of the ``k`` best (score desc, distance asc, id asc), without a full sort."""
    if total.size > 4 * k:
        threshold = np.partition(-total, k - 1)[k - 1]
        subset = np.flatnonzero(-total <= threshold)  # every tie at the threshold stays in
    else:
        subset = np.arange(total.size)
    order = np.lexsort((ids[subset], distance[subset], -total[subset]))
    return subset[order[:k]]


def _free(limit: float, used: float) -> str:
    return "no limit" if np.isinf(limit) else f"{limit - used:,.0f} of {limit:,.0f} free"


def _chosen_reasons(
    item: PutawayItem, quantity: int, bins: BinTable, i: int, chosen: BinScore, purpose: str
) -> list[str]:
    kind = STORAGE_KINDS[int(bins.kind[i])]
    reasons = [
        f"{chosen.code}: storage kind {kind} allowed for {purpose}",
        f"hazard class {item.hazard_class or 'none'} matches",
        f"temperature class {_temperature(item.temperature_class)} matches",
        f"room for {quantity:,} units ({_free(bins.capacity_units[i], bins.units[i])})",
    ]
    volume = item.unit_volume_mm3
    if volume is None:
        reasons.append("volume not checked: the item has no dimensions")
    else:
        reasons.append(
            f"volume {volume * quantity / 1e9:.3f} m³ fits "
            f"({_free(bins.max_volume_mm3[i] / 1e9, bins.volume_mm3[i] / 1e9)} m³)"
            if np.isfinite(bins.max_volume_mm3[i])
            else f"volume {volume * quantity / 1e9:.3f} m³ fits (no limit)"
        )
    if item.weight_g is None:
        reasons.append("weight not checked: the item has no weight")
    else:
        free = _free(bins.max_weight_g[i] / 1000, bins.weight_g[i] / 1000)
        reasons.append(f"weight {item.weight_g * quantity / 1000:,.1f} kg fits ({free} kg)")
    reasons.append(
        f"velocity {item.velocity_class}: {bins.distance[i]:g} from dispatch "
        f"({bins.distance_norm[i]:.0%} of the site's range) → {chosen.velocity:.2f}"
    )
    consolidation = {
        1.0: "holds the same item" + (" and lot" if item.lot_id is not None else ""),
        0.5: "holds the same item in another lot",
        0.0: "holds none of this item",
    }[chosen.consolidation]
    reasons.append(f"{consolidation} → {chosen.consolidation:.2f}")
    reasons.append(f"{chosen.fill:.0%} full after putaway → {chosen.fill:.2f}")
    others = round(chosen.mixing * 3)
    reasons.append(
        "holds no other items"
        if others == 0
        else f"holds {others} other item(s), penalty {chosen.mixing:.2f}"
    )
    return reasons


def _no_fit_reasons(
    item: PutawayItem,
    quantity: int,
    bins: BinTable,
    excluded: Mapping[str, int],
    allowed: frozenset[str],
) -> tuple[str, ...]:
    words = {
        "kind": f"storage kind not {', '.join(sorted(allowed))}",
        "hazard": f"hazard class not {item.hazard_class or 'none'}",
        "temperature": f"temperature class not {_temperature(item.temperature_class)}",
        "units": f"less than {quantity:,} units of room",
        "volume": "too little volume left",
        "weight": "too little weight left",
    }
    head = f"no bin fits {quantity:,} units of {item.label} among {len(bins):,} bins"
    return (head, *(f"{n:,} excluded: {words[c]}" for c, n in excluded.items() if n))


def check_bin(
    item: PutawayItem,
    quantity: int,
    bins: BinTable,
    location_id: int,
    *,
    purpose: Purpose = "putaway",
) -> tuple[Violation, ...]:
    """The hard constraints bin ``location_id`` breaks for this putaway (empty = it may be
    confirmed). An id that is not among the site's candidate bins is a violation too.

    >>> bins = BinTable.from_rows([BinRow(1, "A-01", "storage", temperature_class="frozen")])
    >>> [v.message for v in check_bin(PutawayItem(item_id=7, sku="SKU-7"), 5, bins, 1)]
    ['bin A-01 is temperature class frozen; SKU-7 needs ambient']
    """
    allowed = _validate(quantity, purpose)
    idx = bins.index_of([location_id])
    if idx.size == 0:
        return (Violation("location", f"location {location_id} is not a bin of this site"),)
    i = int(idx[0])
    return tuple(
        Violation(name, _violation_message(name, item, quantity, bins, i, allowed))
        for name, ok in _masks(item, quantity, bins, idx, allowed)
        if not bool(ok[0])
    )


def _violation_message(
    name: str, item: PutawayItem, quantity: int, bins: BinTable, i: int, allowed: frozenset[str]
) -> str:
    code = bins.code[i]
    if name == "kind":
        kind = STORAGE_KINDS[int(bins.kind[i])]
        return f"bin {code} is a {kind} location; allowed: {', '.join(sorted(allowed))}"
    if name == "hazard":
        hazard = bins.hazard_labels[int(bins.hazard[i])] or "none"
        return f"bin {code} is hazard class {hazard}; {item.label} needs " + (
            item.hazard_class or "none"
        )
    if name == "temperature":
        temp = bins.temperature_labels[int(bins.temperature[i])]
        return f"bin {code} is temperature class {temp}; {item.label} needs " + _temperature(
            item.temperature_class
        )
    if name == "units":
        free = bins.capacity_units[i] - bins.units[i]
        return f"bin {code} has room for {max(free, 0):,.0f} units; {quantity:,} to put away"
    if name == "volume":
        m3 = (item.unit_volume_mm3 or 0) * quantity / 1e9
        left = (bins.max_volume_mm3[i] - bins.volume_mm3[i]) / 1e9
        return f"bin {code} has {max(left, 0):.3f} m³ free; {m3:.3f} m³ to put away"
    kg = (item.weight_g or 0) * quantity / 1000
    left = (bins.max_weight_g[i] - bins.weight_g[i]) / 1000
    return f"bin {code} takes {max(left, 0):,.1f} kg more; {kg:,.1f} kg to put away"


@dataclass(frozen=True)
class PutawayRequest:
    """One line of a receipt to put away: the item, how many base units, what bins hold it."""

    item: PutawayItem
    quantity: int
    holdings: Holdings = Holdings()


# Lines × bins cells scored at once: bounds the working arrays (about 16 MB each at most).
_CELLS = 2_000_000


def choose_bins(
    requests: Sequence[PutawayRequest],
    bins: BinTable,
    *,
    purpose: Purpose = "putaway",
    weights: Weights = Weights(),
) -> tuple[int | None, ...]:
    """The bin (location id, or None when nothing fits) of every line of one receipt, decided
    together: the hard constraints and scores of :func:`choose_bin`, as lines × bins arrays.

    Each line is scored against the bins as they are, exactly as :func:`choose_bin` would
    score it alone. The room the lines take is then counted in line order: a line whose
    chosen bin no longer has room for it after the earlier lines of the receipt is decided
    again, by :func:`choose_bin`, against the bins with those earlier lines counted in — so
    the lines of one receipt never overfill a bin together.

    >>> bins = BinTable.from_rows([
    ...     BinRow(1, "R-01", "storage", capacity_units=100, distance=5),
    ...     BinRow(2, "R-02", "storage", capacity_units=100, distance=50),
    ...     BinRow(3, "F-01", "storage", capacity_units=100, temperature_class="frozen"),
    ... ])
    >>> fast = PutawayItem(item_id=7, sku="SKU-7", velocity_class="A")
    >>> frozen = PutawayItem(item_id=8, sku="SKU-8", temperature_class="frozen")
    >>> choose_bins([PutawayRequest(fast, 60), PutawayRequest(fast, 60),
    ...              PutawayRequest(frozen, 10), PutawayRequest(fast, 90)], bins)
    (1, 2, 3, None)
    """
    for r in requests:
        _validate(r.quantity, purpose)
    n, size = len(requests), len(bins)
    if n == 0:
        return ()
    if size == 0:
        return (None,) * n
    chosen = np.full(n, -1, dtype=np.int64)
    chunk = max(1, _CELLS // size)
    for start in range(0, n, chunk):
        part = requests[start : start + chunk]
        chosen[start : start + len(part)] = _best_rows(part, bins, purpose, weights)
    return _fit_in_order(requests, bins, chosen, purpose, weights)


def _best_rows(
    requests: Sequence[PutawayRequest], bins: BinTable, purpose: str, weights: Weights
) -> IntArray:
    """Row index of the best bin per request (-1: none fits), ties as :func:`choose_bin`."""
    allowed = ALLOWED_KINDS[purpose]
    m = len(requests)
    q = np.array([float(r.quantity) for r in requests])[:, None]
    hazard = np.array(
        [_label_code(bins.hazard_labels, r.item.hazard_class or None) for r in requests]
    )
    temp = np.array(
        [
            _label_code(bins.temperature_labels, _temperature(r.item.temperature_class))
            for r in requests
        ]
    )
    kind_ok = np.array([k in allowed for k in STORAGE_KINDS])[bins.kind]
    ok = (
        kind_ok[None, :]
        & (bins.hazard[None, :] == hazard[:, None])
        & (bins.temperature[None, :] == temp[:, None])
        & (bins.capacity_units[None, :] - bins.units[None, :] >= q)
    )
    fill = np.full((m, len(bins)), -1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        limit = bins.capacity_units[None, :]
        used = bins.units[None, :] + q
        fill = np.fmax(fill, np.where(np.isfinite(limit) & (limit > 0), used / limit, -1.0))
        for per_unit, held, cap in (
            ([r.item.unit_volume_mm3 for r in requests], bins.volume_mm3, bins.max_volume_mm3),
            ([r.item.weight_g for r in requests], bins.weight_g, bins.max_weight_g),
        ):
            known = np.array([v is not None for v in per_unit])
            if not known.any():
                continue
            # As choose_bin computes them: the need as float × quantity, the fill from the
            # exact product (so both paths compare the same floats).
            need = np.array(
                [
                    float(v) * r.quantity if v is not None else 0.0
                    for v, r in zip(per_unit, requests, strict=True)
                ]
            )[:, None]
            total_after = np.array(
                [
                    float(v * r.quantity) if v is not None else 0.0
                    for v, r in zip(per_unit, requests, strict=True)
                ]
            )[:, None]
            ok &= ~known[:, None] | (cap[None, :] - held[None, :] >= need)
            ratio = np.where(
                np.isfinite(cap) & (cap > 0), (held[None, :] + total_after) / cap[None, :], -1.0
            )
            fill = np.where(known[:, None], np.fmax(fill, ratio), fill)
    fill = np.where(fill < 0, 0.5, np.minimum(fill, 1.0))
    d = bins.distance_norm
    by_class = {"A": 1.0 - d, "B": 1.0 - 2.0 * np.abs(d - 0.5), "C": d}
    velocity = np.stack([by_class[r.item.velocity_class] for r in requests])
    same_item = np.zeros((m, len(bins)), dtype=bool)
    same_lot = np.zeros((m, len(bins)), dtype=bool)
    for i, r in enumerate(requests):
        if r.holdings.same_item:
            same_item[i, bins.index_of(r.holdings.same_item)] = True
        if r.holdings.same_lot:
            same_lot[i, bins.index_of(r.holdings.same_lot)] = True
    same_lot &= same_item
    lotted = np.array([r.item.lot_id is not None for r in requests])[:, None]
    consolidation = np.where(
        lotted,
        np.where(same_lot, 1.0, np.where(same_item, 0.5, 0.0)),
        same_item.astype(np.float64),
    )
    others = bins.items_held[None, :] - same_item.astype(np.int64)
    mixing = np.minimum(np.maximum(others, 0), 3) / 3.0
    total = (
        weights.velocity * velocity
        + weights.consolidation * consolidation
        + weights.fill * fill
        - weights.mixing * mixing
    )
    total = np.where(ok, total, -np.inf)
    best = total.max(axis=1)
    tied = ok & (total == best[:, None])
    distance = np.where(tied, bins.distance[None, :], np.inf)
    tied &= distance == distance.min(axis=1)[:, None]
    ids = np.where(tied, bins.location_id[None, :], np.iinfo(np.int64).max)
    rows = ids.argmin(axis=1)
    return np.where(ok.any(axis=1), rows, -1)


def _fit_in_order(
    requests: Sequence[PutawayRequest],
    bins: BinTable,
    chosen: IntArray,
    purpose: Purpose,
    weights: Weights,
) -> tuple[int | None, ...]:
    units = np.zeros(len(bins))
    volume = np.zeros(len(bins))
    weight = np.zeros(len(bins))
    out: list[int | None] = []
    for r, row in zip(requests, chosen.tolist(), strict=True):
        if row < 0:
            out.append(None)
            continue
        vol, wt = r.item.unit_volume_mm3, r.item.weight_g
        if units[row] and not _room(bins, row, r, units[row], volume[row], weight[row]):
            # Earlier lines of the receipt took this bin's room: decide again with them in.
            taken = replace(
                bins,
                units=_frozen_floats(bins.units + units),
                volume_mm3=_frozen_floats(bins.volume_mm3 + volume),
                weight_g=_frozen_floats(bins.weight_g + weight),
            )
            decision = choose_bin(
                r.item, r.quantity, taken, holdings=r.holdings, purpose=purpose, weights=weights
            )
            if decision.chosen is None:
                out.append(None)
                continue
            row = int(bins.index_of([decision.chosen.location_id])[0])
        units[row] += r.quantity
        volume[row] += 0 if vol is None else vol * r.quantity
        weight[row] += 0 if wt is None else wt * r.quantity
        out.append(int(bins.location_id[row]))
    return tuple(out)


def _room(
    bins: BinTable, row: int, r: PutawayRequest, units: float, volume: float, weight: float
) -> bool:
    """Whether bin ``row`` still takes ``r`` with ``units``/``volume``/``weight`` already
    promised to earlier lines."""
    if bins.capacity_units[row] - (bins.units[row] + units) < r.quantity:
        return False
    vol, wt = r.item.unit_volume_mm3, r.item.weight_g
    if (
        vol is not None
        and bins.max_volume_mm3[row] - (bins.volume_mm3[row] + volume) < float(vol) * r.quantity
    ):
        return False
    return not (
        wt is not None
        and bins.max_weight_g[row] - (bins.weight_g[row] + weight) < float(wt) * r.quantity
    )
