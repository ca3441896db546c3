"""The Kneser-Ney n-gram model: a proper distribution, sensible preferences, files that round-trip."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pytest

from awaaz.lm.ngram import BOS, UNK, LanguageModelError, NgramLM, build, sentences_from

CORPUS = [
    "राम घर जाता है",
    "सीता घर जाती है",
    "राम स्कूल जाता है",
    "मोहन बाज़ार जाता है",
    "सीता स्कूल जाती है।",
    "राम और सीता घर जाते हैं",
    "आज मौसम अच्छा है",
    "आज राम घर नहीं जाता है",
    "सीता स्कूल जाती है",
    "सीता रोज़ स्कूल जाती है",
]


@pytest.fixture(scope="module")
def lm() -> NgramLM:
    return build(sentences_from(CORPUS), order=3, source="test")


@pytest.mark.parametrize("history", [[], ["राम"], ["<s>"], ["राम", "घर"], ["सीता", "स्कूल"], ["अनजान", "घर"]])
def test_next_word_probabilities_sum_to_one(lm: NgramLM, history: list[str]) -> None:
    ids = [lm._ids.get(w, lm._ids[UNK]) for w in history]
    total = sum(10 ** lm._word_log10(ids, w) for w in range(len(lm.vocabulary)) if lm.vocabulary[w] != BOS)
    assert total == pytest.approx(1.0, abs=1e-4)


def test_a_fluent_sentence_outscores_a_scrambled_or_misspelt_one(lm: NgramLM) -> None:
    assert lm.score("राम घर जाता है") > lm.score("है जाता घर राम")
    assert lm.score("सीता स्कूल जाती है") > lm.score("सीता स्कूल जाता है")
    assert lm.score("राम घर जाता है") > lm.score("राम घार जाता है")  # an unknown word costs a lot


def test_scoring_normalises_like_wer(lm: NgramLM) -> None:
    assert lm.score("मोहन बाजार जाता है।") == lm.score("मोहन बाज़ार जाता है")
    assert lm.score("") == pytest.approx(lm._word_log10([lm._ids[BOS]], lm._ids["</s>"]))


def test_save_and_load_give_the_same_scores(lm: NgramLM, tmp_path: Path) -> None:
    path = tmp_path / "lm.npz"
    lm.save(path)
    loaded = NgramLM.load(path)
    assert loaded.counts() == lm.counts()
    assert loaded.source == "test"
    for sentence in [*CORPUS, "कुछ नया वाक्य", "राम राम राम"]:
        assert loaded.score(sentence) == pytest.approx(lm.score(sentence))


def test_arpa_file_lists_every_ngram(lm: NgramLM, tmp_path: Path) -> None:
    path = tmp_path / "lm.arpa.gz"
    lm.write_arpa(path)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    for n, count in enumerate(lm.counts(), start=1):
        assert f"ngram {n}={count}" in text
    assert "\tराम घर जाता" in text
    assert text.rstrip().endswith("\\end\\")


def test_perplexity_is_lower_on_training_text_than_on_shuffled_text(lm: NgramLM) -> None:
    shuffled = [" ".join(reversed(s.split())) for s in CORPUS]
    assert lm.perplexity(CORPUS) < lm.perplexity(shuffled)
    assert math.isfinite(lm.perplexity(CORPUS))


def test_damaged_or_foreign_files_are_refused_with_a_fix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(LanguageModelError, match="awaaz lm build"):
        NgramLM.load(bad)
    with pytest.raises(LanguageModelError, match="awaaz lm build"):
        NgramLM.load(tmp_path / "missing.npz")
