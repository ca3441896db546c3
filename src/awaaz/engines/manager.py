"""Loads each model once, shares it between requests, and knows which models are ready."""

from __future__ import annotations

import logging
import threading

from awaaz.config import Settings
from awaaz.engines.base import Engine
from awaaz.engines.factory import load_engine
from awaaz.errors import AwaazError, ModelLoadError
from awaaz.models.catalog import ModelCatalog

log = logging.getLogger(__name__)


class ModelManager:
    """A per-process (never module-global) cache of loaded engines, safe to use from many threads."""

    def __init__(self, settings: Settings, catalog: ModelCatalog | None = None) -> None:
        self.settings = settings
        self.catalog = catalog or ModelCatalog(settings)
        self._engines: dict[str, Engine] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, model_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(model_id, threading.Lock())

    def get(self, name: str | None) -> Engine:
        """Return the loaded engine for ``name``, loading it on first use (blocking)."""
        spec = self.catalog.get(name)
        engine = self._engines.get(spec.id)
        if engine is not None:
            return engine
        with self._lock_for(spec.id):
            engine = self._engines.get(spec.id)
            if engine is None:
                engine = self._load(spec.id, spec.engine)
                self._engines[spec.id] = engine
        return engine

    def _load(self, model_id: str, engine_name: str) -> Engine:
        log.info("loading model %s", model_id)
        try:
            path = self.catalog.prepare(model_id)
            return load_engine(engine_name, model_id, path, self.settings)
        except AwaazError:
            raise
        except Exception as exc:  # an engine library may fail in ways of its own; report, don't crash
            raise ModelLoadError(f"Model {model_id!r} failed to load: {exc}") from exc

    def is_loaded(self, name: str | None) -> bool:
        """True when the model is loaded and ready to serve."""
        return self.catalog.resolve_id(name) in self._engines

    def loaded_ids(self) -> list[str]:
        """Ids of the models currently in memory."""
        return sorted(self._engines)

    def close(self) -> None:
        """Unload every model."""
        with self._guard:
            engines, self._engines = self._engines, {}
        for engine in engines.values():
            engine.close()
