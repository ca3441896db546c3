"""Speech probability per 32 ms frame from Silero VAD (the ONNX model that faster-whisper ships)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from awaaz.audio import Audio
from awaaz.types import SAMPLE_RATE

FRAME = 512
"""Samples per VAD frame (32 ms at 16 kHz)."""
SPEECH = 0.5
"""A frame whose probability reaches this is speech (Silero's own threshold)."""
SILENCE = 0.35
"""A frame below this probability is part of a pause (the live endpointer's end of an utterance, a long
recording's sentence pause)."""
SMOOTH_FRAMES = 9
"""Frames (about 0.3 s) the speech probability is averaged over to rank cut points by default (where a
sparse piece is halved; the piece planner uses ``PieceSettings.cut_smooth_s``)."""

Probabilities = npt.NDArray[np.float32]


def speech_probabilities(audio: Audio) -> Probabilities:
    """The probability that each :data:`FRAME` of 16 kHz mono ``audio`` is speech (the last one padded)."""
    if audio.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    from faster_whisper.vad import get_vad_model

    padded = np.pad(audio, (0, -audio.shape[0] % FRAME))
    return np.asarray(get_vad_model()(padded), dtype=np.float32).reshape(-1)[: padded.shape[0] // FRAME]


def spoken_seconds(probability: Probabilities) -> float:
    """Seconds in the frames of ``probability`` that are speech."""
    return float(np.count_nonzero(probability >= SPEECH)) * FRAME / SAMPLE_RATE


def speech_seconds(audio: Audio) -> float:
    """Seconds of ``audio`` in frames that are speech."""
    return spoken_seconds(speech_probabilities(audio))


def speech_bounds(audio: Audio) -> tuple[int, int] | None:
    """Samples from the start of ``audio``'s first speech frame to the end of its last (None: no speech)."""
    speech = np.flatnonzero(speech_probabilities(audio) >= SPEECH)
    if not speech.size:
        return None
    return int(speech[0]) * FRAME, min(audio.shape[0], (int(speech[-1]) + 1) * FRAME)


def pause_middles(probability: Probabilities, min_s: float) -> npt.NDArray[np.int64]:
    """The middle frame of every pause (frames under :data:`SILENCE`) of at least ``min_s`` seconds, in
    order; none when ``min_s`` is 0."""
    need = round(min_s * SAMPLE_RATE / FRAME)
    if need <= 0:
        return np.zeros(0, dtype=np.int64)
    silent = np.concatenate([[False], probability < SILENCE, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2]  # each pause is frames [start, stop)
    return np.asarray(((starts + stops) // 2)[stops - starts >= need], dtype=np.int64)


def smoothed(probability: Probabilities, frames: int = SMOOTH_FRAMES) -> Probabilities:
    """``probability`` averaged over ``frames`` frames around each, to rank points as places to cut."""
    return np.convolve(probability, np.ones(frames) / frames, mode="same").astype(np.float32)
