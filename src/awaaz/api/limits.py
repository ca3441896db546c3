"""Reject oversized request bodies while they are being read, before they are buffered."""

from __future__ import annotations

import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from awaaz.api.errors import send_error

MULTIPART_SLACK = 256 * 1024
"""Room for multipart boundaries and the small form fields around the file."""


class _BodyTooLargeError(Exception):
    """Raised inside the app when the body passes the limit; never escapes the middleware."""


class BodySizeLimitMiddleware:
    """Answer 413 once a request body grows past ``limit_bytes`` (or its Content-Length says it will).

    ``overrides`` give other limits to some paths (job uploads may be far larger than synchronous ones).
    """

    def __init__(self, app: ASGIApp, limit_bytes: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = limit_bytes
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit_bytes = self.overrides.get(str(scope.get("path", "")).rstrip("/"), self.default)
        limit = limit_bytes + MULTIPART_SLACK
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit_bytes)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's own reaction to the aborted body is replaced by our 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLargeError):
            await self.app(scope, limited_receive, guarded_send)
        if exceeded and not started:
            await self._reject(send, limit_bytes)

    async def _reject(self, send: Send, limit_bytes: int) -> None:
        await send_error(
            send,
            f"The upload is larger than the {limit_bytes / (1024 * 1024):g} MB limit. Send a smaller "
            "file, or compress it (e.g. Opus or MP3).",
            413,
            "file_too_large",
            "file",
        )
