"""Build the engine an evaluation runs on.

Kept apart on purpose: once the model registry resolves ids, :func:`build_engine` is the one place to change.
"""

from __future__ import annotations

from pathlib import Path

from awaaz.config import Settings, get_settings
from awaaz.engines.base import Engine
from awaaz.engines.whisper_ct2 import WhisperCT2Engine, WhisperSettings
from awaaz.errors import ModelNotFoundError
from awaaz.models.default import prepare_base_model


def whisper_settings_from(settings: Settings) -> WhisperSettings:
    """The Whisper options the service settings ask for; the script and loop guards keep their defaults."""
    return WhisperSettings(
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
        num_workers=settings.num_workers,
        beam_size=settings.beam_size,
        vad_filter=settings.vad_filter,
    )


def resolve_model(model: str | None, settings: Settings) -> tuple[str, Path]:
    """Return (model id, model directory) for ``--model``: None means the prepared default model."""
    if model is None:
        path = prepare_base_model(settings.model_dir)
        return settings.default_model, path
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve().name, path
    raise ModelNotFoundError(
        f"--model {model!r} is not a model directory. For now `awaaz eval --model` takes the path of a "
        "CTranslate2 Whisper model directory (holding model.bin); leave it out to use the default model."
    )


def build_engine(model: str | None, *, whisper: WhisperSettings | None = None) -> Engine:
    """Load the engine for ``model`` (a model directory, or None for the default model).

    ``whisper`` overrides the Whisper options otherwise taken from the service settings.
    """
    settings = get_settings()
    model_id, path = resolve_model(model, settings)
    return WhisperCT2Engine(model_id, path, whisper or whisper_settings_from(settings))
