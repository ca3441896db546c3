"""Build an engine by name from its model directory and the settings; :func:`awaaz.models.loading.load_engine`
is the one caller."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from awaaz.config import Settings, cpu_cores
from awaaz.engines.base import ENGINE_NAMES, Engine, EngineName, Placement
from awaaz.engines.layout import tuned_layout
from awaaz.errors import ModelLoadError

if TYPE_CHECKING:  # each engine's library is imported only when a model of that engine loads
    from awaaz.engines.whisper_ct2 import WhisperGuards


def placement(settings: Settings, compute_type: str | None = None, path: Path | None = None) -> Placement:
    """Where model calls run, from the runtime, limit and batching settings.

    ``compute_type`` overrides ``settings.runtime.compute_type`` (a model registered by ``awaaz models
    quantize`` brings its own). With ``path`` (a CTranslate2 model) and ``settings.measures_layout()``,
    replicas x threads are the layout measured fastest on this machine (:mod:`awaaz.engines.layout`).
    """
    compute_type = compute_type or settings.runtime.compute_type
    replicas, threads = settings.replicas(), settings.threads_per_replica()
    if path is not None and settings.measures_layout():
        layout = tuned_layout(
            path,
            compute_type,
            cpu_cores(),
            settings.limits.max_inflight,
            settings.models.model_dir,
        )
        replicas, threads = layout.replicas, layout.threads
    return Placement(
        device=settings.runtime.device,
        compute_type=compute_type,
        cpu_threads=threads,
        replicas=replicas,
        batch_size=settings.batch_size(replicas),
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
    if engine == EngineName.WHISPER_CT2:
        where = placement(settings, compute_type, path)
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
