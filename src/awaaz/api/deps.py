"""Dependency aliases: routes ask for what they need, never build it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from awaaz.access import RateLimiter
from awaaz.config import Settings
from awaaz.jobs.manager import JobManager
from awaaz.models.manager import ModelManager
from awaaz.service import TranscriptionService


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_models(request: Request) -> ModelManager:
    """The app's model manager."""
    models: ModelManager = request.app.state.models
    return models


def get_jobs(request: Request) -> JobManager:
    """The app's job manager."""
    jobs: JobManager = request.app.state.jobs.manager
    return jobs


def get_service(request: Request) -> TranscriptionService:
    """The app's transcription service."""
    service: TranscriptionService = request.app.state.service
    return service


ConfigDep = Annotated[Settings, Depends(get_app_settings)]
ModelsDep = Annotated[ModelManager, Depends(get_models)]
ServiceDep = Annotated[TranscriptionService, Depends(get_service)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]


class AudioBudget:
    """The caller's audio rate limit: :meth:`check` before work, :meth:`charge` once the length is known."""

    def __init__(self, limiter: RateLimiter, caller: str) -> None:
        self.limiter = limiter
        self.caller = caller

    def check(self) -> None:
        """Raise :class:`~awaaz.errors.RateLimitedError` while the caller is at its audio limit."""
        self.limiter.check_audio(self.caller)

    def charge(self, seconds: float | None) -> None:
        """Count ``seconds`` of audio against the caller's minute."""
        self.limiter.charge_audio(self.caller, seconds or 0.0)


def get_budget(connection: HTTPConnection) -> AudioBudget:
    """The audio budget of the caller :class:`~awaaz.api.auth.AccessMiddleware` identified."""
    limiter: RateLimiter = connection.app.state.limiter
    caller = connection.scope.get("state", {}).get("caller", "address:unknown")
    return AudioBudget(limiter, caller)


BudgetDep = Annotated[AudioBudget, Depends(get_budget)]
