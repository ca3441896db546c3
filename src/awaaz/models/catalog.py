"""The catalog of model ids the service can serve, and where each one's files are."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from awaaz.config import Settings
from awaaz.errors import InvalidParameterError, ModelError, ModelLoadError, ModelNotFoundError
from awaaz.models.default import prepare_base_model
from awaaz.models.registry import ModelRegistry, RegisteredModel
from awaaz.models.shipped import shipped_preparer

log = logging.getLogger(__name__)

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
    compute_type: str | None = None
    """CTranslate2 compute type for this model, overriding ``settings.runtime.compute_type`` (None: the
    setting)."""


def _registered_spec(model: RegisteredModel) -> ModelSpec:
    def prepare(model_dir: Path) -> Path:
        path = model.resolved_path(model_dir)
        if not path.is_dir():
            raise ModelLoadError(
                f"The files of model {model.id!r} are missing: {path} is not a directory. Restore them, or "
                f"re-register the model (`awaaz models remove {model.id}` then `awaaz models add`)."
            )
        return path

    return ModelSpec(
        id=model.id,
        engine=model.engine,
        description=model.description or f"{model.engine} model at {model.path}",
        prepare=prepare,
        builtin=False,
        compute_type=model.compute_type,
    )


BUILTIN_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="whisper-base-hi-soup",
        engine="whisper-ct2",
        description="Whisper base, the weight average of three fine-tunes of its decoder and top 3 encoder "
        "layers on all Hindi train splits (CPU), Hindi-only vocabulary, int8 CTranslate2, shipped in repo; "
        "decodes the default model's recordings longer than one clip (AWAAZ_LONGFORM_MODEL)",
        prepare=shipped_preparer("whisper-base-hi-soup"),
        compute_type="int8",
    ),
    ModelSpec(
        id="whisper-base-hi-fast",
        engine="whisper-ct2",
        description="whisper-base-hi-soup with a vocabulary of 3,000 Hindi aksharas (2.25 decoder steps a "
        "word instead of 5.24: about 2x faster on a CPU; clip-by-clip eval WER as good, long news recordings "
        "1.6 points worse, so those go to whisper-base-hi-soup), decoder retrained on the train splits and "
        "4,000 synthetic sentences, int8 CTranslate2, shipped in repo",
        prepare=shipped_preparer("whisper-base-hi-fast"),
        compute_type="int8",
    ),
    ModelSpec(
        id="whisper-base",
        engine="whisper-ct2",
        description="OpenAI Whisper base (multilingual), CTranslate2, from the PyPI parts; Devanagari guard",
        prepare=prepare_base_model,
    ),
)


class ModelCatalog:
    """Looks model ids up; ``whisper-1`` and an empty name resolve to the configured default.

    Built-in models come first, then ``extra`` (given by the caller), then the models registered in
    ``<model_dir>/registry.json``, which is re-read whenever it changes, so ``awaaz models add`` reaches a
    running server without a restart.
    """

    def __init__(self, settings: Settings, extra: tuple[ModelSpec, ...] = ()) -> None:
        self._settings = settings
        self._fixed = {spec.id: spec for spec in (*BUILTIN_MODELS, *extra)}
        self.registry = ModelRegistry(settings.models.model_dir)
        self._registered: dict[str, ModelSpec] = {}
        self._registry_stamp: tuple[int, int] | None = None

    @property
    def _specs(self) -> dict[str, ModelSpec]:
        try:
            stat = self.registry.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._registry_stamp:
            try:
                loaded = self.registry.load() if stamp is not None else {}
            except ModelError as exc:  # a broken registry must not take the built-in models down with it
                log.error("%s", exc.message)
                loaded = {}
            self._registered = {m.id: _registered_spec(m) for m in loaded.values() if m.id not in self._fixed}
            self._registry_stamp = stamp
        return {**self._registered, **self._fixed}

    def is_builtin(self, name: str) -> bool:
        """True for an id (or alias) that ships with Awaaz and cannot be registered or removed."""
        return name in self._fixed or name in OPENAI_ALIASES

    def register(self, model: RegisteredModel, *, replace: bool = False) -> ModelSpec:
        """Add ``model`` to the registry (refusing built-in ids) and return its spec."""
        if self.is_builtin(model.id):
            raise InvalidParameterError(
                f"{model.id!r} is a built-in model id; choose another.", param="model"
            )
        self.registry.add(model, replace=replace)
        return _registered_spec(model)

    def unregister(self, model_id: str) -> RegisteredModel:
        """Remove a registered model (its files are left alone); built-in models cannot be removed."""
        if self.is_builtin(model_id):
            raise InvalidParameterError(f"{model_id!r} is built in and cannot be removed.", param="model")
        return self.registry.remove(model_id)

    @property
    def default_id(self) -> str:
        """The id used when a request names no model."""
        return self._settings.models.default_model

    def longform_id(self, name: str | None) -> str | None:
        """The model that decodes recordings longer than one clip for a request of ``name``: the
        ``longform_model`` setting where ``name`` is the default model, else None (the model decodes them
        itself, as it does where that setting is empty or names the default)."""
        chosen = self._settings.models.longform_model
        if not chosen or chosen == self.default_id or self.resolve_id(name) != self.default_id:
            return None
        if not self.knows(chosen):
            raise ModelLoadError(
                f"AWAAZ_LONGFORM_MODEL names an unknown model {chosen!r}. Set it to a model of "
                f"`awaaz models list`, or empty for the default model to decode long recordings itself."
            )
        return chosen

    def list(self) -> list[ModelSpec]:
        """Every known model, the default first."""
        return sorted(self._specs.values(), key=lambda s: (s.id != self.default_id, s.id))

    def resolve_id(self, name: str | None) -> str:
        """Map a requested model name (possibly ``whisper-1`` or empty) to a catalog id."""
        if not name or name in OPENAI_ALIASES:
            return self.default_id
        return name

    def knows(self, name: str | None) -> bool:
        """True when ``name`` (or the default, for None) is a model of the catalog."""
        return self.resolve_id(name) in self._specs

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
        return self.get(name).prepare(self._settings.models.model_dir)
