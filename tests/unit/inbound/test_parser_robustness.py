"""Whatever arrives, the inbound parsers answer with their own typed error, never a crash."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.inbound.edi_x12 import X12Error, parse_856
from stockpilot.inbound.scan import ScanError, gs1_check_digit, is_valid_gtin, parse_scan

GOLDEN = Path(__file__).parent / "golden"
FILES = [p.read_bytes().decode("utf-8") for p in sorted(GOLDEN.glob("*.x12"))]
GS = "\x1d"

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
lot_chars = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./", min_size=1
)


@settings(max_examples=300, deadline=None)
@given(
    file=st.sampled_from(FILES),
    cut=st.floats(min_value=0, max_value=1),
    position=st.floats(min_value=0, max_value=1),
    junk=st.text(max_size=3),
)
def test_a_damaged_856_is_either_read_or_refused_with_an_x12_error(
    file: str, cut: float, position: float, junk: str
) -> None:
    at = int(position * len(file))
    damaged = (file[:at] + junk + file[at + len(junk) :])[: max(1, int(cut * len(file)) + 1)]
    try:
        parse_856(damaged)
    except X12Error as error:
        assert error.segment >= 1 and error.detail.startswith(f"segment {error.segment} ")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_scanned_is_either_read_or_refused_with_a_scan_error(text: str) -> None:
    try:
        parse_scan(text)
    except ScanError as error:
        assert error.field in {
            "scan",
            "gtin",
            "sscc",
            "lot",
            "expiry_date",
            "best_before",
            "serial",
            "quantity",
        }


@settings(max_examples=200, deadline=None)
@given(
    payload=st.text(alphabet="0123456789", min_size=13, max_size=13),
    lot=lot_chars.filter(lambda s: len(s) <= 20),
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    serial=lot_chars.filter(lambda s: len(s) <= 20),
)
def test_a_built_gs1_128_label_reads_back_what_was_printed(
    payload: str, lot: str, expiry: date, serial: str
) -> None:
    gtin = payload + str(gs1_check_digit(payload))
    text = f"]C101{gtin}17{expiry:%y%m%d}10{lot}{GS}21{serial}"
    scan = parse_scan(text)
    assert (scan.gtin, scan.expiry_date, scan.lot, scan.serial) == (gtin, expiry, lot, serial)


@settings(max_examples=200, deadline=None)
@given(
    payload=st.text(alphabet="0123456789", min_size=13, max_size=13),
    index=st.integers(min_value=0, max_value=13),
    shift=st.integers(min_value=1, max_value=9),
)
def test_any_single_wrong_digit_in_a_gtin_is_caught(payload: str, index: int, shift: int) -> None:
    gtin = payload + str(gs1_check_digit(payload))
    wrong = gtin[:index] + str((int(gtin[index]) + shift) % 10) + gtin[index + 1 :]
    assert is_valid_gtin(gtin)
    assert not is_valid_gtin(wrong)
