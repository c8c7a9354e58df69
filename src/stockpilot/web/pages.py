"""The web application: server-rendered pages (Jinja2 templates, htmx for the parts that
change), sign-in with a session cookie, and the static files, all served from the package (no
build step, nothing fetched from another origin).

Routers stay thin: each page parses its query or form, calls the services the API calls and
renders a template. ``/lookup`` keeps the first token-based look-up page (it calls the REST API
with a bearer token the user pastes in, kept in the tab's sessionStorage).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from stockpilot.web import auth, planning, scenarios, stock, supervisor, warehouse
from stockpilot.web.frame import CONTENT_SECURITY_POLICY, SECURITY_HEADERS

STATIC_DIR = Path(__file__).parent / "static"

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_DIR", "mount_web"]


def mount_web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/lookup", include_in_schema=False)
    def lookup() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "index.html", media_type="text/html", headers=SECURITY_HEADERS
        )

    for module in (auth, stock, planning, scenarios, warehouse, supervisor):
        app.include_router(module.router)
