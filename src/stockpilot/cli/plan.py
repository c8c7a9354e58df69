"""``stockpilot plan`` and ``stockpilot simulate`` commands (Typer + Rich).

``register(app)`` adds both commands to the main Typer app. Without ``--from-csv``, ``plan`` runs
against the database (``stockpilot.replenishment.run.run_plan``): policies for every
item-location and purchase/transfer proposals, written back in bulk.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from stockpilot.planning.history import Period
from stockpilot.shared.actor import SYSTEM

__all__ = ["register"]

FromCsv = Annotated[
    Path | None,
    typer.Option(
        "--from-csv", help="Directory with demand.csv, optional receipts.csv and items.csv"
    ),
]
PeriodOpt = Annotated[str, typer.Option("--period", help="week or month")]
ServiceLevelOpt = Annotated[
    float | None,
    typer.Option("--service-level", min=0.5, max=0.9999, help="target for every item-location"),
]
ServiceTypeOpt = Annotated[str, typer.Option("--service-type", help="cycle or fill_rate")]
SegmentPoliciesOpt = Annotated[
    bool,
    typer.Option(
        "--segment-policies",
        help="apply the default make-to-order, transfer-fulfilled and phase-out rules "
        "(items.csv policy_type overrides always apply)",
    ),
]


def _check_choice(value: str, allowed: tuple[str, ...], option: str) -> None:
    if value not in allowed:
        raise typer.BadParameter(f"must be one of {', '.join(allowed)}", param_hint=option)


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )


def _load(directory: Path, console: Console) -> object:
    from stockpilot.planning.csv_io import CsvContractError, read_plan_inputs

    try:
        return read_plan_inputs(directory)
    except CsvContractError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc


def plan_command(
    from_csv: FromCsv = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="policies CSV to write (default policies.csv with --from-csv)"),
    ] = None,
    period: PeriodOpt = "week",
    service_level: ServiceLevelOpt = None,
    service_type: ServiceTypeOpt = "cycle",
    segment_policies: SegmentPoliciesOpt = False,
) -> None:
    """Compute reorder points, order-up-to levels and order quantities per item-location."""
    _check_choice(period, ("week", "month"), "--period")
    _check_choice(service_type, ("cycle", "fill_rate"), "--service-type")
    console = Console(stderr=True)
    if from_csv is None:
        _plan_on_database(console, out, period, service_level, service_type, segment_policies)
        return
    from stockpilot.planning.csv_io import PlanInputs, write_policies
    from stockpilot.planning.engine import PlanConfig, plan

    inputs = _load(from_csv, console)
    assert isinstance(inputs, PlanInputs)
    config = PlanConfig(
        period=cast(Period, period),
        service_level=service_level,
        service_type=service_type,
        segment_policies=segment_policies,
    )
    with _progress(console) as progress:
        task = progress.add_task("planning", total=None)
        result = plan(
            inputs.demand,
            inputs.receipts,
            inputs.items,
            config,
            progress=lambda stage: progress.update(task, description=stage),
            events=inputs.events,
        )
    write_policies(result.policies, out or Path("policies.csv"))
    console.print(f"wrote {result.policies.height} policies to {out}")


def simulate_command(
    from_csv: FromCsv = None,
    holdout: Annotated[int, typer.Option("--holdout", min=1, help="periods replayed")] = 26,
    period: PeriodOpt = "week",
    service_level: ServiceLevelOpt = None,
    service_type: ServiceTypeOpt = "cycle",
    lost_sales: Annotated[
        bool, typer.Option("--lost-sales", help="lost sales, not backorders")
    ] = False,
    disruption_weeks: Annotated[
        int, typer.Option("--disruption", min=0, help="database: no receipts for N periods")
    ] = 0,
    spike_pct: Annotated[
        float, typer.Option("--spike-pct", help="database: demand change in % for --spike-length")
    ] = 0.0,
    spike_length: Annotated[int, typer.Option("--spike-length", min=0)] = 8,
    lead_time_factor: Annotated[
        float, typer.Option("--lead-time-factor", min=0.1, help="database: lead time × k")
    ] = 1.0,
    inbound_lines: Annotated[
        int, typer.Option("--inbound-lines", min=0, help="database: receipts per period at most")
    ] = 0,
    storage_capacity: Annotated[
        float,
        typer.Option("--storage-capacity", min=0.0, help="database: total on-hand at most"),
    ] = 0.0,
    pilot: Annotated[
        str | None,
        typer.Option(
            "--pilot",
            help="CSV: run a challenger on one segment, e.g. demand_class=lumpy, abc=C, "
            "family=tools",
        ),
    ] = None,
    challenger_service_level: Annotated[
        float | None,
        typer.Option("--challenger-service-level", min=0.5, max=0.9999),
    ] = None,
    challenger_segment_policies: Annotated[
        bool, typer.Option("--challenger-segment-policies")
    ] = False,
    calibration: Annotated[
        bool,
        typer.Option(
            "--calibration/--no-calibration",
            help="database: also the calibration report (re-plans every period of the holdout)",
        ),
    ] = True,
) -> None:
    """Plan on history minus the holdout, replay the holdout, print fill rate and inventory.

    With ``--from-csv`` the engine's policies are compared with a static min/max rule; on the
    database, the baseline is compared side by side with the scenarios asked for.
    """
    _check_choice(period, ("week", "month"), "--period")
    _check_choice(service_type, ("cycle", "fill_rate"), "--service-type")
    console = Console()
    if not console.is_terminal:  # keep whole column names when piped or captured
        console = Console(width=200)
    if from_csv is None:
        _simulate_on_database(
            console,
            holdout=holdout,
            period=period,
            service_level=service_level,
            service_type=service_type,
            scenarios=_scenario_specs(
                disruption_weeks,
                spike_pct,
                spike_length,
                lead_time_factor,
                inbound_lines,
                storage_capacity,
            ),
            calibration=calibration,
        )
        return
    from stockpilot.planning.csv_io import PlanInputs
    from stockpilot.planning.engine import PlanConfig
    from stockpilot.planning.simulation import backtest

    inputs = _load(from_csv, Console(stderr=True))
    assert isinstance(inputs, PlanInputs)
    config = PlanConfig(
        period=cast(Period, period),
        service_level=service_level,
        service_type=service_type,
    )
    report = backtest(
        inputs.demand, inputs.receipts, inputs.items, config, holdout, lost_sales=lost_sales
    )
    if pilot is not None:
        _print_pilot(
            console, inputs, config, pilot, holdout, challenger_service_level,
            challenger_segment_policies,
        )  # fmt: skip
        return
    console.print(_frame_table(report, f"Replay of the last {holdout} periods"))
    from stockpilot.planning.backtest import backtest_policies

    # Re-planned after each period's demand, as a planner running the engine every period does.
    replayed = backtest_policies(
        inputs.demand, inputs.receipts, inputs.items, config, holdout, replan_every=1,
        at_review=True,
    )  # fmt: skip
    assert replayed.calibration is not None
    console.print(
        _frame_table(
            replayed.calibration,
            f"Calibration: re-planned every period over the last {holdout}, the share of "
            "protection periods whose demand exceeded forecast + k·sigma (normal_: its promise)",
        )
    )


def _print_pilot(
    console: Console,
    inputs: object,
    champion: object,
    pilot: str,
    holdout: int,
    service_level: float | None,
    segment_policies: bool,
) -> None:
    """Champion against challenger on the ``field=value`` segment (planning/pilot.py)."""
    from dataclasses import replace

    from stockpilot.planning.csv_io import PlanInputs
    from stockpilot.planning.engine import PlanConfig
    from stockpilot.planning.pilot import PilotScope, run_pilot

    assert isinstance(inputs, PlanInputs) and isinstance(champion, PlanConfig)
    field, _, value = pilot.partition("=")
    try:
        scope = PilotScope(field.strip(), value.strip())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--pilot") from exc
    challenger = replace(
        champion,
        service_level=champion.service_level if service_level is None else service_level,
        segment_policies=segment_policies or champion.segment_policies,
    )
    try:
        report = run_pilot(
            inputs.demand, inputs.receipts, inputs.items, champion, challenger, scope, holdout
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--pilot") from exc
    console.print(_frame_table(report.groups, f"Pilot on {field}={value}: challenger vs rest"))
    console.print(f"verdict: {report.verdict} ({report.reason})")


def _frame_table(frame: object, title: str) -> Table:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    table = Table(title=title)
    for name in frame.columns:
        table.add_column(name, justify="right" if frame[name].dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    return table


def _scenario_specs(
    disruption: int,
    spike_pct: float,
    spike_length: int,
    lead_time_factor: float,
    inbound_lines: int = 0,
    storage_capacity: float = 0.0,
) -> list[dict[str, object]]:
    specs: list[dict[str, object]] = []
    if inbound_lines or storage_capacity:
        specs.append(
            {
                "name": "warehouse capacity",
                "kind": "warehouse_capacity",
                "inbound_lines_per_period": inbound_lines,
                "storage_capacity": storage_capacity,
            }
        )
    if disruption:
        specs.append(
            {
                "name": f"no receipts for {disruption}",
                "kind": "supplier_disruption",
                "length": disruption,
            }
        )
    if spike_pct:
        specs.append(
            {
                "name": f"demand {spike_pct:+g}%",
                "kind": "demand_spike",
                "demand_change_pct": spike_pct,
                "length": spike_length,
            }
        )
    if lead_time_factor != 1.0:
        specs.append(
            {
                "name": f"lead time x{lead_time_factor:g}",
                "kind": "lead_time_delay",
                "lead_time_factor": lead_time_factor,
            }
        )
    return specs or [{"name": "demand +20%", "kind": "demand_spike", "demand_change_pct": 20}]


def _simulate_on_database(
    console: Console,
    *,
    holdout: int,
    period: str,
    service_level: float | None,
    service_type: str,
    scenarios: list[dict[str, object]],
    calibration: bool = True,
) -> None:
    from dataclasses import asdict

    from stockpilot.bootstrap import open_database
    from stockpilot.replenishment.replays import ReplayRequest, calibration_report
    from stockpilot.replenishment.scenarios import ScenarioRequest, run_scenarios
    from stockpilot.shared.errors import StockpilotError

    request = ScenarioRequest.model_validate(
        {
            "name": "stockpilot simulate",
            "holdout": holdout,
            "period": period,
            "service_level": service_level,
            "service_type": service_type,
            "scenarios": scenarios,
        }
    )
    db = open_database()
    try:
        body = run_scenarios(db, request, actor=SYSTEM)
        # The same calibration report as --from-csv, on this database's own history.
        report = (
            calibration_report(
                db, SYSTEM, ReplayRequest(holdout, period, service_level, service_type)
            )
            if calibration
            else None
        )
    except StockpilotError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(code=2) from exc
    finally:
        db.dispose()
    table = Table(title=f"Replay of the last {holdout} periods ({body.series} series)")
    rows = [asdict(r) for r in body.results]
    columns = list(rows[0])
    for name in columns:
        table.add_column(name, justify="left" if name == "scenario" else "right")
    for row in rows:
        table.add_row(
            *[f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        )
    console.print(table)
    if body.contingency:
        buffers = Table(title="Contingency stock: the dearest buffers that restore the baseline")
        for name in ("scenario", "sku", "site", "buffer", "holding_cost"):
            buffers.add_column(
                name, justify="left" if name in ("scenario", "sku", "site") else "right"
            )
        for b in body.contingency[:20]:
            buffers.add_row(b.scenario, b.sku, b.site, f"{b.buffer:g}", f"{b.holding_cost:,.2f}")
        console.print(buffers)
    if report is None:
        return
    console.print(
        _frame_table(
            report,
            f"Calibration: re-planned every period over the last {holdout}, the share of "
            "protection periods whose demand exceeded forecast + k·sigma (normal_: its promise)",
        )
    )


def data_health_command(
    out: Annotated[
        Path | None, typer.Option("--out", help="write the findings to this CSV as well")
    ] = None,
) -> None:
    """Master-data health on the database: one finding per line, each with the role that owns
    it (lead times far from receipts, missing or implausible dimensions, packs without a unit,
    items with demand and no supplier, suppliers without receipts)."""
    import polars as pl

    from stockpilot.bootstrap import open_database
    from stockpilot.planning.data_quality import data_quality_findings
    from stockpilot.replenishment.queries import data_quality_inputs

    db = open_database()
    try:
        with db.read() as conn:
            findings = data_quality_findings(data_quality_inputs(conn))
    finally:
        db.dispose()
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    summary = findings.group_by("rule", "owner").agg(pl.len().alias("findings")).sort("rule")
    console.print(_frame_table(summary, f"Master-data health: {findings.height} findings"))
    console.print(_frame_table(findings.head(50), "First findings"))
    if out is not None:
        findings.write_csv(out)
        Console(stderr=True).print(f"wrote {findings.height} findings to {out}")


def sourcing_command(
    disrupted: Annotated[
        list[str] | None,
        typer.Option("--disrupted", help="a supplier code out of action (repeatable)"),
    ] = None,
) -> None:
    """Alternate suppliers for the items whose supplier is disrupted or whose lead time has
    drifted, chosen by cost, lead time and reliability (planning/sourcing.py)."""
    from stockpilot.bootstrap import open_database
    from stockpilot.planning.sourcing import alternate_sources
    from stockpilot.replenishment.queries import sourcing_inputs

    db = open_database()
    try:
        with db.read() as conn:
            primaries, candidates = sourcing_inputs(conn)
    finally:
        db.dispose()
    found = alternate_sources(primaries, candidates, disrupted or ())
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(_frame_table(found, f"Alternate sources: {found.height} items need one"))


def register(app: typer.Typer) -> None:
    """Add the ``plan``, ``simulate`` and ``data-health`` commands to ``app``."""
    app.command("plan")(plan_command)
    app.command("simulate")(simulate_command)
    app.command("data-health")(data_health_command)
    app.command("sourcing")(sourcing_command)


if __name__ == "__main__":  # pragma: no cover - manual use
    _app = typer.Typer()
    register(_app)
    _app(sys.argv[1:])


def _plan_on_database(
    console: Console,
    out: Path | None,
    period: str,
    service_level: float | None,
    service_type: str,
    segment_policies: bool = False,
) -> None:
    import polars as pl
    import sqlalchemy as sa

    from stockpilot.bootstrap import open_database
    from stockpilot.persistence.planning_tables import item_location_policy
    from stockpilot.persistence.tables import item, site
    from stockpilot.replenishment.frames import read_frame
    from stockpilot.replenishment.run import run_plan

    db = open_database()
    stages = ["read", "engine", "proposals", "write"]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as progress:
        task = progress.add_task("reading history and positions", total=len(stages))

        def advance(stage: str) -> None:
            if stage in stages:
                nxt = stages.index(stage) + 1
                label = stages[nxt] if nxt < len(stages) else "done"
                progress.update(task, completed=nxt, description=label)

        summary = run_plan(
            db,
            period=period,
            service_level=service_level,
            service_type=service_type,
            actor=SYSTEM,
            progress=advance,
            segment_policies=segment_policies,
        )
    table = Table(title=f"planning run {summary.run_id}")
    table.add_column("item-locations", justify="right")
    table.add_column("proposals", justify="right")
    table.add_column("purchase value", justify="right")
    table.add_column("seconds", justify="right")
    table.add_row(
        str(summary.item_locations),
        str(summary.proposals),
        f"{summary.purchase_value:,.2f}",
        f"{sum(v for k, v in summary.timings.items() if '.' not in k):.1f}",
    )
    Console().print(table)
    if out is not None and str(out) != "-":
        with db.read() as conn:
            frame = read_frame(
                conn,
                sa.select(
                    item.c.sku,
                    site.c.code,
                    *(
                        item_location_policy.c[c]
                        for c in (
                            "demand_class",
                            "abc",
                            "xyz",
                            "method",
                            "forecast_per_period",
                            "forecast_sigma",
                            "lead_time_periods",
                            "lead_time_std_periods",
                            "safety_stock",
                            "reorder_point",
                            "order_up_to",
                            "order_quantity",
                        )
                    ),
                )
                .join(item, item.c.id == item_location_policy.c.item_id)
                .join(site, site.c.id == item_location_policy.c.site_id)
                .where(item_location_policy.c.run_id == summary.run_id)
                .order_by(item.c.sku, site.c.code),
                {
                    "item": pl.String,
                    "site": pl.String,
                    "demand_class": pl.String,
                    "abc": pl.String,
                    "xyz": pl.String,
                    "method": pl.String,
                    "forecast_per_period": pl.Float64,
                    "forecast_sigma": pl.Float64,
                    "lead_time_periods": pl.Float64,
                    "lead_time_std_periods": pl.Float64,
                    "safety_stock": pl.Float64,
                    "reorder_point": pl.Float64,
                    "order_up_to": pl.Float64,
                    "order_quantity": pl.Float64,
                },
            )
        frame.write_csv(out)
        console.print(f"wrote {frame.height} policies to {out}")
    db.dispose()
