"""Shared fixtures: the independent reference tables kept beside these tests (refs/)."""

from __future__ import annotations

import csv
from pathlib import Path

REFS_DIR = Path(__file__).resolve().parent / "refs"


def read_reference_table(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV (a missing file is an error, never a skip)."""
    with (REFS_DIR / name).open(newline="") as handle:
        return list(csv.DictReader(handle))
