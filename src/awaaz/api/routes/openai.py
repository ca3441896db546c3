"""The OpenAI-compatible API: ``POST /v1/audio/transcriptions`` and ``GET /v1/models``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from awaaz import formats
from awaaz.api.deps import BudgetDep, ModelsDep, ServiceDep
from awaaz.api.uploads import transcribe_upload
from awaaz.errors import InvalidParameterError, ModelNotFoundError
from awaaz.models.catalog import ModelSpec
from awaaz.types import TranscribeOptions

router = APIRouter(prefix="/v1", tags=["openai"])

GRANULARITIES = ("word", "segment")
MAX_PROMPT_CHARS = 2000
"""Checked before anything is read or decoded; the engine then checks the prompt's length in tokens."""
CREATED = 1_735_689_600  # fixed "created" stamp for models: they are files, not API objects


def _model_card(spec: ModelSpec) -> dict[str, Any]:
    return {"id": spec.id, "object": "model", "created": CREATED, "owned_by": "awaaz", "engine": spec.engine}


@router.get("/models")
async def list_models(models: ModelsDep) -> dict[str, Any]:
    """Every model this server can serve (``whisper-1`` is an alias of the default)."""
    return {"object": "list", "data": [_model_card(s) for s in models.catalog.list()]}


@router.get("/models/{model_id}")
async def get_model(model_id: str, models: ModelsDep) -> dict[str, Any]:
    """One model's card, or 404."""
    return _model_card(models.catalog.get(model_id))


def _validate(response_format: str, granularities: list[str]) -> None:
    if response_format not in formats.RESPONSE_FORMATS:
        raise InvalidParameterError(
            f"response_format must be one of {', '.join(formats.RESPONSE_FORMATS)}; got {response_format!r}.",
            param="response_format",
        )
    bad = [g for g in granularities if g not in GRANULARITIES]
    if bad:
        raise InvalidParameterError(
            f"timestamp_granularities[] accepts 'word' and 'segment'; got {', '.join(bad)}.",
            param="timestamp_granularities",
        )
    if granularities and response_format != "verbose_json":
        raise InvalidParameterError(
            "timestamp_granularities[] needs response_format=verbose_json.", param="timestamp_granularities"
        )


@router.post("/audio/transcriptions", response_model=None)
async def create_transcription(
    request: Request,
    models: ModelsDep,
    service: ServiceDep,
    budget: BudgetDep,
    file: Annotated[UploadFile, File(description="The audio file: wav, mp3, flac, ogg/opus, webm, m4a...")],
    model: Annotated[str, Form()] = "whisper-1",
    language: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[str, Form()] = "json",
    temperature: Annotated[float, Form(ge=0.0, le=1.0)] = 0.0,
    timestamp_granularities: Annotated[list[str] | None, Form(alias="timestamp_granularities[]")] = None,
) -> Response:
    """Transcribe an uploaded file; the response shape follows ``response_format`` exactly as OpenAI's."""
    granularities = timestamp_granularities or []
    _validate(response_format, granularities)
    if prompt is not None and len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidParameterError(
            f"The prompt has {len(prompt)} characters; at most {MAX_PROMPT_CHARS} are accepted (and at most "
            "223 tokens are used). Keep it to the names and spellings that matter.",
            param="prompt",
        )
    try:
        model_id = models.catalog.get(model).id
    except ModelNotFoundError as exc:
        raise InvalidParameterError(exc.message, param="model") from exc
    options = TranscribeOptions(
        language=language or "hi",
        prompt=prompt,
        temperature=temperature,
        word_timestamps=formats.needs_word_times(response_format, granularities),
    )
    result = await transcribe_upload(request, file, service, budget, options, model_id)
    rendered = formats.render(
        result, response_format, cues=service.longform.cues, granularities=granularities
    )
    if isinstance(rendered.content, dict):
        return JSONResponse(rendered.content)
    return PlainTextResponse(rendered.content, media_type=rendered.media_type)
