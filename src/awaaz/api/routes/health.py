"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from awaaz import __version__
from awaaz.api.deps import ConfigDep, ModelsDep
from awaaz.errors import NotReadyError

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process is up and answering."""
    return {"status": "ok", "version": __version__}


@router.get("/ready")
async def ready(settings: ConfigDep, models: ModelsDep) -> dict[str, Any]:
    """Readiness: the default model is loaded and requests will be served without a load delay."""
    if not models.is_loaded(settings.models.default_model):
        raise NotReadyError(
            f"The default model {settings.models.default_model!r} is still loading. Retry shortly."
        )
    return {"status": "ready", "models": models.loaded_ids()}
