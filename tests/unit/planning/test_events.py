"""Known events as forecast uplifts: the uplifted path is protected where it enters the
protection interval, so a long-lead item builds up for the event before it starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from stockpilot.cli.plan import register
from stockpilot.planning.events import event_uplift


def test_an_event_uplifts_the_periods_of_its_window_for_the_items_it_names() -> None:
    keys = pl.DataFrame({"item": ["A", "B", "C"], "site": ["S1", "S1", "S2"]})
    starts = np.array(["2025-03-03", "2025-03-10", "2025-03-17"], dtype="datetime64[D]")
    events = pl.DataFrame(
        {
            "item": ["", "A"],
            "family": ["tools", ""],
            "site": ["S1", ""],
            "start": ["2025-03-10", "2025-03-01"],
            "end": ["2025-03-23", "2025-03-09"],
            "uplift_pct": [20.0, 100.0],
        }
    )
    up = event_uplift(keys, np.array(["tools", "tools", "tools"]), starts, events)
    # A: doubled in its first week, +20 % (family tools at S1) after; B: +20 %; C: other site.
    assert up.factor.tolist() == [[2.0, 1.2, 1.2], [1.0, 1.2, 1.2], [1.0, 1.0, 1.0]]
    assert up.events.tolist() == [2, 1, 0]


def _write(directory: Path, lead_days: dict[str, int], events: str) -> None:
    rows = ["item,site,date,quantity"]
    for week in range(60):
        day = np.datetime64("2024-01-01") + np.timedelta64(7 * week, "D")
        for item in lead_days:
            rows.append(f"{item},S1,{day},{20 + week % 3}")
    (directory / "demand.csv").write_text("\n".join(rows) + "\n")
    (directory / "items.csv").write_text(
        "item,site,lead_time_days\n" + "".join(f"{i},S1,{d}\n" for i, d in lead_days.items())
    )
    (directory / "events.csv").write_text(events)


def test_a_long_lead_item_orders_for_a_promotion_before_it_starts(tmp_path: Path) -> None:
    # History ends in the week of 2025-02-17; the promotion doubles weeks 6 and 7 after it.
    # LONG (8-week lead) protects them now; SHORT (1 week) not yet.
    _write(
        tmp_path,
        {"LONG": 56, "SHORT": 7},
        "item,site,start,end,uplift_pct\n,S1,2025-03-31,2025-04-13,100\n",
    )
    app = typer.Typer()
    register(app)
    out = tmp_path / "policies.csv"
    result = CliRunner().invoke(app, ["plan", "--from-csv", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pol = {r["item"]: r for r in pl.read_csv(out).iter_rows(named=True)}
    assert pol["LONG"]["event_uplift"] == pytest.approx(1.0)
    assert pol["LONG"]["event_build"] == pytest.approx(
        2 * pol["LONG"]["forecast_per_period"], rel=0.05
    )
    assert pol["SHORT"]["event_uplift"] == 0.0 and pol["SHORT"]["event_build"] == 0.0
    assert pol["LONG"]["demand_over_protection"] > pol["LONG"]["forecast_per_period"] * 9


def test_an_event_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, {"A": 7}, "start,end,uplift_pct\n2025-04-13,2025-03-31,50\n")
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["plan", "--from-csv", str(tmp_path)])
    assert result.exit_code == 2
    assert "events.csv" in result.output and "end" in result.output


def test_a_seasonal_item_with_a_long_lead_time_builds_up_before_its_season(tmp_path: Path) -> None:
    # Five years of monthly demand peaking in November-December (about 180 against 100, noisy);
    # the history ends in August and the lead time is three months: the plan protects the peak.
    rows = ["item,site,date,quantity"]
    rng = np.random.default_rng(2)
    for month in range(56):  # 2020-01 .. 2024-08
        year, m = 2020 + month // 12, month % 12 + 1
        level = 180 if m in (11, 12) else 100
        rows.append(f"XMAS,S1,{year}-{m:02d}-01,{int(level + rng.integers(-40, 41))}")
    (tmp_path / "demand.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "items.csv").write_text("item,site,lead_time_days\nXMAS,S1,91\n")
    app = typer.Typer()
    register(app)
    out = tmp_path / "policies.csv"
    result = CliRunner().invoke(
        app, ["plan", "--from-csv", str(tmp_path), "--out", str(out), "--period", "month"]
    )
    assert result.exit_code == 0, result.output
    row = pl.read_csv(out).row(0, named=True)
    assert row["method"] == "holt_winters"
    # September-December ask more than four average months: the build-up is stated.
    assert row["seasonal_build"] > 50
