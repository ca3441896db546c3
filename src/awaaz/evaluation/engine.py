"""Build the engine an evaluation runs on: a catalog model id, or a model directory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from awaaz.config import get_settings
from awaaz.engines.base import Engine
from awaaz.engines.factory import load_engine, whisper_settings
from awaaz.engines.whisper_ct2 import WhisperCT2Engine, WhisperSettings
from awaaz.models.catalog import ModelCatalog


def build_engine(model: str | None, *, whisper: WhisperSettings | None = None) -> Engine:
    """Load the engine for ``model``: None (the default model), a catalog id, or a CTranslate2 directory.

    ``whisper`` overrides the Whisper options otherwise taken from the service settings.
    """
    settings = get_settings()
    if model is not None and Path(model).expanduser().is_dir():
        path = Path(model).expanduser().resolve()
        return WhisperCT2Engine(path.name, path, whisper or whisper_settings(settings))
    catalog = ModelCatalog(settings)
    spec = catalog.get(model)
    path = catalog.prepare(spec.id)
    if whisper is not None and spec.engine == "whisper-ct2":
        if spec.compute_type:
            whisper = dataclasses.replace(whisper, compute_type=spec.compute_type)
        return WhisperCT2Engine(spec.id, path, whisper)
    return load_engine(spec.engine, spec.id, path, settings, compute_type=spec.compute_type)
