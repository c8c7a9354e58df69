"""Master-data health: each rule on a small worked example, with the owner of its finding."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from stockpilot.planning.data_quality import (
    FINDING_COLUMNS,
    DataQualityInputs,
    data_quality_findings,
)


def _inputs(**frames: pl.DataFrame) -> DataQualityInputs:
    empty = {
        "items": pl.DataFrame(
            schema={
                "item": pl.String,
                "active": pl.Boolean,
                "length_mm": pl.Int64,
                "width_mm": pl.Int64,
                "height_mm": pl.Int64,
                "weight_g": pl.Int64,
                "pack_size": pl.Int64,
                "supplier": pl.String,
            }
        ),
        "units": pl.DataFrame(schema={"item": pl.String, "uom": pl.String}),
        "suppliers": pl.DataFrame(schema={"supplier": pl.String, "lead_time_days": pl.Float64}),
        "supplier_items": pl.DataFrame(
            schema={"supplier": pl.String, "item": pl.String, "lead_time_days": pl.Float64}
        ),
        "receipts": pl.DataFrame(
            schema={
                "item": pl.String,
                "supplier": pl.String,
                "order_date": pl.Date,
                "receipt_date": pl.Date,
            }
        ),
        "demand": pl.DataFrame(schema={"item": pl.String}),
    }
    empty.update(frames)
    return DataQualityInputs(**empty)


def _item(item: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "item": item, "active": True, "length_mm": 100, "width_mm": 100, "height_mm": 100,
        "weight_g": 1000, "pack_size": 1, "supplier": "ACME",
    }  # fmt: skip
    row.update(values)
    return row


def _receipts(item: str, supplier: str, days: list[int]) -> pl.DataFrame:
    start = date(2025, 1, 6)
    return pl.DataFrame(
        {
            "item": [item] * len(days),
            "supplier": [supplier] * len(days),
            "order_date": [start + timedelta(weeks=i) for i in range(len(days))],
            "receipt_date": [start + timedelta(weeks=i, days=d) for i, d in enumerate(days)],
        }
    )


def test_a_master_lead_time_far_from_what_receipts_show_is_the_buyers_finding() -> None:
    # Master 14 days, receipts 20, 21, 22: median 21 is 7 days (50 %) off.
    found = data_quality_findings(
        _inputs(
            suppliers=pl.DataFrame({"supplier": ["ACME"], "lead_time_days": [14.0]}),
            receipts=_receipts("A", "ACME", [20, 21, 22]),
        )
    )
    drift = found.filter(pl.col("rule") == "lead_time_drift").row(0, named=True)
    assert (drift["owner"], drift["item"], drift["supplier"]) == ("buyer", "A", "ACME")
    assert (drift["value"], drift["expected"]) == (21.0, 14.0)


def test_a_supplier_item_lead_time_overrides_the_suppliers_and_small_gaps_pass() -> None:
    # The supplier says 14, the supplier-item 20: receipts at 21 are within 3 days of it.
    found = data_quality_findings(
        _inputs(
            suppliers=pl.DataFrame({"supplier": ["ACME"], "lead_time_days": [14.0]}),
            supplier_items=pl.DataFrame(
                {"supplier": ["ACME"], "item": ["A"], "lead_time_days": [20.0]}
            ),
            receipts=_receipts("A", "ACME", [20, 21, 22]),
        )
    )
    assert found.filter(pl.col("rule") == "lead_time_drift").height == 0


def test_two_receipts_are_not_enough_to_call_a_lead_time_wrong() -> None:
    found = data_quality_findings(
        _inputs(
            suppliers=pl.DataFrame({"supplier": ["ACME"], "lead_time_days": [14.0]}),
            receipts=_receipts("A", "ACME", [40, 40]),
        )
    )
    assert found.filter(pl.col("rule") == "lead_time_drift").height == 0


def test_missing_and_implausible_dimensions_go_to_master_data() -> None:
    items = pl.DataFrame(
        [
            _item("OK"),  # 1 kg in a litre: density 1
            _item("NOWEIGHT", weight_g=None),
            _item("LEAD", weight_g=50_000),  # 50 kg in a litre: 50 g/cm³
            _item("ZERO", height_mm=0),
        ]
    )
    found = data_quality_findings(_inputs(items=items))
    missing = found.filter(pl.col("rule") == "missing_dimensions")
    assert missing["item"].to_list() == ["NOWEIGHT"]
    assert missing["detail"][0] == "not set: weight_g"
    implausible = found.filter(pl.col("rule") == "implausible_dimensions")
    assert sorted(implausible["item"].to_list()) == ["LEAD", "ZERO"]
    assert set(found["owner"]) == {"master_data"}


def test_a_pack_without_its_unit_of_measure_is_flagged() -> None:
    items = pl.DataFrame([_item("CASE", pack_size=12), _item("DEFINED", pack_size=6)])
    units = pl.DataFrame({"item": ["DEFINED"], "uom": ["case"]})
    found = data_quality_findings(_inputs(items=items, units=units))
    packs = found.filter(pl.col("rule") == "pack_without_unit")
    assert packs["item"].to_list() == ["CASE"]
    assert packs["value"].to_list() == [12.0]


def test_demand_without_a_supplier_and_a_supplier_without_receipts() -> None:
    items = pl.DataFrame(
        [_item("ORPHAN", supplier=None), _item("QUIET", supplier=None), _item("BOUGHT")]
    )
    found = data_quality_findings(
        _inputs(
            items=items,
            demand=pl.DataFrame({"item": ["ORPHAN", "BOUGHT"]}),
            suppliers=pl.DataFrame({"supplier": ["ACME", "IDLE"], "lead_time_days": [14.0, 14.0]}),
            receipts=_receipts("BOUGHT", "ACME", [14]),
        )
    )
    assert found.filter(pl.col("rule") == "demand_without_supplier")["item"].to_list() == ["ORPHAN"]
    silent = found.filter(pl.col("rule") == "supplier_without_receipts")
    assert silent["supplier"].to_list() == ["IDLE"]
    assert silent["owner"].to_list() == ["purchasing"]
    assert found.columns == FINDING_COLUMNS
