"""Signing in and out of the pages: the form, the session cookie, CSRF, lock-out, the session
timeout, and the CLI that sets a password."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.governance.sign_in import SignInPolicy, after_failure, session_expired
from stockpilot.governance.users import authenticate
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import app_user, audit_log
from stockpilot.persistence.web_tables import user_password, web_session
from stockpilot.settings import get_settings
from stockpilot.shared.clock import utcnow
from tests.support.world import build_world
from tests.web.conftest import PASSWORD, form_fields, hidden_value, sign_in, web_user

PAGES = ("/", "/items/SKU-1", "/proposals", "/tasks", "/items?q=SKU", "/receive")


def test_the_login_page_is_a_form_with_username_password_and_one_submit_button(
    db: Database, client: TestClient
) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    html = page.text
    assert 'name="username"' in html and 'name="password"' in html
    assert html.count('type="submit"') == 1
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_good_sign_in_lands_on_home_with_an_httponly_samesite_cookie(
    db: Database, client: TestClient
) -> None:
    name = web_user(db, "planner")
    answer = sign_in(client, name)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("sp_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    home = client.get("/")
    assert home.status_code == 200 and name in home.text


def test_a_bad_sign_in_stays_on_the_login_page_with_a_message(
    db: Database, client: TestClient
) -> None:
    name = web_user(db, "planner")
    for user, password in ((name, "wrong password"), ("nobody", PASSWORD)):
        answer = sign_in(client, user, password)
        assert answer.status_code == 200 and answer.url.path == "/login"
        assert "user name or the password is wrong" in answer.text
        assert 'name="username"' in answer.text
    assert "sp_session" not in client.cookies


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_out_request_is_sent_to_the_login_page(
    db: Database, client: TestClient, path: str
) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_a_form_posted_without_its_csrf_token_is_refused(db: Database, client: TestClient) -> None:
    name = web_user(db, "planner")
    # The sign-in form itself: without the token, or with another one.
    page = client.get("/login")
    bare = client.post("/login", data={"username": name, "password": PASSWORD})
    assert bare.status_code == 403 and "sp_session" not in client.cookies
    forged = {"csrf_token": "forged", "username": name, "password": PASSWORD}
    assert client.post("/login", data=forged).status_code == 403
    assert hidden_value(page.text, "csrf_token")
    assert sign_in(client, name).status_code == 303
    # A signed-in form (sign-out) without its token changes nothing.
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert client.post("/logout", data={"csrf_token": "x"}).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
    assert client.post("/proposals/act", data={"action": "accept"}).status_code == 403


def test_signing_out_ends_the_session_for_good(db: Database, client: TestClient) -> None:
    sign_in(client, web_user(db, "planner"))
    cookie = client.cookies["sp_session"]
    fields = form_fields(client.get("/").text, "/logout")
    answer = client.post("/logout", data=fields, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    client.cookies.set("sp_session", cookie)  # the old cookie, replayed
    assert client.get("/", follow_redirects=False).status_code == 303


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    db: Database, client: TestClient
) -> None:
    name = web_user(db, "planner")
    for _ in range(4):
        assert "is wrong" in sign_in(client, name, "wrong password").text
    locked = sign_in(client, name, "wrong password")
    assert "locked until" in locked.text
    refused = sign_in(client, name)
    assert refused.status_code == 200 and "locked until" in refused.text
    assert "sp_session" not in client.cookies
    with db.read() as conn:
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
    assert "user.locked_out" in actions and "user.signed_in" not in actions
    # When the lock-out has passed, the right password works again.
    db.run(
        lambda c: c.execute(
            sa.update(user_password).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    )
    assert sign_in(client, name).status_code == 303


def test_a_query_out_of_bounds_is_a_page_naming_it(db: Database, client: TestClient) -> None:
    sign_in(client, web_user(db, "planner"))
    page = client.get("/items", params={"q": "x", "after": "-1"})
    assert page.status_code == 422 and "after" in page.text
    assert page.headers["content-type"].startswith("text/html")


def test_an_idle_session_times_out(db: Database, client: TestClient) -> None:
    sign_in(client, web_user(db, "planner"))
    assert client.get("/", follow_redirects=False).status_code == 200
    db.run(
        lambda c: c.execute(
            sa.update(web_session).values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
    )
    assert client.get("/", follow_redirects=False).status_code == 303


def test_lock_out_and_expiry_rules() -> None:
    policy = SignInPolicy(attempts=3, lockout=timedelta(minutes=15))
    now = utcnow()
    assert after_failure(0, now, policy).locked_until is None
    assert after_failure(1, now, policy).failed_sign_ins == 2
    third = after_failure(2, now, policy)
    assert (third.failed_sign_ins, third.locked_until) == (0, now + timedelta(minutes=15))
    hour = timedelta(hours=1)
    assert not session_expired(now, now, now + timedelta(minutes=29), policy)
    assert session_expired(now, now, now + hour, policy)  # idle
    assert session_expired(now - 13 * hour, now, now, policy)  # lifetime


def test_user_add_with_a_password_signs_in_and_still_prints_the_token_last(
    db: Database, db_url: str, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world(db)
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    args = ["user", "add", "olga", "--role", "warehouse_operator", "--site", "WH1"]
    result = CliRunner().invoke(app, [*args, "--password", "s3cret-enough"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    with db.read() as conn:
        assert authenticate(conn, token).name == "olga"
    assert sign_in(client, "olga", "s3cret-enough").status_code == 303
    short = CliRunner().invoke(app, ["user", "add", "pat", "--role", "planner", "--password", "x"])
    assert short.exit_code == 1 and "password" in short.output
    with db.read() as conn:
        assert (
            conn.execute(sa.select(app_user.c.id).where(app_user.c.name == "pat")).first() is None
        )


def test_signing_in_again_clears_the_persons_finished_sessions(
    db: Database, client: TestClient
) -> None:
    name = web_user(db, "planner")
    for _ in range(3):
        sign_in(client, name)
        fields = form_fields(client.get("/").text, "/logout")
        client.post("/logout", data=fields)
    sign_in(client, name)
    with db.read() as conn:
        rows = conn.execute(sa.select(web_session.c.ended_at)).all()
    assert [r.ended_at for r in rows] == [None]
