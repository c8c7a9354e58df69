"""Fuzz the whole HTTP API with schemathesis against a real ``stockpilot serve`` on SQLite.

Every check is on (server errors, status codes the document does not declare, response
schemas and headers, negative data accepted, missing auth accepted, ...), with a fixed seed so
a run can be repeated. ``make test`` runs a bounded budget (tests/fuzz/test_fuzz_api.py);
``make fuzz`` runs a longer one::

    python -m tests.fuzz.harness --max-examples 200

Afterwards the ledger must still verify clean.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.scenarios.test_kill_server import Server

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class FuzzRun:
    returncode: int
    output: str
    ledger_clean: bool


def _stockpilot(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "stockpilot"), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def fuzz(workdir: Path, *, max_examples: int, seed: int = 1, workers: int = 1) -> FuzzRun:
    """Load a small demo into a fresh database, serve it, fuzz it, verify the ledger."""
    url = f"sqlite:///{workdir / 'fuzz.db'}"
    env = {**os.environ, "STOCKPILOT_DATABASE_URL": url}
    _stockpilot(env, "init")
    _stockpilot(env, "demo", "--skus", "40", "--sites", "2", "--years", "1")
    token = _stockpilot(env, "user", "add", "fuzzer", "--role", "admin").strip().splitlines()[-1]
    server = Server(url, workdir / "server.log")
    server.start(token)
    try:
        done = subprocess.run(
            [
                str(BIN / "st"),
                "--config-file",
                str(HERE / "schemathesis.toml"),
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "all",
                "--seed",
                str(seed),
                "--max-examples",
                str(max_examples),
                "--workers",
                str(workers),
                "--request-timeout",
                "30",
            ],
            env={**env, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            cwd=workdir,
        )
    finally:
        server.stop()
    verify_out = subprocess.run(
        [str(BIN / "stockpilot"), "ledger", "verify"], env=env, capture_output=True, text=True
    )
    return FuzzRun(done.returncode, done.stdout + done.stderr, verify_out.returncode == 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = fuzz(Path(tmp), max_examples=args.max_examples, seed=args.seed, workers=args.workers)
    print(run.output)
    print("ledger verify:", "clean" if run.ledger_clean else "DRIFT")
    return 0 if run.returncode == 0 and run.ledger_clean else 1


if __name__ == "__main__":
    sys.exit(main())
