"""ASN CSV files: rows grouped into ASNs; every bad cell named by row and column."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from stockpilot.importing.csvrows import HeaderError
from stockpilot.inbound.asn_csv import read_asn_csv
from stockpilot.shared.errors import RowError

GOLDEN = Path(__file__).parent / "golden"
HEADER = "asn_number,purchase_order,po_line,sku,quantity,lot,expiry_date,serials,sscc,expected_date"


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "asn.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def row_error(tmp_path: Path, *rows: str, header: str = HEADER) -> RowError:
    with pytest.raises(RowError) as caught:
        read_asn_csv(write(tmp_path, *rows, header=header))
    return caught.value


def test_the_golden_csv_parses_to_the_json_beside_it() -> None:
    expected = json.loads((GOLDEN / "asn_two_asns.json").read_text(encoding="utf-8"))
    assert [asn.as_dict() for asn in read_asn_csv(GOLDEN / "asn_two_asns.csv")] == expected


def test_rows_of_one_asn_number_form_one_asn_with_lines_numbered_from_one() -> None:
    first, second = read_asn_csv(GOLDEN / "asn_two_asns.csv")
    assert (first.number, [ln.line for ln in first.lines]) == ("ASN-7001", [1, 2, 3])
    assert (second.number, [ln.line for ln in second.lines]) == ("ASN-7002", [1])
    assert first.expected_date == date(2026, 12, 8)
    assert second.expected_date is None


def test_serials_split_on_the_bar_and_the_sscc_loses_its_ai_prefix() -> None:
    first, _ = read_asn_csv(GOLDEN / "asn_two_asns.csv")
    drill = first.lines[2]
    assert drill.serials == ("DR18-000201", "DR18-000202", "DR18-000203")
    assert drill.sscc == "034012345000000118"


def test_a_csv_asn_is_received_by_pallet_like_an_edi_one() -> None:
    first, _ = read_asn_csv(GOLDEN / "asn_two_asns.csv")
    assert [ln.sku for ln in first.lines_on("034012345000000101")] == ["SKU-1", "MED-10"]


def test_optional_gtin_and_uom_columns_are_read(tmp_path: Path) -> None:
    header = HEADER + ",gtin,uom"
    (asn,) = read_asn_csv(write(tmp_path, "A1,PO-1,1,SKU-1,4,,,,,,4012345000016,CA", header=header))
    assert (asn.lines[0].gtin, asn.lines[0].uom, asn.lines[0].quantity) == (
        "04012345000016",
        "CA",
        4,
    )


def test_only_the_four_required_columns_are_needed(tmp_path: Path) -> None:
    path = write(tmp_path, "A1,PO-1,SKU-1,5", header="asn_number,purchase_order,sku,quantity")
    (asn,) = read_asn_csv(path)
    assert (asn.lines[0].sku, asn.lines[0].quantity, asn.lines[0].po_line) == ("SKU-1", 5, None)


def test_a_missing_required_column_is_a_header_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(HeaderError) as caught:
        read_asn_csv(write(tmp_path, "A1,SKU-1,5", header="asn_number,sku,quantity"))
    assert caught.value.field == "purchase_order"


def test_an_unknown_column_is_a_header_error(tmp_path: Path) -> None:
    with pytest.raises(HeaderError, match="unknown column 'colour'"):
        header = "asn_number,purchase_order,sku,quantity,colour"
        read_asn_csv(write(tmp_path, "A1,PO-1,SKU-1,5,red", header=header))


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ("A1,PO-1,1,SKU-1,1.5,,,,,", "quantity", "not a whole number"),
        ("A1,PO-1,1,SKU-1,0,,,,,", "quantity", "must be positive"),
        ("A1,PO-1,1,SKU-1,lots,,,,,", "quantity", "decimal"),
        ("A1,PO-1,x,SKU-1,5,,,,,", "po_line", "integer"),
        ("A1,PO-1,1,SKU-1,5,,2026-13-01,,,", "expiry_date", "date"),
        ("A1,PO-1,1,SKU-1,5,,,,376104250021234568,", "sscc", "bad check digit"),
        ("A1,PO-1,1,SKU-1,5,,,,12345,", "sscc", "expected 18 digits"),
        ("A1,PO-1,1,SKU-1,2,,,S1|S2|S3,,", "serials", "3 serials for a quantity of 2"),
        ("A1,PO-1,1,SKU-1,2,,,S1|S1,,", "serials", "twice on this row"),
        ("A1,,1,SKU-1,2,,,,,", "purchase_order", "required"),
    ],
)
def test_a_bad_cell_is_refused_naming_row_and_column(
    tmp_path: Path, cells: str, column: str, fragment: str
) -> None:
    error = row_error(tmp_path, "A1,PO-1,1,SKU-1,5,,,,,", cells)
    assert (error.row, error.column) == (2, column)
    assert fragment in error.message


def test_a_bad_gtin_names_the_gtin_column(tmp_path: Path) -> None:
    error = row_error(tmp_path, "A1,PO-1,1,SKU-1,4,,,,,,4012345000017", header=HEADER + ",gtin")
    assert (error.row, error.column) == (1, "gtin")
    assert "bad check digit" in error.message


def test_a_serial_on_two_rows_is_refused_on_the_second(tmp_path: Path) -> None:
    error = row_error(tmp_path, "A1,PO-1,1,SKU-1,1,,,S1,,", "A2,PO-2,1,SKU-1,1,,,S1,,")
    assert (error.row, error.column, error.message) == (2, "serials", "serial S1 is also on row 1")


def test_rows_of_one_asn_must_agree_on_the_expected_date(tmp_path: Path) -> None:
    error = row_error(
        tmp_path, "A1,PO-1,1,SKU-1,1,,,,,2026-12-08", "A1,PO-1,2,SKU-2,1,,,,,2026-12-09"
    )
    assert (error.row, error.column) == (2, "expected_date")
    assert "2026-12-08 on row 1 and 2026-12-09 here" in error.message


def test_the_error_reads_as_file_row_and_column(tmp_path: Path) -> None:
    error = row_error(tmp_path, "A1,PO-1,1,SKU-1,0,,,,,")
    assert str(error).startswith("asn.csv: row 1, column 'quantity': ")
