"""Shared fixtures: the independent reference tables in /work/shared/refs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REFS_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "refs"


def read_reference_table(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV; skips the test when the reference directory is absent."""
    if not REFS_DIR.is_dir():
        pytest.skip(f"reference tables not found at {REFS_DIR} (shared/refs is outside the repo)")
    with (REFS_DIR / name).open(newline="") as handle:
        return list(csv.DictReader(handle))
