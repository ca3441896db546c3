"""Spelling variants of a hypothesis, from the words a language model knows.

Most of a Hindi Whisper model's word errors are near misses: one or two letters off (पशुपालको for
पशुपालकों, रबाना for रवाना) or two words run together (शुरूकर). Such a word is usually one the language
model has never seen, while the right word is in its vocabulary, one or two edits away. The beam never
proposes the right spelling, so n-best rescoring cannot pick it.

:class:`LexiconCorrector` proposes it. For every word of a hypothesis that the LM does not know, the
candidates are the LM's words within ``max_distance`` edits (Levenshtein over code points, found with
rapidfuzz) and every split into two known words. A beam search over the sentence scores each choice by

    ln p_LM(word | two previous words) - distance_cost * edits

(keeping an unknown word that has replacements costs its low LM probability plus ``unknown_cost``) and
returns the best few sentences that differ from the input. Which of them, if any, replaces the hypothesis
is decided elsewhere, with the acoustic model's say (:mod:`awaaz.engines.expansion`): this module knows
only text.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from awaaz.config import LexiconSettings
from awaaz.lm.ngram import BOS, EOS, NgramLM

LN10 = math.log(10.0)
SPLIT_EDITS = 1.0
"""A split into two known words costs as much as one edit."""


@dataclass(frozen=True, slots=True)
class Variant:
    """Replacements by word position (a word, or two joined by a space), and their total edit cost."""

    replacements: dict[int, str]
    edits: float


@dataclass(frozen=True, slots=True)
class _Partial:
    score: float
    history: tuple[int, ...]
    replaced: tuple[tuple[int, str], ...]
    edits: float = 0.0


class LexiconCorrector:
    """Proposes spelling variants of word sequences; see the module docstring. Thread-safe."""

    CACHE_LIMIT = 50_000

    def __init__(self, lm: NgramLM, settings: LexiconSettings | None = None) -> None:
        self.lm = lm
        self.settings = settings or LexiconSettings()
        self._words = lm.words()
        self._cache: dict[str, tuple[tuple[str, float], ...]] = {}
        self._lock = threading.Lock()

    def replacements(self, word: str) -> tuple[tuple[str, float], ...]:
        """Known words (or two known words joined by a space) near ``word``, with their edit costs."""
        with self._lock:
            cached = self._cache.get(word)
        if cached is not None:
            return cached
        limit = 1 if len(word) <= 3 else self.settings.max_distance
        found = process.extract(
            word, self._words, scorer=Levenshtein.distance, score_cutoff=limit, limit=self.settings.neighbours
        )
        out = [(candidate, float(edits)) for candidate, edits, _ in found if candidate != word]
        for cut in range(2, len(word) - 1):
            left, right = word[:cut], word[cut:]
            if self.lm.knows(left) and self.lm.knows(right):
                out.append((f"{left} {right}", SPLIT_EDITS))
        result = tuple(out)
        with self._lock:
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = result
        return result

    def variants(
        self, words: Sequence[str], editable: Collection[int] | None = None, limit: int | None = None
    ) -> list[Variant]:
        """Up to ``limit`` (default: the settings') best variants of ``words``, best first.

        ``words`` are normalised single words (:func:`awaaz.text.normalize.normalize_hindi`); only the
        positions in ``editable`` (default: all) may change. The unchanged sentence is never returned.
        """
        limit = self.settings.variants if limit is None else limit
        if limit <= 0 or not words:
            return []
        lm = self.lm
        beam = [_Partial(0.0, (lm.word_id(BOS),), ())]
        for index, word in enumerate(words):
            options: list[tuple[str, float]] = [(word, 0.0)]
            keep_cost = 0.0
            if not lm.knows(word) and (editable is None or index in editable):
                options.extend(self.replacements(word))
                keep_cost = self.settings.unknown_cost if len(options) > 1 else 0.0
            grown = []
            for partial in beam:
                for option, edits in options:
                    cost = self.settings.distance_cost * edits if option != word else keep_cost
                    score, history = partial.score - cost, partial.history
                    for part in option.split(" "):
                        wid = lm.word_id(part)
                        score += LN10 * lm.next_log10(history, wid)
                        history = (*history[-(lm.order - 1) :], wid) if lm.order > 1 else ()
                    if option == word:
                        grown.append(_Partial(score, history, partial.replaced, partial.edits))
                    else:
                        replaced = (*partial.replaced, (index, option))
                        grown.append(_Partial(score, history, replaced, partial.edits + edits))
            grown.sort(key=lambda p: -p.score)
            beam = grown[: self.settings.beam]
        eos = lm.word_id(EOS)
        ranked = sorted(beam, key=lambda p: -(p.score + LN10 * lm.next_log10(p.history, eos)))
        return [Variant(dict(p.replaced), p.edits) for p in ranked if p.replaced][:limit]
