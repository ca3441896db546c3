"""Cut a stream of audio blocks into pieces of speech the model decodes well, holding little in memory.

Silero VAD gives each 32 ms frame a probability of speech. A piece starts just before speech and is cut
between ``min_piece_s`` and ``piece_s`` later: in the middle of the first pause of ``sentence_pause_s`` or
more in that window (the end of a sentence: read speech becomes one piece per sentence or so, as the model
was trained), or, if there is none, at the quietest moment of the window: where the speech probability,
averaged over ``cut_smooth_s`` (0.22 s), is lowest, the earlier of two about equally quiet points. Where
even that point is no clear pause (averaged, at or above ``pause_level``: speech that hardly pauses, as a
news bulletin of reports joined end to end), the piece ends instead where two voices or recordings meet,
at the surest join the detector of :mod:`awaaz.longform.joins` finds in the window away from any pause's
edge: a cut there, to the frame, loses the fewest words (docs/ACCURACY.md, session 20). Where that point
is only a lull (averaged, between ``quiet_level`` and ``pause_level``: a breath between two phrases, or a
short pause between two read sentences), a join wins over it only when the detector is all but sure of it
(``sure_join_threshold``; session 21: a lull inside a sentence was the cut that cost most words). Silence at
either side of a cut is left out, but for ``pad_s`` of context. The VAD runs on a buffer of about
``block_s`` seconds at a time; a piece whose window reaches past the buffer is carried over, with the
audio after it, into the next one. So memory is one buffer and one piece, whatever the duration of the
stream.

Audio no longer than ``whole_s`` is one piece, decoded whole as a clip, exactly as before long-form
support existed. The limits were chosen on the dev clips carved from train and on train news joined into
long recordings (docs/ACCURACY.md, "Long recordings"): 15 s pieces beat 10 s and 20 s ones, and the
deepest pause beat the latest one. Ending a piece at a sentence pause took 120 train Common Voice
sentences joined from 12.4 % to 6.7 % WER (0.8 s; 0.4-1.2 s all helped), and left joined news, which
hardly pauses that long, as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from awaaz.audio import Audio
from awaaz.config import PieceSettings
from awaaz.longform.joins import detector_at, join_points
from awaaz.longform.vad import (
    FRAME,
    SILENCE,
    SPEECH,
    Probabilities,
    pause_middles,
    smoothed,
    speech_probabilities,
)
from awaaz.types import SAMPLE_RATE

EARLY_BONUS = 0.02
"""Taken off the smoothed speech probability of the window's first frame, falling to 0 at its last: of two
about equally quiet points the earlier is cut at. Sentences read one after another with short pauses (a
recording of many readers, cut close) then become a piece each more often instead of sharing one; chosen
on train and dev (docs/ACCURACY.md, session 18: the previous rule, 0.05 towards the later point, lost 8
words more of 404 on the dev prose joined across 0.5 s pauses)."""

PAUSE_NEAR = 6
"""A join with this many silent frames (about 0.2 s) within :data:`PAUSE_RADIUS` frames of it is the edge
of a pause, not two voices meeting: there the quietest point is cut at."""
PAUSE_RADIUS = 8
"""Frames (0.26 s) either side of a join looked at for the silence of a pause's edge."""


@dataclass(frozen=True, slots=True)
class Piece:
    """Audio to decode as one clip, and where it starts in the stream."""

    start: int
    """Sample of the stream where ``audio[0]`` is."""
    audio: Audio
    whole: bool = False
    """The piece is the whole (short) recording, decoded as a clip exactly as before pieces existed."""

    @property
    def offset_s(self) -> float:
        """Start in the stream, in seconds."""
        return self.start / SAMPLE_RATE


SpeechDetector = Callable[[Audio], Probabilities]
"""Speech probability per :data:`~awaaz.longform.vad.FRAME` of audio, like :func:`speech_probabilities`."""
JoinFinder = Callable[[Audio], tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]
"""Where voices meet with no pause in audio, and how surely: samples and scores, like
:func:`~awaaz.longform.joins.join_points`."""


class PiecePlanner:
    """Turns audio blocks into :class:`Piece` objects; see the module's docstring."""

    def __init__(
        self,
        settings: PieceSettings,
        detect: SpeechDetector = speech_probabilities,
        joins: JoinFinder | None = None,
    ) -> None:
        """``joins``: where voices meet (default: ``settings.join_detector``, else the shipped detector, at
        ``settings.join_threshold``); not looked for unless ``settings.cut_at_joins``."""
        self.settings = settings
        self._detect = detect
        self._joins: JoinFinder | None = None
        if settings.cut_at_joins:  # the detector is loaded when a window first needs it, once per process
            self._joins = joins or (
                lambda audio: join_points(audio, settings.join_threshold, detector_at(settings.join_detector))
            )
        self.samples_seen = 0
        """Samples of the stream read so far."""
        frames_per_s = SAMPLE_RATE / FRAME
        self._max = int(settings.piece_s * frames_per_s)
        self._min = min(self._max, int(settings.min_piece_s * frames_per_s))
        self._pad = round(settings.pad_s * frames_per_s)
        self._smooth = max(1, round(settings.cut_smooth_s * frames_per_s))

    def pieces(self, blocks: Iterable[Audio]) -> Iterator[Piece]:
        """Read ``blocks`` lazily and yield the pieces in order."""
        block = int(self.settings.block_s * SAMPLE_RATE)
        parts: list[Audio] = []
        held = 0
        offset = 0  # stream sample of the buffer's first sample
        for chunk in blocks:
            parts.append(chunk)
            held += chunk.shape[0]
            self.samples_seen += chunk.shape[0]
            if held < block:
                continue
            buffer = _joined(parts)
            consumed, found = self._cut(buffer, offset, final=False)
            yield from found
            parts, held, offset = [buffer[consumed:]], buffer.shape[0] - consumed, offset + consumed
        buffer = _joined(parts)
        if offset == 0 and buffer.shape[0] <= self.settings.whole_s * SAMPLE_RATE:
            if buffer.shape[0]:
                yield Piece(0, buffer, whole=True)
            return
        yield from self._cut(buffer, offset, final=True)[1]

    def _cut(self, buffer: Audio, offset: int, *, final: bool) -> tuple[int, list[Piece]]:
        """Pieces of ``buffer`` that are complete, and how many of its samples they used up."""
        probability = self._detect(buffer)
        speech = np.flatnonzero(probability >= SPEECH)
        smooth = smoothed(probability, self._smooth)
        pauses = pause_middles(probability, self.settings.sentence_pause_s)
        frames = probability.shape[0]

        @functools.cache  # only once a window has no clear pause, and then once per buffer
        def joins() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
            at, score = self._joins(buffer) if self._joins else (np.zeros(0, np.int64), np.zeros(0))
            at = np.minimum(at // FRAME, frames - 1)
            # where sound starts or stops (a pause's edge) is no join: the quietest point cuts there
            silent = probability < SILENCE
            near = [int(silent[max(0, f - PAUSE_RADIUS) : f + PAUSE_RADIUS + 1].sum()) for f in at]
            inside = np.array([count < PAUSE_NEAR for count in near], dtype=bool)
            return at[inside], score[inside].astype(np.float32)

        pieces: list[Piece] = []
        start = 0
        while True:
            following = speech[np.searchsorted(speech, start) :]
            if not following.size:  # silence to the end: keep the last second, speech may start there
                consumed = buffer.shape[0] if final else max(start * FRAME, buffer.shape[0] - SAMPLE_RATE)
                return min(consumed, buffer.shape[0]), pieces
            start = max(start, int(following[0]) - self._pad)
            if start + self._max >= frames:
                if not final:  # the window reaches past the buffer: carried over
                    return start * FRAME, pieces
                cut = frames
            else:
                low, high = start + self._min, start + self._max
                inside = pauses[(pauses >= low) & (pauses <= high)]
                cut = int(inside[0]) if inside.size else self._join_or_quietest(joins, smooth, low, high)
            spoken = following[following < cut]
            end = min(cut, int(spoken[-1]) + 1 + self._pad)
            samples = slice(start * FRAME, min(end * FRAME, buffer.shape[0]))
            pieces.append(Piece(offset + samples.start, buffer[samples].copy()))
            if cut >= frames:
                return buffer.shape[0], pieces
            start = cut

    def _join_or_quietest(
        self,
        joins: Callable[[], tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]],
        smooth: Probabilities,
        low: int,
        high: int,
    ) -> int:
        """The frame in ``[low, high]`` to cut at when no sentence pause lies there: the quietest point if
        it is quiet (its averaged speech probability under ``quiet_level``); else the surest join of two
        voices there, which must score ``sure_join_threshold`` to win over a lull (under
        ``pause_level``); else the quietest point all the same."""
        quietest = self._quietest(smooth, low, high)
        level = smooth[quietest]
        if level < min(self.settings.quiet_level, self.settings.pause_level):
            return quietest
        at, score = joins()
        inside = (at >= low) & (at <= high)
        if level < self.settings.pause_level:
            inside &= score >= self.settings.sure_join_threshold
        return int(at[inside][np.argmax(score[inside])]) if inside.any() else quietest

    @staticmethod
    def _quietest(smooth: Probabilities, low: int, high: int) -> int:
        """The frame in ``[low, high]`` to cut at: the least speech-like, earlier ones first on near ties."""
        window = smooth[low : high + 1]
        earliness = np.linspace(EARLY_BONUS, 0.0, window.shape[0], dtype=np.float32)
        return low + int(np.argmin(window - earliness))


def _joined(parts: list[Audio]) -> Audio:
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
