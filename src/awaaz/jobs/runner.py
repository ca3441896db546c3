"""Work one job: claim it, transcribe its audio through the service, store each segment as it comes.

A job that stopped part-way (its worker was killed, or the server restarted) resumes after its last stored
segment: the audio is decoded again up to there but not transcribed again, and the new segments continue
the stored ones. The claim is renewed as the transcription goes (at most every few seconds); when renewal
fails, because the job was cancelled or taken over after the lease ran out, the transcription stops at
its next step and nothing more is written.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from awaaz.config import JobSettings
from awaaz.errors import AwaazError, TranscriptionTimeoutError
from awaaz.jobs.files import AudioFiles
from awaaz.jobs.model import Job, JobError, JobStatus, job_json
from awaaz.jobs.store import JobStore
from awaaz.jobs.webhook import deliver_in_background
from awaaz.service import TranscriptionService
from awaaz.types import Segment

log = logging.getLogger(__name__)

MAX_RENEW_EVERY_S = 1.0
"""Leases are renewed (and cancellation noticed) at most this often."""


def worker_name() -> str:
    """Who is working: host, process and thread (a lease owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class Lease:
    """A worker's claim on a job, renewed when polled (at most every ``every_s``)."""

    store: JobStore
    job_id: str
    owner: str
    lease_s: float
    clock: Callable[[], float] = time.time
    stop: Callable[[], bool] = lambda: False
    """Also give up when this says so (the worker is shutting down)."""
    lost: bool = False
    _renewed: float = field(default=0.0, init=False)

    @property
    def every_s(self) -> float:
        return min(MAX_RENEW_EVERY_S, self.lease_s / 3)

    def should_stop(self) -> bool:
        """True once the job is no longer ours (or the worker stops): the transcription's stop signal."""
        if self.lost or self.stop():
            return True
        now = self.clock()
        if now - self._renewed >= self.every_s:
            self._renewed = now
            self.lost = not self.store.renew(self.job_id, self.owner, now, self.lease_s)
        return self.lost


@dataclass
class JobRunner:
    """Runs jobs of ``store`` on ``service``; one per worker thread or process."""

    store: JobStore
    files: AudioFiles
    service: TranscriptionService
    settings: JobSettings
    clock: Callable[[], float] = time.time
    stopping: Callable[[], bool] = lambda: False

    def run(self, job_id: str, owner: str | None = None) -> JobStatus | None:
        """Claim and work the job; its status at the end, or None when it could not be claimed (someone
        else has it, or it is finished) or was taken over meanwhile."""
        owner = owner or worker_name()
        job = self.claim(job_id, owner)
        return None if job is None else self.work(job, owner)

    def claim(self, job_id: str, owner: str) -> Job | None:
        """Take the job for ``owner`` (None: it is not claimable)."""
        return self.store.claim(job_id, owner, self.clock(), self.settings.job_lease_s)

    def work(self, job: Job, owner: str) -> JobStatus | None:
        """Transcribe a job ``owner`` has claimed, from its last stored segment on."""
        job_id, lease_s = job.id, self.settings.job_lease_s
        stored = self.store.segments(job_id)
        start_s = stored[-1].end if stored else 0.0
        if stored:
            log.info(
                "job %s: resuming after %d segments (%.1f s), attempt %d",
                job_id,
                len(stored),
                start_s,
                job.attempts,
            )
        lease = Lease(self.store, job_id, owner, lease_s, self.clock, self.stopping)
        next_index = len(stored)
        duration_known = job.duration_s is not None

        def save(segment: Segment, declared: float | None) -> None:
            nonlocal next_index, duration_known
            if not duration_known and declared:
                self.store.set_duration(job_id, declared)
                duration_known = True
            numbered = dataclasses.replace(segment, id=next_index)
            if self.store.add_segments(job_id, owner, next_index, [numbered], numbered.end) < 0:
                lease.lost = True  # cancelled or taken over: write nothing more, stop at the next step
                return
            next_index += 1

        try:
            timed = self.service.transcribe_sync(
                self.files.path(job_id),
                job.options,
                job.model,
                self.settings.max_job_duration_s,
                should_stop=lease.should_stop,
                on_segment=save,
                start_s=start_s,
            )
        except TranscriptionTimeoutError:
            if not lease.lost and not self.stopping():
                raise
            return self._after_stop(job_id)
        except AwaazError as exc:
            return self._end(job, owner, JobStatus.FAILED, JobError(exc.code, exc.message, exc.kind.value))
        except Exception as exc:  # a bug or a library failure: the job fails, the worker lives on
            log.exception("job %s failed", job_id)
            error = JobError("internal_error", f"The transcription failed: {exc}. The failure was logged.")
            return self._end(job, owner, JobStatus.FAILED, error)
        info = timed.result.info
        return self._end(job, owner, JobStatus.DONE, None, info.duration, info.language)

    def _after_stop(self, job_id: str) -> JobStatus | None:
        job = self.store.get(job_id)
        cancelled = job is not None and job.status is JobStatus.CANCELLED
        log.info("job %s: stopped (%s)", job_id, "cancelled" if cancelled else "lease lost or shutdown")
        return JobStatus.CANCELLED if cancelled else None

    def _end(
        self,
        job: Job,
        owner: str,
        status: JobStatus,
        error: JobError | None,
        duration_s: float | None = None,
        language: str | None = None,
    ) -> JobStatus | None:
        now = self.clock()
        if not self.store.finish(
            job.id, owner, status, now, error=error, duration_s=duration_s, language=language
        ):
            return self._after_stop(job.id)
        log.info("job %s: %s", job.id, status.value)
        finished = self.store.get(job.id)
        if finished is not None and finished.callback_url:
            deliver_in_background(finished.callback_url, job_json(finished), self.settings.webhook_secret)
        return status
