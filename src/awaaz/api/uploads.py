"""Uploaded files: read within the size limit, and transcribed as the synchronous routes do."""

from __future__ import annotations

from fastapi import Request, UploadFile

from awaaz.api.deps import AudioBudget
from awaaz.api.disconnect import unless_disconnected
from awaaz.errors import EmptyAudioError, UploadTooLargeError
from awaaz.service import TranscriptionService
from awaaz.types import CompletedTranscription, TranscribeOptions


async def read_upload(upload: UploadFile, limit_bytes: int) -> bytes:
    """Return the upload's bytes, refusing an empty file or one over ``limit_bytes``."""
    data = await upload.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        raise UploadTooLargeError(
            f"The upload is larger than the {limit_bytes / (1024 * 1024):g} MB limit. "
            "Send a smaller file, or compress it (e.g. Opus or MP3).",
            param="file",
        )
    if not data:
        raise EmptyAudioError("The uploaded file is empty (0 bytes). Send an audio file.", param="file")
    return data


async def transcribe_upload(
    request: Request,
    upload: UploadFile,
    service: TranscriptionService,
    budget: AudioBudget,
    options: TranscribeOptions,
    model: str | None = None,
) -> CompletedTranscription:
    """Check the parameters and the caller's audio budget, read the upload, transcribe it (stopping if the
    client hangs up) and charge its duration to the caller."""
    service.check_options(options, model)  # every parameter before any work
    budget.check()
    data = await read_upload(upload, service.settings.limits.max_upload_bytes)
    result = await unless_disconnected(request, service.transcribe(data, options, model=model))
    budget.charge(result.info.duration)
    return result
