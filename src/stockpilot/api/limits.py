"""Request limits, enforced before any route runs: headers (431) and body size (413), both
answered as problem+json.

A declared ``Content-Length`` above the limit is refused at once; a body without one (chunked)
is read up to the limit and refused as soon as it goes over, so a client cannot make the server
buffer more than the limit. Headers are bounded in count, per header and in all; beyond the
server's own limit (``stockpilot serve``: 64 KiB of request head) the HTTP server refuses the
request before the application sees it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockpilot.api.problems import PROBLEM_TYPE, problem

MAX_HEADERS = 100
MAX_HEADER_BYTES = 8 * 1024
MAX_HEADERS_TOTAL_BYTES = 32 * 1024


class HeaderLimit:
    """431 for a request with too many or too large headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            reason = header_excess(scope["headers"])
            if reason is not None:
                await _send_problem(send, problem(431, reason, field="headers"))
                return
        await self.app(scope, receive, send)


def header_excess(headers: list[tuple[bytes, bytes]]) -> str | None:
    """Why ``headers`` exceed the limits, or None."""
    if len(headers) > MAX_HEADERS:
        return f"{len(headers)} headers; at most {MAX_HEADERS}"
    total = 0
    for name, value in headers:
        size = len(name) + len(value)
        if size > MAX_HEADER_BYTES:
            return f"header {name.decode('latin-1')[:40]} is over {MAX_HEADER_BYTES} bytes"
        total += size
    if total > MAX_HEADERS_TOTAL_BYTES:
        return f"the headers are over {MAX_HEADERS_TOTAL_BYTES} bytes in all"
    return None


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = problem(413, f"the request body is larger than {self.max_bytes} bytes", field="body")
        await _send_problem(send, body)


async def _send_problem(send: Send, body: dict[str, object]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": int(str(body["status"])),
            "headers": [
                (b"content-type", PROBLEM_TYPE.encode()),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
