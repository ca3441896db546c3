"""Build an engine by name from its model directory and the settings; :func:`awaaz.models.loading.load_engine`
is the one caller."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from awaaz.config import Settings
from awaaz.engines.base import ENGINE_NAMES, Engine, EngineName, Placement
from awaaz.errors import ModelLoadError

if TYPE_CHECKING:  # each engine's library is imported only when a model of that engine loads
    from awaaz.engines.whisper_ct2 import WhisperGuards


def placement(settings: Settings, compute_type: str | None = None) -> Placement:
    """Where model calls run, from the runtime, limit and batching settings.

    ``compute_type`` overrides ``settings.runtime.compute_type`` (a model registered by ``awaaz models
    quantize`` brings its own).
    """
    return Placement(
        device=settings.runtime.device,
        compute_type=compute_type or settings.runtime.compute_type,
        cpu_threads=settings.threads_per_replica(),
        replicas=settings.replicas(),
        batch_size=settings.batch_size(),
        batch_wait_s=settings.batching.wait_ms / 1000,
    )


def build_engine(
    engine: str,
    model_id: str,
    path: Path,
    settings: Settings,
    *,
    compute_type: str | None = None,
    guards: WhisperGuards | None = None,
) -> Engine:
    """Load the model at ``path`` with the engine named ``engine``.

    ``compute_type`` is the model's own (CTranslate2 engines; ONNX models carry their quantization in the
    file). ``guards`` replaces the Whisper engine's own guard defaults (guard measurements).
    """
    where = placement(settings, compute_type)
    if engine == EngineName.WHISPER_CT2:
        from awaaz.engines.whisper_ct2 import WhisperCT2Engine

        return WhisperCT2Engine(
            model_id, path, placement=where, decoding=settings.decoding, lm=settings.lm, guards=guards
        )
    if engine == EngineName.NEMO_CTC_ONNX:
        from awaaz.engines.nemo_ctc_onnx import NemoCtcOnnxEngine

        # ONNX Runtime's own thread pool: the configured threads, or its default (one per core).
        onnx = Placement(device="cpu", cpu_threads=settings.runtime.cpu_threads)
        return NemoCtcOnnxEngine(model_id, path, settings.nemo, decoding=settings.decoding, placement=onnx)
    raise ModelLoadError(
        f"Model {model_id!r} names an unknown engine {engine!r}. Known engines: {', '.join(ENGINE_NAMES)}."
    )
