"""Refuse a request body while it is being read, before it is buffered: past its size limit (413), or
stalling or trickling (408). One guard for both, since both abort the app's reading the same way and answer
in its place.

- Size: ``limit_bytes`` (``overrides`` give other limits to some paths: job uploads may be far larger than
  synchronous ones); a Content-Length over it is refused before anything is read.
- Pace: a body may pause at most ``AWAAZ_BODY_IDLE_TIMEOUT_S`` between chunks and, after
  ``AWAAZ_BODY_GRACE_S``, must average ``AWAAZ_MIN_UPLOAD_KBPS`` (an upload at 100 bytes/s held a
  connection and a slot indefinitely). Only the body is timed: once it is complete, the app may wait on
  ``receive`` (for a disconnect) as long as it likes.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from awaaz.api.errors import send_error
from awaaz.config import ServerSettings

MULTIPART_SLACK = 256 * 1024
"""Room for multipart boundaries and the small form fields around the file."""


@dataclass(frozen=True)
class _Refusal:
    status: int
    code: str
    message: str
    param: str | None = None


class _BodyRefusedError(Exception):
    """Raised inside the app when the body is refused; never escapes the middleware."""


def _too_large(limit_bytes: int) -> _Refusal:
    return _Refusal(
        413,
        "file_too_large",
        f"The upload is larger than the {limit_bytes / (1024 * 1024):g} MB limit. Send a smaller file, or "
        "compress it (e.g. Opus or MP3).",
        "file",
    )


TOO_SLOW = _Refusal(
    408,
    "request_timeout",
    "The request body arrived too slowly (or stopped); the connection is closed. Send it again.",
)


class BodyGuardMiddleware:
    """413 once a request body grows past its limit, 408 when it stalls or trickles (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        limit_bytes: int,
        overrides: dict[str, int] | None = None,
        *,
        pace: ServerSettings,
    ) -> None:
        self.app = app
        self.default = limit_bytes
        self.overrides = overrides or {}
        self.idle_s = pace.body_idle_timeout_s
        self.grace_s = pace.body_grace_s
        self.min_rate = pace.min_upload_kbps * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit_bytes = self.overrides.get(str(scope.get("path", "")).rstrip("/"), self.default)
        limit = limit_bytes + MULTIPART_SLACK
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _answer(send, _too_large(limit_bytes))
            return
        started = time.monotonic()
        received = 0
        body_done = False
        refused: _Refusal | None = None
        responded = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done, refused
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle_s)
            except TimeoutError:
                refused = TOO_SLOW
                raise _BodyRefusedError from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                elapsed = time.monotonic() - started
                if received > limit:
                    refused = _too_large(limit_bytes)
                elif not body_done and elapsed > self.grace_s and received < self.min_rate * elapsed:
                    refused = TOO_SLOW
                if refused is not None:
                    raise _BodyRefusedError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal responded
            if refused is not None:
                return  # the app's own reaction to the aborted body is replaced by ours
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if refused is None:
                raise
        if refused is not None and not responded:
            await _answer(send, refused)


async def _answer(send: Send, refusal: _Refusal) -> None:
    await send_error(send, refusal.message, refusal.status, refusal.code, refusal.param)
