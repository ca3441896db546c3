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
import threading
from collections.abc import Callable

from awaaz.concurrency import Admission, Slot

Release = Callable[[], object]

TAKE_NOW_WAIT_S = 2.0
"""Longest wait for the loop to answer whether a slot is free now (it answers in microseconds)."""


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
        """Wait for a slot (None if ``stopping()`` turns true meanwhile, or the app's loop no longer runs:
        it is shutting down); call the result to give it back."""
        if not self.loop.is_running():
            return None
        future = asyncio.run_coroutine_threadsafe(self.admission.acquire_background(), self.loop)
        while True:
            try:
                return self._release(future.result(timeout=0.5))
            except concurrent.futures.TimeoutError:
                if stopping() or not self.loop.is_running():
                    future.cancel()
                    return None

    def take_now(self) -> Release | None:
        """A slot if one is free right now, else None (None too once the app's loop no longer runs)."""
        if not self.loop.is_running():
            return None
        decided = threading.Lock()
        gave_up = False
        taken: list[Slot] = []

        async def attempt() -> None:
            with decided:  # either this thread gave up first, or the slot taken is seen below
                slot = None if gave_up else self.admission.try_acquire()
                if slot is not None:
                    taken.append(slot)

        future = asyncio.run_coroutine_threadsafe(attempt(), self.loop)
        with contextlib.suppress(concurrent.futures.TimeoutError):  # the loop stopped (or is stuck)
            future.result(timeout=TAKE_NOW_WAIT_S)
        with decided:
            gave_up = True
        return self._release(taken[0]) if taken else None
