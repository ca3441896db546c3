"""Speech spans from Silero VAD (the ONNX model that faster-whisper ships), as plain sample ranges."""

from __future__ import annotations

from dataclasses import dataclass

from awaaz.audio import Audio
from awaaz.types import SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of audio, ``[start, end)`` in samples."""

    start: int
    end: int

    @property
    def samples(self) -> int:
        """Length in samples."""
        return self.end - self.start


def speech_spans(audio: Audio, *, min_pause_ms: int, max_span_s: float) -> list[Span]:
    """Where ``audio`` (16 kHz mono) holds speech: spans split at pauses of at least ``min_pause_ms``.

    Spans are padded by 400 ms of context each side (less where two spans are closer), and speech that
    runs on past ``max_span_s`` is split at its last short pause (>= 98 ms) or, failing one, hard.
    """
    if audio.shape[0] == 0:
        return []
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=min_pause_ms, max_speech_duration_s=max_span_s)
    return [Span(int(s["start"]), int(s["end"])) for s in get_speech_timestamps(audio, options, SAMPLE_RATE)]


def speech_seconds(audio: Audio, *, min_pause_ms: int, max_span_s: float) -> float:
    """Seconds of ``audio`` inside speech spans (padding included)."""
    spans = speech_spans(audio, min_pause_ms=min_pause_ms, max_span_s=max_span_s)
    return sum(s.samples for s in spans) / SAMPLE_RATE
