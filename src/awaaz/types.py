"""The plain data that flows between audio, engines, text and the API."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

SAMPLE_RATE = 16_000
"""Every engine consumes mono float32 audio at this rate."""


@dataclass(frozen=True, slots=True)
class Word:
    """One word with its time span (seconds) and probability."""

    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of transcript with timing and confidence."""

    id: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    temperature: float = 0.0
    tokens: tuple[int, ...] = ()

    def shifted(self, seconds: float) -> Segment:
        """This segment, its words included, ``seconds`` later."""
        words = tuple(Word(w.start + seconds, w.end + seconds, w.word, w.probability) for w in self.words)
        return dataclasses.replace(self, start=self.start + seconds, end=self.end + seconds, words=words)


@dataclass(frozen=True, slots=True)
class TranscriptionInfo:
    """Facts about the whole transcription, known before the first segment."""

    language: str
    duration: float
    language_probability: float = 1.0
    model: str = ""


LANGUAGES = frozenset(
    {
        "af",
        "am",
        "ar",
        "as",
        "az",
        "ba",
        "be",
        "bg",
        "bn",
        "bo",
        "br",
        "bs",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "eu",
        "fa",
        "fi",
        "fo",
        "fr",
        "gl",
        "gu",
        "ha",
        "haw",
        "he",
        "hi",
        "hr",
        "ht",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ja",
        "jw",
        "ka",
        "kk",
        "km",
        "kn",
        "ko",
        "la",
        "lb",
        "ln",
        "lo",
        "lt",
        "lv",
        "mg",
        "mi",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "mt",
        "my",
        "ne",
        "nl",
        "nn",
        "no",
        "oc",
        "pa",
        "pl",
        "ps",
        "pt",
        "ro",
        "ru",
        "sa",
        "sd",
        "si",
        "sk",
        "sl",
        "sn",
        "so",
        "sq",
        "sr",
        "su",
        "sv",
        "sw",
        "ta",
        "te",
        "tg",
        "th",
        "tk",
        "tl",
        "tr",
        "tt",
        "uk",
        "ur",
        "uz",
        "vi",
        "yi",
        "yo",
        "yue",
        "zh",
    }
)
"""The language codes a request may name: Whisper's (a model may know fewer: ``Engine.check``)."""


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """What a caller may ask of an engine."""

    language: str | None = "hi"
    task: Literal["transcribe", "translate"] = "transcribe"
    prompt: str | None = None
    temperature: float = 0.0
    word_timestamps: bool = False
    beam_size: int | None = None
    vad_filter: bool | None = None


@dataclass(slots=True)
class Transcription:
    """A lazily produced transcription: iterate :attr:`segments` to drive the engine."""

    info: TranscriptionInfo
    segments: Iterator[Segment]

    def collect(self) -> CompletedTranscription:
        """Run the engine to the end and return every segment (with :attr:`info` as it is then)."""
        segments = list(self.segments)
        return CompletedTranscription(info=self.info, segments=segments)


@dataclass(slots=True)
class CompletedTranscription:
    """A finished transcription."""

    info: TranscriptionInfo
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The whole transcript, segments joined by single spaces."""
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def words(self) -> list[Word]:
        """Every word of every segment, in order."""
        return [w for s in self.segments for w in s.words]
