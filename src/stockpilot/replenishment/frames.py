"""Fast movement of whole tables between the database and Polars frames.

PostgreSQL uses COPY in both directions; SQLite uses the driver's cursor directly (inside the
caller's transaction). Both avoid per-row Python objects beyond what the driver must build.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection


def read_frame(conn: Connection, stmt: sa.Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """Run a select and return its rows as a frame with the given column names and types."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    sql = str(compiled)
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        buffer = io.BytesIO()
        with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        buffer.seek(0)
        if buffer.getbuffer().nbytes == 0:
            return pl.DataFrame(schema=schema)
        return pl.read_csv(
            buffer, has_header=False, new_columns=list(schema), schema_overrides=schema
        )
    if all(dtype != pl.String for dtype in schema.values()):
        numeric = _read_numeric_sqlite(conn, stmt, schema)
        if numeric is not None:
            return numeric
    cur = raw.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall()
    finally:
        cur.close()
    frame = pl.DataFrame(rows, schema=list(schema), orient="row", infer_schema_length=None)
    return frame.with_columns(_convert(name, dtype) for name, dtype in schema.items())


_UNIX_EPOCH_JULIAN_DAY = 2440587.5


def _read_numeric_sqlite(
    conn: Connection, stmt: Any, schema: dict[str, Any]
) -> pl.DataFrame | None:
    """All-numeric results straight into NumPy: dates come back as day numbers, and rows are
    flattened by a C loop instead of becoming Python rows in a frame. ``None`` when a value is
    NULL (the caller then takes the general path)."""
    sub = stmt.subquery()
    columns = [
        sa.cast(sa.func.julianday(col) - _UNIX_EPOCH_JULIAN_DAY, sa.Integer)
        if dtype == pl.Date
        else col
        for (_, dtype), col in zip(schema.items(), sub.c, strict=True)
    ]
    sql = str(
        sa.select(*columns).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    width = len(schema)
    chunks: list[np.ndarray] = []
    cur = raw.cursor()
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(500_000):
            try:
                flat = np.fromiter(
                    itertools.chain.from_iterable(rows), dtype=np.float64, count=len(rows) * width
                )
            except TypeError:
                return None
            chunks.append(flat.reshape(len(rows), width))
    finally:
        cur.close()
    data = np.concatenate(chunks) if chunks else np.empty((0, width))
    out = {}
    for j, (name, dtype) in enumerate(schema.items()):
        column = pl.Series(name, data[:, j])
        out[name] = column.cast(pl.Int32).cast(pl.Date) if dtype == pl.Date else column.cast(dtype)
    return pl.DataFrame(out)


def _convert(name: str, dtype: Any) -> pl.Expr:
    # SQLite hands dates back as ISO text.
    if dtype == pl.Date:
        return pl.col(name).cast(pl.String).str.to_date("%Y-%m-%d", strict=False)
    return pl.col(name).cast(dtype)


def write_frame(conn: Connection, table: sa.Table, frame: pl.DataFrame) -> int:
    """Append every row of ``frame`` (columns named as the table's) to ``table``."""
    if frame.height == 0:
        return 0
    columns: Sequence[str] = frame.columns
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
        return frame.height
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    cur = raw.cursor()
    try:
        cur.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', frame.iter_rows())
    finally:
        cur.close()
    return frame.height
