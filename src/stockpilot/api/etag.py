"""ETags for records people edit: the row's ``version`` column, quoted (``"3"``).

A PATCH must say which version it edits (``If-Match``): without it → 428, with an old one →
412 (the service's optimistic update finds no row at that version).
"""

from __future__ import annotations

from stockpilot.shared.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version named by ``If-Match``; ``None`` for ``*`` (any current version)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "If-Match is required: send the ETag of the version you edit", field="If-Match"
        )
    value = if_match.strip()
    if value == "*":
        return None
    # A list of tags can match only one version; weak tags compare by value (RFC 9110 §13.1.1).
    for tag in (t.strip() for t in value.split(",")):
        tag = tag.removeprefix("W/")
        if len(tag) >= 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit():
            return int(tag[1:-1])
    raise PreconditionFailed("If-Match does not name a version of this record", field="If-Match")
