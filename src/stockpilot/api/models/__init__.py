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

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Out(BaseModel):
    """A response body: unknown fields are an error (the contract test relies on it)."""

    model_config = ConfigDict(extra="forbid")


class Page(Out, Generic[T]):
    """One page of a list: ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None


def doc(model: Any, status: int = 200, description: str = "Success") -> dict[int | str, Any]:
    """``responses=`` for a route whose ``status`` body is ``model``."""
    return {status: {"model": model, "description": description}}
