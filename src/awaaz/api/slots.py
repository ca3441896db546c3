"""Admission slots for work that runs in threads, not on the event loop: embedded jobs and live streams.

They take the same ``max_inflight`` slots as synchronous requests (:mod:`awaaz.concurrency`), through the
event loop that owns them: a job or a stream's final waits its turn; a stream's partial guess is only
decoded when a slot is free at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
from collections.abc import Callable

from awaaz.concurrency import Admission, Slot

Release = Callable[[], object]


def call_on(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: object) -> None:
    """Run ``callback(*args)`` on ``loop`` from another thread; nothing when the loop has closed (the app
    has shut down and nobody is left to tell)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, *args)


class AdmissionSlots:
    """Take and give back slots of ``admission`` from any thread."""

    def __init__(self, admission: Admission, loop: asyncio.AbstractEventLoop) -> None:
        self.admission = admission
        self.loop = loop

    def _release(self, slot: Slot) -> Release:
        return functools.partial(call_on, self.loop, slot.release)

    def take(self, stopping: Callable[[], bool] = lambda: False) -> Release | None:
        """Wait for a slot (None if ``stopping()`` turns true meanwhile); call the result to give it back."""
        future = asyncio.run_coroutine_threadsafe(self.admission.acquire_background(), self.loop)
        while True:
            try:
                return self._release(future.result(timeout=0.5))
            except concurrent.futures.TimeoutError:
                if stopping():
                    future.cancel()
                    return None

    def take_now(self) -> Release | None:
        """A slot if one is free right now, else None."""

        async def attempt() -> Slot | None:
            return self.admission.try_acquire()

        slot = asyncio.run_coroutine_threadsafe(attempt(), self.loop).result()
        return None if slot is None else self._release(slot)
