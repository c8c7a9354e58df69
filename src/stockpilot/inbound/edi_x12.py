"""X12 856 Ship Notice/Manifest: the supplier's advance shipping notice (ASN) over EDI.

Three steps, each pure:

1. `tokenize` reads the delimiters from the fixed-width ISA header (the element separator
   is its 4th character, the component separator is ISA16 and the segment terminator the
   character after it) and splits the interchange into numbered segments. Line breaks after
   a terminator are tolerated, because many senders wrap one segment per line.
2. `check_envelope` proves the interchange is whole: ISA/IEA control numbers and group count,
   GS/GE control numbers and transaction count, ST/SE control numbers and SE01 = the number of
   segments from ST to SE. A truncated file fails here, not later as a wrong quantity.
3. The HL-loop mapper builds the hierarchy by HL01 (id) and HL02 (parent id) — shipment (S),
   order (O), tare/pallet (T), pack/carton (P), item (I), in whatever nesting the sender uses —
   and turns every item into an `AsnLine` that carries what its ancestors say: the PO number
   from the order level, the pallet SSCC from the tare level, the carton SSCC, lot and expiry
   from the pack level when the item does not state them itself.

Every problem raises `X12Error` naming the segment's position in the file, its id and the
element position, so an integrator can find it in their own file. Segments the mapper does not
read (TD1, N3, N4, PO4, …) are skipped: an 856 has many optional ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from stockpilot.inbound.scan import ScanError, normalise_gtin, normalise_sscc
from stockpilot.shared.errors import ValidationFailed

ISA_LENGTH = 106
# Offsets of the element separator inside the fixed-width ISA segment (ISA01 … ISA16).
_ISA_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)
LEVELS = {"S": "shipment", "O": "order", "T": "tare", "P": "pack", "I": "item"}
_GTIN_QUALIFIERS = ("UK", "UP", "EN")  # GTIN-14, U.P.C. (GTIN-12), EAN (GTIN-13)


class X12Error(ValidationFailed):
    """A bad 856: ``segment`` is the 1-based position in the file, ``element`` the position
    within the segment (0 for the segment as a whole)."""

    def __init__(self, segment: int, segment_id: str, element: int, message: str) -> None:
        where = f"{segment_id}{element:02d}" if element else segment_id
        super().__init__(
            f"segment {segment} ({where}): {message}",
            field=where,
            segment=segment,
            segment_id=segment_id,
            element=element,
        )
        self.segment = segment
        self.segment_id = segment_id
        self.element = element


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    segment: str


@dataclass(frozen=True)
class Segment:
    """One segment: ``elements[0]`` is the id, ``elements[n]`` is element n (as X12 counts)."""

    number: int
    elements: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, position: int) -> str:
        """Element ``position`` with trailing padding removed; '' when absent."""
        if position < len(self.elements):
            return self.elements[position].strip()
        return ""

    def require(self, position: int, what: str) -> str:
        value = self.get(position)
        if not value:
            raise self.error(position, f"{what} is missing")
        return value

    def error(self, position: int, message: str) -> X12Error:
        return X12Error(self.number, self.id, position, message)


@dataclass(frozen=True)
class AsnLine:
    """One item of an ASN, with the pallet (``sscc``) and carton it travels on.

    ``quantity`` is a whole number of ``uom`` (the sender's unit code, e.g. EA, CA; None means
    the item's base unit); converting to base units is the receiving service's job.
    ``sscc`` is the outermost logistic unit: the pallet, or the carton when the shipment has
    no pallet level. ``source`` says where the line stands in the sender's file (``HL 4,
    segment 18`` or ``row 3``) so that a later refusal can point there.
    """

    line: int
    po_number: str | None
    po_line: int | None
    sku: str | None
    gtin: str | None
    vendor_part: str | None
    quantity: int
    uom: str | None = None
    lot: str | None = None
    expiry_date: date | None = None
    serials: tuple[str, ...] = ()
    sscc: str | None = None
    carton_sscc: str | None = None
    description: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Asn:
    """An advance shipping notice, as read from X12 856 or from CSV."""

    number: str
    ship_date: date | None
    expected_date: date | None
    supplier_ref: str | None
    lines: tuple[AsnLine, ...]
    purpose: str | None = None
    document_date: date | None = None
    carrier: str | None = None
    bill_of_lading: str | None = None
    carrier_reference: str | None = None
    control_number: str | None = None

    def ssccs(self) -> tuple[str, ...]:
        """Every pallet and carton SSCC of the shipment, in the order they first appear."""
        seen: dict[str, None] = {}
        for line in self.lines:
            for code in (line.sscc, line.carton_sscc):
                if code is not None:
                    seen.setdefault(code)
        return tuple(seen)

    def lines_on(self, sscc: str) -> tuple[AsnLine, ...]:
        """The lines travelling on one pallet or carton: scan its SSCC, receive them all."""
        return tuple(ln for ln in self.lines if sscc in (ln.sscc, ln.carton_sscc))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, tuples as lists."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- 1. tokenizer -----------------------------------------------------------------------------


def tokenize(text: str) -> tuple[Delimiters, list[Segment]]:
    """Split an interchange into segments numbered from 1 (ISA is segment 1)."""
    text = text.lstrip("\ufeff \t\r\n")
    delimiters = _read_isa_delimiters(text)
    isa = Segment(1, tuple(text[: ISA_LENGTH - 1].split(delimiters.element)))
    segments = [isa]
    pieces = text[ISA_LENGTH:].split(delimiters.segment)
    line_terminated = delimiters.segment in "\r\n"
    for index, piece in enumerate(pieces):
        # A line break after a terminator is layout, not data (and CRLF when it is the terminator).
        body = piece.strip("\r\n") if line_terminated else piece.lstrip("\r\n")
        number = len(segments) + 1
        last = index == len(pieces) - 1
        if last:
            seg_id = body.split(delimiters.element, 1)[0].strip()
            if seg_id == "IEA":
                # A missing final terminator (often a missing last newline) loses nothing: a
                # cut inside IEA still fails its control-number check.
                segments.append(_segment(number, body.strip(), delimiters))
            elif body.strip():
                raise X12Error(
                    number,
                    seg_id[:3],
                    0,
                    "the file ends inside this segment (truncated: no terminator)",
                )
            break
        segments.append(_segment(number, body, delimiters))
    return delimiters, segments


def _read_isa_delimiters(text: str) -> Delimiters:
    if not text.startswith("ISA"):
        raise X12Error(1, text[:3] or "ISA", 0, "an X12 interchange must start with ISA")
    if len(text) < ISA_LENGTH:
        raise X12Error(1, "ISA", 0, f"ISA is fixed width ({ISA_LENGTH} characters): truncated")
    element = text[3]
    # The separator after ISAn sits at a fixed offset; a wrongly padded element shifts it.
    after_each = zip(_ISA_SEPARATOR_OFFSETS[1:], _ISA_WIDTHS, strict=True)
    for position, (offset, width) in enumerate(after_each, start=1):
        if text[offset] != element:
            raise X12Error(
                1,
                "ISA",
                position,
                f"ISA is fixed width: ISA{position:02d} must be exactly {width} characters "
                f"(expected the element separator {element!r} at character {offset + 1}, "
                f"found {text[offset]!r})",
            )
    delimiters = Delimiters(element=element, component=text[104], segment=text[105])
    chars = (delimiters.element, delimiters.component, delimiters.segment)
    if len(set(chars)) != 3 or any(c.isalnum() for c in chars):
        raise X12Error(1, "ISA", 16, f"the delimiters {chars!r} must be distinct non-alphanumerics")
    return delimiters


def _segment(number: int, body: str, delimiters: Delimiters) -> Segment:
    elements = tuple(body.split(delimiters.element))
    seg_id = elements[0]
    if not (
        2 <= len(seg_id) <= 3
        and seg_id.isascii()
        and seg_id.isalnum()
        and seg_id[0].isalpha()
        and seg_id == seg_id.upper()
    ):
        shown = body[:20] if body else "an empty segment"
        raise X12Error(number, seg_id[:3] or "?", 0, f"not a segment identifier: {shown!r}")
    return Segment(number, elements)


# --- 2. envelope ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """One transaction set (ST … SE) with the GS of the group it came in."""

    group: Segment
    segments: tuple[Segment, ...]


def check_envelope(segments: Sequence[Segment]) -> list[Transaction]:
    """Check ISA/IEA, GS/GE and ST/SE; return each transaction set, in file order."""
    isa = segments[0]
    control = isa.require(13, "the interchange control number")
    if not (len(control) == 9 and control.isdigit()):
        raise isa.error(13, f"the interchange control number must be 9 digits, got {control!r}")
    transactions: list[Transaction] = []
    groups = 0
    index = 1
    while index < len(segments) and segments[index].id == "GS":
        index = _functional_group(segments, index, transactions)
        groups += 1
    last = segments[-1]
    if index >= len(segments):
        raise last.error(0, "the interchange ends without IEA (truncated)")
    iea = segments[index]
    if iea.id != "IEA":
        raise iea.error(0, "expected GS or IEA here")
    if index != len(segments) - 1:
        raise segments[index + 1].error(0, "segments after IEA")
    if iea.get(2) != control:
        raise iea.error(2, f"IEA02 {iea.get(2)!r} does not match ISA13 {control!r}")
    _check_count(iea, 1, groups, "functional groups (GS)")
    if not transactions:
        raise iea.error(0, "the interchange holds no transaction set")
    return transactions


def _functional_group(
    segments: Sequence[Segment], index: int, transactions: list[Transaction]
) -> int:
    """Read GS … GE from ``index``; return the index after GE."""
    gs = segments[index]
    group_control = gs.require(6, "the group control number")
    count = 0
    index += 1
    while index < len(segments) and segments[index].id == "ST":
        index = _transaction(segments, index, gs, transactions)
        count += 1
    if index >= len(segments):
        raise segments[-1].error(0, f"group {group_control} ends without GE (truncated)")
    ge = segments[index]
    if ge.id != "GE":
        raise ge.error(0, "expected ST or GE here")
    if ge.get(2) != group_control:
        raise ge.error(2, f"GE02 {ge.get(2)!r} does not match GS06 {group_control!r}")
    _check_count(ge, 1, count, "transaction sets (ST)")
    return index + 1


def _transaction(
    segments: Sequence[Segment], index: int, gs: Segment, transactions: list[Transaction]
) -> int:
    """Read ST … SE from ``index``; return the index after SE."""
    st = segments[index]
    kind = st.require(1, "the transaction set identifier")
    if kind != "856":
        raise st.error(1, f"expected transaction set 856 (ship notice), got {kind}")
    st_control = st.require(2, "the transaction set control number")
    end = index + 1
    while end < len(segments) and segments[end].id not in ("SE", "ST", "GE", "IEA"):
        end += 1
    if end >= len(segments) or segments[end].id != "SE":
        stop = segments[min(end, len(segments) - 1)]
        raise stop.error(0, f"transaction {st_control} ends without SE (truncated)")
    se = segments[end]
    if se.get(2) != st_control:
        raise se.error(2, f"SE02 {se.get(2)!r} does not match ST02 {st_control!r}")
    _check_count(se, 1, end - index + 1, "segments from ST to SE")
    transactions.append(Transaction(gs, tuple(segments[index : end + 1])))
    return end + 1


def _check_count(segment: Segment, position: int, counted: int, what: str) -> None:
    stated = segment.get(position)
    if stated != str(counted) and not (stated.isdigit() and int(stated) == counted):
        raise segment.error(position, f"says {stated or 'nothing'} {what}, the file has {counted}")


# --- 3. HL-loop mapper ------------------------------------------------------------------------


@dataclass
class _Loop:
    """One HL and the segments that follow it up to the next HL."""

    hl: Segment
    id: str
    level: str
    parent: _Loop | None
    segments: list[Segment] = field(default_factory=list)
    children: int = 0

    def nearest(self, level: str) -> _Loop | None:
        loop: _Loop | None = self
        while loop is not None and loop.level != level:
            loop = loop.parent
        return loop

    def chain(self) -> Iterable[_Loop]:
        loop: _Loop | None = self
        while loop is not None:
            yield loop
            loop = loop.parent

    def find(self, seg_id: str, qualifier: str | None = None) -> list[Segment]:
        return [
            s
            for s in self.segments
            if s.id == seg_id and (qualifier is None or s.get(1) == qualifier)
        ]


def parse_856(text: str) -> list[Asn]:
    """Parse an X12 interchange of one or more 856 transaction sets into ASNs."""
    _, segments = tokenize(text)
    isa_sender = segments[0].get(6)
    return [
        _map_transaction(list(tx.segments), tx.group.get(2) or isa_sender or None)
        for tx in check_envelope(segments)
    ]


def _map_transaction(segments: list[Segment], sender: str | None) -> Asn:
    st, body = segments[0], segments[1:-1]
    header: list[Segment] = []
    loops = _build_loops(body, header)
    bsn = next((s for s in header if s.id == "BSN"), None)
    if bsn is None:
        raise st.error(0, "the 856 has no BSN (beginning segment) before its first HL")
    if not loops:
        raise segments[-1].error(0, "the 856 has no HL loops: nothing is shipped")
    shipment = loops[0]
    scope = header + shipment.segments
    lines = _lines(loops)
    _check_unique_serials(loops)
    return Asn(
        number=bsn.require(2, "BSN02 (shipment identification)"),
        ship_date=_dtm(scope, "011"),
        expected_date=_dtm(scope, "017"),
        supplier_ref=_supplier(scope) or sender,
        lines=tuple(lines),
        purpose=bsn.get(1) or None,
        document_date=_date(bsn, 3) if bsn.get(3) else None,
        carrier=_carrier(scope),
        bill_of_lading=_ref(scope, "BM"),
        carrier_reference=_ref(scope, "CN"),
        control_number=st.get(2),
    )


def _build_loops(body: list[Segment], header: list[Segment]) -> list[_Loop]:
    loops: list[_Loop] = []
    by_id: dict[str, _Loop] = {}
    for segment in body:
        if segment.id == "HL":
            loop = _new_loop(segment, by_id, loops)
            loops.append(loop)
            by_id[loop.id] = loop
        elif segment.id == "CTT":
            continue  # transaction totals: the envelope counts already prove completeness
        elif loops:
            loops[-1].segments.append(segment)
        else:
            header.append(segment)
    return loops


def _new_loop(hl: Segment, by_id: dict[str, _Loop], loops: list[_Loop]) -> _Loop:
    loop_id = hl.require(1, "HL01 (hierarchical id)")
    if loop_id in by_id:
        raise hl.error(1, f"HL id {loop_id} is used twice")
    level = hl.require(3, "HL03 (level code)")
    if level not in LEVELS:
        raise hl.error(3, f"unknown level {level!r} (expected S, O, T, P or I)")
    parent_id = hl.get(2)
    if not loops:
        if level != "S" or parent_id:
            raise hl.error(3, "the first HL must be the shipment (S) with no parent")
        return _Loop(hl, loop_id, level, None)
    if level == "S":
        raise hl.error(3, "only one shipment (S) level is allowed per 856")
    if not parent_id:
        raise hl.error(2, f"HL {loop_id} ({LEVELS[level]}) needs a parent id")
    parent = by_id.get(parent_id)
    if parent is None:
        raise hl.error(2, f"parent HL {parent_id} is not an earlier HL of this transaction")
    if parent.level == "I":
        raise hl.error(2, f"parent HL {parent_id} is an item: items hold no other levels")
    parent.children += 1
    return _Loop(hl, loop_id, level, parent)


def _lines(loops: list[_Loop]) -> list[AsnLine]:
    items = [loop for loop in loops if loop.level == "I"]
    if not items:
        raise loops[-1].hl.error(3, "the 856 has no item (I) level")
    return [_line(number, item) for number, item in enumerate(items, start=1)]


def _line(number: int, item: _Loop) -> AsnLine:
    lin = _one(item, "LIN")
    ids = _lin_ids(lin)
    if not any(ids.get(q) for q in ("SK", "BP", "VP", *_GTIN_QUALIFIERS)):
        raise lin.error(2, "LIN names no item: expected SK, BP, VP, UK, UP or EN")
    sn1 = _one(item, "SN1")
    order = item.nearest("O")
    tare, pack = item.nearest("T"), item.nearest("P")
    pallet_sscc = _sscc(tare) if tare else None
    carton_sscc = _sscc(pack) if pack else None
    return AsnLine(
        line=number,
        po_number=ids.get("PO") or (_po_number(order) if order else None),
        po_line=_po_line(lin, ids),
        sku=ids.get("SK") or ids.get("BP"),
        gtin=_gtin(lin, ids),
        vendor_part=ids.get("VP"),
        quantity=_quantity(sn1),
        uom=sn1.require(3, "SN103 (unit of measure)"),
        lot=_inherited_ref(item, "LT"),
        expiry_date=_inherited_dtm(item, "036"),
        serials=tuple(s.require(2, "REF02 (serial number)") for s in item.find("REF", "SE")),
        sscc=pallet_sscc or carton_sscc,
        carton_sscc=carton_sscc if pallet_sscc else None,
        description=next((p.get(5) for p in item.find("PID") if p.get(5)), None),
        source=f"HL {item.id}, segment {item.hl.number}",
    )


def _one(item: _Loop, seg_id: str) -> Segment:
    found = item.find(seg_id)
    if not found:
        raise item.hl.error(0, f"item HL {item.id} has no {seg_id}")
    if len(found) > 1:
        raise found[1].error(0, f"item HL {item.id} has a second {seg_id}")
    return found[0]


def _lin_ids(lin: Segment) -> dict[str, str]:
    """LIN02/03, LIN04/05, …: qualifier → identifier (unknown qualifiers are ignored)."""
    ids: dict[str, str] = {}
    for position in range(2, len(lin.elements), 2):
        qualifier, value = lin.get(position), lin.get(position + 1)
        if qualifier and not value:
            raise lin.error(position + 1, f"LIN qualifier {qualifier} has no identifier")
        if qualifier and qualifier not in ids:
            ids[qualifier] = value
    return ids


def _position_of(lin: Segment, qualifier: str) -> int:
    for position in range(2, len(lin.elements), 2):
        if lin.get(position) == qualifier:
            return position + 1
    return 0


def _gtin(lin: Segment, ids: dict[str, str]) -> str | None:
    for qualifier in _GTIN_QUALIFIERS:
        if qualifier in ids:
            try:
                return normalise_gtin(ids[qualifier])
            except ScanError as exc:
                raise lin.error(_position_of(lin, qualifier), exc.detail) from None
    return None


def _po_line(lin: Segment, ids: dict[str, str]) -> int | None:
    position = 1 if lin.get(1) else _position_of(lin, "PL")
    raw = lin.get(1) or ids.get("PL", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise lin.error(position, f"the PO line number must be a whole number, got {raw!r}")
    return int(raw)


def _po_number(order: _Loop) -> str | None:
    prf = order.find("PRF")
    return prf[0].require(1, "PRF01 (purchase order number)") if prf else None


def _quantity(sn1: Segment) -> int:
    raw = sn1.require(2, "SN102 (quantity shipped)")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise sn1.error(2, f"the quantity shipped is not a number: {raw!r}") from None
    if value != value.to_integral_value():
        raise sn1.error(2, f"the quantity shipped must be a whole number, got {raw}")
    if value <= 0:
        raise sn1.error(2, f"the quantity shipped must be positive, got {raw}")
    return int(value)


def _sscc(loop: _Loop) -> str | None:
    marks = loop.find("MAN", "GM")
    if not marks:
        return None
    codes = {m.require(2, "MAN02 (SSCC)") for m in marks}
    if len(codes) > 1:
        raise marks[1].error(2, f"HL {loop.id} carries two different SSCCs")
    try:
        return normalise_sscc(marks[0].get(2))
    except ScanError as exc:
        raise marks[0].error(2, exc.detail) from None


def _inherited_ref(item: _Loop, qualifier: str) -> str | None:
    """The item's own REF, else its carton's, else its pallet's (one lot per carton/pallet)."""
    for loop in item.chain():
        if loop.level in ("I", "P", "T"):
            refs = loop.find("REF", qualifier)
            if refs:
                return refs[0].require(2, f"REF02 ({qualifier})")
    return None


def _inherited_dtm(item: _Loop, qualifier: str) -> date | None:
    for loop in item.chain():
        if loop.level in ("I", "P", "T"):
            found = _dtm(loop.segments, qualifier)
            if found is not None:
                return found
    return None


def _check_unique_serials(loops: list[_Loop]) -> None:
    seen: dict[str, int] = {}
    for loop in loops:
        for ref in loop.find("REF", "SE"):
            serial = ref.get(2)
            if serial in seen:
                raise ref.error(
                    2, f"serial {serial} is listed twice (first at segment {seen[serial]})"
                )
            seen[serial] = ref.number


def _dtm(segments: Iterable[Segment], qualifier: str) -> date | None:
    for segment in segments:
        if segment.id == "DTM" and segment.get(1) == qualifier:
            if segment.get(2):
                return _date(segment, 2)
            if segment.get(5) == "D8" and segment.get(6):
                return _date(segment, 6)
            raise segment.error(2, f"DTM {qualifier} has no date")
    return None


def _date(segment: Segment, position: int) -> date:
    raw = segment.get(position)
    try:
        if len(raw) == 8 and raw.isdigit():
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        if len(raw) == 6 and raw.isdigit():  # YYMMDD of older X12 versions
            return date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:]))
    except ValueError:
        pass
    raise segment.error(position, f"not a date (CCYYMMDD): {raw!r}")


def _ref(segments: Iterable[Segment], qualifier: str) -> str | None:
    for segment in segments:
        if segment.id == "REF" and segment.get(1) == qualifier:
            return segment.require(2, f"REF02 ({qualifier})")
    return None


def _carrier(segments: Iterable[Segment]) -> str | None:
    for segment in segments:
        if segment.id == "TD5":
            return segment.get(3) or segment.get(5) or None
    return None


def _supplier(segments: Iterable[Segment]) -> str | None:
    """The supplier (N1 SU), else the ship-from party (N1 SF): its code, else its name."""
    parties = {s.get(1): s for s in segments if s.id == "N1"}
    for role in ("SU", "SF"):
        party = parties.get(role)
        if party is not None:
            return party.get(4) or party.get(2) or None
    return None
