"""The whole API under schemathesis, every check, a fixed seed and a bounded budget: no server
error, no status or body the document does not declare, no bad input accepted, no request
without a token served — and the ledger verifies clean afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.harness import fuzz

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]


def test_the_whole_api_survives_fuzzing_with_every_check(tmp_path: Path) -> None:
    run = fuzz(tmp_path, max_examples=12, seed=1)
    assert run.returncode == 0, run.output[-20000:]
    assert run.ledger_clean
