"""The engine keeps its promise on real demand it has never seen.

Each real data set (monthly public series, ``../shared/data/real-demand/*/demand.csv``) is replayed
by the shared replay tool over its last 24 months, re-planned every month with ``stockpilot plan
--from-csv`` (fill-rate target 0.95, one-month lead time and review). The tool exits 0 only when
the fill rate is within 1.5 points of the target overall and within 3 points for every demand
class with 20+ series, at a median inventory no higher than the leaner of two baselines tuned in
hindsight, and demand exceeded forecast + 1.645 σ in 3.5–6.5 % of protection periods. About 30 s
per data set here; skipped where the data sets are not checked out beside the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
TOOL = SHARED / "tools" / "replay_policies.py"
DATA = SHARED / "data" / "real-demand"
DATA_SETS = (
    sorted(p.name for p in DATA.iterdir() if (p / "demand.csv").exists()) if DATA.exists() else []
)


@pytest.mark.slow
@pytest.mark.parametrize("name", DATA_SETS or ["(none)"])
def test_replayed_real_demand_meets_the_fill_target_at_less_stock_with_an_honest_sigma(
    name: str,
) -> None:
    if not TOOL.exists() or not DATA_SETS:
        pytest.skip("the real-demand data sets are not checked out beside the repository")
    env = dict(os.environ)
    # The tool calls `stockpilot` from PATH: the one installed beside this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [sys.executable, str(TOOL), str(DATA / name)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "holds" in done.stdout.splitlines()[-1]
