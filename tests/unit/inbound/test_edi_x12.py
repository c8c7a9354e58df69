"""X12 856 ship notices: golden files parse to their reviewed JSON; malformed ones fail exactly."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from stockpilot.inbound.edi_x12 import Asn, X12Error, check_envelope, parse_856, tokenize

GOLDEN = Path(__file__).parent / "golden"
MALFORMED = GOLDEN / "malformed"
EXPECTED_ERRORS: dict[str, dict[str, object]] = json.loads(
    (MALFORMED / "expected.json").read_text(encoding="utf-8")
)


def read(path: Path) -> str:
    # Bytes, not text mode: line ends are part of what the files test.
    return path.read_bytes().decode("utf-8")


def golden(name: str) -> list[Asn]:
    return parse_856(read(GOLDEN / name))


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.x12")))
def test_each_golden_856_parses_to_the_json_beside_it(name: str) -> None:
    expected = json.loads((GOLDEN / name).with_suffix(".json").read_text(encoding="utf-8"))
    assert [asn.as_dict() for asn in golden(name)] == expected


def test_there_are_golden_files_for_every_shape_we_promise() -> None:
    names = {p.stem for p in GOLDEN.glob("*.x12")}
    assert {
        "single_po_single_pallet",
        "multi_po_multi_pallet",
        "serials",
        "variant_separators_crlf",
        "two_asns_newline_terminated",
    } <= names


@pytest.mark.parametrize("name", sorted(EXPECTED_ERRORS))
def test_each_malformed_856_fails_naming_segment_and_element(name: str) -> None:
    with pytest.raises(X12Error) as caught:
        parse_856(read(MALFORMED / name))
    error, expected = caught.value, EXPECTED_ERRORS[name]
    assert (error.segment, error.segment_id, error.element, error.detail) == (
        expected["segment"],
        expected["segment_id"],
        expected["element"],
        expected["detail"],
    )


def test_every_malformed_file_has_its_expected_error() -> None:
    assert {p.name for p in MALFORMED.glob("*.x12")} == set(EXPECTED_ERRORS)


# --- what the golden files say, in words -------------------------------------------------------


def test_a_single_pallet_asn_names_its_po_its_dates_and_its_carrier() -> None:
    (asn,) = golden("single_po_single_pallet.x12")
    assert (asn.number, asn.ship_date, asn.expected_date) == (
        "ASN-1001",
        date(2026, 11, 28),
        date(2026, 12, 1),
    )
    assert (asn.carrier, asn.bill_of_lading, asn.carrier_reference) == (
        "DHLF",
        "BOL-778812",
        "PRO-55501",
    )
    assert asn.supplier_ref == "S1"
    assert {line.po_number for line in asn.lines} == {"PO-1001"}
    assert [line.po_line for line in asn.lines] == [1, 2]


def test_scanning_the_pallet_sscc_finds_every_line_on_that_pallet() -> None:
    (asn,) = golden("multi_po_multi_pallet.x12")
    assert asn.ssccs() == (
        "034012345000000118",
        "008712345000123453",
        "008712345000123460",
        "034012345000000125",
        "034012345000000132",
    )
    on_pallet = asn.lines_on("034012345000000118")
    assert [(ln.sku, ln.lot, ln.quantity) for ln in on_pallet] == [
        ("MED-10", "L2611A", 24),
        ("MED-10", "L2611B", 24),
    ]
    assert [ln.po_number for ln in asn.lines_on("034012345000000132")] == ["PO-2002", "PO-2002"]


def test_scanning_a_carton_sscc_finds_only_that_carton() -> None:
    (asn,) = golden("multi_po_multi_pallet.x12")
    (line,) = asn.lines_on("008712345000123460")
    assert (line.lot, line.expiry_date, line.sscc) == (
        "L2611B",
        date(2028, 2, 29),
        "034012345000000118",
    )


def test_an_unknown_sscc_finds_no_lines() -> None:
    (asn,) = golden("multi_po_multi_pallet.x12")
    assert asn.lines_on("376104250021234569") == ()


def test_lot_and_expiry_stated_on_a_carton_or_pallet_apply_to_the_items_inside() -> None:
    (asn,) = golden("multi_po_multi_pallet.x12")
    by_line = {ln.line: ln for ln in asn.lines}
    assert (by_line[2].lot, by_line[2].expiry_date) == ("L2611B", date(2028, 2, 29))  # carton
    assert (by_line[3].lot, by_line[3].expiry_date) == ("L2610Z", date(2027, 11, 30))  # pallet


def test_the_supplier_level_wins_over_ship_from_as_the_supplier_reference() -> None:
    (asn,) = golden("multi_po_multi_pallet.x12")
    assert asn.supplier_ref == "S2"


def test_serials_are_read_from_ref_se_with_or_without_sln_sublines() -> None:
    (asn,) = golden("serials.x12")
    assert [ln.serials for ln in asn.lines] == [
        ("DR18-000101", "DR18-000102", "DR18-000103"),
        ("DR18-000104", "DR18-000105"),
    ]


def test_without_a_pallet_level_each_carton_is_the_unit_to_scan() -> None:
    (asn,) = golden("serials.x12")
    assert [(ln.sscc, ln.carton_sscc) for ln in asn.lines] == [
        ("034012345000000200", None),
        ("034012345000000217", None),
    ]


def test_other_separators_and_crlf_line_ends_read_the_same_way() -> None:
    (asn,) = golden("variant_separators_crlf.x12")
    (line,) = asn.lines
    assert (line.sku, line.gtin, line.quantity, line.uom, line.po_line) == (
        "PAPER-A4",
        "00040123450009",
        40,
        "CA",
        3,
    )
    assert asn.expected_date == date(2026, 12, 4)  # DTM05 D8 + DTM06 form


def test_two_transaction_sets_in_one_interchange_are_two_asns() -> None:
    first, second = golden("two_asns_newline_terminated.x12")
    assert (first.number, second.number) == ("ASN-5005", "ASN-5006")
    assert second.purpose == "05"  # a replacement of an earlier notice
    assert second.supplier_ref == "MIXEDGOODS"  # no N1: the GS sender


def test_a_pallet_above_the_orders_gives_each_po_line_the_pallet_sscc() -> None:
    first, _ = golden("two_asns_newline_terminated.x12")
    assert [(ln.po_number, ln.sscc) for ln in first.lines] == [
        ("PO-5001", "008712345000123453"),
        ("PO-5002", "008712345000123453"),
    ]


# --- tokenizer and envelope ---------------------------------------------------------------------

SINGLE = read(GOLDEN / "single_po_single_pallet.x12")


def test_the_delimiters_come_from_the_isa_header() -> None:
    delimiters, segments = tokenize(read(GOLDEN / "variant_separators_crlf.x12"))
    assert (delimiters.element, delimiters.component, delimiters.segment) == ("|", "^", "!")
    assert [s.id for s in segments[:4]] == ["ISA", "GS", "ST", "BSN"]
    assert segments[0].get(16) == "^"


def test_segments_are_numbered_from_the_isa_as_segment_one() -> None:
    _, segments = tokenize(SINGLE)
    assert [(s.number, s.id) for s in segments[-3:]] == [(27, "SE"), (28, "GE"), (29, "IEA")]


def test_a_newline_after_each_terminator_changes_nothing() -> None:
    wrapped = SINGLE.replace("~", "~\n")
    assert parse_856(wrapped) == parse_856(SINGLE)


def test_a_byte_order_mark_and_leading_blank_lines_are_ignored() -> None:
    assert parse_856("\ufeff\r\n" + SINGLE) == parse_856(SINGLE)


def test_the_envelope_returns_each_transaction_from_st_to_se() -> None:
    _, segments = tokenize(SINGLE)
    (transaction,) = check_envelope(segments)
    assert transaction.group.id == "GS"
    ids = [s.id for s in transaction.segments]
    assert (ids[0], ids[-1], len(ids)) == ("ST", "SE", 25)


def test_a_file_that_is_not_x12_is_refused_at_segment_one() -> None:
    with pytest.raises(X12Error) as caught:
        parse_856("UNA:+.? 'UNB+UNOC:3+SENDER'")
    assert (caught.value.segment, caught.value.element) == (1, 0)
    assert "must start with ISA" in caught.value.detail


def test_a_short_isa_is_truncated() -> None:
    with pytest.raises(X12Error, match="fixed width"):
        parse_856(SINGLE[:80])


def test_segments_after_iea_are_refused() -> None:
    with pytest.raises(X12Error, match="segments after IEA") as caught:
        parse_856(SINGLE + "ST*856*0002~")
    assert caught.value.segment == 30


def test_an_empty_segment_between_two_terminators_is_refused() -> None:
    with pytest.raises(X12Error, match="not a segment identifier"):
        parse_856(SINGLE.replace("CTT*5~", "CTT*5~~"))


def test_a_second_shipment_level_is_refused() -> None:
    with pytest.raises(X12Error, match="only one shipment") as caught:
        parse_856(SINGLE.replace("HL*2*1*O", "HL*2**S"))
    assert (caught.value.segment_id, caught.value.element) == ("HL", 3)


def test_an_hl_id_used_twice_is_refused() -> None:
    with pytest.raises(X12Error, match="HL id 4 is used twice") as caught:
        parse_856(SINGLE.replace("HL*5*3*I", "HL*4*3*I"))
    assert caught.value.element == 1


def test_a_level_nested_under_an_item_is_refused() -> None:
    with pytest.raises(X12Error, match="items hold no other levels"):
        parse_856(SINGLE.replace("HL*5*3*I", "HL*5*4*I"))


def test_a_non_numeric_po_line_is_refused_naming_lin01() -> None:
    with pytest.raises(X12Error) as caught:
        parse_856(SINGLE.replace("LIN*2*", "LIN*A2*"))
    assert (caught.value.segment_id, caught.value.element) == ("LIN", 1)


def test_a_zero_quantity_is_refused_naming_sn102() -> None:
    with pytest.raises(X12Error, match="must be positive") as caught:
        parse_856(SINGLE.replace("SN1**48*EA", "SN1**0*EA"))
    assert caught.value.field == "SN102"


def test_a_missing_unit_of_measure_is_refused_naming_sn103() -> None:
    with pytest.raises(X12Error, match="SN103") as caught:
        parse_856(SINGLE.replace("SN1**48*EA", "SN1**48"))
    assert caught.value.element == 3


def test_a_quantity_written_as_a_whole_decimal_is_accepted() -> None:
    (asn,) = parse_856(SINGLE.replace("SN1**48*EA", "SN1**48.00*EA"))
    assert asn.lines[1].quantity == 48


def test_the_error_is_a_422_problem_with_segment_and_element() -> None:
    with pytest.raises(X12Error) as caught:
        parse_856(read(MALFORMED / "bad_se_count.x12"))
    problem = caught.value.problem()
    assert problem["status"] == 422
    assert problem["field"] == "SE01"
    assert (problem["segment"], problem["segment_id"], problem["element"]) == (27, "SE", 1)


def test_each_line_says_which_hl_of_the_file_it_came_from() -> None:
    (asn,) = golden("single_po_single_pallet.x12")
    assert [ln.source for ln in asn.lines] == ["HL 4, segment 18", "HL 5, segment 22"]


def test_a_missing_terminator_after_the_final_iea_is_tolerated() -> None:
    newline_file = read(GOLDEN / "two_asns_newline_terminated.x12")
    assert parse_856(newline_file.rstrip("\n")) == parse_856(newline_file)


def test_a_cut_inside_the_final_iea_still_fails_its_control_number() -> None:
    with pytest.raises(X12Error, match="does not match ISA13") as caught:
        parse_856(SINGLE[: SINGLE.rindex("~") - 3])
    assert (caught.value.segment_id, caught.value.element) == ("IEA", 2)


def without_segments(text: str, *prefixes: str) -> str:
    """``text`` without the segments starting with ``prefixes``, SE01 recounted."""
    kept = [s for s in text.split("~") if not s.startswith(prefixes)]
    body = [s for s in kept if s]
    start = next(i for i, s in enumerate(body) if s.startswith("ST*"))
    end = next(i for i, s in enumerate(body) if s.startswith("SE*"))
    body[end] = f"SE*{end - start + 1}*0001"
    return "~".join(body) + "~"


def test_an_856_without_bsn_is_refused_at_its_st() -> None:
    with pytest.raises(X12Error, match="no BSN") as caught:
        parse_856(without_segments(SINGLE, "BSN"))
    assert caught.value.segment_id == "ST"


def test_an_856_without_hl_loops_is_refused_at_its_se() -> None:
    text = without_segments(
        SINGLE, "HL", "TD", "REF", "DTM", "N1", "PRF", "MAN", "LIN", "SN1", "PID"
    )
    with pytest.raises(X12Error, match="no HL loops") as caught:
        parse_856(text)
    assert caught.value.segment_id == "SE"


def test_an_856_without_items_is_refused() -> None:
    text = without_segments(SINGLE, "HL*4", "HL*5", "LIN", "SN1", "PID")
    with pytest.raises(X12Error, match=r"no item \(I\) level"):
        parse_856(text)
