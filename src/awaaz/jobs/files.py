"""Job audio on disk: uploads streamed into ``<data_dir>/jobs/audio/<job id>``, never held whole in memory.

With Celery workers on other machines, ``data_dir`` must be a directory they all see (a shared volume or a
network file system): the API writes each upload once, the worker that runs the job reads it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from awaaz.errors import EmptyAudioError, UploadTooLargeError

CHUNK = 1024 * 1024


class AudioFiles:
    """One file per job, named by the job id (which :func:`~awaaz.jobs.model.is_job_id` checked)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def under(cls, data_dir: Path) -> AudioFiles:
        """The job audio of ``data_dir`` (``AWAAZ_DATA_DIR``): ``<data_dir>/jobs/audio``."""
        return cls(data_dir / "jobs" / "audio")

    def path(self, job_id: str) -> Path:
        """Where the job's audio is."""
        return self.root / job_id

    def save(self, job_id: str, source: BinaryIO, limit_bytes: int) -> int:
        """Copy ``source`` to the job's file in chunks; refuse more than ``limit_bytes`` or nothing at all.

        The file appears under its name only once complete (written to a temporary name, then renamed).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{job_id}.partial"
        written = 0
        try:
            with partial.open("wb") as out:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > limit_bytes:
                        raise UploadTooLargeError(
                            f"The upload is larger than the {limit_bytes / (1024 * 1024):.3g} MB job limit. "
                            "Send a smaller or more compressed file (Opus or MP3).",
                            param="file",
                        )
                    out.write(chunk)
            if written == 0:
                raise EmptyAudioError(
                    "The uploaded file is empty (0 bytes). Send an audio file.", param="file"
                )
            os.replace(partial, self.path(job_id))
        finally:
            partial.unlink(missing_ok=True)
        return written

    def adopt(self, job_id: str, source: Path) -> None:
        """Move a file that is already on disk in as the job's audio."""
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), self.path(job_id))

    def delete(self, job_id: str) -> None:
        """Remove the job's audio, if any."""
        self.path(job_id).unlink(missing_ok=True)
