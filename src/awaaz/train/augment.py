"""Speed perturbation: the same utterance faster or slower (tempo and pitch together), as in Kaldi recipes.

Training clips come from few speakers (7 read the OhmVikrant sentences); copies at 0.9x and 1.1x speed
shift pitch, formants and speaking rate, which widens the voices the decoder learns from. The factor is a
property of the :class:`~awaaz.train.data.Clip`, so each copy has its own cached encoder output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import av
import numpy as np
import numpy.typing as npt

from awaaz.audio import decode_audio
from awaaz.train.data import Clip
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
    parts = [decode_audio(part.audio) for part in clip.parts]
    return change_speed(parts[0] if len(parts) == 1 else np.concatenate(parts), clip.speed)


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
