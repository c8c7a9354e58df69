"""Launching the HTTP server: one uvicorn process, or gunicorn with uvicorn workers.

One worker is uvicorn in this process, as ``stockpilot serve`` has always been. Several workers
are gunicorn's arbiter with uvicorn's worker class (the ``uvicorn-worker`` package), one event
loop per process: uvicorn's own ``--workers`` mode added about 44 ms to every request on this
kind of machine, gunicorn's arbiter adds nothing measurable (docs/benchmarks.md).

Each worker builds the app itself after the fork (``create_app`` opens the database in its
lifespan), so no connection is ever shared between processes. On SQLite every worker has its
own writer connections; SQLite's file lock still admits one write transaction at a time across
processes, and ``BEGIN IMMEDIATE`` waits for it within the busy timeout, so several workers
serialise their writes exactly as several threads of one process do.

SIGTERM stops the server within ``graceful_timeout`` seconds in both modes: requests under way
may finish until then, after which uvicorn cancels them and gunicorn kills what is left.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

APP_FACTORY = "stockpilot.api.app:create_app"
WORKER_CLASS = "stockpilot.cli.serve.StockpilotWorker"
ORPHAN_CHECK_SECONDS = 1
KEEP_ALIVE_SECONDS = 5  # uvicorn's default; gunicorn's own (2 s) would differ between modes
# The request head the HTTP server reads at all (request line and headers); the application
# then bounds headers more tightly and answers 431 problem+json (api/limits.py). Beyond this,
# h11 answers a plain 400 before the application sees the request.
MAX_REQUEST_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int = 1
    graceful_timeout: int = 5

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.graceful_timeout < 1:
            raise ValueError("graceful_timeout must be at least 1 second")


def gunicorn_settings(options: ServeOptions) -> dict[str, Any]:
    """The gunicorn configuration for ``options`` (plain data, so it can be read in tests)."""
    return {
        "bind": [f"{options.host}:{options.port}"],
        "workers": options.workers,
        "worker_class": WORKER_CLASS,
        "graceful_timeout": options.graceful_timeout,
        "keepalive": KEEP_ALIVE_SECONDS,
        # Access lines on stdout, as uvicorn prints them in the single-process mode.
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "stockpilot",
    }


class StockpilotWorker(UvicornWorker):
    """uvicorn's gunicorn worker, with two bounds the stock one lacks:

    - uvicorn's own shutdown is bounded by gunicorn's graceful timeout (the stock worker
      leaves uvicorn waiting for open requests without a limit, until the arbiter's SIGKILL);
    - a worker whose arbiter died (``kill -9``) stops within a second or two instead of
      lingering with the listening socket, which would keep a restarted server off its port.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.timeout_graceful_shutdown = self.cfg.graceful_timeout
        self.config.h11_max_incomplete_event_size = MAX_REQUEST_HEAD_BYTES
        # The heartbeat (a touch of gunicorn's temp file) is also when the parent is checked.
        self.config.timeout_notify = ORPHAN_CHECK_SECONDS

    async def callback_notify(self) -> None:
        self.notify()
        if os.getppid() != self.ppid:
            self.log.warning("the arbiter (pid %s) is gone: worker shutting down", self.ppid)
            os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own graceful shutdown


def serve(options: ServeOptions) -> None:
    """Serve until SIGTERM or SIGINT; returns when the server has stopped."""
    if options.workers == 1:
        import uvicorn

        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=options.host,
            port=options.port,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=options.graceful_timeout,
            h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        )
        return
    _Gunicorn(options).run()


class _Gunicorn(BaseApplication):
    """gunicorn's arbiter configured from our options alone: no command line, no config file,
    no GUNICORN_CMD_ARGS."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        settings = gunicorn_settings(self.options)
        if "control_socket_disable" in self.cfg.settings:
            # Recent gunicorn listens on one control socket per user ($HOME/.gunicorn): two
            # servers of one user would fight over it, and nothing here uses it.
            settings["control_socket_disable"] = True
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Called in each worker after the fork: the app and its database are the worker's own.
        from stockpilot.api.app import create_app

        return create_app()
