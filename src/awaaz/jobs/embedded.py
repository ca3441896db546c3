"""The embedded job queue: worker threads of the API process, over the SQLite store.

Policy: each running job holds one of the service's ``max_inflight`` slots, exactly as a synchronous
request does, and waits its turn for one like the others (it is never refused). At most ``job_workers``
jobs run at once, and never more than ``max_inflight - 1`` when ``max_inflight`` > 1: at least one slot is
always left to synchronous requests, so they never wait behind a four-hour job. Work inside a job (its
pieces) shares batched model calls with the synchronous requests that run beside it.

Embedded mode assumes one API process owns its data directory: at start, jobs left running by the previous
process are taken up again at once, from their last stored segment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from awaaz.jobs.runner import JobRunner, worker_name
from awaaz.jobs.store import JobStore

log = logging.getLogger(__name__)

Gate = Callable[[Callable[[], bool]], Callable[[], object] | None]
"""Waits for an admission slot and returns its release, or None when the given ``stopping()`` turns true
meanwhile."""

POLL_S = 1.0


def job_slots(job_workers: int, max_inflight: int) -> int:
    """Jobs that may run at once: ``job_workers``, but one slot is left to synchronous requests when there
    are two or more."""
    return max(1, min(job_workers, max_inflight - 1))


class EmbeddedWorkers:
    """``workers`` threads that claim and run queued jobs, plus one that deletes expired ones."""

    def __init__(
        self,
        store: JobStore,
        runner: JobRunner,
        gate: Gate,
        workers: int,
        *,
        purge: Callable[[], object] = lambda: None,
        purge_every_s: float = 600.0,
    ) -> None:
        self.store = store
        self.runner = runner
        self.purge = purge
        """Deletes expired jobs (:meth:`awaaz.jobs.manager.JobManager.purge`), every ``purge_every_s``."""
        self.gate = gate
        self.workers = workers
        self.purge_every_s = purge_every_s
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []
        runner.stopping = self._stop.is_set

    def start(self) -> None:
        """Take up the jobs a previous process left running, then start the threads."""
        released = self.store.release_leases()
        if released:
            log.info("resuming %d jobs left running by the previous process", released)
        for index in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"awaaz-job-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        upkeep = threading.Thread(target=self._upkeep, name="awaaz-job-upkeep", daemon=True)
        upkeep.start()
        self._threads.append(upkeep)

    def wake(self, _job_id: str | None = None) -> None:
        """A job was queued: let an idle worker look now rather than at its next poll."""
        with self._wake:
            self._wake.notify_all()

    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def _idle(self) -> None:
        with self._wake:
            self._wake.wait(POLL_S)

    def _work(self) -> None:
        while not self._stop.is_set():
            if not self.store.claimable(time.time(), limit=1):
                self._idle()
                continue
            release = self.gate(self.stopping)
            if release is None:
                return
            try:
                self._run_one()
            finally:
                release()

    def _run_one(self) -> None:
        """Claim the first claimable job and work it."""
        owner = worker_name()
        for job_id in self.store.claimable(time.time()):
            job = self.runner.claim(job_id, owner)
            if job is None:
                continue
            try:
                self.runner.work(job, owner)
            except Exception:  # the worker thread must live on
                log.exception("job %s: the worker failed", job_id)
            return

    def _upkeep(self) -> None:
        while True:
            try:
                self.purge()
            except Exception:
                log.exception("deleting expired jobs failed")
            if self._stop.wait(self.purge_every_s):
                return

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop taking jobs; a running job stops at its next step and is resumed by the next start."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
