"""Where one recording or voice ends and the next begins with no pause: a small trained detector of joins.

A long recording is best cut into pieces exactly where one voice ends and the next begins: the train
broadcast proxy (news clips of 100 broadcasts joined end to end) makes 161 errors cut at its joins against
227 cut at the quietest lull, and 227 again with every cut 96 ms early (docs/ACCURACY.md, session 20).
Silero VAD scores such a join as speech, and the model's own timestamps miss most of them. This detector
scores every 10 ms hop: log-mel band energies (24 bands, 25 ms window), standardised over the audio at
hand, are averaged over 2 to 64 hops before and after the hop; their differences and the sizes of those,
with the hop's level, go through a small network (two hidden layers of 64 and 32) trained on train-split
news clips joined end to end (:mod:`awaaz.train.joins`; the weights ship in ``longform/data``). A join is
a hop whose score is the highest within 0.25 s and reaches the threshold. On dev news clips joined end
to end in five orders (held out from training), 68 of 80 joins are found within 10 ms at 0.9, with
about 10 other peaks a minute, many where a pause begins or ends (which the planner leaves to the
quietest point). The detector knows news: on Common Voice clips joined it finds few joins.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from awaaz.audio import Audio
from awaaz.types import SAMPLE_RATE

HOP = 160
"""Samples per hop (10 ms)."""
WINDOW = 400
"""Samples per analysis window (25 ms)."""
BANDS = 24
SCALES = (2, 4, 8, 16, 32, 64)
"""Hops averaged before and after each hop."""
PEAK_RADIUS = 25
"""A join is the highest score within this many hops (0.25 s) either side."""
FEATURES = len(SCALES) * (BANDS + 1) + 1
WEIGHTS = "join_detector.npz"

Floats = npt.NDArray[np.float32]


@functools.cache
def _mel_matrix() -> npt.NDArray[np.float64]:
    """Triangular filters of :data:`BANDS` mel bands from 100 Hz to 7.6 kHz over the rfft bins."""

    def mel(f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 2595 * np.log10(1 + f / 700)

    def hz(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 700 * (10 ** (m / 2595) - 1)

    edges = hz(np.linspace(mel(np.array(100.0)), mel(np.array(7600.0)), BANDS + 2))
    freqs = np.fft.rfftfreq(WINDOW, 1 / SAMPLE_RATE)
    bank = np.zeros((BANDS, freqs.size))
    for b in range(BANDS):
        low, centre, high = edges[b : b + 3]
        rising, falling = (freqs - low) / (centre - low), (high - freqs) / (high - centre)
        bank[b] = np.clip(np.minimum(rising, falling), 0, None)
    return bank


def log_mel(audio: Audio, chunk: int = 1024) -> Floats:
    """Log band energies per hop, ``(hops, BANDS)``, computed ``chunk`` hops at a time."""
    hops = (audio.shape[0] - WINDOW) // HOP + 1
    if hops <= 0:
        return np.zeros((0, BANDS), dtype=np.float32)
    window = np.hanning(WINDOW).astype(np.float32)
    bank = _mel_matrix().T.astype(np.float32)
    out = np.empty((hops, BANDS), dtype=np.float32)
    for first in range(0, hops, chunk):
        index = np.arange(WINDOW)[None, :] + HOP * np.arange(first, min(hops, first + chunk))[:, None]
        power = np.abs(np.fft.rfft(audio[index] * window, axis=1)).astype(np.float32) ** 2
        out[first : first + index.shape[0]] = np.log(power @ bank + 1e-6)
    return out


def features(audio: Audio) -> Floats:
    """The detector's input per hop, ``(hops, FEATURES)``: see the module's docstring."""
    bands = log_mel(audio)
    hops = bands.shape[0]
    if hops == 0:
        return np.zeros((0, FEATURES), dtype=np.float32)
    bands = (bands - bands.mean(0)) / (bands.std(0) + 1e-6)
    running = np.vstack([np.zeros((1, BANDS)), np.cumsum(bands, 0, dtype=np.float64)])
    at = np.arange(hops)
    parts: list[npt.NDArray[np.floating]] = []
    for scale in SCALES:
        before, after = np.clip(at - scale, 0, hops), np.clip(at + scale, 0, hops)
        left = (running[at] - running[before]) / np.maximum(at - before, 1)[:, None]
        right = (running[after] - running[at]) / np.maximum(after - at, 1)[:, None]
        change = right - left
        parts += [change, np.linalg.norm(change, axis=1, keepdims=True)]
    parts.append(bands.mean(1, keepdims=True))
    return np.hstack(parts).astype(np.float32)


@dataclass(frozen=True)
class JoinDetector:
    """The trained network: input standardisation and three dense layers (ReLU between them)."""

    mean: Floats
    scale: Floats
    layers: tuple[tuple[Floats, Floats], ...]

    @classmethod
    def load(cls, path: Path | None = None) -> JoinDetector:
        """The weights at ``path``, or the shipped ones."""
        source = path or resources.files("awaaz.longform").joinpath("data", WEIGHTS)
        with source.open("rb") as handle, np.load(handle) as stored:
            count = sum(1 for key in stored.files if key.startswith("w"))
            layers = tuple((stored[f"w{i}"], stored[f"b{i}"]) for i in range(count))
            return cls(stored["mean"], stored["scale"], layers)

    def save(self, path: Path) -> None:
        """Write the weights as the ``.npz`` that :meth:`load` reads."""
        arrays = {"mean": self.mean, "scale": self.scale}
        for i, (weight, bias) in enumerate(self.layers):
            arrays |= {f"w{i}": weight, f"b{i}": bias}
        np.savez(path, **arrays)  # type: ignore[arg-type]

    def scores(self, audio: Audio) -> Floats:
        """The probability that each hop of 16 kHz mono ``audio`` is a join."""
        x = (features(audio) - self.mean) / self.scale
        for i, (weight, bias) in enumerate(self.layers):
            x = x @ weight + bias
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0)
        return np.asarray(1 / (1 + np.exp(-np.clip(x[:, 0], -50, 50))), dtype=np.float32)


@functools.cache
def shipped_detector() -> JoinDetector:
    """The detector shipped with Awaaz, loaded once."""
    return JoinDetector.load()


@functools.cache
def detector_at(path: Path | None) -> JoinDetector:
    """The detector whose weights are at ``path`` (the shipped one for None), loaded once."""
    return JoinDetector.load(path) if path else shipped_detector()


def join_points(
    audio: Audio, threshold: float, detector: JoinDetector | None = None
) -> tuple[npt.NDArray[np.int64], Floats]:
    """The joins in ``audio``: hops scoring at least ``threshold`` and the highest within
    :data:`PEAK_RADIUS` hops, as (sample where each is, its score), in order."""
    score = (detector or shipped_detector()).scores(audio)
    if score.size == 0:
        return np.zeros(0, dtype=np.int64), score
    padded = np.pad(score, PEAK_RADIUS, constant_values=-1.0)
    highest = np.lib.stride_tricks.sliding_window_view(padded, 2 * PEAK_RADIUS + 1).max(1)
    peaks = np.flatnonzero((score >= highest) & (score >= threshold))
    # trained on the hop whose window starts on the join or just before it
    return (peaks * HOP).astype(np.int64), score[peaks]
