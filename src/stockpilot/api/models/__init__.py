"""Response bodies of the API, declared for OpenAPI (``/openapi.json``).

The routes build their bodies as dicts (and replay idempotent writes from stored JSON), so
these models document rather than serialise: each route names its model in ``responses=``.
The API test suite checks every successful JSON response it receives against the model its
route declares (tests/api/conftest.py), with unknown fields refused, so the two cannot drift.

Conventions: quantities are integers in the base unit; money is a decimal string; dates and
timestamps are ISO 8601 strings; cost fields are absent for roles without ``cost:read``, so
every cost field is optional.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Out(BaseModel):
    """A response body: unknown fields are an error (the contract test relies on it)."""

    model_config = ConfigDict(extra="forbid")


class Page(Out, Generic[T]):
    """One page of a list: ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None


class FieldError(Out):
    """One refused field: its path in the request (``lines[0].quantity``) and why."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: every error answer of the API (``application/problem+json``).

    Some problems carry more members (an insufficient-stock refusal lists its ``shortages``).
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str
    field: str | None = Field(default=None, description="the first field refused, if any")
    errors: list[FieldError] | None = Field(default=None, description="every field refused")


PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description, "content": _PROBLEM}
    for status, description in (
        (401, "Missing, unknown or revoked bearer token"),
        (403, "The role or site scope does not allow it"),
        (404, "Not found (or outside the caller's sites)"),
        (409, "Conflicts with the current state (duplicate, insufficient stock, key reuse)"),
        (412, "If-Match names a version that is no longer current"),
        (413, "Body or batch too large"),
        (422, "Invalid input: the problem names the field"),
        (428, "If-Match is required"),
    )
}


def doc(model: Any, status: int = 200, description: str = "Success") -> dict[int | str, Any]:
    """``responses=`` for a route whose ``status`` body is ``model``."""
    return {status: {"model": model, "description": description}}
