"""Training audio made from the recorded clips: speed copies, and joined clips cut close to their speech.

Speed perturbation: the same utterance faster or slower (tempo and pitch together), as in Kaldi recipes.
Training clips come from few speakers (7 read the OhmVikrant sentences); copies at 0.9x and 1.1x speed
shift pitch, formants and speaking rate, which widens the voices the decoder learns from. The factor is a
property of the :class:`~awaaz.train.data.Clip`, so each copy has its own cached encoder output.

Tight joins: sentences read one after another, by as many voices, meet across pauses of a fraction of a
second, so a long recording's 15 s piece holds two to four voices; clips joined as recorded meet across
their own leading and trailing silence (a second or more). :func:`with_tight_joins` cuts each joined clip
to its speech and a short stretch of its own silence, so the model learns windows like those pieces, with
each segment's end timestamp where its speech ends.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from awaaz.audio import decode_audio
from awaaz.longform.vad import speech_bounds
from awaaz.train.data import Clip, join_clips
from awaaz.types import SAMPLE_RATE


def change_speed(audio: npt.NDArray[np.float32], factor: float) -> npt.NDArray[np.float32]:
    """``audio`` (16 kHz mono) played ``factor`` times faster: read as ``16 kHz * factor`` and resampled."""
    if factor <= 0:
        raise ValueError("the speed factor must be > 0")
    if factor == 1.0 or len(audio) == 0:
        return audio
    rate = round(SAMPLE_RATE * factor)
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(audio[None, :], dtype=np.float32), format="flt", layout="mono"
    )
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks = [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
    chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32) if chunks else audio[:0]


def load_clip_audio(clip: Clip) -> npt.NDArray[np.float32]:
    """The clip's audio at its speed (a joined example's clips back to back)."""
    parts = [_played(part) for part in clip.parts]
    return change_speed(parts[0] if len(parts) == 1 else np.concatenate(parts), clip.speed)


def _played(clip: Clip) -> npt.NDArray[np.float32]:
    audio = decode_audio(clip.audio)
    if clip.span is None:
        return audio
    start, end = (round(t * SAMPLE_RATE) for t in clip.span)
    return audio[start:end]


MIN_KEPT_SILENCE_S = 0.05
"""Least silence a tight join keeps on each side of a clip's speech (a cut right at the first or last
speech frame can clip a consonant)."""


def with_tight_joins(examples: Sequence[Clip], max_pause_s: float, seed: int) -> list[Clip]:
    """``examples`` with every joined one rebuilt from its clips cut to their speech (Silero VAD frames)
    plus, on each side, between :data:`MIN_KEPT_SILENCE_S` and ``max_pause_s`` / 2 of their own silence
    (drawn with ``seed``): neighbours then meet across a pause of 0.1 s to ``max_pause_s``. Other clips,
    and clips in which the VAD finds no speech, are left as they are."""
    rng = random.Random(f"tight:{seed}")
    half = max(max_pause_s / 2, MIN_KEPT_SILENCE_S)

    def tight(clip: Clip) -> Clip:
        bounds = _speech_samples(clip.audio)
        if bounds is None:
            return clip
        first, last, length = bounds
        start = max(0, first - round(rng.uniform(MIN_KEPT_SILENCE_S, half) * SAMPLE_RATE))
        end = min(length, last + round(rng.uniform(MIN_KEPT_SILENCE_S, half) * SAMPLE_RATE))
        span = (start / SAMPLE_RATE, end / SAMPLE_RATE)
        return replace(clip, span=span, duration_s=(end - start) / SAMPLE_RATE)

    return [join_clips([tight(part) for part in c.joined]) if c.joined else c for c in examples]


@cache
def _speech_samples(path: Path) -> tuple[int, int, int] | None:
    """(first speech sample, end of the last speech frame, length) of the audio file; None without speech."""
    audio = decode_audio(path)
    bounds = speech_bounds(audio)
    return None if bounds is None else (*bounds, audio.shape[0])


def with_speed_copies(
    clips: Sequence[Clip],
    factors: Sequence[float],
    per_source: Mapping[str, Sequence[float]] | None = None,
) -> list[Clip]:
    """``clips`` followed by one copy of each recorded clip at every factor other than 1.

    ``per_source`` overrides ``factors`` for the clips of the sources it names (``Clip.source``, the
    manifest's folder): ``{"ai4bharat_noa": [0.9, 0.95, 1.05, 1.1], "words": []}`` gives the news four
    copies and the isolated words none, which shifts the mix of a pass toward the domain that matters.
    Copies come factor by factor: ``factors`` first, then the overrides' other factors in the order given.
    Synthetic clips get no copies: their voice already varies in rate and pitch, and copies would make
    them a larger share of the mix.
    """
    overrides = per_source or {}
    order = list(dict.fromkeys([*factors, *(f for fs in overrides.values() for f in fs)]))
    copies = [
        replace(c, speed=f, duration_s=c.duration_s / f)
        for f in order
        if f != 1.0
        for c in clips
        if not c.synthetic and f in overrides.get(c.source, factors)
    ]
    return [*clips, *copies]
