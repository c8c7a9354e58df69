"""Sign-in, sign-out and each person's home page."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from stockpilot.governance import sign_in as accounts
from stockpilot.web import home as home_figures
from stockpilot.web.frame import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    DbPage,
    FormDep,
    PageRoute,
    ViewerDep,
    policy_of,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _login_page(
    request: Request, token: str, status_code: int = 200, message: str | None = None
) -> HTMLResponse:
    response = render(
        request, "login.html", None, status_code=status_code, login_token=token, message=message
    )
    _set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    return _login_page(request, token)


@router.post("/login")
async def login(request: Request, db: DbPage) -> Response:
    form = await request.form()
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    sent = str(form.get(CSRF_FIELD) or "")
    fresh = secrets.token_urlsafe(24)
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        return _login_page(
            request, fresh, 403, "This sign-in form has expired: please sign in again."
        )
    name = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    # A refused sign-in is the sign-in page again, with why (200, as a form shown again is).
    if not name or not password:
        return _login_page(request, expected, 200, "Enter your user name and your password.")
    policy = policy_of(request.app.state.settings)
    origin = request.client.host if request.client else None
    outcome = db.run(lambda conn: accounts.sign_in(conn, name, password, policy, origin=origin))
    if not outcome.ok or outcome.token is None:
        if outcome.locked_until is not None:
            message = (
                "Too many failed attempts: this account is locked until "
                f"{outcome.locked_until:%H:%M} UTC."
            )
        else:
            message = "The user name or the password is wrong."
        return _login_page(request, expected, 200, message)
    response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    _set_cookie(request, response, SESSION_COOKIE, outcome.token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, db: DbPage, viewer: ViewerDep, form: FormDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE) or ""
    db.run(lambda conn: accounts.sign_out(conn, token))
    response = RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request, db: DbPage, viewer: ViewerDep) -> HTMLResponse:
    with db.read() as conn:
        figures = home_figures.figures(conn, viewer.actor)
    return render(request, "home.html", viewer, figures=figures)
