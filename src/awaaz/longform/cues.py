"""Subtitle-sized segments: at most ``max_s`` seconds and ``lines`` lines of ``line_chars`` characters.

A segment that is too long is split between words: at word times where the engine gave them (and the
text still has the same words), else at times interpolated by character position. Within the limits a
cue is cut after its longest pause once it is at least half full, so cues tend to end where the speaker
paused. The text is only regrouped, never changed: the segments' texts joined by spaces are the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from awaaz.config import CueSettings
from awaaz.types import Segment, Word

MIN_PAUSE_S = 0.2
"""A gap between words at least this long is a pause worth cutting at."""


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: float
    end: float
    word: Word | None


def split_cues(segments: Iterable[Segment], settings: CueSettings) -> Iterator[Segment]:
    """Each of ``segments`` as it is if it fits ``settings``, else cut into pieces that do."""
    for segment in segments:
        if _fits(segment.text.strip(), segment.end - segment.start, settings):
            yield segment
        else:
            yield from _split(segment, settings)


def _fits(text: str, duration: float, settings: CueSettings) -> bool:
    return len(text) <= settings.max_chars and duration <= settings.max_s


def _split(segment: Segment, settings: CueSettings) -> Iterator[Segment]:
    tokens = _tokens(segment)
    start = 0
    while start < len(tokens):
        end = _cue_end(tokens, start, settings)
        part = tokens[start:end]
        words = tuple(t.word for t in part if t.word is not None)
        yield dataclasses.replace(
            segment,
            start=round(part[0].start, 3),
            end=round(part[-1].end, 3),
            text=" ".join(t.text for t in part),
            words=words if len(words) == len(part) else (),
            tokens=(),
        )
        start = end


def _tokens(segment: Segment) -> list[_Token]:
    """The segment's words with times: the engine's where they match the text, else interpolated."""
    texts = segment.text.split()
    words = segment.words
    if len(words) == len(texts) and all(w.word.strip() == t for w, t in zip(words, texts, strict=True)):
        return [_Token(t, w.start, w.end, w) for t, w in zip(texts, words, strict=True)]
    total = max(1, sum(len(t) + 1 for t in texts) - 1)  # characters, single spaces between words
    span = max(0.0, segment.end - segment.start)
    tokens: list[_Token] = []
    position = 0
    for text in texts:
        begin, end = (segment.start + span * at / total for at in (position, position + len(text)))
        tokens.append(_Token(text, begin, end, None))
        position += len(text) + 1
    return tokens


def _cue_end(tokens: Sequence[_Token], start: int, settings: CueSettings) -> int:
    """Index after the last token of the cue that begins at ``start`` (at least one token)."""
    end = start + 1
    chars = len(tokens[start].text)
    while end < len(tokens):
        chars += 1 + len(tokens[end].text)
        if chars > settings.max_chars or tokens[end].end - tokens[start].start > settings.max_s:
            break
        end += 1
    if end == len(tokens):
        return end
    return _pause_cut(tokens, start, end) or end


def _pause_cut(tokens: Sequence[_Token], start: int, end: int) -> int | None:
    """After the longest pause in the second half of ``tokens[start:end]``, if there is one."""
    half = start + max(1, (end - start + 1) // 2)
    best, best_gap = None, MIN_PAUSE_S
    for index in range(half, end):
        gap = tokens[index].start - tokens[index - 1].end
        if gap >= best_gap:
            best, best_gap = index, gap
    return best


def wrap_lines(text: str, settings: CueSettings) -> str:
    """``text`` broken between words into as few lines as the width allows (at most ``settings.lines``),
    of about equal length."""
    words = text.split()
    if len(text) <= settings.line_chars or len(words) < 2:
        return text
    count = min(settings.lines, -(-len(text) // settings.line_chars), len(words))
    target = -(-len(text) // count)
    lines: list[list[str]] = [[]]
    for word in words:
        longer = len(" ".join([*lines[-1], word]))
        if lines[-1] and longer > target and len(lines) < count:
            lines.append([])
        lines[-1].append(word)
    return "\n".join(" ".join(line) for line in lines)
