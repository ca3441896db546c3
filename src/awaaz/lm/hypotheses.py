"""Beam hypotheses scored with a word n-gram language model, and the rule that ranks them.

The combined score of a hypothesis is::

    acoustic log-probability + weight * ln p_LM(words) + word_bonus * words
        - edit_cost * lexicon edits - unknown_penalty * unknown words

:mod:`awaaz.engines.rescoring` applies it to Whisper's n-best; :mod:`awaaz.lm.tuning` searches its weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from awaaz.config import RescoringSettings
from awaaz.lm.ngram import NgramLM
from awaaz.text.normalize import normalize_hindi

LN10 = math.log(10.0)


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One beam hypothesis with its scores."""

    text: str
    acoustic: float
    lm: float
    words: int
    edits: float = 0.0
    unknown: int = 0
    """Words the LM does not know."""

    def total(self, settings: RescoringSettings) -> float:
        return (
            self.acoustic
            + settings.weight * self.lm
            + settings.word_bonus * self.words
            - settings.edit_cost * self.edits
            - settings.unknown_penalty * self.unknown
        )


def scored_hypothesis(lm: NgramLM, text: str, acoustic: float, edits: float = 0.0) -> Hypothesis:
    """``text`` with its LM score, word count and unknown words (normalised as the LM reads them)."""
    words = normalize_hindi(text).split()
    unknown = sum(not lm.knows(w) for w in words)
    return Hypothesis(text, acoustic, LN10 * lm.score_words(words), len(text.split()), edits, unknown)


def best_hypothesis(hyps: Sequence[Hypothesis], settings: RescoringSettings) -> int:
    """Index of the hypothesis with the best combined score, among those with words when any has words.

    An empty hypothesis is the beam's "nothing was said"; the LM, which has never seen most rare words,
    can rate silence above a sentence full of them, so it may only win when every hypothesis is empty.
    """
    candidates = [i for i, h in enumerate(hyps) if h.words > 0] or list(range(len(hyps)))
    return max(candidates, key=lambda i: (hyps[i].total(settings), -i))
