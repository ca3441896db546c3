"""Stop work for a client that hung up: the transcription is cancelled, which sets its stop flag, and it
ends at its next step instead of running on for nobody."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

T = TypeVar("T")

POLL_S = 0.25


async def _hung_up(request: Request) -> None:
    while not await request.is_disconnected():
        await asyncio.sleep(POLL_S)


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """Await ``work``; if the client disconnects first, cancel it and re-raise the cancellation."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_hung_up(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise asyncio.CancelledError("the client disconnected")
    return task.result()
