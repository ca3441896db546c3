"""What every tool that registers a model made from another one checks first: the catalog's side."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from awaaz.errors import InvalidParameterError, ModelError
from awaaz.models.registry import validate_model_id

if TYPE_CHECKING:
    from awaaz.models.catalog import ModelCatalog, ModelSpec


@dataclass(frozen=True, slots=True)
class Derivation:
    """A Whisper model of the catalog, prepared, and where the model derived from it goes."""

    spec: ModelSpec
    model_id: str
    source: Path
    target: Path


def plan_derivation(
    catalog: ModelCatalog, name: str, *, verb: str, folder: str, new_id: str | None, suffix: str
) -> Derivation:
    """Check that ``name`` is a Whisper model (else "only whisper-ct2 models can be ``verb``") and that
    the new id (``new_id``, default ``NAME-suffix``) is valid and free under ``model_dir/folder``; prepare
    the model and say where the result goes."""
    spec = catalog.get(name)
    if spec.engine != "whisper-ct2":
        raise InvalidParameterError(
            f"Model {spec.id!r} uses engine {spec.engine!r}; only whisper-ct2 models can be {verb}.",
            param="model",
        )
    model_id = new_id or f"{spec.id}-{suffix}"
    validate_model_id(model_id)
    source = catalog.prepare(spec.id)
    target = catalog.registry.model_dir / folder / model_id
    if target.exists():
        raise ModelError(f"{target} already exists. Remove it or choose another id.")
    return Derivation(spec, model_id, source, target)
