"""What a job is: its state, its options, and how its segments are stored."""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from awaaz.types import Segment, TranscribeOptions, Word


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True once the job will never run again."""
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class JobError:
    """Why a job failed, in the terms of the error vocabulary (:mod:`awaaz.errors`)."""

    code: str
    message: str
    kind: str = "internal"


@dataclass(frozen=True, slots=True)
class Job:
    """One job as stored."""

    id: str
    status: JobStatus
    created_at: float
    options: TranscribeOptions = field(default_factory=TranscribeOptions)
    model: str | None = None
    filename: str = ""
    callback_url: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None
    """The audio's duration: declared by the file until the job is done, then the decoded length."""
    progress_s: float = 0.0
    """Audio time transcribed so far (the end of the last stored segment)."""
    segments: int = 0
    error: JobError | None = None
    attempts: int = 0
    """How many times a worker claimed the job (more than one after a crash)."""
    language: str | None = None

    @property
    def progress(self) -> float:
        """Share of the audio transcribed, 0 to 1."""
        if self.status is JobStatus.DONE:
            return 1.0
        if not self.duration_s:
            return 0.0
        return max(0.0, min(1.0, self.progress_s / self.duration_s))


def new_job_id() -> str:
    """A fresh, unguessable job id."""
    return f"job_{uuid.uuid4().hex}"


def is_job_id(value: str) -> bool:
    """True when ``value`` has the shape of a job id (anything else cannot name a job or a file)."""
    return value.startswith("job_") and len(value) == 36 and all(c in "0123456789abcdef" for c in value[4:])


def options_to_json(options: TranscribeOptions) -> str:
    """``options`` as JSON text for the store."""
    return json.dumps(dataclasses.asdict(options))


def options_from_json(text: str) -> TranscribeOptions:
    """Options stored by :func:`options_to_json`."""
    return TranscribeOptions(**json.loads(text))


def segment_to_json(segment: Segment) -> str:
    """A segment as compact JSON text for the store."""
    data: dict[str, Any] = dataclasses.asdict(segment)
    data["words"] = [[w.start, w.end, w.word, w.probability] for w in segment.words]
    data["tokens"] = list(segment.tokens)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def segment_from_json(text: str) -> Segment:
    """A segment stored by :func:`segment_to_json`."""
    data = json.loads(text)
    data["words"] = tuple(Word(*w) for w in data["words"])
    data["tokens"] = tuple(data["tokens"])
    return Segment(**data)


def error_to_json(error: JobError | None) -> str | None:
    """``error`` as JSON text, or None."""
    return None if error is None else json.dumps(dataclasses.asdict(error))


def error_from_json(text: str | None) -> JobError | None:
    """An error stored by :func:`error_to_json`."""
    return None if not text else JobError(**json.loads(text))


SERVER_KINDS = frozenset({"internal", "not_ready", "timeout", "overloaded"})


def job_json(job: Job) -> dict[str, Any]:
    """The job as the API shows it (and as its webhook carries it); the error in OpenAI's shape."""
    error = None
    if job.error is not None:
        kind = "server_error" if job.error.kind in SERVER_KINDS else "invalid_request_error"
        error = {"message": job.error.message, "type": kind, "param": None, "code": job.error.code}
    return {
        "id": job.id,
        "object": "transcription.job",
        "status": job.status.value,
        "progress": round(job.progress, 4),
        "duration": None if job.duration_s is None else round(job.duration_s, 3),
        "transcribed": round(job.progress_s, 3),
        "segments": job.segments,
        "model": job.model,
        "language": job.language or job.options.language,
        "filename": job.filename,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "attempts": job.attempts,
        "error": error,
    }
