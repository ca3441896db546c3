"""Build an engine for a catalog entry."""

from __future__ import annotations

from pathlib import Path

from awaaz.config import Settings
from awaaz.engines.base import Engine
from awaaz.engines.whisper_ct2 import WhisperCT2Engine, WhisperSettings
from awaaz.errors import ModelLoadError


def whisper_settings(settings: Settings) -> WhisperSettings:
    """The Whisper engine options that follow from the service settings."""
    return WhisperSettings(
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
        num_workers=settings.num_workers,
        beam_size=settings.beam_size,
        vad_filter=settings.vad_filter,
    )


def load_engine(engine: str, model_id: str, path: Path, settings: Settings) -> Engine:
    """Load the model at ``path`` with the engine named ``engine``."""
    if engine == "whisper-ct2":
        return WhisperCT2Engine(model_id, path, whisper_settings(settings))
    raise ModelLoadError(
        f"Model {model_id!r} names an unknown engine {engine!r}. Known engines: whisper-ct2."
    )
