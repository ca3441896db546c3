"""Word and character error rates over normalised Hindi, per utterance and for a whole corpus.

Both sides go through :func:`~awaaz.text.normalize.normalize_hindi` and are then aligned with jiwer.
Corpus rates are micro-averages: the sum of every utterance's errors over the sum of every reference's
length, not the mean of the per-utterance rates (which would let a short clip weigh as much as a long one).
CER counts Unicode code points of the normalised text, single spaces between words included, so a vowel
sign (matra) is one character.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jiwer

from awaaz.text.normalize import normalize_hindi


@dataclass(frozen=True, slots=True)
class ErrorCounts:
    """An alignment's edit counts: substitutions, deletions, insertions and hits."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    hits: int = 0

    @property
    def errors(self) -> int:
        """Substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def reference_length(self) -> int:
        """Number of reference units (words or characters) the alignment covered."""
        return self.substitutions + self.deletions + self.hits

    @property
    def rate(self) -> float:
        """Errors per reference unit. An empty reference scores 0.0 against an empty hypothesis, else 1.0."""
        if self.reference_length == 0:
            return 0.0 if self.errors == 0 else 1.0
        return self.errors / self.reference_length

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        return ErrorCounts(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.hits + other.hits,
        )


def word_errors(reference: str, hypothesis: str) -> ErrorCounts:
    """Word-level edit counts between two already normalised strings."""
    if not reference and not hypothesis:
        return ErrorCounts()
    if not reference:
        return ErrorCounts(insertions=len(hypothesis.split()))
    out = jiwer.process_words(reference, hypothesis)
    return ErrorCounts(out.substitutions, out.deletions, out.insertions, out.hits)


def char_errors(reference: str, hypothesis: str) -> ErrorCounts:
    """Character-level (code point) edit counts between two already normalised strings."""
    if not reference and not hypothesis:
        return ErrorCounts()
    if not reference:
        return ErrorCounts(insertions=len(hypothesis))
    out = jiwer.process_characters(reference, hypothesis)
    return ErrorCounts(out.substitutions, out.deletions, out.insertions, out.hits)


@dataclass(frozen=True, slots=True)
class UtteranceScore:
    """The score of one hypothesis against its reference, with both normalised texts."""

    reference: str
    hypothesis: str
    words: ErrorCounts
    chars: ErrorCounts

    @property
    def wer(self) -> float:
        """Word error rate of this utterance."""
        return self.words.rate

    @property
    def cer(self) -> float:
        """Character error rate of this utterance."""
        return self.chars.rate


def score_utterance(
    reference: str, hypothesis: str, normalize: Callable[[str], str] = normalize_hindi
) -> UtteranceScore:
    """Normalise both texts and count word and character errors."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    return UtteranceScore(ref, hyp, word_errors(ref, hyp), char_errors(ref, hyp))


@dataclass(frozen=True, slots=True)
class CorpusScore:
    """Summed edit counts over many utterances."""

    words: ErrorCounts
    chars: ErrorCounts
    utterances: int

    @property
    def wer(self) -> float:
        """Corpus word error rate: all word errors over all reference words."""
        return self.words.rate

    @property
    def cer(self) -> float:
        """Corpus character error rate: all character errors over all reference characters."""
        return self.chars.rate


def score_corpus(scores: Iterable[UtteranceScore]) -> CorpusScore:
    """Sum the counts of many scored utterances into corpus-level WER and CER."""
    words, chars, n = ErrorCounts(), ErrorCounts(), 0
    for score in scores:
        words += score.words
        chars += score.chars
        n += 1
    return CorpusScore(words, chars, n)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of one hypothesis after Hindi normalisation."""
    return score_utterance(reference, hypothesis).wer


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of one hypothesis after Hindi normalisation."""
    return score_utterance(reference, hypothesis).cer
