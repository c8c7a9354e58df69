"""A real local HTTP endpoint for webhook tests and benchmarks: it records every request it is
sent (headers and body) and answers 204, or an error status while told to fail."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def message(self) -> Any:
        return json.loads(self.body)

    def verifies(self, secret: str) -> bool:
        try:
            Webhook(secret).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True


class Receiver:
    """``with Receiver.running() as r: r.url``: requests land in ``r.received``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.fail_with: int | None = None  # answer this status instead of 204 while set
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real endpoint would

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was delivered
                    self.close_connection = True
                    return
                status = receiver.fail_with
                if status is None:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    with receiver._lock:
                        receiver.received.append(Received(self.path, headers, body))
                try:
                    self.send_response(status or 204)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:  # the sender died before reading the answer
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def messages(self) -> list[Any]:
        with self._lock:
            return [r.message for r in self.received]

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Receiver]:
        receiver = cls()
        thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield receiver
        finally:
            receiver.server.shutdown()
            receiver.server.server_close()
            thread.join(timeout=5)
