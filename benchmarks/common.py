"""What the ledger benchmarks share: databases per backend, the machine's description,
interleaved A/B timing, statement capture and replay through the raw driver.

Every figure is a ratio against a baseline measured in the same run, interleaved (ABAB…) over
several rounds, reported as the median: the machine is shared and its disk sync rate varies
from minute to minute, so absolute rates alone say little.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from stockpilot.bootstrap import initialise
from stockpilot.ledger.posting import LOCATION_FLAGS
from stockpilot.persistence.db import Database

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get("STOCKPILOT_BENCH_POSTGRES_URL") or os.environ.get(
        "STOCKPILOT_TEST_POSTGRES_URL", PG_DEFAULT
    )


def backends() -> list[str]:
    """SQLite always; PostgreSQL when the local server answers."""
    try:
        engine = sa.create_engine(postgres_admin_url())
        with engine.connect():
            pass
        engine.dispose()
    except Exception:  # an absent server only drops the PostgreSQL column
        return ["sqlite"]
    return ["sqlite", "postgresql"]


@contextmanager
def fresh_database(backend: str, name: str, **pool: int) -> Iterator[Database]:
    """A new migrated database (a file in a temp dir, or a database on the local server)."""
    LOCATION_FLAGS.clear()
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="stockpilot-bench-") as workdir:
            db = Database(f"sqlite:///{Path(workdir) / f'{name}.db'}", **pool)
            try:
                initialise(db)
                yield db
            finally:
                db.dispose()
        return
    admin = sa.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    dbname = f"stockpilot_bench_{name}_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
    url = sa.make_url(postgres_admin_url()).set(database=dbname)
    db = Database(url.render_as_string(hide_password=False), **pool)
    try:
        initialise(db)
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.dispose()
        LOCATION_FLAGS.clear()


def per_backend_main(
    doc: str, run: Callable[..., dict[str, Any]], argv: list[str] | None = None
) -> int:
    """The command line of a benchmark run once per backend: ``[--backend B ...] [--quick]``,
    the results as one JSON list on stdout."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args(argv)
    results = [run(b, quick=args.quick) for b in (args.backend or backends())]
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


# --- timing ------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Rates of a subject and its baseline over interleaved rounds."""

    unit: str
    subject: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [s / b for s, b in zip(self.subject, self.baseline, strict=True)]

    def summary(self, target: float | None = None) -> dict[str, Any]:
        ratio = statistics.median(self.ratios)
        out: dict[str, Any] = {
            "unit": self.unit,
            "subject_median": round(statistics.median(self.subject), 1),
            "baseline_median": round(statistics.median(self.baseline), 1),
            "ratio_median": round(ratio, 3),
            "ratios": [round(r, 3) for r in self.ratios],
            "rounds": len(self.ratios),
        }
        if target is not None:
            out["target_ratio"] = target
            out["meets_target"] = ratio >= target
        return out


def interleave(
    subject: Callable[[], int],
    baseline: Callable[[], int],
    *,
    rounds: int,
    unit: str,
) -> Comparison:
    """Run subject and baseline alternately (ABAB…); each call returns how many units it did,
    and its rate is units per second.

    One unrecorded pair warms both up first. The first of each pair alternates and the
    rounds are made even, so each side goes first equally often: on SQLite whichever
    connection writes first after the other one finds its page cache stale, and an odd
    number of rounds would hand that cost to one side more often than to the other.
    """
    subject(), baseline()
    result = Comparison(unit)
    for r in range(rounds + rounds % 2):
        pair = [("s", subject), ("b", baseline)]
        if r % 2:
            pair.reverse()
        for label, fn in pair:
            started = time.perf_counter()
            done = fn()
            rate = done / (time.perf_counter() - started)
            (result.subject if label == "s" else result.baseline).append(rate)
    return result


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


# --- statements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any
    many: bool


class _RecordingCursor:
    """A driver cursor that notes what the hot path sends it directly (persistence.raw)."""

    def __init__(self, cursor: Any, out: list[Statement]) -> None:
        self._cursor, self._out = cursor, out

    def execute(self, sql: str, params: Any = ()) -> Any:
        self._out.append(Statement(sql, params, False))
        return self._cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = list(rows)
        self._out.append(Statement(sql, rows, True))
        return self._cursor.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextmanager
def captured(db: Database) -> Iterator[list[Statement]]:
    """Every statement sent to the driver, through SQLAlchemy or directly on its cursor
    (an executemany is one statement)."""
    from stockpilot.persistence import raw

    out: list[Statement] = []

    def hook(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        out.append(Statement(sql, params, many))

    original = raw._cursor

    def recording(conn: Any) -> Any:
        return _RecordingCursor(original(conn), out)

    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", hook)
    raw._cursor = recording
    try:
        yield out
    finally:
        raw._cursor = original
        for engine in db.engines:
            event.remove(engine, "before_cursor_execute", hook)


class RawReplay:
    """The raw driver (sqlite3 or psycopg) on the same database, replaying captured statements
    one transaction at a time — the floor the service layer is measured against."""

    def __init__(self, db: Database) -> None:
        self.sqlite = db.is_sqlite
        if self.sqlite:
            path = db.url.database
            assert path is not None
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # The same pragmas as the engine's connections (db.py), or the floor is not fair.
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
                conn.execute(f"PRAGMA {pragma}")
            conn.execute("PRAGMA foreign_keys=ON")
            self.conn: Any = conn
        else:
            import psycopg

            url = db.url.set(drivername="postgresql")
            self.conn = psycopg.connect(url.render_as_string(hide_password=False))

    def run(self, statements: list[Statement]) -> None:
        """One transaction: the statements, then COMMIT."""
        conn = self.conn
        if self.sqlite:
            # The service opens every write transaction with BEGIN IMMEDIATE on the driver
            # connection itself (db.py), where no cursor hook sees it: the replay does too.
            if not statements or not statements[0].sql.startswith("BEGIN"):
                conn.execute("BEGIN IMMEDIATE")
            for st in statements:
                if st.many:
                    conn.executemany(st.sql, st.parameters)
                else:
                    conn.execute(st.sql, st.parameters)
            conn.execute("COMMIT")
            return
        with conn.cursor() as cur:
            for st in statements:
                if st.many:
                    cur.executemany(st.sql, st.parameters)
                else:
                    cur.execute(st.sql, st.parameters)
        conn.commit()

    def close(self) -> None:
        self.conn.close()


# --- the machine ---------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _disk(path: str) -> str:
    try:
        out = subprocess.run(
            ["df", "-h", "--output=source,fstype,size", path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[-1]
        rotational = Path("/sys/block/vda/queue/rotational")
        kind = ""
        if rotational.exists():
            kind = " (rotational)" if rotational.read_text().strip() == "1" else " (non-rotational)"
        return " ".join(out.split()) + kind
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_gib": _ram_gib(),
        "disk": _disk(tempfile.gettempdir()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "postgresql": None,
    }
    try:
        engine = sa.create_engine(postgres_admin_url())
        with engine.connect() as conn:
            info["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    except Exception:  # described as absent
        pass
    return info
