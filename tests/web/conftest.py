"""Page tests drive the real app through its HTML: sign in with a form, follow the pages, post
their forms with the tokens they carry — on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.governance.sign_in import set_password
from stockpilot.governance.users import add_user
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM
from tests.api.conftest import api_settings

PASSWORD = "correct horse battery"
_names = itertools.count(1)


def web_user(db: Database, role: str, sites: Sequence[str] = (), name: str | None = None) -> str:
    """A new user of ``role`` with the password ``PASSWORD``; returns their name."""
    name = name or f"{role}-{next(_names)}"

    def work(conn: Any) -> None:
        user_id, _ = add_user(conn, SYSTEM, name, role, sites)
        set_password(conn, SYSTEM, user_id, PASSWORD)

    db.run(work)
    return name


def hidden_value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    token = hidden_value(page.text, "csrf_token")
    return client.post(
        "/login",
        data={"csrf_token": token, "username": name, "password": password},
        follow_redirects=False,
    )


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the (first) form posting to ``action``."""
    found = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert found, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found.group(1)))


def text_of(html: str) -> str:
    """The page's text, tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(db, api_settings())) as test_client:
        yield test_client


def browser_as(db: Database, role: str, sites: Sequence[str] = ()) -> TestClient:
    """A fresh client (its own cookies) signed in as a new user of ``role``."""
    client = TestClient(create_app(db, api_settings()))
    answer = sign_in(client, web_user(db, role, sites))
    assert answer.status_code == 303, answer.text
    return client
