"""WER and CER over normalised Hindi, per utterance and corpus-level."""

from __future__ import annotations

import pytest

from awaaz.text.metrics import (
    ErrorCounts,
    cer,
    char_errors,
    score_corpus,
    score_utterance,
    wer,
    word_errors,
)


def test_identical_texts_score_zero() -> None:
    assert wer("राम घर गया", "राम घर गया") == 0.0
    assert cer("राम घर गया", "राम घर गया") == 0.0


def test_spelling_variants_are_not_errors() -> None:
    assert wer("ज़रा गाँव चलो।", "जरा गांव चलो") == 0.0
    assert cer("मेरा फ़ोन खराब है।", "मेरा फोन खराब है") == 0.0


def test_word_error_counts() -> None:
    # one substitution (घर -> वन), one deletion (बहुत), one insertion (जल्दी)
    counts = word_errors("राम बहुत घर गया", "राम वन गया जल्दी")
    assert counts.errors == 3
    assert counts.reference_length == 4
    assert counts.rate == pytest.approx(0.75)


def test_character_errors_count_code_points_including_spaces() -> None:
    counts = char_errors("का", "की")  # क + ा vs क + ी: one substitution of the vowel sign
    assert (counts.substitutions, counts.deletions, counts.insertions, counts.hits) == (1, 0, 0, 1)
    assert char_errors("ab c", "ab").deletions == 2  # the space and c


def test_empty_hypothesis_is_all_deletions() -> None:
    score = score_utterance("राम घर गया", "")
    assert score.wer == 1.0
    assert score.words.deletions == 3


def test_empty_reference() -> None:
    assert score_utterance("", "").wer == 0.0
    score = score_utterance("।", "कुछ भी")
    assert score.words.insertions == 2
    assert score.wer == 1.0
    assert score.cer == 1.0


def test_hypothesis_longer_than_reference_can_exceed_one() -> None:
    assert wer("राम", "राम राम राम") == pytest.approx(2.0)


def test_utterance_score_keeps_the_normalised_texts() -> None:
    score = score_utterance("गाँव।", "गांव")
    assert score.reference == score.hypothesis == "गांव"


def test_corpus_rate_is_errors_over_reference_words_not_the_mean_of_rates() -> None:
    short = score_utterance("राम", "श्याम")  # 1 error / 1 word: WER 1.0
    long = score_utterance("एक दो तीन चार पांच छह सात आठ नौ", "एक दो तीन चार पांच छह सात आठ नौ")  # 0 / 9
    corpus = score_corpus([short, long])
    assert corpus.utterances == 2
    assert corpus.wer == pytest.approx(1 / 10)
    assert corpus.wer != pytest.approx((short.wer + long.wer) / 2)
    assert corpus.chars.reference_length == short.chars.reference_length + long.chars.reference_length


def test_empty_corpus() -> None:
    corpus = score_corpus([])
    assert corpus.utterances == 0
    assert corpus.wer == 0.0


def test_error_counts_add() -> None:
    total = ErrorCounts(1, 2, 3, 4) + ErrorCounts(10, 20, 30, 40)
    assert total == ErrorCounts(11, 22, 33, 44)
    assert total.errors == 66
    assert total.reference_length == 11 + 22 + 44
