"""Sentences a piece's text skipped, found by decoding its stretches one by one, and put back in place.

Reading a piece that holds several voices one after another (sentences read by many people, cut close to
their speech), the model sometimes leaves a whole sentence out and goes on with the next, or ends its text
after the sentence before the last while its final timestamp claims the rest: recovery and the
words-per-second check see nothing wrong. The piece is therefore also cut at its inner pauses
(:func:`stretches`) and each stretch decoded alone, as a clip. The stretches' words are aligned with the
piece's (:func:`missing_stretches`); a stretch whose speech the piece's text has nothing for is put into
the piece's segments where it belongs (:func:`with_stretches`). A stretch the piece read otherwise
(misheard, spelt differently, cut mid-sentence) still finds letters of the piece's text at its place and
is left out, so the check adds whole sentences and not second readings.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from difflib import SequenceMatcher

from awaaz.longform.pieces import Piece
from awaaz.longform.vad import FRAME, pause_middles, speech_probabilities
from awaaz.text.normalize import normalize_hindi
from awaaz.types import SAMPLE_RATE, Segment

MIN_STRETCH_WORDS = 2
"""Fewest words of a stretch that can be missing (one word alone is as often a fragment as a sentence)."""
PRESENT_SHARE = 0.5
"""A stretch with at least this share of its words aligned with the piece's text is present."""
LETTER_SHARE = 0.5
"""Otherwise it is missing when the piece's text between its aligned neighbours holds fewer letters than
this share of the stretches' text there."""


def stretches(piece: Piece, pause_s: float, min_s: float) -> list[Piece]:
    """``piece`` cut in the middle of every pause of at least ``pause_s``; a stretch shorter than
    ``min_s`` is joined to its shorter neighbour. One stretch: no inner pause (or ``pause_s`` is 0)."""
    length = piece.audio.shape[0]
    cuts = [int(frame) * FRAME for frame in pause_middles(speech_probabilities(piece.audio), pause_s)]
    bounds = [0, *(cut for cut in cuts if 0 < cut < length), length]
    shortest = round(min_s * SAMPLE_RATE)
    while len(bounds) > 2:
        lengths = [b - a for a, b in itertools.pairwise(bounds)]
        k = min(range(len(lengths)), key=lengths.__getitem__)
        if lengths[k] >= shortest:
            break
        if k == 0:
            del bounds[1]
        elif k == len(lengths) - 1:
            del bounds[-2]
        else:  # the boundary with the shorter neighbour goes
            del bounds[k if lengths[k - 1] < lengths[k + 1] else k + 1]
    return [Piece(piece.start + a, piece.audio[a:b]) for a, b in itertools.pairwise(bounds)]


def missing_stretches(words: Sequence[str], stretch_words: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """(index in ``words`` where it belongs, stretch number) of each stretch the piece's ``words`` lack.

    The words of all stretches, in order, are aligned with ``words`` (normalised as scored). A stretch of
    :data:`MIN_STRETCH_WORDS` or more is missing when under :data:`PRESENT_SHARE` of its words aligned and
    the piece's words between the aligned words around it hold under :data:`LETTER_SHARE` of the letters of
    the stretches' words there. It belongs after the last piece word aligned with it or a stretch before.
    """
    flat = [w for stretch in stretch_words for w in stretch]
    if len(stretch_words) < 2 or not flat:
        return []
    owner = [k for k, stretch in enumerate(stretch_words) for _ in stretch]
    plain = [normalize_hindi(w) for w in words]
    aligned: dict[int, int] = {}  # stretch word -> piece word
    matcher = SequenceMatcher(None, plain, [normalize_hindi(w) for w in flat], autojunk=False)
    for block in matcher.get_matching_blocks():
        aligned.update({block.b + t: block.a + t for t in range(block.size)})
    missing: list[tuple[int, int]] = []
    for k in range(len(stretch_words)):
        mine = [i for i, o in enumerate(owner) if o == k]
        if len(mine) < MIN_STRETCH_WORDS or sum(i in aligned for i in mine) >= PRESENT_SHARE * len(mine):
            continue
        before = max((i for i in aligned if i < mine[0]), default=-1)
        after = min((i for i in aligned if i > mine[-1]), default=len(flat))
        piece_from = aligned[before] + 1 if before >= 0 else 0
        piece_to = aligned[after] if after < len(flat) else len(words)
        theirs = sum(len(w) for w in words[piece_from:piece_to])
        if theirs < LETTER_SHARE * sum(len(w) for w in flat[before + 1 : after]):
            # after the piece's words aligned with this stretch's few (a sentence-final word that the
            # piece wrote for the sentence before) or, without them, with the stretches before it
            missing.append((max((aligned[i] for i in aligned if i <= mine[-1]), default=-1) + 1, k))
    return missing


def with_stretches(
    segments: Sequence[Segment], inserts: Sequence[tuple[int, Sequence[Segment]]]
) -> list[Segment]:
    """``segments`` with each insert's segments put before their word number ``at`` (counted over all of
    ``segments``' words); a segment that the place falls inside is split there."""
    out = list(segments)
    # From the last place back, so that word numbers stay valid; at one place, the last insert first, so
    # that those put there keep their order.
    for _, (at, added) in sorted(enumerate(inserts), key=lambda e: (-e[1][0], -e[0])):
        if not added:
            continue
        seen = 0
        for index, segment in enumerate(out):
            count = len(segment.text.split())
            if at <= seen:
                out[index:index] = added
                break
            if at < seen + count:
                left, right = _split(segment, at - seen, added[0].start, added[-1].end)
                out[index : index + 1] = [left, *added, right]
                break
            seen += count
        else:
            out.extend(added)
    return out


def _split(segment: Segment, count: int, gap_start: float, gap_end: float) -> tuple[Segment, Segment]:
    """``segment`` cut after its first ``count`` words, around a stretch from ``gap_start`` to ``gap_end``."""
    words = segment.text.split()
    timed = len(segment.words) == len(words)
    left_end = min(max(segment.start, gap_start), segment.end)
    right_start = max(min(segment.end, gap_end), left_end)
    left = dataclasses.replace(
        segment,
        text=" " + " ".join(words[:count]),
        end=left_end,
        words=segment.words[:count] if timed else (),
    )
    right = dataclasses.replace(
        segment,
        text=" " + " ".join(words[count:]),
        start=right_start,
        words=segment.words[count:] if timed else (),
    )
    return left, right
