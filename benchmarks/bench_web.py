"""The web pages against the API calls that answer the same question, same run.

On the demo distributor (``--skus``, planned once so proposals exist), served by
``stockpilot serve`` in its own process: a signed-in browser's requests (session cookie) for
the stock explorer search, the item page and the first page of the proposal list, each against
the matching API call with a bearer token — ``GET /api/v1/items?q=``, ``GET /api/v1/stock?sku=``
(the item page also reads ATP, moves and policies: the sum of those four calls is reported too)
and ``GET /api/v1/proposals?status=proposed&limit=200`` — interleaved request by request over
kept-alive connections. Reported as p50 / p95 latency and the ratio of the p95s; the targets
are p95 ≤ 3 × the API call and under 300 ms.

    python -m benchmarks.bench_web [--backend sqlite|postgresql] [--skus N] [--requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from benchmarks.common import backends, fresh_database, machine, percentile
from stockpilot.demo import DemoSpec, build_demo
from stockpilot.governance.sign_in import set_password
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import app_user, item
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM
from tests.web.browser import _free_port

PASSWORD = "bench-password-1"


def _server(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-m", "stockpilot.cli.main", "serve", "--port", str(port)]
    env = {**os.environ, "STOCKPILOT_DATABASE_URL": url}
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/login", timeout=5).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not come up: " + log.read_text()[-1000:])


def _signed_in(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post(
        "/login", data={"csrf_token": token.group(1), "username": name, "password": PASSWORD}
    )
    assert answer.status_code in (200, 303), answer.status_code
    return client


def _time(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return elapsed


def _compare(page: Callable[[], float], api: Callable[[], float], requests: int) -> dict[str, Any]:
    page(), api()  # warm both
    pages, apis = [], []
    for _ in range(requests):
        pages.append(page())
        apis.append(api())
    p95_page, p95_api = percentile(pages, 0.95), percentile(apis, 0.95)
    return {
        "page_p50_ms": round(percentile(pages, 0.5), 1),
        "page_p95_ms": round(p95_page, 1),
        "api_p50_ms": round(percentile(apis, 0.5), 1),
        "api_p95_ms": round(p95_api, 1),
        "p95_ratio": round(p95_page / p95_api, 2),
        "meets_ratio_3": p95_page <= 3 * p95_api,
        "under_300_ms": p95_page < 300,
        "requests": requests,
    }


def run(backend: str, *, skus: int, requests: int) -> dict[str, Any]:
    with fresh_database(backend, "web") as db:
        started = time.perf_counter()
        result = build_demo(db, DemoSpec(skus=skus))
        run_plan(db, actor=SYSTEM)
        user_id = _admin_id(db, result.admin_name)
        db.run(lambda conn: set_password(conn, SYSTEM, user_id, PASSWORD))
        sample_sku, word = _sample(db)
        setup = round(time.perf_counter() - started, 1)
        url = db.url.render_as_string(hide_password=False)
        log = Path(f"/tmp/stockpilot-bench-web-{os.getpid()}.log")
        process, base = _server(url, log)
        try:
            browser = _signed_in(base, result.admin_name)
            api = httpx.Client(base_url=base, timeout=60)
            bearer = {"Authorization": f"Bearer {result.admin_token}"}

            def api_get(path: str) -> Callable[[], float]:
                return lambda: _time(api, "/api/v1" + path, bearer)

            def page_get(path: str) -> Callable[[], float]:
                return lambda: _time(browser, path)

            def item_calls() -> float:
                return sum(
                    _time(api, "/api/v1" + p, bearer)
                    for p in (
                        f"/stock?sku={sample_sku}",
                        f"/atp?sku={sample_sku}&site=HUB",
                        f"/moves?sku={sample_sku}&limit=21",
                        f"/policies?sku={sample_sku}",
                    )
                )

            out = {
                "backend": backend,
                "skus": skus,
                "setup_seconds": setup,
                "search": _compare(
                    page_get(f"/items?q={word}"), api_get(f"/items?q={word}&limit=51"), requests
                ),
                "item_page_vs_stock": _compare(
                    page_get(f"/items/{sample_sku}"), api_get(f"/stock?sku={sample_sku}"), requests
                ),
                "item_page_vs_its_four_calls": _compare(
                    page_get(f"/items/{sample_sku}"), item_calls, requests
                ),
                "proposals_first_page": _compare(
                    page_get("/proposals"),
                    api_get("/proposals?status=proposed&limit=201"),
                    requests,
                ),
            }
        finally:
            process.terminate()
            process.wait(timeout=30)
    return out


def _admin_id(db: Database, name: str) -> int:
    with db.read() as conn:
        return int(
            conn.execute(sa.select(app_user.c.id).where(app_user.c.name == name)).scalar_one()
        )


def _sample(db: Database) -> tuple[str, str]:
    """An item in the middle of the catalogue, and the first word of its description."""
    with db.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(item)).scalar_one()
        row = conn.execute(
            sa.select(item.c.sku, item.c.description).order_by(item.c.id).offset(count // 2)
        ).first()
    assert row is not None
    word = (row.description.split() or [row.sku])[0]
    return row.sku, word


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="a smoke run (fewer requests)")
    args = parser.parse_args(argv)
    requests = 20 if args.quick else args.requests
    results = [run(b, skus=args.skus, requests=requests) for b in (args.backend or backends())]
    json.dump({"machine": machine(), "results": results}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
