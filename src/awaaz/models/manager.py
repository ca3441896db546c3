"""Loads each model once, shares it between requests, and unloads models left idle past a TTL.

Several models can be loaded at once. Each use is reference counted (:meth:`ModelManager.use`), so a model
that is transcribing is never unloaded under its caller; the default model is never unloaded at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from awaaz.config import Settings
from awaaz.engines.base import Engine
from awaaz.models.catalog import ModelCatalog
from awaaz.models.loading import load_engine

log = logging.getLogger(__name__)

MIN_SWEEP_S = 1.0
MAX_SWEEP_S = 30.0


@dataclass(slots=True)
class _Loaded:
    engine: Engine
    users: int = 0
    last_used: float = 0.0


class ModelManager:
    """A per-process (never module-global) cache of loaded engines, safe to use from many threads."""

    def __init__(
        self,
        settings: Settings,
        catalog: ModelCatalog | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        loader: Callable[[str], Engine] | None = None,
    ) -> None:
        """``loader`` builds the engine of a catalog id (default: :func:`~awaaz.models.loading.load_engine`
        with these settings and this catalog)."""
        self.settings = settings
        self.catalog = catalog or ModelCatalog(settings)
        self._clock = clock
        self._loader = loader or self._load
        self._loaded: dict[str, _Loaded] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    @property
    def ttl_s(self) -> float | None:
        """Idle seconds before a model unloads, or None when models never unload."""
        ttl = self.settings.models.model_ttl_s
        return None if ttl < 0 else ttl

    def _lock_for(self, model_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(model_id, threading.Lock())

    def get(self, name: str | None) -> Engine:
        """Return the loaded engine for ``name``, loading it on first use (blocking).

        The model counts as used now, but is not held: a caller that may run longer than the TTL should
        use :meth:`use` instead, which keeps the model loaded until the block ends.
        """
        return self._acquire(name, hold=False)

    @contextmanager
    def use(self, name: str | None) -> Iterator[Engine]:
        """Hold the engine for ``name`` for the duration of a ``with`` block; it is not unloaded meanwhile."""
        model_id = self.catalog.resolve_id(name)
        engine = self._acquire(name, hold=True)
        try:
            yield engine
        finally:
            with self._guard:
                entry = self._loaded.get(model_id)
                if entry is not None and entry.engine is engine:
                    entry.users -= 1
                    entry.last_used = self._clock()

    def _acquire(self, name: str | None, *, hold: bool) -> Engine:
        spec = self.catalog.get(name)
        with self._guard:
            entry = self._loaded.get(spec.id)
            if entry is not None:
                return self._touch(entry, hold)
        with self._lock_for(spec.id):
            with self._guard:
                entry = self._loaded.get(spec.id)
                if entry is not None:
                    return self._touch(entry, hold)
            engine = self._loader(spec.id)
            with self._guard:
                entry = self._loaded[spec.id] = _Loaded(engine)
                self._start_sweeper()
                return self._touch(entry, hold)

    def _touch(self, entry: _Loaded, hold: bool) -> Engine:
        entry.last_used = self._clock()
        if hold:
            entry.users += 1
        return entry.engine

    def _load(self, model_id: str) -> Engine:
        return load_engine(model_id, self.settings, catalog=self.catalog)

    def unload_idle(self) -> list[str]:
        """Unload every model idle for longer than the TTL, except the default and those in use."""
        ttl = self.ttl_s
        if ttl is None:
            return []
        now = self._clock()
        default_id = self.catalog.default_id
        with self._guard:
            idle = [
                model_id
                for model_id, entry in self._loaded.items()
                if model_id != default_id and entry.users == 0 and now - entry.last_used >= ttl
            ]
            engines = [self._loaded.pop(model_id).engine for model_id in idle]
        for model_id, engine in zip(idle, engines, strict=True):
            log.info("unloading model %s, idle for more than %.0f s", model_id, ttl)
            engine.close()
        return idle

    def unload(self, name: str) -> bool:
        """Unload one model now unless it is in use; True when it was unloaded."""
        model_id = self.catalog.resolve_id(name)
        with self._guard:
            entry = self._loaded.get(model_id)
            if entry is None or entry.users > 0:
                return False
            del self._loaded[model_id]
        entry.engine.close()
        return True

    def _start_sweeper(self) -> None:
        ttl = self.ttl_s
        if ttl is None or self._sweeper is not None:
            return
        interval = min(max(ttl / 2, MIN_SWEEP_S), MAX_SWEEP_S)
        self._sweeper = threading.Thread(
            target=self._sweep, args=(interval,), name="awaaz-model-ttl", daemon=True
        )
        self._sweeper.start()

    def _sweep(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.unload_idle()
            except Exception:  # a failing close() must not end the sweeper
                log.exception("unloading idle models failed")

    def loaded(self, name: str | None) -> Engine | None:
        """The model's engine when it is in memory (without loading it or holding it), else None."""
        entry = self._loaded.get(self.catalog.resolve_id(name))
        return None if entry is None else entry.engine

    def is_loaded(self, name: str | None) -> bool:
        """True when the model is loaded and ready to serve."""
        return self.catalog.resolve_id(name) in self._loaded

    def loaded_ids(self) -> list[str]:
        """Ids of the models currently in memory."""
        with self._guard:
            return sorted(self._loaded)

    def close(self) -> None:
        """Stop the TTL sweeper and unload every model."""
        self._stop.set()
        with self._guard:
            loaded, self._loaded = self._loaded, {}
        for entry in loaded.values():
            entry.engine.close()
