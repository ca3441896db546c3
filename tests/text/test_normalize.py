"""The Hindi scoring normaliser on tricky Devanagari."""

from __future__ import annotations

import unicodedata

import pytest

from awaaz.text.normalize import NORMALIZER_ID, normalize_hindi

# Written with escapes so that no editor or tool can silently recompose them.
JA_NUKTA_PRECOMPOSED = "\u095b"  # ज़ as one code point (a composition exclusion)
JA_NUKTA_DECOMPOSED = "\u091c\u093c"  # ज + ़
NNNA_PRECOMPOSED = "\u0929"  # ऩ, which NFC does compose


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        (JA_NUKTA_PRECOMPOSED + "रा", "जरा"),
        (JA_NUKTA_DECOMPOSED + "रा", "जरा"),
        ("बाड़मेर", "बाडमेर"),
        ("\u095e\u094b\u0928", "फोन"),  # फ़ोन, precomposed फ़
        ("\u0958\u0924\u094d\u0932", "कत्ल"),  # क़त्ल
        (NNNA_PRECOMPOSED, "न"),
        ("\u095f", "य"),  # य़
    ],
)
def test_nukta_letters_map_to_their_base_letter(variant: str, canonical: str) -> None:
    assert normalize_hindi(variant) == canonical


def test_precomposed_and_decomposed_nukta_spellings_are_equal() -> None:
    assert normalize_hindi(JA_NUKTA_PRECOMPOSED + "रा") == normalize_hindi(JA_NUKTA_DECOMPOSED + "रा")
    assert normalize_hindi("ज़रा") == normalize_hindi("जरा")


@pytest.mark.parametrize(("variant", "canonical"), [("गाँव", "गांव"), ("हूँ", "हूं"), ("\u0900", "\u0902")])
def test_candrabindu_becomes_anusvara(variant: str, canonical: str) -> None:
    assert normalize_hindi(variant) == canonical


def test_danda_double_danda_and_ascii_punctuation_are_removed() -> None:
    assert normalize_hindi("राम घर गया। सीता आई॥") == "राम घर गया सीता आई"
    assert normalize_hindi('"क्या?" उसने कहा, (धीरे से)!') == "क्या उसने कहा धीरे से"
    assert normalize_hindi("“नमस्ते” — ‘जी’… ॰") == "नमस्ते जी"


def test_a_hyphen_separates_words() -> None:
    assert normalize_hindi("चाय-वाय अपने-अपने") == "चाय वाय अपने अपने"


def test_punctuation_glued_to_words_leaves_the_words_apart() -> None:
    assert normalize_hindi("है।वह") == "है वह"


def test_zero_width_characters_are_removed() -> None:
    # क्‍ष with a zero-width joiner after the virama, and a word with a ZWNJ, a ZWSP and a BOM.
    assert normalize_hindi("क्\u200dष") == "क्ष"
    assert normalize_hindi("\ufeffहिं\u200cदी\u200b") == "हिंदी"


def test_devanagari_digits_become_ascii() -> None:
    assert normalize_hindi("कोविड १९ और धारा ११८") == "कोविड 19 और धारा 118"


def test_whitespace_is_collapsed_and_trimmed() -> None:
    assert normalize_hindi("  राम\t\tघर \n गया  ") == "राम घर गया"
    assert normalize_hindi(" । । । ") == ""
    assert normalize_hindi("") == ""


def test_latin_letters_are_case_folded() -> None:
    assert normalize_hindi("COVID Vaccine") == "covid vaccine"


def test_output_is_nfc() -> None:
    text = normalize_hindi("क़िला ऩ ज़माना डॉक्टर")
    assert unicodedata.is_normalized("NFC", text)
    assert "\u093c" not in text


def test_meaningful_marks_are_kept() -> None:
    # Chandra O, visarga, virama and anusvara are real spelling, not noise.
    assert normalize_hindi("डॉक्टर दुःख संगीत") == "डॉक्टर दुःख संगीत"
    assert normalize_hindi("कि") != normalize_hindi("की")


def test_is_idempotent() -> None:
    text = "“ज़रा गाँव चलो,” उसने कहा। १२ बजे॥"
    once = normalize_hindi(text)
    assert normalize_hindi(once) == once == "जरा गांव चलो उसने कहा 12 बजे"


def test_has_a_versioned_name() -> None:
    assert NORMALIZER_ID.startswith("awaaz-hindi-v")
