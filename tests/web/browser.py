"""Real-browser support: a real server (``python -m stockpilot.cli.main serve``) on a free
port over the test's database, Debian's Chromium driven by Playwright, a record of every
request the browser makes, and the axe-core accessibility check (vendored under vendor/).

A missing browser is a failure, never a skip: ``make test`` installs Debian's ``chromium``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
PHONE = {"width": 360, "height": 640}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``stockpilot serve`` as a child process over ``database_url``."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "stockpilot.cli.main", "serve", "--port", str(self.port)]
        env = {**os.environ, "STOCKPILOT_DATABASE_URL": database_url}
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()[-2000:]
            try:
                if httpx.get(self.url + "/login", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("server did not come up:\n" + log.read_text()[-2000:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(db_url, tmp_path / "server.log")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@dataclass
class Visit:
    """One person's browser: its page, every request it made, and its console errors."""

    server: Server
    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> Page:
        self.page.goto(self.server.url + path)
        return self.page

    def sign_in(self, name: str, password: str) -> None:
        self.go("/login")
        self.page.fill('input[name="username"]', name)
        self.page.fill('input[name="password"]', password)
        self.submit('button[type="submit"]')
        assert self.page.url == self.server.url + "/", self.page.inner_text("main")

    def submit(self, selector: str) -> None:
        """Click a button or link and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.click(selector)

    def press_enter(self) -> None:
        """Enter in the focused field (what a keyboard-wedge scanner sends after a scan)."""
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    def outside_requests(self) -> list[str]:
        own = self.server.url + "/"
        return [u for u in self.requests if not (u.startswith(own) or u.startswith("data:"))]


def visit(browser: Browser, server: Server, **options: Any) -> Visit:
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(30000)
    seen = Visit(server, context, page)
    context.on("request", lambda request: seen.requests.append(request.url))
    # Script and policy errors; an answer's own status (a 404 page, a refusal) is not one.
    page.on(
        "console",
        lambda m: (
            seen.errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    return seen


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
  }));
}"""


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it stands."""
    page.evaluate(AXE.read_text())
    violations = page.evaluate(_AXE_RUN)
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, (page.url, bad)
