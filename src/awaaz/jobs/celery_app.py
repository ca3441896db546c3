"""Jobs on Celery workers over Redis (``AWAAZ_QUEUE=celery``): the scale-out mode.

The API stores the upload in the shared ``data_dir``, the job in Redis (:mod:`awaaz.jobs.redis_store`) and
sends one task naming the job; any ``awaaz worker`` runs it with the same
:class:`~awaaz.jobs.runner.JobRunner` as the embedded mode. Delivery is at least once and the job store
makes it exactly once:

- ``acks_late`` and ``reject_on_worker_lost``: a task is acknowledged only when it ends, so a worker that
  dies leaves its message to be delivered again;
- Redis redelivers unacknowledged messages after its visibility timeout. A long job must not be redelivered
  while it runs, so the timeout is set above the longest job (twice ``max_job_duration_s``); a second
  delivery while the job runs would find it claimed and do nothing anyway;
- rather than wait that long after a crash, every worker watches the leases: a running job whose lease ran
  out (its worker was killed) is sent again at once, and the worker that claims it resumes after the last
  stored segment. Segment writes are keyed by index, so none lands twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery

from awaaz.config import JobSettings, Settings

log = logging.getLogger(__name__)

TASK = "awaaz.jobs.run"
QUEUE = "awaaz-jobs"


def make_celery(settings: JobSettings) -> Celery:
    """The Celery app over ``settings.redis_url``, configured for long, crash-safe tasks."""
    app = Celery("awaaz", broker=settings.redis_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        broker_transport_options={"visibility_timeout": int(2 * settings.max_job_duration_s) + 3600},
        broker_connection_retry_on_startup=True,
        # A broker outage does not stop running jobs: their lease in the job store says who owns them, and
        # a redelivered task for a job that is running elsewhere finds nothing to claim.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
        task_ignore_result=True,
    )
    return app


def dispatcher(settings: JobSettings) -> Callable[[str], None]:
    """What the API calls for a new job: send its task."""
    app = make_celery(settings)

    def dispatch(job_id: str) -> None:
        app.send_task(TASK, args=[job_id], queue=QUEUE)

    return dispatch


def run_worker(settings: Settings, concurrency: int, loglevel: str = "INFO") -> None:
    """Run a worker in this process until it is stopped: ``concurrency`` jobs at once, one model."""
    from awaaz.jobs.files import AudioFiles
    from awaaz.jobs.manager import JobManager
    from awaaz.jobs.redis_store import RedisJobStore
    from awaaz.jobs.runner import JobRunner
    from awaaz.models.manager import ModelManager
    from awaaz.service import TranscriptionService

    jobs = settings.jobs
    app = make_celery(jobs)
    store = RedisJobStore.from_url(jobs.redis_url)
    files = AudioFiles.under(jobs.data_dir)
    service = TranscriptionService(settings, ModelManager(settings))
    service.preload(settings.models.default_model).result()
    runner = JobRunner(store, files, service, jobs)
    manager = JobManager(jobs, store, files, dispatcher(jobs))

    @app.task(name=TASK)  # type: ignore[untyped-decorator]
    def run(job_id: str) -> str | None:
        status = runner.run(job_id)
        return None if status is None else status.value

    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch_leases, args=(store, manager, jobs, stop), name="awaaz-lease-watch", daemon=True
    )
    watcher.start()
    try:
        app.worker_main(
            [
                "worker",
                f"--concurrency={concurrency}",
                "--pool=threads",
                f"--loglevel={loglevel}",
                f"--queues={QUEUE}",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        stop.set()
        service.close()


def _watch_leases(store: Any, manager: Any, settings: JobSettings, stop: threading.Event) -> None:
    """Send again every running job whose lease ran out; delete jobs past their retention."""
    every = max(1.0, settings.job_lease_s / 2)
    last_purge = 0.0
    while not stop.wait(every):
        try:
            for job_id in store.expired(time.time()):
                log.warning("job %s: its worker stopped renewing the lease; sending it again", job_id)
                manager.dispatch(job_id)
            if time.time() - last_purge > 600:
                manager.purge()
                last_purge = time.time()
        except Exception:
            log.exception("watching job leases failed")
