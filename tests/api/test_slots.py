"""Admission slots taken from threads (streams, embedded jobs): given and returned through the app's loop,
and never a hang once that loop has stopped (the app is shutting down)."""

from __future__ import annotations

import asyncio
import threading
import time

from awaaz.api.slots import AdmissionSlots
from awaaz.concurrency import Admission


def _running_loop() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    while not loop.is_running():
        time.sleep(0.001)
    return loop, thread


def test_slots_are_taken_and_given_back_from_another_thread() -> None:
    loop, thread = _running_loop()
    admission = Admission(max_inflight=1, max_queue=0)
    slots = AdmissionSlots(admission, loop)
    try:
        release = slots.take_now()
        assert release is not None
        assert slots.take_now() is None  # the one slot is held
        release()
        deadline = time.monotonic() + 2
        while (again := slots.take_now()) is None and time.monotonic() < deadline:
            time.sleep(0.01)  # the release runs on the loop, soon
        assert again is not None
        again()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_nothing_waits_on_a_loop_that_has_stopped() -> None:
    loop, thread = _running_loop()
    admission = Admission(max_inflight=1, max_queue=0)
    slots = AdmissionSlots(admission, loop)
    held = slots.take_now()
    assert held is not None
    waited: list[object] = []
    waiter = threading.Thread(target=lambda: waited.append(slots.take()))  # waits: the slot is held
    waiter.start()
    time.sleep(0.2)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    started = time.monotonic()
    assert slots.take_now() is None
    waiter.join(5)
    assert not waiter.is_alive()
    assert waited == [None]
    assert time.monotonic() - started < 2
    loop.close()
