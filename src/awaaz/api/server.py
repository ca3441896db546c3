"""The HTTP server around the app: uvicorn, with the connection limits a public server needs.

uvicorn closes idle keep-alive connections but lets a connection that never finishes its request headers
stay open forever (a socket that sends nothing, or one header byte a minute), and it has no limit on how
slowly a body may arrive. Here:

- a connection must finish each request's headers within ``AWAAZ_HEADER_TIMEOUT_S`` of opening (or of the
  previous response), else it is closed;
- a body may pause at most ``AWAAZ_BODY_IDLE_TIMEOUT_S`` between chunks and, after
  ``AWAAZ_BODY_GRACE_S``, must average ``AWAAZ_MIN_UPLOAD_KBPS``, else the request gets 408 (the app's
  :class:`~awaaz.api.limits.BodyGuardMiddleware`, beside the size limit);
- at most ``AWAAZ_MAX_CONNECTIONS`` connections are served at once; past that, requests get 503.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from awaaz.config import ServerSettings

try:  # uvicorn's own choice: httptools when it is installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Http
except ImportError:  # pragma: no cover - httptools is a dependency of uvicorn[standard]
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Http  # type: ignore[assignment]


class _HeaderDeadline(_Http):
    """uvicorn's HTTP protocol, closing a connection whose request headers do not arrive in time."""

    header_timeout_s = 10.0

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        deadline = getattr(self, "_header_deadline", None)
        if deadline is not None:
            deadline.cancel()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        previous = getattr(self, "_header_deadline", None)
        if previous is not None:
            previous.cancel()
        waiting_for = self.cycle
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_late, waiting_for)

    def _headers_late(self, waiting_for: object) -> None:
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return  # closed already, or handed over to a WebSocket
        if self.cycle is waiting_for:  # no new request's headers since the deadline was armed
            self.transport.close()


def protocol(settings: ServerSettings) -> type[asyncio.Protocol]:
    """The HTTP protocol class for these settings."""
    return type("AwaazHttpProtocol", (_HeaderDeadline,), {"header_timeout_s": settings.header_timeout_s})


def server_config(app: ASGIApp, settings: ServerSettings, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app``: the address, the limits above, no ``server`` header.

    ``awaaz serve`` and the tests' live servers both use it."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "server_header": False,  # no "server: uvicorn" advertised
        "log_config": None,  # awaaz.logs configures logging (JSON lines, request ids)
        "http": protocol(settings),
        "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.max_connections,
    }
    return uvicorn.Config(app, **(options | overrides))
