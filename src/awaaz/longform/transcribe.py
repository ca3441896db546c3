"""Transcribe audio of any length with a clip engine: pieces decoded like clips, stitched back in time.

Each :class:`~awaaz.longform.pieces.Piece` goes to ``engine.transcribe`` as a clip, with the caller's
options (beam, LM rescoring, guards, VAD). The fine-tuned model sometimes ends its text early: it writes
one sentence, a timestamp and its end token while speech goes on (it does so at a change of speaker or a
hard cut in the audio). When a piece's text ends more than ``recover_gap_s`` before the piece does and the
VAD finds at least ``recover_min_speech_s`` of speech after it, the rest is decoded again from where the
text ended, up to ``max_recoveries`` times. When the early end was only in the timestamp (the text went on
past it), the new pass tells again what the one before ended with, from a few words to the whole pass,
often spelt otherwise: the words of the two passes are aligned and the repeated stretch is dropped from
the new one (:func:`_repeated_lead`). The model's final timestamp sometimes claims the whole piece
although its text stopped after the first sentence; such a piece has far fewer words than its speech
holds. A piece with fewer than ``min_words_per_s`` words per second of speech is cut in two at its quietest
point and each half decoded on its own (at most ``max_splits`` times deep); the halves are kept if they
found more words. Each piece is also decoded stretch by stretch, cut at its inner pauses, and a stretch
its text skipped is put back (:mod:`awaaz.longform.coverage`). A short recording decoded whole is never
cut: it decodes exactly as before pieces existed. Pieces are decoded ``workers`` at a time (the model's
replicas run them in parallel), and segments come out in order, as each piece is done.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TypeVar

import numpy as np

from awaaz.allocator import release_free_memory
from awaaz.audio import Audio
from awaaz.config import LongFormSettings
from awaaz.engines.base import Engine
from awaaz.errors import TranscriptionTimeoutError
from awaaz.longform.coverage import missing_stretches, stretches, with_stretches
from awaaz.longform.cues import split_cues
from awaaz.longform.pieces import Piece, PiecePlanner
from awaaz.longform.vad import (
    FRAME,
    Probabilities,
    smoothed,
    speech_probabilities,
    speech_seconds,
    spoken_seconds,
)
from awaaz.types import SAMPLE_RATE, Segment, TranscribeOptions, Transcription, TranscriptionInfo

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MIN_REPEATED_WORDS = 4
"""Fewest words of a recovered pass that must align with the previous pass for it to count as a repeat."""
MAX_LEAD_WORDS = 8
"""Words a recovered pass may write, misheard from the cut, before the repeated ones begin."""
MAX_UNMATCHED_TAIL = 2
"""Last words of the previous pass that a repeat may miss (misheard) and still count as reaching its end."""
MIN_REPEATED_SHARE = 0.5
"""Share of the words in a repeated stretch, on each side, that must be the same words."""
_PUNCTUATION = "।॥,.?!;:\"'"


@dataclass(slots=True)
class _Decoded:
    segments: list[Segment]
    info: TranscriptionInfo | None
    recoveries: int


def transcribe_long(
    engine: Engine,
    blocks: Iterable[Audio],
    options: TranscribeOptions,
    settings: LongFormSettings,
    *,
    duration_hint: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    workers: int = 1,
    piece_engine: Callable[[], Engine] | None = None,
) -> Transcription:
    """Start transcribing the 16 kHz mono ``blocks`` (read lazily); segments come as pieces finish.

    ``info.duration`` is ``duration_hint`` (or 0) until the last segment has been produced, then the
    duration of the audio read; ``info.language`` is the requested language, or the one detected in the
    first piece. Pieces are decoded ``workers`` at a time. ``should_stop`` is polled before each model
    call and each segment; once it returns True the work ends with
    :class:`~awaaz.errors.TranscriptionTimeoutError`. ``piece_engine``, if given, is called once, in the
    thread that reads the segments, when the audio turns out longer than one clip; the engine it returns
    decodes every piece of it instead of ``engine`` (``info.model`` then names it).
    """
    info = TranscriptionInfo(
        language=options.language or "", duration=duration_hint or 0.0, model=engine.model_id
    )
    transcription = Transcription(info=info, segments=iter(()))
    planner = PiecePlanner(settings.pieces)
    stop = should_stop or (lambda: False)
    routed = _Routed(engine, piece_engine)
    transcription.segments = _segments(
        routed, planner, blocks, options, settings, transcription, stop, workers
    )
    return transcription


class _Routed:
    """Which engine decodes each piece: ``engine`` for audio decoded whole, the one ``piece_engine`` returns
    (asked for once, on the first piece of a long recording) for pieces."""

    def __init__(self, engine: Engine, piece_engine: Callable[[], Engine] | None) -> None:
        self.engine = engine
        self._piece_engine = piece_engine
        self.pieces: Engine | None = None

    def pairs(self, pieces: Iterable[Piece]) -> Iterator[tuple[Engine, Piece]]:
        """Each piece with its engine (read in the consuming thread, as the pieces are)."""
        for piece in pieces:
            if piece.whole or self._piece_engine is None:
                yield self.engine, piece
                continue
            if self.pieces is None:
                self.pieces = self._piece_engine()
            yield self.pieces, piece

    @property
    def model_id(self) -> str:
        """The model that decoded the audio."""
        return (self.pieces or self.engine).model_id


def _segments(
    routed: _Routed,
    planner: PiecePlanner,
    blocks: Iterable[Audio],
    options: TranscribeOptions,
    settings: LongFormSettings,
    transcription: Transcription,
    should_stop: Callable[[], bool],
    workers: int,
) -> Iterator[Segment]:
    index = pieces = recoveries = 0
    first_info: TranscriptionInfo | None = None

    def decode(pair: tuple[Engine, Piece]) -> _Decoded:
        engine, piece = pair
        return decode_covered(engine, piece, options, settings, should_stop)

    for decoded in ordered_map(decode, routed.pairs(planner.pieces(blocks)), workers):
        if first_info is None and decoded.info is not None:
            first_info = decoded.info
        pieces += 1
        recoveries += decoded.recoveries
        release_free_memory()
        for segment in split_cues(decoded.segments, settings.cues):
            yield dataclasses.replace(segment, id=index)
            index += 1
    log.debug("%d pieces, %d re-decoded after an early end", pieces, recoveries)
    language = transcription.info.language or (first_info.language if first_info else "")
    transcription.info = dataclasses.replace(
        transcription.info,
        language=language,
        model=routed.model_id,
        duration=planner.samples_seen / SAMPLE_RATE,
        language_probability=first_info.language_probability if first_info else 1.0,
    )


def decode_covered(
    engine: Engine,
    piece: Piece,
    options: TranscribeOptions,
    settings: LongFormSettings,
    should_stop: Callable[[], bool] = lambda: False,
) -> _Decoded:
    """Decode ``piece`` (:func:`decode_piece`), then its stretches one by one, and put back the stretches
    its text skipped (:mod:`awaaz.longform.coverage`)."""
    decoded = decode_piece(engine, piece, options, settings, should_stop)
    if piece.whole or settings.coverage_pause_s <= 0:
        return decoded
    parts = stretches(piece, settings.coverage_pause_s, settings.coverage_min_s)
    if len(parts) < 2:
        return decoded
    alone = [  # a stretch of little speech (a word's tail after a pause) is not read: the model makes it up
        decode_piece(engine, part, options, settings, should_stop)
        if _holds_speech(part.audio, settings)
        else _Decoded([], None, 0)
        for part in parts
    ]
    words = [w for s in decoded.segments for w in s.text.split()]
    missing = missing_stretches(words, [[w for s in a.segments for w in s.text.split()] for a in alone])
    if not missing:
        return decoded
    segments = with_stretches(decoded.segments, [(at, alone[k].segments) for at, k in missing])
    log.debug("piece at %.1f s: %d skipped stretches put back", piece.offset_s, len(missing))
    return _Decoded(segments, decoded.info, decoded.recoveries + len(missing))


def decode_piece(
    engine: Engine,
    piece: Piece,
    options: TranscribeOptions,
    settings: LongFormSettings,
    should_stop: Callable[[], bool] = lambda: False,
    splits: int | None = None,
) -> _Decoded:
    """Decode ``piece`` (:func:`decode_with_recovery`); if its text is too sparse for its speech, decode its
    halves instead where they find more words."""
    decoded = decode_with_recovery(engine, piece, options, settings, should_stop)
    splits = settings.max_splits if splits is None else splits
    if piece.whole or splits <= 0:
        return decoded
    probability = speech_probabilities(piece.audio)
    spoken = spoken_seconds(probability)
    words = sum(len(s.text.split()) for s in decoded.segments)
    if spoken < settings.min_checked_speech_s or words >= settings.min_words_per_s * spoken:
        return decoded
    halves = _halves(piece, probability)
    parts = [decode_piece(engine, half, options, settings, should_stop, splits - 1) for half in halves]
    if sum(len(s.text.split()) for p in parts for s in p.segments) <= words:
        return decoded
    segments = [s for p in parts for s in p.segments]
    return _Decoded(segments, decoded.info, decoded.recoveries + sum(p.recoveries for p in parts) + 1)


def _halves(piece: Piece, probability: Probabilities) -> tuple[Piece, Piece]:
    """``piece`` cut in two at its quietest point between 30 % and 70 % of its length."""
    smooth = smoothed(probability)
    low, high = int(0.3 * probability.shape[0]), max(int(0.7 * probability.shape[0]), 1)
    cut = (low + int(np.argmin(smooth[low:high]))) * FRAME
    return Piece(piece.start, piece.audio[:cut]), Piece(piece.start + cut, piece.audio[cut:])


def decode_with_recovery(
    engine: Engine,
    piece: Piece,
    options: TranscribeOptions,
    settings: LongFormSettings,
    should_stop: Callable[[], bool] = lambda: False,
) -> _Decoded:
    """Decode ``piece`` as a clip, and again from where its text ended while speech went on."""
    segments: list[Segment] = []
    info: TranscriptionInfo | None = None
    start = 0  # sample of the piece where the current pass begins
    length = piece.audio.shape[0]
    gap = int(settings.recover_gap_s * SAMPLE_RATE)
    for attempt in range(settings.max_recoveries + 1):
        _check(should_stop)
        running = engine.transcribe(piece.audio[start:], options)
        found = [s for s in _checked(running.segments, should_stop) if s.text.strip()]
        info = info or running.info
        if not found:
            return _Decoded(segments, info, attempt)
        end = start + round(max(s.end for s in found) * SAMPLE_RATE)
        shift = piece.offset_s + start / SAMPLE_RATE
        limit = piece.offset_s + length / SAMPLE_RATE
        if segments:
            kept = _without_words(found, _repeated_lead(segments, found))
            if len(kept) < len(found):  # whole segments told again: the earlier text lasted that long
                retold_end = _shifted(found[len(found) - len(kept) - 1], shift, limit).end
                segments[-1] = dataclasses.replace(segments[-1], end=max(segments[-1].end, retold_end))
            found = kept
        segments.extend(_shifted(s, shift, limit) for s in found)
        if end <= start or length - end < gap or not _holds_speech(piece.audio[end:], settings):
            return _Decoded(segments, info, attempt)
        start = end
    return _Decoded(segments, info, settings.max_recoveries)


def _words(segments: Iterable[Segment]) -> list[str]:
    return [w.strip(_PUNCTUATION) for s in segments for w in s.text.split()]


def _repeated_lead(before: list[Segment], after: list[Segment]) -> int:
    """How many leading words of ``after`` to drop because they say again what ``before`` ended with.

    The words of both are aligned (:class:`difflib.SequenceMatcher`). ``after`` repeats ``before`` when
    the aligned words run on to ``before``'s end (but for :data:`MAX_UNMATCHED_TAIL` misheard last words),
    begin within ``after``'s first :data:`MAX_LEAD_WORDS` words, number at least
    :data:`MIN_REPEATED_WORDS`, and make up at least :data:`MIN_REPEATED_SHARE` of the stretch they span
    on each side: then everything up to where ``before`` ended is dropped. A pass whose timestamp ended
    long before its text did is re-decoded from inside that text and tells it again, with other
    spellings, so an exact match would miss it. 0 when ``after`` repeats nothing.
    """
    old, new = _words(before), _words(after)
    blocks = [b for b in SequenceMatcher(None, old, new, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return 0
    last = blocks[-1]
    unmatched_tail = len(old) - (last.a + last.size)
    if unmatched_tail > MAX_UNMATCHED_TAIL:
        return 0
    end = min(len(new), last.b + last.size + unmatched_tail)
    for first in range(len(blocks)):
        if blocks[first].b > MAX_LEAD_WORDS:
            break
        matched = sum(b.size for b in blocks[first:])
        spans = (end - blocks[first].b, len(old) - blocks[first].a)
        if matched >= MIN_REPEATED_WORDS and all(matched >= MIN_REPEATED_SHARE * span for span in spans):
            return end
    return 0


def _without_words(segments: list[Segment], count: int) -> list[Segment]:
    """``segments`` less their first ``count`` words (a segment left with none is dropped)."""
    kept: list[Segment] = []
    for segment in segments:
        words = segment.text.split()
        if count >= len(words):
            count -= len(words)
            continue
        if count:
            text = " " + " ".join(words[count:])
            if len(segment.words) == len(words):  # word times line up with the text: keep the rest's
                timed = segment.words[count:]
                segment = dataclasses.replace(segment, text=text, words=timed, start=timed[0].start)
            else:  # which times belong to the dropped words is unknown: none rather than wrong ones
                segment = dataclasses.replace(segment, text=text, words=())
            count = 0
        kept.append(segment)
    return kept


def _check(should_stop: Callable[[], bool]) -> None:
    if should_stop():
        raise TranscriptionTimeoutError("The transcription was stopped at its deadline.")


def _checked(segments: Iterable[Segment], should_stop: Callable[[], bool]) -> Iterator[Segment]:
    for segment in segments:
        _check(should_stop)
        yield segment


def _holds_speech(audio: Audio, settings: LongFormSettings) -> bool:
    """Whether ``audio`` holds ``recover_min_speech_s`` of speech or more: enough to be worth decoding."""
    return speech_seconds(audio) >= settings.recover_min_speech_s


def _shifted(segment: Segment, shift: float, limit: float) -> Segment:
    """``segment`` moved by ``shift`` seconds, no later than ``limit``."""

    def at(t: float) -> float:
        return round(min(limit, t + shift), 3)

    words = tuple(dataclasses.replace(w, start=at(w.start), end=at(w.end)) for w in segment.words)
    return dataclasses.replace(segment, start=at(segment.start), end=at(segment.end), words=words)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``map(fn, items)`` with up to ``workers`` calls at once, results in order, ``items`` read lazily.

    At most ``workers`` items are taken ahead of the consumer. A single item (a clip) runs in the calling
    thread, as it did before pieces existed. If the consumer stops early, calls not yet started are
    cancelled.
    """
    iterator = iter(items)
    head = list(itertools.islice(iterator, 2))
    if workers <= 1 or len(head) < 2:
        yield from map(fn, itertools.chain(head, iterator))
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="awaaz-piece")
    pending: deque[Future[R]] = deque()
    try:
        for item in itertools.chain(head, iterator):
            pending.append(pool.submit(fn, item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
