"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from awaaz import __version__
from awaaz.access import ApiKeys, RateLimiter
from awaaz.api.auth import AccessMiddleware
from awaaz.api.errors import install_error_handlers
from awaaz.api.limits import BodyGuardMiddleware
from awaaz.api.observability import Metrics, RequestContextMiddleware
from awaaz.api.routes import compat, health, openai
from awaaz.api.routes import jobs as jobs_routes
from awaaz.api.routes import metrics as metrics_routes
from awaaz.api.routes import realtime as realtime_routes
from awaaz.api.routes import stream as stream_routes
from awaaz.api.routes.web import install_page
from awaaz.api.slots import AdmissionSlots
from awaaz.config import Settings, get_settings
from awaaz.engines.base import Engine
from awaaz.errors import AwaazError
from awaaz.jobs.setup import open_jobs
from awaaz.models.manager import ModelManager
from awaaz.service import TranscriptionService

log = logging.getLogger(__name__)


def _log_warm(future: Future[Engine]) -> None:
    exc = future.exception()
    if exc is None:
        log.info("model %s ready", future.result().model_id)
    elif isinstance(exc, AwaazError):
        log.error("could not load the default model: %s", exc.message)
    else:
        log.error("could not load the default model: %s", exc)


def _gauges(app: FastAPI) -> dict[str, Any]:
    """What /metrics reports of the running service at a scrape."""
    state = app.state
    admission = state.service.admission.stats()
    return {
        "running": admission.running,
        "waiting": admission.waiting,
        "streams": getattr(state, "streams_open", 0),
        "models": state.models.loaded_ids(),
        "ready": int(state.models.is_loaded(state.settings.models.default_model)),
        "jobs": state.jobs.manager.tally(),
    }


def create_app(
    settings: Settings | None = None, models: ModelManager | None = None, *, preload: bool = True
) -> FastAPI:
    """Build the app. Nothing heavy happens here: models load in the lifespan, off the event loop."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        manager = models or ModelManager(settings)
        app.state.settings = settings
        app.state.models = manager
        service = app.state.service = TranscriptionService(settings, manager)
        slots = app.state.slots = AdmissionSlots(service.admission, asyncio.get_running_loop())
        jobs = app.state.jobs = open_jobs(settings, service, slots.take)
        service.observers.append(metrics.transcribed)
        metrics.watch(lambda: _gauges(app))
        jobs.start()
        if preload:
            # In the service's long-lived pool: a CTranslate2 model loaded in a thread that then exits runs
            # several times slower (docs/PERFORMANCE.md).
            service.preload(settings.models.default_model).add_done_callback(_log_warm)
        try:
            yield
        finally:
            await asyncio.to_thread(jobs.stop)
            service.close()
            if models is None:
                manager.close()

    docs = settings.access.docs
    app = FastAPI(
        title="Awaaz",
        version=__version__,
        summary="Self-hosted Hindi speech-to-text with an OpenAI-compatible API.",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.limiter = limiter = RateLimiter(settings.access)
    app.state.metrics = metrics = Metrics()
    # Outermost last: CORS answers preflights, requests get their id, callers are checked, then bodies
    # are guarded as the app reads them.
    app.add_middleware(
        BodyGuardMiddleware,
        limit_bytes=settings.limits.max_upload_bytes,
        overrides={"/v1/jobs": settings.jobs.max_job_upload_bytes},
        pace=settings.server,
    )
    app.add_middleware(AccessMiddleware, keys=ApiKeys.from_settings(settings.access), limiter=limiter)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    origins = [o.strip() for o in settings.access.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["Retry-After", "Location", "X-Request-ID"],
            max_age=600,
        )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics_routes.router)
    app.include_router(openai.router)
    app.include_router(compat.router)
    app.include_router(jobs_routes.router)
    app.include_router(stream_routes.router)
    app.include_router(realtime_routes.router)
    if settings.server.web_ui:
        install_page(app)
    return app
