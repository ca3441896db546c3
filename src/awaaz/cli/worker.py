"""``awaaz worker``: a Celery worker that runs transcription jobs (``AWAAZ_QUEUE=celery``)."""

from __future__ import annotations

from typing import Annotated

import typer

from awaaz import logs
from awaaz.allocator import limit_malloc_arenas
from awaaz.cli.common import fail
from awaaz.config import get_settings


def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs run at once (default: AWAAZ_JOB_WORKERS).")
    ] = None,
) -> None:
    """Run jobs from Redis (AWAAZ_REDIS_URL) until stopped; start one per machine, as many as you like."""
    settings = get_settings()
    if settings.jobs.queue != "celery":
        fail("awaaz worker runs jobs of AWAAZ_QUEUE=celery; set it (and AWAAZ_REDIS_URL) on the API too.")
    logs.configure(settings.server.log_level, settings.server.log_format)
    limit_malloc_arenas(settings.server.malloc_arenas)  # before any thread starts
    from awaaz.jobs.celery_app import run_worker

    run_worker(settings, concurrency or settings.jobs.job_workers, settings.server.log_level.upper())
