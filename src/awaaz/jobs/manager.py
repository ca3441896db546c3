"""What the API and the CLI call: submit, look at, cancel and read jobs; and the periodic upkeep."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import BinaryIO

from awaaz.audio import declared_duration
from awaaz.config import JobSettings
from awaaz.errors import AudioTooLongError, JobNotDoneError, JobNotFoundError
from awaaz.jobs.files import AudioFiles
from awaaz.jobs.model import Job, JobStatus, is_job_id, new_job_id
from awaaz.jobs.store import JobStore
from awaaz.jobs.webhook import check_callback_url
from awaaz.types import CompletedTranscription, TranscribeOptions, TranscriptionInfo

log = logging.getLogger(__name__)

MAX_PAGE = 100


class JobManager:
    """Jobs over a store and the audio files; ``dispatch(job_id)`` hands a new job to whoever runs jobs."""

    def __init__(
        self,
        settings: JobSettings,
        store: JobStore,
        files: AudioFiles,
        dispatch: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.files = files
        self.dispatch = dispatch
        self.clock = clock

    def submit(
        self,
        source: BinaryIO,
        filename: str,
        options: TranscribeOptions,
        model: str | None = None,
        callback_url: str | None = None,
    ) -> Job:
        """Store the upload, check it is audio within the job limit, queue the job and return it."""
        if callback_url:
            check_callback_url(callback_url, self.settings.allowed_webhook_hosts)
        job_id = new_job_id()
        self.files.save(job_id, source, self.settings.max_job_upload_bytes)
        try:
            declared = self._declared_duration(job_id)
        except BaseException:
            self.files.delete(job_id)
            raise
        job = Job(
            id=job_id,
            status=JobStatus.QUEUED,
            created_at=self.clock(),
            options=options,
            model=model,
            filename=filename,
            callback_url=callback_url or None,
            duration_s=declared,
        )
        self.store.create(job)
        self.dispatch(job_id)
        log.info("job %s queued (%s, %s s)", job_id, filename, declared)
        return job

    def _declared_duration(self, job_id: str) -> float | None:
        """The duration the file declares; undecodable files and files past the limit are refused now."""
        declared = declared_duration(self.files.path(job_id))
        limit = self.settings.max_job_duration_s
        if declared is not None and declared > limit:
            raise AudioTooLongError(
                f"The audio lasts {declared:.0f} s, longer than the {limit:g} s limit for a job. "
                "Split it into parts.",
                param="file",
            )
        return declared

    def get(self, job_id: str) -> Job:
        """The job, or :class:`JobNotFoundError` (404)."""
        job = self.store.get(job_id) if is_job_id(job_id) else None
        if job is None:
            raise JobNotFoundError(
                f"No job {job_id!r}. Jobs are deleted {self.settings.job_retention_h:g} h after they end; "
                "GET /v1/jobs lists the current ones."
            )
        return job

    def recent(self, limit: int = 20, before: float | None = None) -> list[Job]:
        """Up to ``limit`` (at most 100) jobs created before ``before``, newest first."""
        return self.store.recent(max(1, min(limit, MAX_PAGE)), before)

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job (a running one stops at its next step) and delete its audio."""
        self.get(job_id)
        job = self.store.cancel(job_id, self.clock())
        assert job is not None
        self.files.delete(job_id)
        return job

    def tally(self) -> dict[str, int]:
        """Jobs queued and running now, and jobs ended per status since the store was created."""
        return self.store.tally()

    def result(self, job_id: str, *, partial: bool = False) -> CompletedTranscription:
        """The transcript; while the job is not done, :class:`JobNotDoneError` (409) unless ``partial``."""
        job = self.get(job_id)
        if job.status is not JobStatus.DONE and not partial:
            raise JobNotDoneError(
                f"Job {job_id} is {job.status.value}"
                + (f" ({job.progress:.0%})" if job.status is JobStatus.RUNNING else "")
                + ": its result is not ready. Poll GET /v1/jobs/{id}, or ask for partial=true."
            )
        info = TranscriptionInfo(
            language=job.language or job.options.language or "",
            duration=job.duration_s or 0.0,
            model=job.model or "",
        )
        return CompletedTranscription(info=info, segments=self.store.segments(job_id))

    def purge(self) -> list[str]:
        """Delete the jobs (and audio) that ended more than the retention period ago."""
        before = self.clock() - self.settings.job_retention_h * 3600
        gone = self.store.finished_before(before)
        for job_id in gone:
            self.files.delete(job_id)
            self.store.delete(job_id)
        if gone:
            log.info("deleted %d jobs past their retention", len(gone))
        return gone
