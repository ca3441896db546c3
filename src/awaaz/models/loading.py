"""The one way to load an engine: for the server, ``awaaz eval``, ``awaaz lm tune`` and the benchmarks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from awaaz.config import Settings, get_settings
from awaaz.engines.base import Engine
from awaaz.engines.factory import build_engine
from awaaz.errors import AwaazError, ModelLoadError
from awaaz.models.catalog import ModelCatalog

if TYPE_CHECKING:
    from awaaz.engines.whisper_ct2 import WhisperGuards

log = logging.getLogger(__name__)


def load_engine(
    model: str | None = None,
    settings: Settings | None = None,
    *,
    catalog: ModelCatalog | None = None,
    guards: WhisperGuards | None = None,
) -> Engine:
    """Load ``model``: None (the default model), a catalog id, or else a CTranslate2 Whisper directory.

    The engine is built whole here, its batching wrapper included, from ``settings`` (default: the
    process's). ``guards`` replaces the Whisper engine's guard defaults. Failures of an engine's own
    library are reported as :class:`~awaaz.errors.ModelLoadError`.
    """
    settings = settings or get_settings()
    catalog = catalog or ModelCatalog(settings)
    try:
        if model is not None and not catalog.knows(model) and Path(model).expanduser().is_dir():
            path = Path(model).expanduser().resolve()
            log.info("loading model directory %s", path)
            return build_engine("whisper-ct2", path.name, path, settings, guards=guards)
        spec = catalog.get(model)
        log.info("loading model %s", spec.id)
        path = catalog.prepare(spec.id)
        return build_engine(
            spec.engine, spec.id, path, settings, compute_type=spec.compute_type, guards=guards
        )
    except AwaazError:
        raise
    except Exception as exc:  # an engine library may fail in ways of its own; report, don't crash
        raise ModelLoadError(f"Model {model or 'default'!r} failed to load: {exc}") from exc


@contextmanager
def engines_for(
    model: str | None = None, settings: Settings | None = None
) -> Iterator[tuple[Engine, Callable[[], Engine] | None]]:
    """Load ``model`` (as :func:`load_engine`) for a ``with`` block, with what decodes its long recordings:
    None where it decodes them itself, else a function that loads the other model
    (:meth:`~awaaz.models.catalog.ModelCatalog.longform_id`) on its first call and returns it after. Both
    are closed when the block ends."""
    settings = settings or get_settings()
    catalog = ModelCatalog(settings)
    long_model = catalog.longform_id(model)
    engine = load_engine(model, settings, catalog=catalog)
    loaded: list[Engine] = []

    def pieces(long_model: str) -> Engine:
        if not loaded:
            loaded.append(load_engine(long_model, settings, catalog=catalog))
        return loaded[0]

    try:
        yield engine, (None if long_model is None else lambda: pieces(long_model))
    finally:
        for each in (engine, *loaded):
            each.close()
