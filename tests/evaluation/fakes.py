"""A tiny generated manifest and a fake engine, so evaluation is tested without a model."""

from __future__ import annotations

import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from awaaz.audio import Audio
from awaaz.types import SAMPLE_RATE, Segment, TranscribeOptions
from tests.fakes import FakeEngine

HEADER = "audio\tduration_s\tspeaker\ttext\tsplit"


@dataclass(frozen=True)
class FakeClip:
    """One generated clip: its name, length, reference, what the fake engine answers, and its split."""

    name: str
    duration_s: float
    reference: str
    hypothesis: str
    split: str = "train"


CLIPS = (
    # 3 reference words, no error once normalised (danda, nukta, candrabindu).
    FakeClip("a.wav", 1.0, "ज़रा गाँव चलो।", "जरा गांव चलो"),
    # 3 words, one deleted; a quote in the text, which QUOTE_NONE must keep.
    FakeClip("b.wav", 2.0, '"क्या" बात है', "क्या बात"),
    # 4 words, one substituted (घर -> वन); the engine loops on the danda.
    FakeClip("c.wav", 1.5, "राम घर गया था", "राम वन गया था । । ।"),
    # Another split: 2 words, both wrong, in Latin script.
    FakeClip("d.wav", 0.5, "नमस्ते दोस्तों", "namaste dosto", split="eval_fake"),
)


def write_wav(path: Path, seconds: float) -> None:
    """Write a quiet 16 kHz mono 16-bit WAV of ``seconds``."""
    samples = (np.sin(np.arange(int(seconds * SAMPLE_RATE)) / 20.0) * 1000).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())


def write_manifest(folder: Path, clips: tuple[FakeClip, ...] = CLIPS) -> Path:
    """Write ``clips`` as WAV files under ``folder/audio`` and a manifest at ``folder/manifest.tsv``."""
    lines = [HEADER]
    for clip in clips:
        write_wav(folder / "audio" / clip.name, clip.duration_s)
        lines.append(f"audio/{clip.name}\t{clip.duration_s:.3f}\t\t{clip.reference}\t{clip.split}")
    manifest = folder / "manifest.tsv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


@dataclass
class FakeClock:
    """A clock that only moves when the fake engine works."""

    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ScriptedEngine(FakeEngine):
    """Answers each clip's scripted hypothesis, found by the clip's length; takes ``seconds_per_call``."""

    clock: FakeClock = field(default_factory=FakeClock)
    seconds_per_call: float = 0.25
    model_id: str = "fake-model"
    calls: list[TranscribeOptions] = field(default_factory=list)
    requested: list[str | None] = field(default_factory=list)
    """The ``--model`` values the CLI asked the (patched) loader for."""
    lm_models: list[str] = field(default_factory=list)
    """The ``AWAAZ_LM`` value of the settings it passed along."""

    def answer(self, audio: Audio, options: TranscribeOptions) -> list[Segment]:
        """The scripted hypothesis of the clip as long as ``audio``."""
        self.calls.append(options)
        self.clock.now += self.seconds_per_call
        duration = audio.shape[0] / SAMPLE_RATE
        clip = next(c for c in CLIPS if abs(c.duration_s - duration) < 0.01)
        return [Segment(id=0, start=0.0, end=duration, text=clip.hypothesis)]
