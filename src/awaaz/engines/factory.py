"""Build an engine for a catalog entry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from awaaz.config import Settings
from awaaz.engines.base import Engine
from awaaz.errors import ModelLoadError

if TYPE_CHECKING:  # each engine's library is imported only when a model of that engine loads
    from awaaz.engines.nemo_ctc_onnx import NemoSettings
    from awaaz.engines.whisper_ct2 import WhisperSettings

ENGINE_NAMES = ("whisper-ct2", "nemo-ctc-onnx")


def whisper_settings(settings: Settings) -> WhisperSettings:
    """The Whisper engine options that follow from the service settings."""
    from awaaz.engines.whisper_ct2 import WhisperSettings
    from awaaz.lm.hypotheses import RescoringSettings
    from awaaz.lm.lexicon import LexiconSettings
    from awaaz.lm.shipped import resolve_lm

    return WhisperSettings(
        lm_path=resolve_lm(settings.lm),
        rescoring=RescoringSettings(
            weight=settings.lm_weight,
            word_bonus=settings.lm_word_bonus,
            edit_cost=settings.lm_edit_cost,
            unknown_penalty=settings.lm_unknown_penalty,
        ),
        lexicon=LexiconSettings(
            variants=settings.lm_lexicon_variants,
            sources=settings.lm_lexicon_sources,
            align=settings.lm_lexicon_align,
            unknown_cost=settings.lm_lexicon_unknown_cost,
        ),
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.threads_per_replica(),
        num_workers=settings.replicas(),
        beam_size=settings.beam_size,
        vad_filter=settings.vad_filter,
        trim_windows=settings.trim_windows,
    )


def nemo_settings(settings: Settings) -> NemoSettings:
    """The NeMo CTC ONNX engine options that follow from the service settings."""
    from awaaz.engines.nemo_ctc_onnx import NemoSettings

    return NemoSettings(cpu_threads=settings.cpu_threads, vad_filter=settings.vad_filter)


def load_engine(
    engine: str, model_id: str, path: Path, settings: Settings, *, compute_type: str | None = None
) -> Engine:
    """Load the model at ``path`` with the engine named ``engine``.

    ``compute_type`` overrides ``settings.compute_type`` for CTranslate2 engines (a model registered by
    ``awaaz models quantize``); ONNX engines ignore it, their quantization is in the file.
    """
    if engine == "whisper-ct2":
        from awaaz.engines.whisper_ct2 import WhisperCT2Engine

        options = whisper_settings(settings)
        if compute_type:
            options = replace(options, compute_type=compute_type)
        return WhisperCT2Engine(model_id, path, options)
    if engine == "nemo-ctc-onnx":
        from awaaz.engines.nemo_ctc_onnx import NemoCtcOnnxEngine

        return NemoCtcOnnxEngine(model_id, path, nemo_settings(settings))
    raise ModelLoadError(
        f"Model {model_id!r} names an unknown engine {engine!r}. Known engines: {', '.join(ENGINE_NAMES)}."
    )
