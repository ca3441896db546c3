"""Synthetic Hindi speech for vocabulary coverage: corpus sentences read by espeak-ng's Hindi voice.

The training transcripts hold about 3,100 distinct words, and 17-30 % of the words of held-out speech never
occur in them. Robotic as it is, a TTS voice reading sentences of a text corpus shows the decoder how many
more words are spelled. :func:`pick_sentences` prefers sentences that bring words the real transcripts
lack; :func:`synthesize` reads them with a varied rate and pitch and writes a manifest in the
``../shared/data`` format (every row ``split=train``), which ``awaaz train`` takes like any other. Keep it
a minority of the mix: it is one synthetic voice.
"""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from awaaz.text.normalize import normalize_hindi
from awaaz.train.data import SYNTHETIC_SPEAKER

ESPEAK = "espeak-ng"
RATES = (130, 145, 160, 175)
"""espeak-ng words per minute."""
PITCHES = (35, 45, 55, 65)
MIN_WORDS, MAX_WORDS = 4, 18
_ALLOWED = {chr(c) for c in range(0x0900, 0x0980)} | set(" ,।?!-")


class SynthesisError(RuntimeError):
    """espeak-ng is missing or failed."""


@dataclass(frozen=True, slots=True)
class SynthClip:
    """One synthetic utterance."""

    audio: str
    duration_s: float
    speaker: str
    text: str


def readable(sentence: str) -> bool:
    """True for a sentence a TTS voice can read as written: Devanagari only, no digits, 4-18 words."""
    words = sentence.split()
    return (
        MIN_WORDS <= len(words) <= MAX_WORDS
        and all(ch in _ALLOWED for ch in sentence)
        and not any("०" <= ch <= "९" for ch in sentence)
    )


def pick_sentences(corpus: Iterable[str], known_words: Iterable[str], count: int, seed: int = 0) -> list[str]:
    """Up to ``count`` readable corpus sentences, each adding at least one word not yet covered.

    Sentences are visited in a seeded random order; a sentence is taken when it brings a word that neither
    ``known_words`` nor an earlier pick holds. Repeated template sentences are thus skipped.
    """
    pool = sorted({line.strip() for line in corpus if readable(line.strip())})
    random.Random(seed).shuffle(pool)
    covered = {w for text in known_words for w in normalize_hindi(text).split()}
    picked = []
    for sentence in pool:
        words = set(normalize_hindi(sentence).split())
        if words - covered:
            picked.append(sentence)
            covered |= words
            if len(picked) >= count:
                break
    return picked


def synthesize(sentences: Sequence[str], out_dir: Path, seed: int = 0, voice: str = "hi") -> Path:
    """Read ``sentences`` with espeak-ng into ``out_dir/audio/*.wav``; write and return ``manifest.tsv``."""
    if shutil.which(ESPEAK) is None:
        raise SynthesisError("espeak-ng is not installed: `apt-get install espeak-ng` (Debian) provides it.")
    from awaaz.audio import decode_audio
    from awaaz.types import SAMPLE_RATE

    rng = random.Random(seed)
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    clips = []
    for index, sentence in enumerate(sentences):
        rate, pitch = rng.choice(RATES), rng.choice(PITCHES)
        name = f"audio/tts_{index:05d}.wav"
        target = out_dir / name
        if not target.is_file():
            partial = target.with_suffix(".partial.wav")
            command = [ESPEAK, "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(partial), sentence]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0 or not partial.is_file() or partial.stat().st_size < 1000:
                raise SynthesisError(f"espeak-ng failed on {sentence!r}: {done.stderr.strip()}")
            partial.replace(target)
        seconds = len(decode_audio(target)) / SAMPLE_RATE
        speaker = f"{SYNTHETIC_SPEAKER}espeak-{voice}-s{rate}-p{pitch}"
        clips.append(SynthClip(name, round(seconds, 3), speaker, sentence))
    manifest = out_dir / "manifest.tsv"
    with manifest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(
            handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar=None, lineterminator="\n"
        )
        writer.writerow(["audio", "duration_s", "speaker", "text", "split"])
        for clip in clips:
            writer.writerow([clip.audio, f"{clip.duration_s:.3f}", clip.speaker, clip.text, "train"])
    return manifest
