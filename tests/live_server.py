"""A real HTTP server for tests that need one (a browser, a client that hangs up): uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from awaaz.api.server import server_config
from awaaz.config import ServerSettings

START_S = 30.0


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: FastAPI, settings: ServerSettings | None = None) -> Iterator[str]:
    """Serve ``app`` as ``awaaz serve`` would, on a free loopback port until the block ends; yields its
    base URL."""
    port = free_port()
    config = server_config(
        app, settings or ServerSettings(), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_S
    while not server.started:
        assert thread.is_alive(), "the server failed to start"
        assert time.monotonic() < deadline, "the server never started"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_S)
