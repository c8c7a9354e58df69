"""RFC 9457 problem responses: every error the API gives is ``application/problem+json`` with
``type``, ``title``, ``status``, ``detail`` and, when one field is at fault, ``field`` and
``errors[{field, message}]``.

Domain errors carry their own problem (``StockpilotError.problem``); framework errors (routing,
request validation) and database refusals that slipped past validation are translated here, so
that bad input never becomes a 500. Anything else is a 500 without internals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from stockpilot.shared.errors import StockpilotError
from stockpilot.shared.fields import MAX_ERRORS

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://stockpilot.dev/problems/"

log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    field: str | None = None,
    errors: list[dict[str, str]] | None = None,
    type_suffix: str | None = None,
) -> dict[str, Any]:
    title = _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": TYPE_BASE + (type_suffix or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
        body["errors"] = errors or [{"field": field, "message": detail}]
    return body


def problem_response(
    body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    status = int(body["status"])
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def field_from_loc(loc: Sequence[str | int]) -> str:
    """``("body", "lines", 0, "quantity")`` → ``lines[0].quantity``; ``("query", "limit")`` →
    ``limit``. The source (body/query/path/header) is dropped: names are unique enough."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


def validation_problem(exc: RequestValidationError) -> dict[str, Any]:
    """The first ``MAX_ERRORS`` distinct errors, in order, and how many there were in all.

    A body of 100,000 bad lines costs one pass (a set for the distinct pairs), and the answer
    stays small: refusing bad input must never cost more than accepting good input.
    """
    errors: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    total = 0
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            field, message = "body", "the body is not valid JSON"
        else:
            field, message = field_from_loc(err.get("loc", ())), str(err.get("msg", "invalid"))
        if (field, message) in seen:
            continue
        seen.add((field, message))
        total += 1
        if len(errors) < MAX_ERRORS:
            errors.append({"field": field, "message": message})
    if not errors:
        errors, total = [{"field": "body", "message": "invalid request"}], 1
    first = errors[0]
    detail = f"{first['field']}: {first['message']}"
    if total > len(errors):
        detail += f" ({total} errors; the first {len(errors)} are listed)"
    elif any(_in_document_lines(err.get("loc", ())) for err in exc.errors()[:1]):
        detail += " (lines are checked up to the first invalid one)"
    return problem(422, detail, field=first["field"], errors=errors, type_suffix="validation")


def _in_document_lines(loc: Sequence[str | int]) -> bool:
    return len(loc) >= 3 and loc[0] == "body" and isinstance(loc[2], int)


# FastAPI answers a body it could not decode (bad UTF-8, nested too deep, an integer of
# thousands of digits) with this 400; it is bad input like any other: a 422 naming the body.
_UNPARSEABLE_BODY = "There was an error parsing the body"


class MethodTable:
    """Which methods each path serves, for the ``Allow`` header of a 405 (Starlette names only
    the methods of the first route that matched the path)."""

    def __init__(self) -> None:
        self._paths: list[tuple[re.Pattern[str], frozenset[str]]] = []

    def add(self, path: str, methods: set[str] | None) -> None:
        if methods:
            regex, _, _ = compile_path(path)
            self._paths.append((regex, frozenset(methods)))

    def allowed(self, path: str) -> list[str]:
        found: set[str] = set()
        for regex, methods in self._paths:
            if regex.match(path):
                found |= methods
        return sorted(found)


def install_problem_handlers(app: FastAPI, methods: MethodTable) -> None:
    @app.exception_handler(StockpilotError)
    async def _domain(_: Request, exc: StockpilotError) -> JSONResponse:
        return problem_response(exc.problem())

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        if exc.status_code == 400 and detail == _UNPARSEABLE_BODY:
            invalid = "the body is not valid JSON"
            return problem_response(problem(422, invalid, field="body", type_suffix="validation"))
        headers = exc.headers
        if exc.status_code == 405:
            allowed = methods.allowed(request.url.path)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return problem_response(problem(exc.status_code, detail), headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # Validation should have caught it; say what kind of refusal without the SQL.
        log.warning("integrity error reached the API: %s", exc.orig)
        return problem_response(problem(409, "the change conflicts with existing data"))

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        log.warning("data error reached the API: %s", exc.orig)
        return problem_response(problem(422, "a value is out of range", field="body"))

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, _exc: OverflowError) -> JSONResponse:
        return problem_response(problem(422, "a number is too large", field="body"))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem_response(problem(500, "an unexpected error occurred"))
