"""Lexicon variants: unknown words become nearby known words, in context; known words never change."""

from __future__ import annotations

import pytest

from awaaz.config import LexiconSettings
from awaaz.lm.lexicon import LexiconCorrector
from awaaz.lm.ngram import NgramLM, build, sentences_from

CORPUS = [
    "राम घर जाता है",
    "सीता घर जाती है",
    "राम स्कूल जाता है",
    "मोहन बाजार जाता है",
    "सीता स्कूल जाती है",
    "आज मौसम अच्छा है",
]


@pytest.fixture(scope="module")
def corrector() -> LexiconCorrector:
    lm: NgramLM = build(sentences_from(CORPUS * 2), order=3)
    return LexiconCorrector(lm, LexiconSettings(variants=3))


def test_a_misspelt_unknown_word_becomes_the_known_word_one_edit_away(corrector: LexiconCorrector) -> None:
    variants = corrector.variants(["राम", "घार", "जाता", "है"])
    assert variants[0].replacements == {1: "घर"}
    assert variants[0].edits == 1.0


def test_context_picks_between_equally_near_words() -> None:
    # जाते is one edit from both जाता and जाती: after राम the LM has only seen जाता, after सीता only जाती.
    lm = build(sentences_from(["राम घर जाता है", "सीता घर जाती है"] * 5), order=3)
    corrector = LexiconCorrector(lm)
    assert corrector.variants(["राम", "घर", "जाते", "है"])[0].replacements == {2: "जाता"}
    assert corrector.variants(["सीता", "घर", "जाते", "है"])[0].replacements == {2: "जाती"}


def test_two_words_run_together_are_split(corrector: LexiconCorrector) -> None:
    variants = corrector.variants(["राम", "स्कूलजाता", "है"])
    assert {1: "स्कूल जाता"} in [v.replacements for v in variants]


def test_known_words_and_protected_positions_never_change(corrector: LexiconCorrector) -> None:
    assert corrector.variants(["राम", "घर", "जाता", "है"]) == []
    assert corrector.variants(["राम", "घार", "जाता", "है"], editable={0, 2}) == []
    assert corrector.variants(["राम", "घार", "जाता", "है"], limit=0) == []
    assert corrector.variants([]) == []


def test_a_word_far_from_every_known_word_has_no_replacement(corrector: LexiconCorrector) -> None:
    assert corrector.replacements("कंप्यूटरीकरण") == ()
    assert corrector.variants(["राम", "कंप्यूटरीकरण"]) == []


def test_short_words_may_be_one_edit_off_at_most(corrector: LexiconCorrector) -> None:
    assert all(edits <= 1 for _, edits in corrector.replacements("घल"))
    assert "घर" in dict(corrector.replacements("घल"))


def test_keeping_an_unknown_word_costs_extra_so_variants_fix_them_all(corrector: LexiconCorrector) -> None:
    words = ["आज", "मोसम", "अच्छ", "है"]
    lm = corrector.lm
    free = LexiconCorrector(lm, LexiconSettings(variants=3, unknown_cost=0.0)).variants(words)
    costly = LexiconCorrector(lm, LexiconSettings(variants=3, unknown_cost=20.0)).variants(words)
    assert free[0].replacements == costly[0].replacements == {1: "मौसम", 2: "अच्छा"}
    assert [len(v.replacements) for v in free] == [2, 1, 1]  # the runners-up keep one unknown word
    assert [len(v.replacements) for v in costly] == [2, 2, 1]
