"""Durable transcription jobs for long recordings: stored, resumable, run by in-process threads (embedded)
or by Celery workers over Redis.

:mod:`~awaaz.jobs.model` says what a job is; :mod:`~awaaz.jobs.store` keeps jobs and their segments
(SQLite, or Redis in :mod:`~awaaz.jobs.redis_store`); :mod:`~awaaz.jobs.runner` works one job with the
transcription service, renewing its claim and storing segments as they come, so a job resumes where it
stopped; :mod:`~awaaz.jobs.manager` is what the API and CLI call. No HTTP here.
"""
