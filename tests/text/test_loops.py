"""The post-hoc collapser of decoder repetition loops."""

from __future__ import annotations

import pytest

from awaaz.text.loops import collapse_loops, collapse_subword_loops, collapse_word_loops


def test_danda_loop_collapses_to_one() -> None:
    assert collapse_loops("मैं " + "। " * 60) == "मैं ।"


def test_comma_loop_collapses_to_one() -> None:
    assert collapse_loops(", " * 40 + "ठीक है") == ", ठीक है"


def test_loop_inside_one_word_collapses() -> None:
    assert collapse_loops("वालि" * 50) == "वालि"
    assert collapse_loops("कहा " + "वालि" * 10 + " गया") == "कहा वालि गया"


def test_phrase_loop_collapses() -> None:
    text = "आज की खबर " + "देश में बारिश " * 5 + "बस"
    assert collapse_loops(text) == "आज की खबर देश में बारिश बस"


def test_loop_of_loops_collapses_fully() -> None:
    assert collapse_word_loops(list("aaabaaabaaab")) == ["a", "b"]


def test_two_repeats_are_left_alone() -> None:
    assert collapse_loops("बहुत बहुत धन्यवाद") == "बहुत बहुत धन्यवाद"
    assert collapse_loops("धीरे धीरे चलो, धीरे धीरे") == "धीरे धीरे चलो, धीरे धीरे"
    assert collapse_subword_loops("कलकल") == "कलकल"


def test_ordinary_sentence_is_unchanged() -> None:
    text = "उस चिड़िया का क्या नाम है जो इतना ऊँचा बड़ी शान से उड़ रही है"
    assert collapse_loops(text) == text


def test_digits_inside_a_number_are_not_collapsed() -> None:
    assert collapse_loops("1000000 रुपये") == "1000000 रुपये"


def test_min_repeats_is_configurable() -> None:
    assert collapse_loops("हाँ हाँ", min_repeats=2) == "हाँ"
    assert collapse_loops("हाँ हाँ हाँ", min_repeats=4) == "हाँ हाँ हाँ"


def test_ngram_longer_than_max_is_kept() -> None:
    phrase = "एक दो तीन चार"
    assert collapse_loops(" ".join([phrase] * 3), max_ngram=3) == " ".join([phrase] * 3)
    assert collapse_loops(" ".join([phrase] * 3), max_ngram=4) == phrase


def test_min_repeats_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="min_repeats"):
        collapse_loops("क", min_repeats=1)


def test_empty_text() -> None:
    assert collapse_loops("") == ""
    assert collapse_loops("   ") == ""
