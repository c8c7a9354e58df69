"""Keyset pagination: ``?limit=`` and an opaque ``?cursor=`` (base64 of the last id seen).

Every list is ordered by its table's id, which only grows, so a page is one indexed range
scan (``WHERE id > :after ORDER BY id LIMIT :limit + 1``) however deep the walk goes, and a row
inserted during a walk never shifts the rows already seen. The extra row tells whether another
page exists without a COUNT.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request

from stockpilot.settings import Settings
from stockpilot.shared.errors import ValidationFailed

Row = TypeVar("Row")


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after_id: int | None

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page, to know whether there is a next one."""
        return self.limit + 1


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"id": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["id"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ValidationFailed("cursor is not valid", field="cursor") from None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationFailed("cursor is not valid", field="cursor")
    return value


async def page_request(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="rows per page")] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> PageRequest:
    settings: Settings = request.app.state.settings
    size = settings.default_page_size if limit is None else limit
    if size > settings.max_page_size:
        raise ValidationFailed(f"limit must be at most {settings.max_page_size}", field="limit")
    return PageRequest(limit=size, after_id=None if cursor is None else decode_cursor(cursor))


PageDep = Annotated[PageRequest, Depends(page_request)]


def page(
    rows: Sequence[Row],
    req: PageRequest,
    key: Callable[[Row], int],
    render: Callable[[Row], Any] | None = None,
) -> dict[str, Any]:
    """The response of one page from up to ``req.fetch`` rows read in id order."""
    shown = list(rows[: req.limit])
    more = len(rows) > req.limit
    return {
        "items": [render(r) for r in shown] if render else shown,
        "next_cursor": encode_cursor(key(shown[-1])) if more and shown else None,
    }
