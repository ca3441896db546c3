"""Admission control: bound the transcriptions running and waiting, and refuse the rest at once.

A request first asks :class:`Admission` for a slot. While fewer than ``max_inflight`` hold one it gets one
straight away; otherwise it waits in line, up to ``max_queue`` deep. A request that finds the line full
is refused with :class:`~awaaz.errors.OverloadedError`, whose ``retry_after_s`` estimates when a slot
will be free (the API turns it into 429 + ``Retry-After``). Waiting counts against the request's deadline;
a request still waiting at its deadline fails with :class:`~awaaz.errors.TranscriptionTimeoutError`.

Everything here runs on the event loop thread (no locks); no HTTP here.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from awaaz.errors import OverloadedError, TranscriptionTimeoutError

SMOOTHING = 0.2
"""Weight of the newest run in the moving average of run time that the Retry-After estimate uses."""


@dataclass(frozen=True, slots=True)
class AdmissionStats:
    """A snapshot of the admission state."""

    running: int
    waiting: int
    max_inflight: int
    max_queue: int
    mean_run_s: float


class Slot:
    """The right to run one transcription. Release it exactly when the work has really finished."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._started = admission.clock()
        self._released = False

    def release(self) -> None:
        """Give the slot back (idempotent); the run time feeds the Retry-After estimate."""
        if not self._released:
            self._released = True
            self._admission._release(self._admission.clock() - self._started)


class Admission:
    """At most ``max_inflight`` slots held at once, at most ``max_queue`` callers waiting for one."""

    def __init__(
        self,
        max_inflight: int,
        max_queue: int,
        *,
        initial_run_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_inflight < 1 or max_queue < 0:
            raise ValueError("max_inflight must be >= 1 and max_queue >= 0")
        self.max_inflight = max_inflight
        self.max_queue = max_queue
        self.clock = clock
        self._running = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._mean_run_s = initial_run_s

    def stats(self) -> AdmissionStats:
        """How many slots are held and how many callers wait."""
        return AdmissionStats(
            self._running, len(self._waiters), self.max_inflight, self.max_queue, self._mean_run_s
        )

    def retry_after_s(self) -> float:
        """When a retry is likely to find room: the line ahead, served ``max_inflight`` at a time."""
        rounds = math.ceil((self._running + len(self._waiters) + 1) / self.max_inflight)
        return max(1.0, rounds * self._mean_run_s)

    async def acquire(self, timeout_s: float | None = None) -> Slot:
        """Wait for a slot, at most ``timeout_s``; refuse at once when the line is full.

        Raises :class:`OverloadedError` when ``max_queue`` callers already wait, and
        :class:`TranscriptionTimeoutError` when no slot frees up within ``timeout_s``.
        """
        if self._running < self.max_inflight and not self._waiters:
            self._running += 1
            return Slot(self)
        if len(self._waiters) >= self.max_queue:
            raise OverloadedError(
                f"The server is busy: {self._running} transcriptions are running and {len(self._waiters)} "
                "are waiting. Retry after the time in the Retry-After header.",
                retry_after_s=self.retry_after_s(),
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout_s)
        except (TimeoutError, asyncio.CancelledError) as exc:
            if waiter.done() and not waiter.cancelled():
                self._release(None)  # the slot was handed over just as we gave up: pass it on
            else:
                waiter.cancel()
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise TranscriptionTimeoutError(
                    f"No transcription slot became free within {timeout_s:g} s; the server is overloaded. "
                    "Retry later, or submit long audio as an asynchronous job."
                ) from exc
            raise
        return Slot(self)  # the releasing slot handed its place over: _running already counts us

    def try_acquire(self) -> Slot | None:
        """A slot if one is free now and nobody waits, else None (never waits; call on the loop)."""
        if self._running < self.max_inflight and not self._waiters:
            self._running += 1
            return Slot(self)
        return None

    async def acquire_background(self) -> Slot:
        """Wait as long as it takes for a slot, whatever the line (background work such as a job is never
        refused: it waits its turn like everyone else)."""
        if self._running < self.max_inflight and not self._waiters:
            self._running += 1
            return Slot(self)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.shield(waiter)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(None)
            else:
                waiter.cancel()
                self._waiters.remove(waiter)
            raise
        return Slot(self)

    def _release(self, run_s: float | None) -> None:
        if run_s is not None:
            self._mean_run_s += SMOOTHING * (run_s - self._mean_run_s)
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)  # hand the slot over; the running count is unchanged
                return
        self._running -= 1
