"""Where jobs and their segments are kept: the :class:`JobStore` protocol and its SQLite implementation.

A worker *claims* a job for a lease and renews it while it works; a job whose lease ran out (its worker
died) can be claimed again, and the new worker resumes after the last stored segment. Segments are
written with their index as key and never overwritten, so writing the same segment twice changes nothing:
together with the lease this makes every segment land exactly once, whatever crashes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from awaaz.jobs.model import (
    Job,
    JobError,
    JobStatus,
    error_from_json,
    error_to_json,
    options_from_json,
    options_to_json,
    segment_from_json,
    segment_to_json,
)
from awaaz.types import Segment


class JobStore(Protocol):
    """Jobs, their leases and their segments; safe to use from many threads and processes."""

    def create(self, job: Job) -> None:
        """Store a new job."""
        ...

    def get(self, job_id: str) -> Job | None:
        """The job, or None."""
        ...

    def recent(self, limit: int, before: float | None = None) -> list[Job]:
        """Up to ``limit`` jobs created before ``before`` (default: now), newest first."""
        ...

    def claimable(self, now: float, limit: int = 16) -> list[str]:
        """Ids of queued jobs (oldest first), then of running jobs whose lease ran out."""
        ...

    def expired(self, now: float) -> list[str]:
        """Ids of running jobs whose lease ran out (their worker died)."""
        ...

    def claim(self, job_id: str, owner: str, now: float, lease_s: float) -> Job | None:
        """Take the job for ``owner`` until ``now + lease_s`` if it is queued or its lease ran out."""
        ...

    def renew(self, job_id: str, owner: str, now: float, lease_s: float) -> bool:
        """Extend ``owner``'s lease; False when the job is no longer running for ``owner`` (cancelled, or
        taken over after the lease ran out): the worker must stop."""
        ...

    def add_segments(
        self, job_id: str, owner: str, first_index: int, segments: Sequence[Segment], progress_s: float
    ) -> int:
        """Store segments under indexes ``first_index``...; indexes already stored are left as they are.
        Returns how many were written, or -1 (nothing written) when ``owner`` no longer holds the job."""
        ...

    def set_duration(self, job_id: str, duration_s: float) -> None:
        """Record the audio's duration."""
        ...

    def finish(
        self,
        job_id: str,
        owner: str,
        status: JobStatus,
        now: float,
        *,
        error: JobError | None = None,
        duration_s: float | None = None,
        language: str | None = None,
    ) -> bool:
        """End the job as ``status`` if ``owner`` still holds it; False otherwise."""
        ...

    def cancel(self, job_id: str, now: float) -> Job | None:
        """Cancel a queued or running job (a finished one stays as it is); the job, or None if unknown."""
        ...

    def segments(self, job_id: str) -> list[Segment]:
        """The stored segments, in order."""
        ...

    def tally(self) -> dict[str, int]:
        """Jobs queued and running now, and jobs ever ended per status (done, failed, cancelled; counted
        as they end, so retention does not lower them)."""
        ...

    def segment_writes(self, job_id: str) -> int:
        """How many segment writes took effect for the job (for exactly-once checks)."""
        ...

    def release_leases(self) -> int:
        """Make every running job claimable at once (embedded mode, at start: their worker is gone)."""
        ...

    def finished_before(self, before: float) -> list[str]:
        """Ids of jobs that finished before ``before``."""
        ...

    def delete(self, job_id: str) -> None:
        """Forget the job and its segments."""
        ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    options TEXT NOT NULL,
    model TEXT,
    filename TEXT NOT NULL DEFAULT '',
    callback_url TEXT,
    started_at REAL,
    finished_at REAL,
    duration_s REAL,
    progress_s REAL NOT NULL DEFAULT 0,
    segments INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    lease_owner TEXT,
    lease_until REAL,
    segment_writes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created_at);
CREATE TABLE IF NOT EXISTS segments (
    job_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
);
CREATE TABLE IF NOT EXISTS outcomes (
    status TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"""
_COUNT_OUTCOME = (
    "INSERT INTO outcomes (status, count) VALUES (?, 1) ON CONFLICT (status) DO UPDATE SET count = count + 1"
)

_COLUMNS = (
    "id, status, created_at, options, model, filename, callback_url, started_at, finished_at, duration_s, "
    "progress_s, segments, error, attempts, language"
)


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        status=JobStatus(row["status"]),
        created_at=row["created_at"],
        options=options_from_json(row["options"]),
        model=row["model"],
        filename=row["filename"],
        callback_url=row["callback_url"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        duration_s=row["duration_s"],
        progress_s=row["progress_s"],
        segments=row["segments"],
        error=error_from_json(row["error"]),
        attempts=row["attempts"],
        language=row["language"],
    )


def tally_of(rows: Iterable[tuple[str, int | str]]) -> dict[str, int]:
    """A tally with every status, from (status, count) pairs."""
    tally = {status.value: 0 for status in JobStatus}
    for status, count in rows:
        tally[str(status)] = int(count)
    return tally


def _select(db: sqlite3.Connection, job_id: str) -> Job | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else _job(row)


class SqliteJobStore:
    """Jobs in one SQLite file (WAL mode): the embedded default, for one API process and its threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def create(self, job: Job) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, status, created_at, options, model, filename, callback_url, "
                "duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.id,
                    job.status.value,
                    job.created_at,
                    options_to_json(job.options),
                    job.model,
                    job.filename,
                    job.callback_url,
                    job.duration_s,
                ),
            )

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return _select(self._conn, job_id)

    def recent(self, limit: int, before: float | None = None) -> list[Job]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE created_at < ? ORDER BY created_at DESC, id LIMIT ?",
                (float("inf") if before is None else before, limit),
            ).fetchall()
        return [_job(r) for r in rows]

    def claimable(self, now: float, limit: int = 16) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id FROM jobs WHERE status = 'queued' OR (status = 'running' AND lease_until < ?) "
                "ORDER BY status = 'running', created_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [r["id"] for r in rows]

    def expired(self, now: float) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id FROM jobs WHERE status = 'running' AND lease_until < ?", (now,)
            ).fetchall()
        return [r["id"] for r in rows]

    def claim(self, job_id: str, owner: str, now: float, lease_s: float) -> Job | None:
        with self._tx() as db:
            changed = db.execute(
                "UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, "
                "started_at = COALESCE(started_at, ?), attempts = attempts + 1 "
                "WHERE id = ? AND (status = 'queued' OR (status = 'running' AND lease_until < ?))",
                (owner, now + lease_s, now, job_id, now),
            ).rowcount
            return _select(db, job_id) if changed else None

    def renew(self, job_id: str, owner: str, now: float, lease_s: float) -> bool:
        with self._tx() as db:
            return bool(
                db.execute(
                    "UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'running' AND lease_owner = ?",
                    (now + lease_s, job_id, owner),
                ).rowcount
            )

    def add_segments(
        self, job_id: str, owner: str, first_index: int, segments: Sequence[Segment], progress_s: float
    ) -> int:
        with self._tx() as db:
            holder = db.execute(
                "SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND lease_owner = ?", (job_id, owner)
            ).fetchone()
            if holder is None:
                return -1
            written = 0
            for offset, segment in enumerate(segments):
                written += db.execute(
                    "INSERT OR IGNORE INTO segments (job_id, idx, data) VALUES (?, ?, ?)",
                    (job_id, first_index + offset, segment_to_json(segment)),
                ).rowcount
            db.execute(
                "UPDATE jobs SET segment_writes = segment_writes + ?, progress_s = MAX(progress_s, ?), "
                "segments = (SELECT COUNT(*) FROM segments WHERE job_id = ?) WHERE id = ?",
                (written, progress_s, job_id, job_id),
            )
        return written

    def set_duration(self, job_id: str, duration_s: float) -> None:
        with self._tx() as db:
            db.execute("UPDATE jobs SET duration_s = ? WHERE id = ?", (duration_s, job_id))

    def finish(
        self,
        job_id: str,
        owner: str,
        status: JobStatus,
        now: float,
        *,
        error: JobError | None = None,
        duration_s: float | None = None,
        language: str | None = None,
    ) -> bool:
        with self._tx() as db:
            ended = db.execute(
                "UPDATE jobs SET status = ?, finished_at = ?, error = ?, lease_owner = NULL, "
                "lease_until = NULL, duration_s = COALESCE(?, duration_s), "
                "language = COALESCE(?, language) "
                "WHERE id = ? AND status = 'running' AND lease_owner = ?",
                (status.value, now, error_to_json(error), duration_s, language, job_id, owner),
            ).rowcount
            if ended:
                db.execute(_COUNT_OUTCOME, (status.value,))
            return bool(ended)

    def cancel(self, job_id: str, now: float) -> Job | None:
        with self._tx() as db:
            if db.execute(
                "UPDATE jobs SET status = 'cancelled', finished_at = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id = ? AND status IN ('queued', 'running')",
                (now, job_id),
            ).rowcount:
                db.execute(_COUNT_OUTCOME, (JobStatus.CANCELLED.value,))
            return _select(db, job_id)

    def tally(self) -> dict[str, int]:
        with self._lock:
            live = self._conn.execute(
                "SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY status"
            ).fetchall()
            ended = self._conn.execute("SELECT status, count FROM outcomes").fetchall()
        return tally_of([*live, *ended])

    def segments(self, job_id: str) -> list[Segment]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT data FROM segments WHERE job_id = ? ORDER BY idx", (job_id,)
            ).fetchall()
        return [segment_from_json(r["data"]) for r in rows]

    def segment_writes(self, job_id: str) -> int:
        with self._lock:
            row = self._conn.execute("SELECT segment_writes FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return 0 if row is None else int(row["segment_writes"])

    def release_leases(self) -> int:
        with self._tx() as db:
            return int(db.execute("UPDATE jobs SET lease_until = 0 WHERE status = 'running'").rowcount)

    def finished_before(self, before: float) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?", (before,)
            ).fetchall()
        return [r["id"] for r in rows]

    def delete(self, job_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM segments WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
