"""Cut a stream of audio blocks into pieces of speech the model decodes well, holding little in memory.

Voice activity detection runs on a buffer of about ``block_s`` seconds at a time. Its speech spans are
joined greedily into pieces no longer than ``max_piece_s`` (first span's start to last span's end, the
pauses inside kept), so every cut falls in a pause; speech that never pauses is split by the VAD at its
last short pause before the limit. All pieces of a buffer but the last are handed out; the last, which
may go on in the next block, is carried over with the audio after it. Memory is one buffer and one piece,
whatever the duration of the stream.

Audio no longer than ``whole_max_s`` is one piece, decoded whole as a clip, exactly as before long-form
support existed. The limits were chosen on the dev clips carved from train (docs/ACCURACY.md, "Long
recordings"): pieces of at most 10 s cut at pauses of 300 ms matched clip-by-clip WER; 12-15 s pieces
were 2-9 points worse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from awaaz.audio import Audio
from awaaz.longform.vad import Span, speech_spans
from awaaz.types import SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class PieceSettings:
    """How long audio is cut."""

    max_piece_s: float = 10.0
    """Longest piece, first speech to last, internal pauses included."""
    whole_max_s: float = 20.0
    """Audio up to this long is decoded whole, as one clip (the model was trained on clips of up to 22 s)."""
    min_pause_ms: int = 300
    """Pauses at least this long separate speech spans (shorter ones are used only to split long speech)."""
    block_s: float = 60.0
    """Audio the VAD looks at in one go; bounds memory, with one carried piece."""


@dataclass(frozen=True, slots=True)
class Piece:
    """Audio to decode as one clip, and where it starts in the stream."""

    start: int
    """Sample of the stream where ``audio[0]`` is."""
    audio: Audio

    @property
    def offset_s(self) -> float:
        """Start in the stream, in seconds."""
        return self.start / SAMPLE_RATE


def join_spans(spans: Iterable[Span], max_samples: int) -> list[Span]:
    """Merge consecutive spans while the merged span stays within ``max_samples``."""
    joined: list[Span] = []
    for span in spans:
        if joined and span.end - joined[-1].start <= max_samples:
            joined[-1] = Span(joined[-1].start, span.end)
        else:
            joined.append(span)
    return joined


SpeechDetector = Callable[..., list[Span]]
"""Called as ``detect(audio, min_pause_ms=..., max_span_s=...)``, like :func:`speech_spans`."""


class PiecePlanner:
    """Turns audio blocks into :class:`Piece` objects; see the module's docstring."""

    def __init__(self, settings: PieceSettings, detect: SpeechDetector = speech_spans) -> None:
        self.settings = settings
        self._detect = detect
        self.samples_seen = 0
        """Samples of the stream read so far."""
        self._max_piece = int(settings.max_piece_s * SAMPLE_RATE)

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
        if offset == 0 and buffer.shape[0] <= self.settings.whole_max_s * SAMPLE_RATE:
            if buffer.shape[0]:
                yield Piece(0, buffer)
            return
        yield from self._cut(buffer, offset, final=True)[1]

    def _cut(self, buffer: Audio, offset: int, *, final: bool) -> tuple[int, list[Piece]]:
        """Pieces of ``buffer`` that are complete, and how many of its samples they used up."""
        spans = self._detect(
            buffer, min_pause_ms=self.settings.min_pause_ms, max_span_s=self.settings.max_piece_s
        )
        joined = join_spans(spans, self._max_piece)
        consumed = buffer.shape[0]
        if not final:
            edge = max(0, buffer.shape[0] - SAMPLE_RATE)  # speech may start in the last second
            if joined and joined[-1].end > edge:
                consumed = joined.pop().start  # it may go on in the next block: carried over
            else:
                consumed = max(edge, joined[-1].end if joined else 0)
        pieces = [Piece(offset + s.start, buffer[s.start : s.end].copy()) for s in joined]
        return consumed, pieces


def _joined(parts: list[Audio]) -> Audio:
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
