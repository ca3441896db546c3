"""Collapse the repetition loops a decoder falls into ("। । । । ...", "वालिवालिवालि...").

When Whisper loses track of the audio it may repeat one word, phrase or syllable until it runs out of
tokens. :func:`collapse_loops` keeps one copy of every run of an n-gram that repeats back to back at least
``min_repeats`` times, both at the level of whitespace-separated words and inside a single word. A phrase
said twice ("बहुत बहुत धन्यवाद") is left alone; digits are never collapsed inside a number (1000).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

DEFAULT_MIN_REPEATS = 3
DEFAULT_MAX_NGRAM = 8
MAX_SUBWORD_UNIT = 24
"""Longest repeated piece, in code points, looked for inside one word."""


def _subword_pattern(min_repeats: int) -> re.Pattern[str]:
    # A unit of 2+ non-space, non-digit code points followed by min_repeats - 1 more copies of itself.
    return re.compile(rf"([^\s\d]{{2,{MAX_SUBWORD_UNIT}}}?)\1{{{min_repeats - 1},}}")


def _loop_at(tokens: Sequence[str], i: int, min_repeats: int, max_ngram: int) -> tuple[int, int] | None:
    """The shortest n-gram starting at ``i`` that repeats >= ``min_repeats`` times: (n, copies), or None."""
    for n in range(1, min(max_ngram, (len(tokens) - i) // min_repeats) + 1):
        unit = tokens[i : i + n]
        copies = 1
        while tokens[i + copies * n : i + (copies + 1) * n] == unit:
            copies += 1
        if copies >= min_repeats:
            return n, copies
    return None


def _collapse_once(tokens: Sequence[str], min_repeats: int, max_ngram: int) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        loop = _loop_at(tokens, i, min_repeats, max_ngram)
        if loop is None:
            out.append(tokens[i])
            i += 1
        else:
            n, copies = loop
            out.extend(tokens[i : i + n])
            i += n * copies
    return out


def collapse_word_loops(
    words: Sequence[str], *, min_repeats: int = DEFAULT_MIN_REPEATS, max_ngram: int = DEFAULT_MAX_NGRAM
) -> list[str]:
    """Replace each run of >= ``min_repeats`` back-to-back copies of an n-gram (n <= ``max_ngram``) by one.

    Shorter n-grams are tried first, and the pass repeats until nothing changes, so a loop of loops
    (``a a a b a a a b a a a b``) ends as ``a b``.
    """
    if min_repeats < 2:
        raise ValueError("min_repeats must be at least 2")
    current = list(words)
    while True:
        collapsed = _collapse_once(current, min_repeats, max_ngram)
        if collapsed == current:
            return collapsed
        current = collapsed


def collapse_subword_loops(word: str, *, min_repeats: int = DEFAULT_MIN_REPEATS) -> str:
    """Inside one word, replace a piece of 2+ letters repeated >= ``min_repeats`` times by one copy."""
    if min_repeats < 2:
        raise ValueError("min_repeats must be at least 2")
    pattern = _subword_pattern(min_repeats)
    previous = None
    while previous != word:
        previous, word = word, pattern.sub(r"\1", word)
    return word


def collapse_loops(
    text: str, *, min_repeats: int = DEFAULT_MIN_REPEATS, max_ngram: int = DEFAULT_MAX_NGRAM
) -> str:
    """Collapse repetition loops in ``text``, inside words and across words; whitespace becomes single spaces.

    >>> collapse_loops("नमस्ते । । । । दोस्तों")
    'नमस्ते । दोस्तों'
    >>> collapse_loops("वालिवालिवालिवालि")
    'वालि'
    """
    words = [collapse_subword_loops(w, min_repeats=min_repeats) for w in text.split()]
    return " ".join(collapse_word_loops(words, min_repeats=min_repeats, max_ngram=max_ngram))
