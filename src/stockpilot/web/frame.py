"""What every page shares: who is looking (the session cookie), the templates, CSRF checks,
idempotent form writes, and how errors become pages.

Access is decided by the same functions the API uses: ``governance.permissions.allows`` for
what a role may do, the ``Actor``'s site scope inside every service and query, and
``api.deps.shown`` for cost fields — a page never decides any of them a second time.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Connection

from stockpilot.api.deps import get_db, shown
from stockpilot.api.idempotency import IdempotentRequest, request_hash, run_write
from stockpilot.governance.permissions import allows, can_see_cost
from stockpilot.governance.sign_in import SignInPolicy, open_session, touch_session
from stockpilot.persistence.db import Database
from stockpilot.settings import Settings
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Forbidden, StockpilotError, Unauthorized, ValidationFailed

TEMPLATES_DIR = Path(__file__).parent / "templates"
SESSION_COOKIE = "sp_session"
LOGIN_COOKIE = "sp_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
FORM_KEY_FIELD = "form_key"

# Pages talk only to their own origin; no inline script or style is used.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=TEMPLATES_DIR)


def concerns(problem: dict[str, Any] | None, name: str) -> bool:
    """Whether a problem's ``field`` (``lines[0].scan.gtin``) is about the form field ``name``
    (``scan``): the error is then shown beside that field."""
    if not problem or not problem.get("field"):
        return False
    parts = [part.split("[")[0] for part in str(problem["field"]).split(".")]
    return name in parts


templates.env.globals["concerns"] = concerns


def policy_of(settings: Settings) -> SignInPolicy:
    return SignInPolicy(
        attempts=settings.sign_in_attempts,
        lockout=timedelta(minutes=settings.lockout_minutes),
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_lifetime_hours),
    )


class SignInNeeded(Exception):
    """The request has no live session: the page answers with a redirect to /login."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking at a page."""

    actor: Actor
    csrf_token: str

    def can(self, permission: str) -> bool:
        return allows(self.actor.role, permission)

    @property
    def sees_cost(self) -> bool:
        return can_see_cost(self.actor.role)

    def need(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(f"role {self.actor.role} may not {permission}")

    def shown(self, body: Any) -> Any:
        """What this person may see of a service's answer (the API's own rule)."""
        return shown(self.actor, body)


def _origin(request: Request) -> str | None:
    return request.client.host if request.client else None


async def current_viewer(request: Request, db: Annotated[Database, Depends(get_db)]) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInNeeded
    policy = policy_of(request.app.state.settings)
    try:
        with db.read() as conn:
            session = open_session(conn, token, policy, origin=_origin(request))
    except Unauthorized as exc:
        raise SignInNeeded from exc
    if session.needs_touch:
        db.run(lambda conn: touch_session(conn, session.session_id))
    viewer = Viewer(session.actor, session.csrf_token)
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
DbPage = Annotated[Database, Depends(get_db)]


@dataclass(frozen=True)
class Form:
    """A posted form's text fields (a name may repeat, as checkboxes do)."""

    items: tuple[tuple[str, str], ...]

    def get(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.items if k == name), default)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name]


async def checked_form(request: Request, viewer: ViewerDep) -> Form:
    """The posted form, refused (403) unless it carries the session's CSRF token."""
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
    if not sent or not hmac.compare_digest(sent, viewer.csrf_token):
        raise Forbidden("this form has expired or did not come from this site: reload the page")
    return Form(tuple((k, v.strip()) for k, v in form.multi_items() if isinstance(v, str)))


FormDep = Annotated[Form, Depends(checked_form)]


def form_write(
    db: Database,
    viewer: Viewer,
    request: Request,
    form: Form,
    work: Callable[[Connection], tuple[int, Any]],
) -> Any:
    """Run a form's write through the API's idempotent writer: the form's one-time key makes
    a double submit (or a scanner's repeated Enter) a replay that writes nothing."""
    key = form.get(FORM_KEY_FIELD) or ""
    req = None
    if key:
        fields = "&".join(
            f"{k}={v}" for k, v in sorted(form.items) if k not in (CSRF_FIELD, FORM_KEY_FIELD)
        )
        path = "web:" + request.url.path
        req = IdempotentRequest(
            key[:200], "POST", path, request_hash("POST", path, fields.encode())
        )
    return run_write(db, viewer.actor, req, work).body


def new_form_key() -> str:
    return secrets.token_urlsafe(16)


templates.env.globals["new_form_key"] = new_form_key


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("error", None)
    response = templates.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "csrf_field": CSRF_FIELD, "form_key_field": FORM_KEY_FIELD, **context},
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def to_login(request: Request) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)


def _problem_page(request: Request, problem: dict[str, Any]) -> HTMLResponse:
    return render(
        request,
        "_problem.html" if is_htmx(request) else "problem.html",
        getattr(request.state, "viewer", None),
        status_code=int(problem["status"]),
        problem=problem,
    )


class PageRoute(APIRoute):
    """A page: no session redirects to /login; a domain error is shown as a page (or, for an
    htmx fragment, as the fragment) in the words of the API's problem detail."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                return to_login(request)
            except StockpilotError as exc:
                return _problem_page(request, exc.problem())
            except RequestValidationError as exc:  # a query parameter out of its bounds
                first = exc.errors()[0]
                where = str(first["loc"][-1]) if first.get("loc") else "request"
                problem = ValidationFailed(f"{where}: {first['msg']}", field=where).problem()
                return _problem_page(request, problem)

        return handle
