"""Models the user added (``awaaz models add|pull|quantize``), kept in ``<model_dir>/registry.json``.

The file is small JSON, rewritten whole through a temporary file and an atomic rename, so a reader never sees
half of it. Built-in models are not stored here; they live in :mod:`awaaz.models.catalog`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from awaaz.engines.base import ENGINE_NAMES
from awaaz.errors import InvalidParameterError, ModelError, ModelNotFoundError

REGISTRY_FILE = "registry.json"
FORMAT_VERSION = 1
MODEL_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_write_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A user-added model: id, engine, where its files are, and optional engine options."""

    id: str
    engine: str
    path: str
    """Model directory; a relative path is relative to the model directory (``settings.models.model_dir``)."""
    description: str = ""
    compute_type: str | None = None
    """CTranslate2 compute type for ``whisper-ct2`` models (overrides ``settings.runtime.compute_type``)."""
    source: str = ""
    """Where the files came from (``hf:Systran/faster-whisper-small``, ``quantize:nemo-hi``...)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved_path(self, model_dir: Path) -> Path:
        """The model directory as an absolute path."""
        path = Path(self.path).expanduser()
        return path if path.is_absolute() else model_dir / path


def validate_model_id(model_id: str) -> None:
    """Raise :class:`InvalidParameterError` unless ``model_id`` is a usable id."""
    if not MODEL_ID_PATTERN.match(model_id):
        raise InvalidParameterError(
            f"{model_id!r} is not a valid model id: use 1-64 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit.",
            param="model",
        )


class ModelRegistry:
    """Reads and atomically rewrites ``<model_dir>/registry.json``."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.path = model_dir / REGISTRY_FILE

    def load(self) -> dict[str, RegisteredModel]:
        """Every registered model by id; an absent file means none."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(
                f"The model registry {self.path} cannot be read ({exc}). Fix or delete the file; built-in "
                "models work without it."
            ) from exc
        models: dict[str, RegisteredModel] = {}
        for model_id, entry in (raw.get("models") or {}).items():
            try:
                models[model_id] = RegisteredModel(id=model_id, **entry)
            except TypeError as exc:
                raise ModelError(
                    f"The model registry {self.path} has a bad entry {model_id!r}: {exc}."
                ) from exc
        return models

    def add(self, model: RegisteredModel, *, replace: bool = False) -> None:
        """Register ``model``; an existing id is an error unless ``replace``."""
        validate_model_id(model.id)
        if model.engine not in ENGINE_NAMES:
            raise InvalidParameterError(
                f"Unknown engine {model.engine!r}; use one of {', '.join(ENGINE_NAMES)}.", param="engine"
            )
        with _write_lock:
            models = self.load()
            if model.id in models and not replace:
                raise InvalidParameterError(
                    f"A model {model.id!r} is already registered. Remove it first (`awaaz models remove "
                    f"{model.id}`) or choose another id.",
                    param="model",
                )
            models[model.id] = model
            self._write(models)

    def remove(self, model_id: str) -> RegisteredModel:
        """Unregister ``model_id`` and return its entry (its files are left alone)."""
        with _write_lock:
            models = self.load()
            if model_id not in models:
                known = ", ".join(sorted(models)) or "none"
                raise ModelNotFoundError(f"No registered model {model_id!r} (registered: {known}).")
            removed = models.pop(model_id)
            self._write(models)
        return removed

    def _write(self, models: dict[str, RegisteredModel]) -> None:
        self.model_dir.mkdir(parents=True, exist_ok=True)
        body = {
            "version": FORMAT_VERSION,
            "models": {
                m.id: {k: v for k, v in asdict(m).items() if k != "id"}
                for m in sorted(models.values(), key=_id)
            },
        }
        fd, tmp = tempfile.mkstemp(prefix=".registry.", suffix=".tmp", dir=self.model_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle, indent=2, ensure_ascii=False)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _id(model: RegisteredModel) -> str:
    return model.id
