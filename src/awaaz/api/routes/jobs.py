"""The job API: ``/v1/jobs`` for recordings too long to wait for (up to ``AWAAZ_MAX_JOB_DURATION_S``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from awaaz import formats
from awaaz.api.deps import BudgetDep, JobsDep, ModelsDep, ServiceDep
from awaaz.errors import InvalidParameterError, ModelNotFoundError
from awaaz.jobs.model import job_json
from awaaz.types import TranscribeOptions

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", status_code=202, response_model=None)
async def create_job(
    jobs: JobsDep,
    models: ModelsDep,
    service: ServiceDep,
    budget: BudgetDep,
    file: Annotated[UploadFile, File(description="The audio file, up to AWAAZ_MAX_JOB_UPLOAD_MB.")],
    model: Annotated[str, Form()] = "whisper-1",
    language: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    temperature: Annotated[float, Form(ge=0.0, le=1.0)] = 0.0,
    callback_url: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Queue a transcription job; 202 with the job and its ``Location``. Word times are always kept, so the
    result can be read in any format."""
    try:
        model_id = models.catalog.get(model).id
    except ModelNotFoundError as exc:
        raise InvalidParameterError(exc.message, param="model") from exc
    options = TranscribeOptions(
        language=language or "hi", prompt=prompt, temperature=temperature, word_timestamps=True
    )
    service.check_options(options, model_id)  # before the upload is stored
    budget.check()
    job = await run_in_threadpool(
        jobs.submit, file.file, file.filename or "", options, model_id, callback_url or None
    )
    budget.charge(job.duration_s)
    return JSONResponse(job_json(job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("")
async def list_jobs(
    jobs: JobsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: Annotated[float | None, Query(description="created_at of the previous page's last job")] = None,
) -> dict[str, Any]:
    """Recent jobs, newest first; pass the last one's ``created_at`` as ``before`` for the next page."""
    page = await run_in_threadpool(jobs.recent, limit, before)
    return {
        "object": "list",
        "data": [job_json(j) for j in page],
        "has_more": len(page) == limit,
        "next_before": page[-1].created_at if page else None,
    }


@router.get("/{job_id}")
async def get_job(jobs: JobsDep, job_id: str) -> dict[str, Any]:
    """The job's status, progress (0-1 of the audio) and times; the error when it failed."""
    return job_json(await run_in_threadpool(jobs.get, job_id))


@router.delete("/{job_id}")
async def cancel_job(jobs: JobsDep, job_id: str) -> dict[str, Any]:
    """Cancel a queued or running job (a running one stops at its next step) and delete its audio."""
    return job_json(await run_in_threadpool(jobs.cancel, job_id))


@router.get("/{job_id}/result", response_model=None)
async def job_result(
    jobs: JobsDep,
    service: ServiceDep,
    job_id: str,
    response_format: Annotated[str, Query(alias="format")] = "json",
    partial: bool = False,
    timestamp_granularities: Annotated[list[str] | None, Query(alias="timestamp_granularities[]")] = None,
) -> Response:
    """The transcript in any response format of ``/v1/audio/transcriptions``; 409 until the job is done,
    unless ``partial=true`` (what is transcribed so far)."""
    if response_format not in formats.RESPONSE_FORMATS:
        raise InvalidParameterError(
            f"format must be one of {', '.join(formats.RESPONSE_FORMATS)}; got {response_format!r}.",
            param="format",
        )
    result = await run_in_threadpool(jobs.result, job_id, partial=partial)
    rendered = formats.render(
        result, response_format, cues=service.longform.cues, granularities=timestamp_granularities or ()
    )
    if isinstance(rendered.content, dict):
        return JSONResponse(rendered.content)
    return PlainTextResponse(rendered.content, media_type=rendered.media_type)
