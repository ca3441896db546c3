"""Transcription as a service: decode bytes, pick the engine, run it off the event loop.

Shared by the HTTP API, the CLI and (later) job workers. No HTTP here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio.to_thread

from awaaz.audio import AudioSource, decode_audio
from awaaz.config import Settings
from awaaz.engines.manager import ModelManager
from awaaz.types import CompletedTranscription, TranscribeOptions


@dataclass(frozen=True, slots=True)
class TimedTranscription:
    """A finished transcription and how long its parts took."""

    result: CompletedTranscription
    decode_s: float
    inference_s: float


class TranscriptionService:
    """Everything a front end needs to turn audio into text."""

    def __init__(self, settings: Settings, models: ModelManager) -> None:
        self.settings = settings
        self.models = models

    def transcribe_sync(
        self,
        source: AudioSource,
        options: TranscribeOptions,
        model: str | None = None,
        max_duration_s: float | None = None,
    ) -> TimedTranscription:
        """Decode and transcribe in the calling thread (CLI, workers)."""
        self.models.catalog.get(model)  # an unknown model fails before any decoding work
        started = time.perf_counter()
        audio = decode_audio(source, max_duration_s=max_duration_s)
        decoded = time.perf_counter()
        engine = self.models.get(model)
        result = engine.transcribe(audio, options).collect()
        return TimedTranscription(result, decoded - started, time.perf_counter() - decoded)

    async def transcribe(
        self, data: bytes, options: TranscribeOptions, model: str | None = None
    ) -> CompletedTranscription:
        """Decode and transcribe an upload without blocking the event loop."""
        timed = await anyio.to_thread.run_sync(
            lambda: self.transcribe_sync(
                data, options, model=model, max_duration_s=self.settings.max_sync_duration_s
            )
        )
        return timed.result
