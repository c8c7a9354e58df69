"""Champion / challenger: a new policy set on one segment, tracked against the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from stockpilot.cli.plan import register
from stockpilot.planning.engine import PlanConfig
from stockpilot.planning.pilot import PilotScope, pilot_verdict, run_pilot


def test_the_challenger_is_rolled_out_at_equal_fill_with_less_stock() -> None:
    champion = {"fill_rate": 0.950, "average_on_hand": 100.0}
    verdict, reason = pilot_verdict(champion, {"fill_rate": 0.948, "average_on_hand": 92.0})
    assert verdict == "roll out" and "less stock" in reason


def test_more_fill_is_worth_a_little_more_stock_per_point_but_not_a_lot() -> None:
    champion = {"fill_rate": 0.95, "average_on_hand": 100.0}
    # +2 points for 3 % more stock: within 2 % per point. +1 point for 10 %: not.
    assert pilot_verdict(champion, {"fill_rate": 0.97, "average_on_hand": 103.0})[0] == "roll out"
    worse = pilot_verdict(champion, {"fill_rate": 0.96, "average_on_hand": 110.0})
    assert worse[0] == "keep champion"


def test_a_pilot_scope_names_a_segment_field() -> None:
    with pytest.raises(ValueError, match="field"):
        PilotScope("colour", "red")


def _lines(n: int = 12, weeks: int = 80) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    y = rng.poisson(20, (n, weeks)).astype(float)
    r, c = np.nonzero(y)
    return pl.DataFrame(
        {
            "item": [f"I{i}" for i in r],
            "site": ["S"] * len(r),
            "date": (np.datetime64("2024-01-01") + c * 7).astype("datetime64[D]"),
            "quantity": y[r, c],
        }
    )


def test_a_higher_service_level_on_the_pilot_segment_raises_its_fill_and_its_stock() -> None:
    lines = _lines()
    items = pl.DataFrame(
        {
            "item": [f"I{i}" for i in range(12)],
            "site": ["S"] * 12,
            "family": ["tools"] * 6 + ["paint"] * 6,
            "lead_time_days": [14.0] * 12,
        }
    )
    champion = PlanConfig(service_level=0.90, service_type="fill_rate")
    challenger = PlanConfig(service_level=0.99, service_type="fill_rate")
    report = run_pilot(
        lines, None, items, champion, challenger, PilotScope("family", "tools"), holdout=12
    )
    rows = {(r["group"], r["arm"]): r for r in report.groups.iter_rows(named=True)}
    assert rows[("pilot", "champion")]["series"] == rows[("pilot", "challenger")]["series"] == 6
    assert rows[("rest", "champion")]["series"] == 6
    pilot_up = rows[("pilot", "challenger")]
    assert pilot_up["average_on_hand"] > rows[("pilot", "champion")]["average_on_hand"]
    assert pilot_up["fill_rate"] >= rows[("pilot", "champion")]["fill_rate"]
    assert report.verdict in ("roll out", "keep champion")


def test_simulate_runs_a_pilot_from_the_command_line(tmp_path: Path) -> None:
    lines = _lines(6, 60)
    lines.write_csv(tmp_path / "demand.csv")
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(
        app,
        ["simulate", "--from-csv", str(tmp_path), "--holdout", "8", "--service-level", "0.9",
         "--service-type", "fill_rate", "--pilot", "demand_class=smooth",
         "--challenger-service-level", "0.98"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "challenger" in result.output and "verdict:" in result.output
