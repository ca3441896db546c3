"""Greedy CTC decoding and word grouping on hand-written log-probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from awaaz.engines.ctc import greedy_decode, group_words, log_softmax, tokens_to_text

VOCAB = ["▁राम", "▁घर", "▁जा", "ता", "▁है"]
BLANK = 5


def _frames(best: list[int], labels: int = 6) -> np.ndarray:
    logits = np.full((len(best), labels), -5.0, dtype=np.float32)
    logits[np.arange(len(best)), best] = 5.0
    return log_softmax(logits)


def test_repeats_merge_and_blanks_drop_with_frame_spans() -> None:
    tokens = greedy_decode(_frames([5, 0, 0, 5, 1, 1, 1, 5, 5, 2, 3, 3, 5, 4, 4]), VOCAB, BLANK)
    assert [t.id for t in tokens] == [0, 1, 2, 3, 4]
    assert [(t.start_frame, t.end_frame) for t in tokens] == [(1, 3), (4, 7), (9, 10), (10, 12), (13, 15)]
    assert tokens_to_text(tokens) == "राम घर जाता है"


def test_a_blank_between_equal_labels_keeps_both() -> None:
    tokens = greedy_decode(_frames([3, 5, 3]), VOCAB, BLANK)
    assert [t.id for t in tokens] == [3, 3]


def test_words_join_pieces_and_keep_spans() -> None:
    words = group_words(greedy_decode(_frames([0, 5, 2, 2, 3, 5, 4]), VOCAB, BLANK))
    assert [(w.text, w.start_frame, w.end_frame) for w in words] == [
        ("राम", 0, 1),
        ("जाता", 2, 5),
        ("है", 6, 7),
    ]
    assert all(w.logprob <= 0 for w in words)


def test_all_blank_is_empty() -> None:
    assert greedy_decode(_frames([5, 5, 5]), VOCAB, BLANK) == []
    assert greedy_decode(np.zeros((0, 6), dtype=np.float32), VOCAB, BLANK) == []


def test_log_softmax_is_idempotent() -> None:
    x = np.random.default_rng(0).standard_normal((4, 7)).astype(np.float32)
    once = log_softmax(x)
    np.testing.assert_allclose(log_softmax(once), once, atol=1e-6)
    np.testing.assert_allclose(np.exp(once).sum(axis=-1), 1.0, atol=1e-5)


def test_wrong_rank_is_refused() -> None:
    with pytest.raises(ValueError, match="frames, labels"):
        greedy_decode(np.zeros((1, 2, 3), dtype=np.float32), VOCAB, BLANK)
