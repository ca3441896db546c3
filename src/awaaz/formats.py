"""Render a finished transcription as text, SRT, WebVTT or OpenAI's JSON shapes: :func:`render` serves the
HTTP API and the CLI alike."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from awaaz.config import CueSettings
from awaaz.longform.cues import wrap_lines
from awaaz.types import CompletedTranscription, Segment

RESPONSE_FORMATS: tuple[str, ...] = ("json", "text", "srt", "vtt", "verbose_json")
TIMED_FORMATS = frozenset({"srt", "vtt", "verbose_json"})
"""Formats whose segments are cut at word times: the engine is asked for word timestamps for them."""

LANGUAGE_NAMES = {
    "hi": "hindi", "en": "english", "ur": "urdu", "bn": "bengali", "pa": "punjabi", "mr": "marathi",
    "gu": "gujarati", "ta": "tamil", "te": "telugu", "kn": "kannada", "ml": "malayalam", "ne": "nepali",
    "sa": "sanskrit", "as": "assamese", "or": "odia", "sd": "sindhi", "fr": "french", "de": "german",
    "es": "spanish", "ar": "arabic", "zh": "chinese", "ja": "japanese", "ru": "russian", "pt": "portuguese",
}  # fmt: skip
"""OpenAI reports the language by name in verbose_json; other codes are reported as they are."""


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cues(segments: list[Segment]) -> list[Segment]:
    return [s for s in segments if s.text.strip()]


def to_text(result: CompletedTranscription) -> str:
    """The plain transcript with a trailing newline."""
    return result.text + "\n"


def to_srt(result: CompletedTranscription, cues: CueSettings | None = None) -> str:
    """SubRip subtitles, one cue per segment, its text wrapped to the cue's lines."""
    cues = cues or CueSettings()
    blocks = [
        f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{wrap_lines(s.text.strip(), cues)}\n"
        for i, s in enumerate(_cues(result.segments), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(result: CompletedTranscription, cues: CueSettings | None = None) -> str:
    """WebVTT subtitles, one cue per segment, its text wrapped to the cue's lines."""
    cues = cues or CueSettings()
    blocks = [
        f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n{wrap_lines(s.text.strip(), cues)}\n"
        for s in _cues(result.segments)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_json(result: CompletedTranscription) -> dict[str, Any]:
    """OpenAI's ``json`` response: ``{"text": ...}``."""
    return {"text": result.text}


def to_verbose_json(
    result: CompletedTranscription, granularities: Collection[str] = ("segment",)
) -> dict[str, Any]:
    """OpenAI's ``verbose_json`` response, with segments and/or words as requested."""
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": LANGUAGE_NAMES.get(result.info.language, result.info.language),
        "duration": round(result.info.duration, 3),
        "text": result.text,
    }
    if "word" in granularities:
        body["words"] = [
            {"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3)} for w in result.words
        ]
    if "segment" in granularities:
        body["segments"] = [
            {
                "id": s.id,
                "seek": int(s.start * 100),
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text,
                "tokens": list(s.tokens),
                "temperature": s.temperature,
                "avg_logprob": s.avg_logprob,
                "compression_ratio": s.compression_ratio,
                "no_speech_prob": s.no_speech_prob,
            }
            for s in result.segments
        ]
    return body


def needs_word_times(response_format: str, granularities: Collection[str] = ()) -> bool:
    """Whether the engine must be asked for word timestamps: cues are cut at word times, and words may be
    asked for."""
    return response_format in TIMED_FORMATS or "word" in granularities


@dataclass(frozen=True, slots=True)
class Rendered:
    """A transcription in one response format: a string, or a JSON object still to serialise."""

    content: str | dict[str, Any]
    media_type: str

    def text(self, indent: int | None = None) -> str:
        """The content as text (JSON indented by ``indent`` and ending with a newline when indented)."""
        if isinstance(self.content, str):
            return self.content
        return json.dumps(self.content, ensure_ascii=False, indent=indent) + ("\n" if indent else "")


def render(
    result: CompletedTranscription,
    response_format: str,
    *,
    cues: CueSettings | None = None,
    granularities: Collection[str] = (),
) -> Rendered:
    """``result`` as ``response_format`` (one of :data:`RESPONSE_FORMATS`); ``granularities`` are those of
    ``verbose_json`` (default: segments)."""
    if response_format == "text":
        return Rendered(to_text(result), "text/plain")
    if response_format == "srt":
        return Rendered(to_srt(result, cues), "text/plain")
    if response_format == "vtt":
        return Rendered(to_vtt(result, cues), "text/vtt")
    if response_format == "verbose_json":
        return Rendered(to_verbose_json(result, granularities or ("segment",)), "application/json")
    if response_format == "json":
        return Rendered(to_json(result), "application/json")
    raise ValueError(f"unknown response format {response_format!r}")
