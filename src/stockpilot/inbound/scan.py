"""Reading GS1 barcodes scanned at the dock: GS1-128, GS1 DataMatrix and GS1 QR element strings.

A scan arrives in one of three shapes:

- as the scanner sends it, with or without an AIM symbology identifier (``]C1`` GS1-128,
  ``]d2`` GS1 DataMatrix, ``]Q3`` GS1 QR) and with FNC1 transmitted as the group separator
  ``\\x1d`` after each variable-length field;
- as the human-readable line printed under the bars, ``(01)09501101020917(17)261200(10)L42``,
  typed in when a label will not scan;
- as a bare GTIN-8/12/13/14 (a retail EAN/UPC or an ITF-14 case code) or an 18-digit SSCC.

`biip` parses the element strings and checks the GS1 data rules; this module turns its result
into a `Scan` with exactly the fields receiving uses, and turns every problem into a
`ScanError` that names the field — biip reports bad check digits in ``*_error`` attributes
instead of raising, so they are checked here one by one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from biip import ParseConfig, ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.symbology import GS1Symbology, SymbologyIdentifier

from stockpilot.shared.errors import ValidationFailed

GROUP_SEPARATOR = "\x1d"

# The AIs receiving reads, and the Scan field each one fills. Other known AIs (weights,
# prices, internal company data) are kept in ``Scan.elements`` and otherwise ignored.
FIELD_OF_AI: dict[str, str] = {
    "00": "sscc",
    "01": "gtin",
    "02": "gtin",
    "10": "lot",
    "15": "best_before",
    "17": "expiry_date",
    "21": "serial",
    "30": "quantity",
    "37": "quantity",
}

# Symbologies that carry GS1 element strings; anything else (EAN-13, ITF-14, Code 128 without
# FNC1) carries a bare number.
_GS1_MESSAGE_SYMBOLOGIES = frozenset(
    {
        GS1Symbology.GS1_128,
        GS1Symbology.GS1_DATAMATRIX,
        GS1Symbology.GS1_QR_CODE,
        GS1Symbology.GS1_DATABAR,
        GS1Symbology.GS1_DOTCODE,
        GS1Symbology.GS1_COMPOSITE_WITH_SEPARATOR_CHAR,
    }
)
_GTIN_LENGTHS = (8, 12, 13, 14)
_HRI_ELEMENT = re.compile(r"\((\d{2,4})\)([^()]*)")
_AI_IN_MESSAGE = re.compile(r"GS1 AI \((\d{2,4})\)")


class ScanError(ValidationFailed):
    """A scan that cannot be used: ``field`` names the Scan field (or ``scan`` for the whole)."""

    def __init__(self, detail: str, *, field: str, ai: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.ai = ai


@dataclass(frozen=True)
class Scan:
    """What one scan says about the goods in front of the operator.

    ``gtin`` is always the 14-digit form: from AI 01 (the scanned trade item itself) or AI 02
    (the trade items inside a logistic unit, on pallet labels beside AI 00 and AI 37).
    ``quantity`` is the variable count of AI 30 or AI 37, a whole number of the GTIN's units.
    """

    raw: str
    symbology: str | None
    gtin: str | None = None
    lot: str | None = None
    expiry_date: date | None = None
    best_before: date | None = None
    serial: str | None = None
    quantity: int | None = None
    sscc: str | None = None
    elements: tuple[tuple[str, str], ...] = ()

    @property
    def is_pallet_label(self) -> bool:
        """An SSCC label: the operator scanned a logistic unit, not a trade item."""
        return self.sscc is not None


# --- check digits -----------------------------------------------------------------------------


def gs1_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of ``payload`` (a GTIN or SSCC without its last digit)."""
    if not payload.isdecimal() or not payload.isascii():
        raise ValueError(f"a GS1 check digit needs digits only, got {payload!r}")
    return gs1_standard_check_digit(payload)


def is_valid_gtin(code: str) -> bool:
    """True for an 8, 12, 13 or 14 digit GTIN whose check digit is right."""
    return _is_gs1_number(code, _GTIN_LENGTHS)


def is_valid_sscc(code: str) -> bool:
    """True for an 18-digit SSCC whose check digit is right."""
    return _is_gs1_number(code, (18,))


def _is_gs1_number(code: str, lengths: Sequence[int]) -> bool:
    if len(code) not in lengths or not code.isdecimal() or not code.isascii():
        return False
    return gs1_check_digit(code[:-1]) == int(code[-1])


def normalise_gtin(code: str, *, field: str = "gtin") -> str:
    """A GTIN of any length as its 14-digit form, or a ScanError naming ``field``."""
    value = code.strip()
    if len(value) not in _GTIN_LENGTHS or not value.isdecimal() or not value.isascii():
        raise ScanError(f"{value!r} is not a GTIN: expected 8, 12, 13 or 14 digits", field=field)
    _check_digit_or_raise(value, field=field, kind="GTIN")
    return value.zfill(14)


def normalise_sscc(code: str, *, field: str = "sscc") -> str:
    """An SSCC as its 18 digits (a leading AI ``00`` is dropped), or a ScanError."""
    value = code.strip()
    if len(value) == 20 and value.startswith("00"):
        value = value[2:]
    if len(value) != 18 or not value.isdecimal() or not value.isascii():
        raise ScanError(f"{value!r} is not an SSCC: expected 18 digits", field=field)
    _check_digit_or_raise(value, field=field, kind="SSCC")
    return value


def _check_digit_or_raise(value: str, *, field: str, kind: str, ai: str | None = None) -> None:
    expected = gs1_check_digit(value[:-1])
    if expected != int(value[-1]):
        raise ScanError(
            f"bad check digit in {kind} {value}: the last digit should be {expected}, "
            f"not {value[-1]}",
            field=field,
            ai=ai,
        )


# --- parsing ----------------------------------------------------------------------------------


def parse_scan(text: str, *, separators: Sequence[str] = (GROUP_SEPARATOR,)) -> Scan:
    """Parse one scan into a `Scan`; raise `ScanError` naming the field on any problem.

    ``separators`` are the characters the site's scanners send for FNC1 (the ASCII group
    separator unless a scanner was configured otherwise).
    """
    raw = text
    value = text.strip().lstrip("\ufeff")
    if not value:
        raise ScanError("the scan is empty", field="scan")
    symbology, value = _split_symbology(value)
    value = value.lstrip("".join(separators))  # a leading FNC1 is the GS1 start marker
    if not value:
        raise ScanError("the scan carries no data after its symbology identifier", field="scan")
    if value.startswith("("):
        elements = _parse_hri(value)
    elif _is_bare_number(value, symbology):
        return _bare_number(raw, symbology, value)
    elif symbology is not None and symbology.gs1_symbology not in _GS1_MESSAGE_SYMBOLOGIES:
        raise ScanError(
            f"a {symbology.value} barcode carries no GS1 data: scan the GS1-128 or DataMatrix "
            "label",
            field="scan",
        )
    else:
        elements = _parse_element_strings(value, separators)
    return _scan_from_elements(raw, symbology, elements)


def _split_symbology(value: str) -> tuple[SymbologyIdentifier | None, str]:
    if not value.startswith("]"):
        return None, value
    try:
        symbology = SymbologyIdentifier.extract(value)
    except (ParseError, IndexError, ValueError):
        raise ScanError(
            f"the scan starts with ']' but {value[:3]!r} is not a symbology identifier",
            field="scan",
        ) from None
    return symbology, value[len(symbology) :]


def _is_bare_number(value: str, symbology: SymbologyIdentifier | None) -> bool:
    """A plain EAN/UPC/ITF number rather than element strings.

    Without a symbology identifier an all-digit scan of a GTIN's or an SSCC's length is read
    as that number: no complete GS1 message of AI 01 or AI 00 has those lengths.
    """
    if symbology is not None and symbology.gs1_symbology in _GS1_MESSAGE_SYMBOLOGIES:
        return False
    return value.isdecimal() and value.isascii() and len(value) in (*_GTIN_LENGTHS, 18)


def _bare_number(raw: str, symbology: SymbologyIdentifier | None, value: str) -> Scan:
    sym = symbology.value if symbology else None
    if len(value) == 18:
        return Scan(raw=raw, symbology=sym, sscc=normalise_sscc(value), elements=(("00", value),))
    return Scan(raw=raw, symbology=sym, gtin=normalise_gtin(value), elements=(("01", value),))


def _parse_element_strings(value: str, separators: Sequence[str]) -> list[GS1ElementString]:
    config = ParseConfig(separator_chars=tuple(separators))
    elements: list[GS1ElementString] = []
    position, rest = 0, value
    while rest:
        elements.append(_extract_one(rest, position, config))
        taken = len(elements[-1])
        skipped = len(rest[taken:]) - len(rest[taken:].lstrip("".join(separators)))
        position += taken + skipped
        rest = rest[taken + skipped :]
    return elements


def _extract_one(rest: str, position: int, config: ParseConfig) -> GS1ElementString:
    try:
        GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        shown = rest[:12] + ("…" if len(rest) > 12 else "")
        if position == 0 and not rest[:2].isdigit():
            raise ScanError(
                f"{shown!r} is not GS1 barcode data (it must start with an application "
                "identifier such as (01) or (00))",
                field="scan",
            ) from None
        raise ScanError(
            f"unknown GS1 application identifier at position {position + 1} ({shown!r}); "
            "a variable-length field before it may lack its FNC1 separator",
            field="scan",
        ) from None
    try:
        return GS1ElementString.extract(rest, config=config)
    except ParseError as exc:
        raise _element_error(exc, rest[:24]) from None


def _parse_hri(value: str) -> list[GS1ElementString]:
    text = "".join(value.split())
    matches = list(_HRI_ELEMENT.finditer(text))
    covered = sum(len(m.group(0)) for m in matches)
    if not matches or covered != len(text) or matches[0].start() != 0:
        raise ScanError(
            f"cannot read {value!r} as '(AI)data(AI)data…': every field needs its AI in "
            "parentheses",
            field="scan",
        )
    elements: list[GS1ElementString] = []
    for match in matches:
        ai, data = match.group(1), match.group(2)
        try:
            known = GS1ApplicationIdentifier.extract(ai).ai == ai
        except ParseError:
            known = False
        if not known:
            raise ScanError(f"unknown GS1 application identifier ({ai})", field="scan", ai=ai)
        try:
            elements.append(GS1ElementString.parse(ai + data))
        except ParseError as exc:
            raise _element_error(exc, ai + data, ai=ai) from None
    return elements


def _element_error(exc: ParseError, shown: str, ai: str | None = None) -> ScanError:
    """biip's message names the AI whose data does not fit; say it with our field name."""
    if ai is None:
        found = _AI_IN_MESSAGE.search(str(exc))
        ai = found.group(1) if found else None
    field = FIELD_OF_AI.get(ai or "", "scan")
    if ai is None:
        return ScanError(f"cannot read {shown!r} as GS1 element strings", field=field)
    hint = f"format {GS1ApplicationIdentifier.extract(ai).format}"
    if field in _DATES:
        hint += ", YYMMDD with a real month; day 00 means the month's last day"
    label = _LABELS.get(field, "data")
    return ScanError(
        f"the {label} in AI ({ai}) is not valid: {shown!r} ({hint})", field=field, ai=ai
    )


_DATES = ("expiry_date", "best_before")
_LABELS = {
    "gtin": "GTIN",
    "sscc": "SSCC",
    "lot": "lot",
    "expiry_date": "expiry date",
    "best_before": "best-before date",
    "serial": "serial number",
    "quantity": "count",
}


def _scan_from_elements(
    raw: str, symbology: SymbologyIdentifier | None, elements: list[GS1ElementString]
) -> Scan:
    values: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for element in elements:
        ai = element.ai.ai
        if seen.get(ai, element.value) != element.value:
            raise ScanError(
                f"AI ({ai}) appears twice with different data ({seen[ai]!r}, {element.value!r})",
                field=FIELD_OF_AI.get(ai, "scan"),
                ai=ai,
            )
        seen[ai] = element.value
        name = FIELD_OF_AI.get(ai)
        if name is not None:
            values[name] = _field_value(element, name)
    if "01" in seen and "02" in seen:
        raise ScanError(
            "AI (01) and AI (02) cannot both be in one scan: (01) identifies the scanned item, "
            "(02) the items inside a logistic unit",
            field="gtin",
            ai="02",
        )
    return Scan(
        raw=raw,
        symbology=symbology.value if symbology else None,
        elements=tuple((e.ai.ai, e.value) for e in elements),
        **values,
    )


def _field_value(element: GS1ElementString, name: str) -> object:
    ai = element.ai.ai
    if name == "gtin":
        if element.gtin_error is not None or element.gtin is None:
            _check_digit_or_raise(element.value, field="gtin", kind="GTIN", ai=ai)
        return element.value.zfill(14)
    if name == "sscc":
        if element.sscc_error is not None or element.sscc is None:
            _check_digit_or_raise(element.value, field="sscc", kind="SSCC", ai=ai)
        return element.value
    if name in _DATES:
        if element.date is None:  # biip leaves it unset only when date checks are off
            raise ScanError(f"AI ({ai}) is not a date: {element.value!r}", field=name, ai=ai)
        return element.date
    if name == "quantity":
        count = int(element.value)
        if count <= 0:
            raise ScanError(
                f"the count in AI ({ai}) must be positive, got {count}", field=name, ai=ai
            )
        return count
    return element.value


# --- matching a scan to the catalog -----------------------------------------------------------


def sku_for_gtin(
    scan: Scan | str, gtins: Mapping[str, str], *, expected_sku: str | None = None
) -> str:
    """The SKU the scanned GTIN belongs to, from ``gtins`` (GTIN of any length → SKU).

    An unknown GTIN is refused, and so is a GTIN of another item than ``expected_sku`` (the
    line being received) — both name the ``gtin`` field.
    """
    raw = scan.gtin if isinstance(scan, Scan) else scan
    if raw is None:
        raise ScanError("the scan carries no GTIN (AI 01 or 02)", field="gtin")
    gtin = normalise_gtin(raw)
    sku = next((gtins[form] for form in _gtin_forms(gtin) if form in gtins), None)
    if sku is None:
        whose = f" of {expected_sku}" if expected_sku is not None else ""
        raise ScanError(f"GTIN {gtin} is not a known GTIN{whose}", field="gtin")
    if expected_sku is not None and sku != expected_sku:
        raise ScanError(f"GTIN {gtin} belongs to {sku}, not to {expected_sku}", field="gtin")
    return sku


def _gtin_forms(gtin14: str) -> Iterable[str]:
    """The ways a catalog may write one GTIN: 14 digits, or 13/12/8 without leading zeros.

    Looking each form up keeps the match O(1) however many GTINs the caller passes.
    """
    yield gtin14
    for length in (13, 12, 8):
        if gtin14[: 14 - length].strip("0") == "":
            yield gtin14[14 - length :]
