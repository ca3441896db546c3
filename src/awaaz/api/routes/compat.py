"""The prototype's endpoint, kept for its clients: ``POST /transcribe`` -> ``{"transcription": ...}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from awaaz.api.deps import ConfigDep, ServiceDep
from awaaz.api.disconnect import unless_disconnected
from awaaz.api.uploads import read_upload
from awaaz.types import TranscribeOptions

router = APIRouter(tags=["compat"])


@router.post("/transcribe")
async def transcribe(
    request: Request, settings: ConfigDep, service: ServiceDep, file: Annotated[UploadFile, File()]
) -> dict[str, str]:
    """Transcribe Hindi audio of any supported format and length within the limits."""
    data = await read_upload(file, settings.limits.max_upload_bytes)
    result = await unless_disconnected(request, service.transcribe(data, TranscribeOptions(language="hi")))
    return {"transcription": result.text}
