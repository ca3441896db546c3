"""The prototype's endpoint, kept for its clients: ``POST /transcribe`` -> ``{"transcription": ...}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from awaaz.api.deps import BudgetDep, ServiceDep
from awaaz.api.uploads import transcribe_upload
from awaaz.types import TranscribeOptions

router = APIRouter(tags=["compat"])


@router.post("/transcribe")
async def transcribe(
    request: Request, service: ServiceDep, budget: BudgetDep, file: Annotated[UploadFile, File()]
) -> dict[str, str]:
    """Transcribe Hindi audio of any supported format and length within the limits."""
    result = await transcribe_upload(request, file, service, budget, TranscribeOptions(language="hi"))
    return {"transcription": result.text}
