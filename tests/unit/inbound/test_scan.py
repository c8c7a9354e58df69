"""GS1 scans at the dock: what each label shape yields, and how every bad scan is refused."""

from __future__ import annotations

from datetime import date

import pytest

from stockpilot.inbound.scan import (
    Scan,
    ScanError,
    gs1_check_digit,
    is_valid_gtin,
    is_valid_sscc,
    normalise_gtin,
    normalise_sscc,
    parse_scan,
    sku_for_gtin,
)

GS = "\x1d"


def refused(text: str) -> ScanError:
    with pytest.raises(ScanError) as caught:
        parse_scan(text)
    return caught.value


# --- label shapes that scan ---------------------------------------------------------------------


def test_a_gs1_128_carton_label_yields_gtin_expiry_lot_and_serial() -> None:
    scan = parse_scan(f"]C101095011010209171726113010ABCD1234{GS}21SN0001")
    assert scan == Scan(
        raw=f"]C101095011010209171726113010ABCD1234{GS}21SN0001",
        symbology="]C1",
        gtin="09501101020917",
        lot="ABCD1234",
        expiry_date=date(2026, 11, 30),
        serial="SN0001",
        elements=(("01", "09501101020917"), ("17", "261130"), ("10", "ABCD1234"), ("21", "SN0001")),
    )


def test_a_gs1_datamatrix_with_its_symbology_identifier_reads_like_gs1_128() -> None:
    scan = parse_scan(f"]d20104012345000016172706301 0LOT-7{GS}21A1B2C3".replace(" ", ""))
    assert (scan.symbology, scan.gtin, scan.expiry_date, scan.lot, scan.serial) == (
        "]d2",
        "04012345000016",
        date(2027, 6, 30),
        "LOT-7",
        "A1B2C3",
    )


def test_a_datamatrix_without_symbology_identifier_reads_the_same() -> None:
    scan = parse_scan(f"010401234500001617270630 10LOT-7{GS}21A1B2C3".replace(" ", ""))
    assert scan.symbology is None
    assert (scan.gtin, scan.lot, scan.serial) == ("04012345000016", "LOT-7", "A1B2C3")
    assert scan.expiry_date == date(2027, 6, 30)


def test_a_leading_fnc1_after_the_symbology_identifier_is_ignored() -> None:
    scan = parse_scan(f"]C1{GS}0110614141000019")
    assert scan.gtin == "10614141000019"


def test_a_gs1_qr_code_reads_its_element_strings() -> None:
    scan = parse_scan("]Q3011871234500002510B-99")
    assert (scan.symbology, scan.gtin, scan.lot) == ("]Q3", "18712345000025", "B-99")


def test_the_human_readable_line_with_parentheses_is_accepted_when_typed_in() -> None:
    scan = parse_scan("(01)09501101020917(17)270131(10)ABCD1234(21)77")
    assert (scan.gtin, scan.expiry_date, scan.lot, scan.serial) == (
        "09501101020917",
        date(2027, 1, 31),
        "ABCD1234",
        "77",
    )


def test_spaces_typed_between_human_readable_fields_are_ignored() -> None:
    scan = parse_scan("(01) 09501101020917 (10) L42")
    assert (scan.gtin, scan.lot) == ("09501101020917", "L42")


def test_a_pallet_label_carries_sscc_content_gtin_count_and_lot() -> None:
    scan = parse_scan(f"]C100340123450000000123020401234500001637120{GS}10LOT9{GS}17270930")
    assert scan.is_pallet_label
    assert scan.sscc == "340123450000000123"
    assert scan.gtin == "04012345000016"
    assert scan.quantity == 120
    assert scan.lot == "LOT9"
    assert scan.expiry_date == date(2027, 9, 30)


def test_an_sscc_alone_is_a_pallet_label_without_item_data() -> None:
    scan = parse_scan("]C100376104250021234569")
    assert scan.is_pallet_label and scan.gtin is None and scan.quantity is None
    assert scan.sscc == "376104250021234569"


def test_ai_30_variable_count_gives_the_quantity_of_a_case() -> None:
    scan = parse_scan(f"]C1011061414100001930 48{GS}10L1".replace(" ", ""))
    assert (scan.gtin, scan.quantity, scan.lot) == ("10614141000019", 48, "L1")


def test_best_before_is_kept_apart_from_the_expiry_date() -> None:
    scan = parse_scan("]C1010950110102091715270415")
    assert scan.best_before == date(2027, 4, 15)
    assert scan.expiry_date is None


def test_ais_receiving_does_not_use_are_kept_in_the_elements_only() -> None:
    scan = parse_scan(f"]C10109501101020917310300125099internal{GS}10L5")
    assert scan.lot == "L5"
    assert ("3103", "001250") in scan.elements
    assert ("99", "internal") in scan.elements


def test_a_repeated_ai_with_the_same_data_is_harmless() -> None:
    assert parse_scan(f"]C110L1{GS}10L1").lot == "L1"


@pytest.mark.parametrize(
    ("text", "gtin"),
    [
        ("5901234123457", "05901234123457"),
        ("]E05901234123457", "05901234123457"),
        ("012345678905", "00012345678905"),
        ("96385074", "00000096385074"),
        ("]I110614141000019", "10614141000019"),
    ],
)
def test_a_bare_ean_upc_or_itf_number_is_read_as_a_gtin(text: str, gtin: str) -> None:
    assert parse_scan(text).gtin == gtin


def test_a_bare_18_digit_number_is_read_as_an_sscc() -> None:
    assert parse_scan("106141410000000019").sscc == "106141410000000019"


def test_a_site_may_declare_another_character_for_fnc1() -> None:
    scan = parse_scan("]C110L1|2177|0109501101020917", separators=("|",))
    assert (scan.lot, scan.serial, scan.gtin) == ("L1", "77", "09501101020917")


# --- expiry dates: the GS1 day-00 rule ----------------------------------------------------------


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [
        ("261200", date(2026, 12, 31)),
        ("270200", date(2027, 2, 28)),
        ("280200", date(2028, 2, 29)),  # a leap year
        ("270400", date(2027, 4, 30)),
        ("270101", date(2027, 1, 1)),
        ("270228", date(2027, 2, 28)),
    ],
)
def test_day_00_of_an_expiry_means_the_last_day_of_that_month(yymmdd: str, expected: date) -> None:
    assert parse_scan(f"]C10109501101020917 17{yymmdd}".replace(" ", "")).expiry_date == expected


@pytest.mark.parametrize("yymmdd", ["271300", "270001", "270132", "2701"])
def test_an_impossible_expiry_date_is_refused_naming_expiry_date(yymmdd: str) -> None:
    error = refused(f"]C10109501101020917 17{yymmdd}".replace(" ", ""))
    assert error.field == "expiry_date"
    assert error.ai == "17"
    assert "AI (17)" in error.detail and "YYMMDD" in error.detail


def test_an_impossible_best_before_date_names_best_before() -> None:
    assert refused("]C11527023110L1").field == "best_before"


def test_february_30_is_refused_even_though_the_pattern_fits() -> None:
    error = refused("]C11727023010L1")
    assert error.field == "expiry_date"


# --- bad scans ----------------------------------------------------------------------------------


def test_a_bad_gtin_check_digit_is_refused_naming_gtin_with_the_right_digit() -> None:
    error = refused("]C1010950110102091817261200")
    assert error.field == "gtin"
    assert error.ai == "01"
    assert "should be 7, not 8" in error.detail


def test_a_bad_check_digit_in_the_content_gtin_of_a_pallet_label_names_gtin() -> None:
    error = refused("]C1003401234500000001230204012345000017 37 12".replace(" ", ""))
    assert (error.field, error.ai) == ("gtin", "02")


def test_a_bad_sscc_check_digit_is_refused_naming_sscc() -> None:
    error = refused("]C100376104250021234568")
    assert error.field == "sscc"
    assert "should be 9, not 8" in error.detail


def test_a_bare_gtin_with_a_bad_check_digit_is_refused() -> None:
    assert refused("5901234123458").field == "gtin"


def test_a_gtin_too_short_in_the_human_readable_form_names_gtin_and_the_format() -> None:
    error = refused("(01)0950110102091(10)A")
    assert error.field == "gtin"
    assert "N2+N14" in error.detail


def test_an_unknown_ai_is_refused_with_its_position() -> None:
    error = refused("]C10109501101020917231")
    assert error.field == "scan"
    assert "unknown GS1 application identifier at position 17" in error.detail


def test_an_unknown_ai_in_the_human_readable_form_is_named() -> None:
    error = refused("(01)09501101020917(23)A")
    assert (error.field, error.ai) == ("scan", "23")
    assert "(23)" in error.detail


def test_a_lot_without_its_separator_runs_into_the_next_field_and_is_refused() -> None:
    # 20 characters is the longest lot; the rest cannot start an AI.
    error = refused("]C110ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert error.field == "scan"
    assert "FNC1" in error.detail


@pytest.mark.parametrize("text", ["", "   ", "]C1", "]C1\x1d"])
def test_an_empty_scan_is_refused(text: str) -> None:
    assert refused(text).field == "scan"


def test_free_text_is_not_a_gs1_scan() -> None:
    assert refused("hello world").field == "scan"


def test_a_barcode_of_a_non_gs1_symbology_with_text_is_refused() -> None:
    error = refused("]A0ABC-123")
    assert error.field == "scan"
    assert "no GS1 data" in error.detail


def test_an_unreadable_symbology_identifier_is_refused() -> None:
    assert refused("]").field == "scan"


def test_a_zero_count_is_refused_naming_quantity() -> None:
    error = refused("]C101095011010209173700")
    assert (error.field, error.ai) == ("quantity", "37")


def test_one_ai_with_two_different_values_is_refused() -> None:
    error = refused(f"]C110A{GS}10B")
    assert error.field == "lot"
    assert "'A'" in error.detail and "'B'" in error.detail


def test_gtin_and_content_gtin_together_are_refused() -> None:
    assert refused("]C101095011010209170204012345000016").field == "gtin"


def test_the_error_is_a_422_problem_naming_the_field() -> None:
    problem = refused("]C1010950110102091817261200").problem()
    assert problem["status"] == 422
    assert problem["field"] == "gtin"


# --- check digits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "digit"),
    [("950110102091", 7), ("590123412345", 7), ("01234567890", 5), ("9638507", 4)],
)
def test_the_gs1_check_digit_of_known_numbers(payload: str, digit: int) -> None:
    assert gs1_check_digit(payload) == digit


def test_a_check_digit_needs_digits() -> None:
    with pytest.raises(ValueError, match="digits only"):
        gs1_check_digit("12A4")


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("09501101020917", True),
        ("5901234123457", True),
        ("012345678905", True),
        ("96385074", True),
        ("09501101020918", False),
        ("0950110102091", False),
        ("0950110102091X", False),
        ("123456789", False),
    ],
)
def test_gtins_are_valid_only_with_a_right_length_and_check_digit(code: str, valid: bool) -> None:
    assert is_valid_gtin(code) is valid


def test_ssccs_are_valid_only_with_18_digits_and_a_right_check_digit() -> None:
    assert is_valid_sscc("376104250021234569")
    assert not is_valid_sscc("376104250021234568")
    assert not is_valid_sscc("37610425002123456")


def test_any_gtin_normalises_to_14_digits() -> None:
    assert normalise_gtin("96385074") == "00000096385074"
    assert normalise_gtin(" 5901234123457 ") == "05901234123457"


def test_normalising_a_bad_gtin_names_the_callers_field() -> None:
    with pytest.raises(ScanError) as caught:
        normalise_gtin("5901234123458", field="lines[2].gtin")
    assert caught.value.field == "lines[2].gtin"


def test_an_sscc_with_its_ai_00_prefix_normalises_to_18_digits() -> None:
    assert normalise_sscc("00376104250021234569") == "376104250021234569"
    with pytest.raises(ScanError, match="expected 18 digits"):
        normalise_sscc("3761042500212345")


# --- matching the GTIN to the catalog -----------------------------------------------------------

CATALOG = {"5901234123457": "SKU-1", "09501101020917": "SKU-2", "10614141000019": "SKU-2"}


def test_a_scanned_gtin_finds_its_sku_whatever_length_the_catalog_stores() -> None:
    assert sku_for_gtin(parse_scan("]C10105901234123457"), CATALOG) == "SKU-1"
    assert sku_for_gtin("5901234123457", CATALOG, expected_sku="SKU-1") == "SKU-1"


def test_a_case_gtin_of_the_same_item_matches_the_line_being_received() -> None:
    scan = parse_scan("]C1011061414100001930 12".replace(" ", ""))
    assert sku_for_gtin(scan, CATALOG, expected_sku="SKU-2") == "SKU-2"


def test_an_unknown_gtin_is_refused_naming_gtin() -> None:
    with pytest.raises(ScanError) as caught:
        sku_for_gtin(parse_scan("4006381333931"), CATALOG, expected_sku="SKU-1")
    assert caught.value.field == "gtin"
    assert caught.value.detail == "GTIN 04006381333931 is not a known GTIN of SKU-1"


def test_the_gtin_of_another_item_is_refused_naming_both_skus() -> None:
    with pytest.raises(ScanError, match="belongs to SKU-2, not to SKU-1"):
        sku_for_gtin(parse_scan("]C10109501101020917"), CATALOG, expected_sku="SKU-1")


def test_a_pallet_label_without_a_gtin_cannot_identify_an_item() -> None:
    with pytest.raises(ScanError, match="no GTIN") as caught:
        sku_for_gtin(parse_scan("]C100376104250021234569"), CATALOG)
    assert caught.value.field == "gtin"


def test_a_catalog_that_stores_gtin_8_or_gtin_12_matches_their_14_digit_scan() -> None:
    catalog = {"96385074": "SKU-8", "012345678905": "SKU-12"}
    assert sku_for_gtin(parse_scan("]C10100000096385074"), catalog) == "SKU-8"
    assert sku_for_gtin(parse_scan("]C10100012345678905"), catalog) == "SKU-12"
