"""``make bench``: every benchmark, one JSON document on stdout, and a fresh results table in
docs/benchmarks.md (the prose around the markers is kept).

Each benchmark module runs in its own subprocess, so one's memory and threads never colour
another's figures. Modules owned elsewhere (forecasting, planning) run when they exist.

    python -m benchmarks.run [--quick] [--only ledger,positions,...] [--no-docs]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from benchmarks.common import machine

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

# (name, module, arguments for a quick run)
MODULES = [
    ("ledger", "benchmarks.bench_ledger", ["--quick"]),
    ("positions", "benchmarks.bench_positions", ["--quick"]),
    ("api", "benchmarks.bench_api", ["--quick"]),
    ("forecasting", "benchmarks.bench_forecasting", []),
    ("planning_engine", "benchmarks.bench_planning_engine", []),
    ("planning_db", "benchmarks.bench_planning_db", ["--skus", "5000"]),
    ("policy_quality", "benchmarks.bench_policy_quality", []),
    ("tasks_rules", "benchmarks.bench_tasks_rules", ["--quick"]),
    ("outbound", "benchmarks.bench_outbound", ["--quick"]),
    ("task_queue", "benchmarks.bench_task_queue", ["--quick"]),
    ("receiving", "benchmarks.bench_receiving", ["--quick"]),
    ("transfers", "benchmarks.bench_transfers", ["--quick"]),
    ("valuation", "benchmarks.bench_valuation", ["--quick"]),
    ("web", "benchmarks.bench_web", ["--skus", "2000", "--quick"]),
    ("counting", "benchmarks.bench_counting", ["--quick"]),
    ("webhooks", "benchmarks.bench_webhooks", ["--quick"]),
]


def _run_module(module: str, args: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False
    )
    out: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 1)}
    if proc.returncode != 0:
        out["error"] = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return out
    try:
        out["results"] = json.loads(proc.stdout)
    except ValueError:
        out["error"] = ["output was not JSON", proc.stdout[-500:]]
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "—" if value is None else str(value)


def _ledger_rows(results: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| backend | figure | service | raw driver (baseline) | ratio (median) | target | met |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for key, label in (
            ("one_move_per_transaction", "1 move / transaction (moves/s)"),
            ("batch_1000_lines", "1,000-line document (moves/s)"),
        ):
            f = r[key]
            met = f["meets_target"] and f.get("meets_rate_target", True)
            target = f"≥ {f['target_ratio']}"
            if "target_moves_per_s" in f:
                target += f" and ≥ {f['target_moves_per_s']:,}/s"
            rows.append(
                f"| {r['backend']} | {label} | {_fmt(f['subject_median'])} | "
                f"{_fmt(f['baseline_median'])} | {f['ratio_median']:.3f} | {target} | {_fmt(met)} |"
            )
    rows += [
        "",
        "| backend | statements: post 10 / 1,000 lines | receive 10 / 1,000 lines "
        "| receive in cases 10 / 1,000 lines |",
        "|---|---|---|---|",
    ]
    for r in results:
        c = r["statement_counts"]
        rows.append(
            f"| {r['backend']} | {c['post_moves_10_lines']} / {c['post_moves_1000_lines']} | "
            f"{c['receive_10_lines']} / {c['receive_1000_lines']} | "
            f"{c['receive_in_cases_10_lines']} / {c['receive_in_cases_1000_lines']} |"
        )
    return rows


def _position_rows(results: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| backend | balances | p50 ms | p99 ms | PK select p50 / p99 ms (baseline) "
        "| p99 ratio | writer moves/s | target p99 | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        rows.append(
            f"| {r['backend']} | {r['balances']:,} | {r['position_p50_ms']:.2f} | "
            f"{r['position_p99_ms']:.2f} | {r['primary_key_p50_ms']:.2f} / "
            f"{r['primary_key_p99_ms']:.2f} | {r['p99_ratio_to_primary_key']:.1f} | "
            f"{r['writer_moves_per_s']:.0f} | ≤ {r['target_p99_ms']:.0f} ms | "
            f"{_fmt(r['meets_target'])} |"
        )
    return rows


def _api_rows(results: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| backend | document | through the API (lines/s) | service call (lines/s, baseline) "
        "| ratio (median) |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        for key, label in (
            ("one_line_documents", "1 line per request"),
            ("hundred_line_documents", "100 lines per request"),
        ):
            f = r[key]
            rows.append(
                f"| {r['backend']} | {label} | {_fmt(f['subject_median'])} | "
                f"{_fmt(f['baseline_median'])} | {f['ratio_median']:.3f} |"
            )
    return rows


def results_markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Run {report['started']} ({'quick' if report['quick'] else 'full'} run).",
        "",
        f"Machine: {m['nproc']} vCPU ({m['cpu']}), {m['ram_gib']} GiB RAM, disk {m['disk']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql'] or 'absent'}, "
        f"SQLAlchemy {m['sqlalchemy']}.",
        "",
    ]
    bench = report["benchmarks"]
    if "results" in bench.get("ledger", {}):
        lines += [
            "### Posting: service layer vs raw driver",
            "",
            *_ledger_rows(bench["ledger"]["results"]),
            "",
        ]
    if "results" in bench.get("positions", {}):
        lines += [
            "### Stock position under write load",
            "",
            *_position_rows(bench["positions"]["results"]),
            "",
        ]
    if "results" in bench.get("api", {}):
        lines += [
            "### Stock moves through the HTTP API",
            "",
            *_api_rows(bench["api"]["results"]),
            "",
        ]
    others = [n for n in bench if n not in ("ledger", "positions", "api")]
    for name in others:
        entry = bench[name]
        body = entry.get("results", {"error": entry.get("error")})
        lines += [f"### {name}", "", "```json", json.dumps(body, indent=2)[:4000], "```", ""]
    return "\n".join(lines)


def write_docs(report: dict[str, Any]) -> None:
    text = DOCS.read_text() if DOCS.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{BEGIN}\n{results_markdown(report)}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument(
        "--only", help="comma-separated names: " + ", ".join(n for n, *_ in MODULES)
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(",")) if args.only else None
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "benchmarks": {},
    }
    for name, module, quick_args in MODULES:
        if wanted is not None and name not in wanted:
            continue
        if find_spec(module) is None:
            continue
        print(f"running {module} …", file=sys.stderr, flush=True)
        report["benchmarks"][name] = _run_module(module, quick_args if args.quick else [])
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    # A partial run (--only) would drop the other tables from the page: only full runs write it.
    if not args.no_docs and wanted is None:
        write_docs(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
