"""Build the job system the settings ask for: embedded (SQLite + threads) or Celery over Redis."""

from __future__ import annotations

from dataclasses import dataclass

from awaaz.config import Settings
from awaaz.jobs.embedded import EmbeddedWorkers, Gate, job_slots
from awaaz.jobs.files import AudioFiles
from awaaz.jobs.manager import JobManager
from awaaz.jobs.runner import JobRunner
from awaaz.jobs.store import SqliteJobStore
from awaaz.service import TranscriptionService


@dataclass
class JobSystem:
    """The manager the API calls, and the embedded workers when jobs run in this process."""

    manager: JobManager
    workers: EmbeddedWorkers | None = None

    def start(self) -> None:
        """Start the embedded workers, if any."""
        if self.workers is not None:
            self.workers.start()

    def stop(self) -> None:
        """Stop the embedded workers (running jobs resume at the next start)."""
        if self.workers is not None:
            self.workers.stop()


def open_jobs(settings: Settings, service: TranscriptionService, gate: Gate) -> JobSystem:
    """The job system of ``settings.jobs.queue``; ``gate`` gives embedded jobs their admission slots."""
    jobs = settings.jobs
    files = AudioFiles.under(jobs.data_dir)
    if jobs.queue == "celery":
        from awaaz.jobs.celery_app import dispatcher
        from awaaz.jobs.redis_store import RedisJobStore

        return JobSystem(JobManager(jobs, RedisJobStore.from_url(jobs.redis_url), files, dispatcher(jobs)))
    store = SqliteJobStore(jobs.data_dir / "jobs" / "jobs.sqlite3")
    runner = JobRunner(store, files, service, jobs)
    workers = EmbeddedWorkers(store, runner, gate, job_slots(jobs.job_workers, settings.limits.max_inflight))
    manager = JobManager(jobs, store, files, workers.wake)
    workers.purge = manager.purge
    return JobSystem(manager, workers)
