"""The one response step every route passes: what the caller may see of the answer.

Every router is built with ``APIRouter(route_class=VisibleRoute)``. The route wraps its
endpoint: whatever body the endpoint returns (a dict, a list, a page) has its cost and value
fields removed when the caller's role lacks ``cost:read`` (``api.deps.shown``), so no route
can forget it. Writes render their answer through ``api.idempotency.run_write``, which applies
the same ``shown`` before the answer is stored for replays. A route that returns a ready
``Response`` must build it from an already visible body (the writer's answers are).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.responses import Response

from stockpilot.api.deps import shown
from stockpilot.shared.actor import Actor


def visible(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` with its answer passed through ``shown`` for the caller it names."""
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            return _visible_to(kwargs, await endpoint(*args, **kwargs))

        return run_async

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        return _visible_to(kwargs, endpoint(*args, **kwargs))

    return run


def _visible_to(kwargs: dict[str, Any], body: Any) -> Any:
    if isinstance(body, Response) or body is None:
        return body
    actor = next((v for v in kwargs.values() if isinstance(v, Actor)), None)
    return body if actor is None else shown(actor, body)


class VisibleRoute(APIRoute):
    """An API route whose answers pass the visibility step."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, visible(endpoint), **kwargs)
