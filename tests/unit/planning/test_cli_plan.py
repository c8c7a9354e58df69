"""The CSV contract end to end through the Typer app."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from stockpilot.cli.plan import register
from stockpilot.planning.engine import PLAN_COLUMNS

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _write_inputs(directory: Path) -> None:
    lines = ["item,site,date,quantity"]
    for week in range(40):
        day = f"2024-{1 + week * 7 // 28:02d}-01"
        lines.append(f"A,S1,{day},{10 + week % 3}")
        if week % 3 == 0:
            lines.append(f"B,S1,{day},4")
    (directory / "demand.csv").write_text("\n".join(lines) + "\n")
    (directory / "items.csv").write_text("item,site,unit_cost,moq,pack_size\nA,S1,2.5,30,6\n")
    (directory / "receipts.csv").write_text(
        "item,site,supplier,order_date,receipt_date,quantity\n"
        "A,S1,ACME,2024-01-01,2024-01-15,30\nA,S1,ACME,2024-02-01,2024-02-13,30\n"
        "A,S1,ACME,2024-03-01,2024-03-15,30\n"
    )


def test_plan_from_csv_writes_one_policy_row_per_item_location(tmp_path: Path) -> None:
    _write_inputs(tmp_path)
    out = tmp_path / "policies.csv"
    result = runner.invoke(
        _app(),
        [
            "plan",
            "--from-csv",
            str(tmp_path),
            "--out",
            str(out),
            "--period",
            "month",
            "--service-level",
            "0.95",
            "--service-type",
            "fill_rate",
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.columns[: len(PLAN_COLUMNS)] == PLAN_COLUMNS
    assert sorted(frame["item"].to_list()) == ["A", "B"]
    a = frame.filter(pl.col("item") == "A").row(0, named=True)
    assert a["lead_time_source"] == "history"
    assert a["order_quantity"] % 6 == 0 and a["order_quantity"] >= 30


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        (
            "demand.csv",
            "item,site,date,quantity\nA,S1,2024-01-01,3\nA,S1,2024-13-01,3\n",
            ["demand.csv", "data row 2", "'date'"],
        ),
        (
            "demand.csv",
            "item,site,date,quantity\nA,S1,2024-01-01,three\n",
            ["demand.csv", "data row 1", "'quantity'"],
        ),
        ("demand.csv", "item,site,quantity\nA,S1,3\n", ["demand.csv", "'date'"]),
        ("items.csv", "item,site,moq\nA,S1,10\nA,S2,x\n", ["items.csv", "data row 2", "'moq'"]),
        (
            "receipts.csv",
            "item,site,supplier,order_date,receipt_date,quantity\nA,S1,X,2024-02-01,2024-01-01,1\n",
            ["receipts.csv", "data row 1", "'receipt_date'"],
        ),
    ],
)
def test_bad_csv_exits_non_zero_naming_file_row_and_column(
    tmp_path: Path, file: str, content: str, expected: list[str]
) -> None:
    _write_inputs(tmp_path)
    (tmp_path / file).write_text(content)
    result = runner.invoke(
        _app(), ["plan", "--from-csv", str(tmp_path), "--out", str(tmp_path / "p.csv")]
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    for fragment in expected:
        assert fragment in message


def test_simulate_from_csv_prints_fill_rate_table(tmp_path: Path) -> None:
    _write_inputs(tmp_path)
    result = runner.invoke(
        _app(), ["simulate", "--from-csv", str(tmp_path), "--holdout", "3", "--period", "month"]
    )
    assert result.exit_code == 0, result.output
    assert "fill_rate" in result.output and "static_min_max" in result.output
