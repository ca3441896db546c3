"""The catalog of model ids the service can serve, and where each one's files are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from awaaz.config import Settings
from awaaz.errors import ModelNotFoundError
from awaaz.models.default import prepare_base_model

OPENAI_ALIASES = frozenset({"whisper-1"})
"""Model names OpenAI clients send; they mean "the default model"."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One servable model: its id, which engine runs it, and how to get its files."""

    id: str
    engine: str
    description: str
    prepare: Callable[[Path], Path]
    """Given the model cache directory, return the model's directory (assembling it if needed)."""
    builtin: bool = True


BUILTIN_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="whisper-base",
        engine="whisper-ct2",
        description="OpenAI Whisper base (multilingual), CTranslate2, from the PyPI parts; Devanagari guard",
        prepare=prepare_base_model,
    ),
)


class ModelCatalog:
    """Looks model ids up; ``whisper-1`` and an empty name resolve to the configured default."""

    def __init__(self, settings: Settings, extra: tuple[ModelSpec, ...] = ()) -> None:
        self._settings = settings
        self._specs = {spec.id: spec for spec in (*BUILTIN_MODELS, *extra)}

    @property
    def default_id(self) -> str:
        """The id used when a request names no model."""
        return self._settings.default_model

    def list(self) -> list[ModelSpec]:
        """Every known model, the default first."""
        return sorted(self._specs.values(), key=lambda s: (s.id != self.default_id, s.id))

    def resolve_id(self, name: str | None) -> str:
        """Map a requested model name (possibly ``whisper-1`` or empty) to a catalog id."""
        if not name or name in OPENAI_ALIASES:
            return self.default_id
        return name

    def get(self, name: str | None) -> ModelSpec:
        """Return the spec for ``name`` or raise :class:`ModelNotFoundError` listing what exists."""
        model_id = self.resolve_id(name)
        spec = self._specs.get(model_id)
        if spec is None:
            known = ", ".join(sorted({*self._specs, *OPENAI_ALIASES}))
            raise ModelNotFoundError(
                f"Unknown model {name!r}. Use one of: {known} (GET /v1/models lists them).", param="model"
            )
        return spec

    def prepare(self, name: str | None) -> Path:
        """Make sure the model's files are in the cache and return their directory."""
        return self.get(name).prepare(self._settings.model_dir)
