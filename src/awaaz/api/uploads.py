"""Read an uploaded file into memory within the size limit."""

from __future__ import annotations

from fastapi import UploadFile

from awaaz.errors import EmptyAudioError, UploadTooLargeError


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
