"""Serving on several cores: ``stockpilot serve --workers N`` as an operator runs it.

The server is started as a child process on a free port. Two workers are two processes that
each answer requests on their own (one is frozen with SIGSTOP while the other must answer
alone), concurrent receipts through both are all posted exactly once on SQLite and on
PostgreSQL, and SIGTERM stops the server, in both modes, within the graceful timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from stockpilot.cli.serve import ServeOptions, gunicorn_settings
from stockpilot.governance.users import add_user
from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import move
from stockpilot.shared.actor import SYSTEM
from tests.support.world import build_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]

GRACE = 2  # --graceful-timeout for these servers, in seconds
CLIENTS = 8
RECEIPTS_PER_CLIENT = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``stockpilot serve --workers N`` as a child process; ``start`` returns once it answers."""

    def __init__(self, database_url: str, log: Path, workers: int) -> None:
        self.database_url = database_url
        self.log = log
        self.workers = workers
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, token: str) -> None:
        script = Path(sys.executable).with_name("stockpilot")
        command = [str(script), "serve", "--port", str(self.port), "--workers", str(self.workers)]
        command += ["--graceful-timeout", str(GRACE)]
        env = {**os.environ, "STOCKPILOT_DATABASE_URL": self.database_url}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            if len(self.worker_pids()) == (self.workers if self.workers > 1 else 0):
                try:
                    if _sites(self.url, token) == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        raise AssertionError("server did not come up:\n" + self.log.read_text()[-2000:])

    def worker_pids(self) -> list[int]:
        """The worker processes under gunicorn's arbiter (none in the single-process mode)."""
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return sorted(int(c) for c in children)

    def stop(self) -> None:
        """SIGTERM, as an operator stops it; SIGKILL for whatever is still up after that."""
        if self.process is not None and self.process.poll() is None:
            workers = self.worker_pids()
            for worker in workers:
                os.kill(worker, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
            for worker in workers:
                if _alive(worker):
                    os.kill(worker, signal.SIGKILL)
        self.process = None


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or exited and not yet reaped (an orphan's zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _sites(url: str, token: str) -> int:
    """One GET on a fresh connection: a new connection goes to whichever worker accepts it."""
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{url}/api/v1/sites", headers=headers, timeout=30).status_code


@pytest.fixture
def seeded(db_url: str) -> Iterator[tuple[Database, str]]:
    database = Database(db_url, pool_size=2, max_overflow=2)
    build_world(database)
    _, token = database.run(lambda c: add_user(c, SYSTEM, "operator", "admin"))
    try:
        yield database, token
    finally:
        database.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "stockpilot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _receive(client: httpx.Client, client_no: int) -> list[int]:
    statuses = []
    for n in range(RECEIPTS_PER_CLIENT):
        body = {"site": "WH1", "lines": [{"sku": "SKU-1", "quantity": 1, "location": "A-01"}]}
        key = {"Idempotency-Key": f"workers-{client_no}-{n}"}
        statuses.append(client.post("/api/v1/receipts", json=body, headers=key).status_code)
    return statuses


def test_two_workers_each_answer_and_post_concurrent_receipts_exactly_once(
    seeded: tuple[Database, str], tmp_path: Path
) -> None:
    db, token = seeded
    server = Server(db.url.render_as_string(hide_password=False), tmp_path / "server.log", 2)
    server.start(token)
    try:
        first, second = server.worker_pids()
        # Freeze one worker: every new connection must then be answered by the other.
        for frozen in (first, second):
            os.kill(frozen, signal.SIGSTOP)
            try:
                assert [_sites(server.url, token) for _ in range(3)] == [200, 200, 200]
            finally:
                os.kill(frozen, signal.SIGCONT)

        headers = {"Authorization": f"Bearer {token}"}
        clients = [
            httpx.Client(base_url=server.url, headers=headers, timeout=60) for _ in range(CLIENTS)
        ]
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                statuses = list(pool.map(_receive, clients, range(CLIENTS)))
            verified = clients[0].get("/api/v1/ledger/verify").json()
        finally:
            for client in clients:
                client.close()
        assert server.worker_pids() == [first, second]  # no worker died on the way
    finally:
        server.stop()

    assert statuses == [[201] * RECEIPTS_PER_CLIENT] * CLIENTS
    assert verified["ok"] and verified["drifts"] == []
    with db.read() as conn:
        receipts = conn.execute(
            sa.select(sa.func.count()).select_from(move).where(move.c.document_type == "receipt")
        ).scalar_one()
        assert receipts == CLIENTS * RECEIPTS_PER_CLIENT
        assert verify(conn).ok


@contextmanager
def _stalled_request(port: int, token: str) -> Iterator[socket.socket]:
    """A POST that announces 1,000 bytes of body and sends 10: the server is left waiting."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        "POST /api/v1/receipts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"site": "')
    try:
        yield sock
    finally:
        sock.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_the_server_within_its_graceful_timeout(
    workers: int, sqlite_url: str, tmp_path: Path
) -> None:
    database = Database(sqlite_url, pool_size=1, max_overflow=0)
    _, token = database.run(lambda c: add_user(c, SYSTEM, "operator", "admin"))
    database.dispose()
    server = Server(sqlite_url, tmp_path / "server.log", workers)
    server.start(token)
    try:
        assert server.process is not None
        # Neither a kept-alive connection nor a request whose body never finishes arriving
        # may keep the server up: the second waits for the graceful timeout, then is dropped.
        with (
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c,
            _stalled_request(server.port, token),
        ):
            assert c.get("/api/v1/sites").status_code == 200
            server.process.send_signal(signal.SIGTERM)
            try:
                returncode = server.process.wait(timeout=GRACE + 8)
            except subprocess.TimeoutExpired:
                pytest.fail("the server was still up after SIGTERM:\n" + server.log.read_text())
    finally:
        server.stop()
    # uvicorn alone re-raises the SIGTERM it handled once it has shut down; gunicorn exits 0.
    assert returncode in (0, -signal.SIGTERM)
    log = server.log.read_text()
    if workers == 1:
        assert "Application shutdown complete" in log
    else:
        # The arbiter's graceful timeout equals the workers' own: whether a worker logs its
        # shutdown before the arbiter ends it at that instant is a race; the arbiter's exit is not.
        assert "Shutting down: Master" in log


def test_workers_stop_by_themselves_when_their_arbiter_is_killed(
    sqlite_url: str, tmp_path: Path
) -> None:
    database = Database(sqlite_url, pool_size=1, max_overflow=0)
    _, token = database.run(lambda c: add_user(c, SYSTEM, "operator", "admin"))
    database.dispose()
    server = Server(sqlite_url, tmp_path / "server.log", 2)
    server.start(token)
    workers = server.worker_pids()
    assert server.process is not None
    server.process.kill()  # kill -9 of the arbiter: nothing tells the workers
    server.process.wait(timeout=30)
    server.process = None
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for worker in left:
        os.kill(worker, signal.SIGKILL)
    assert left == [], server.log.read_text()[-2000:]
    # The port is free again: a restarted server can take it.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        sock.bind(("127.0.0.1", server.port))
        sock.listen()


def test_several_workers_run_under_gunicorn_with_a_bounded_graceful_timeout() -> None:
    settings = gunicorn_settings(ServeOptions("127.0.0.1", 8000, workers=4, graceful_timeout=3))
    assert settings["workers"] == 4
    assert settings["worker_class"] == "stockpilot.cli.serve.StockpilotWorker"
    assert settings["graceful_timeout"] == 3
    assert settings["bind"] == ["127.0.0.1:8000"]


def test_zero_workers_is_refused() -> None:
    with pytest.raises(ValueError, match="workers"):
        ServeOptions("127.0.0.1", 8000, workers=0)
