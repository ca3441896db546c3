"""Corpus WER/CER for checkpoint selection: the very scoring of ``awaaz eval`` (:mod:`awaaz.text.metrics`)."""

from __future__ import annotations

from collections.abc import Sequence

from awaaz.text.metrics import score_corpus, score_utterance


def corpus_error_rates(references: Sequence[str], hypotheses: Sequence[str]) -> tuple[float, float]:
    """(WER, CER) over the whole corpus, both sides through the Hindi normaliser, as ``awaaz eval`` scores."""
    corpus = score_corpus(score_utterance(r, h) for r, h in zip(references, hypotheses, strict=True))
    if corpus.words.reference_length == 0:
        raise ValueError("No non-empty references to score.")
    return corpus.wer, corpus.cer
