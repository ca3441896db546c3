"""The Hindi normaliser applied to references and hypotheses before scoring.

Hindi transcripts spell the same speech in several ways (ज़रा / जरा, गाँव / गांव, १९ / 19) and differ in
punctuation that nobody says aloud. Scoring the raw strings would count those as recognition errors, so
both sides of every comparison go through :func:`normalize_hindi` first. It is version
:data:`NORMALIZER_ID`; reports name it so that numbers from different normalisers are never compared.

The steps, in order:

1. Unicode NFD, so every nukta letter is a base letter followed by U+093C NUKTA, whatever its input form
   (precomposed क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़ ऩ ऱ ऴ, or already decomposed).
2. Drop the nukta: ज़रा == जरा, बाड़मेर == बाडमेर, फ़ोन == फोन.
3. Candrabindu U+0901 (and the rare inverted candrabindu U+0900) becomes anusvara U+0902: गाँव == गांव,
   हूँ == हूं.
4. Devanagari digits ० .. ९ become ASCII 0 .. 9 (१९ == 19). Numbers written as words stay words.
5. Format characters (Unicode category Cf: zero-width joiner and non-joiner, zero-width space, BOM, soft
   hyphen) are removed; they change rendering, not the words.
6. Punctuation and symbols (Unicode categories P and S: danda ।, double danda ॥, the abbreviation sign ॰,
   ASCII and curly quotes, dashes, ``. , ? ! : ; ( ) -`` ...) become spaces, so ``अपने-अपने`` is two words.
7. Unicode NFC, Latin letters case-folded, and every run of whitespace collapsed to one space, with no space
   at either end.

Left alone on purpose: the chandra vowel signs (ऑ, ॅ), visarga, avagraha, and spelling variants such as
कि / की or schwa-deleted forms; those are real differences a listener could hear or a reader would flag.
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZER_ID = "awaaz-hindi-v1"
"""Name and version of :func:`normalize_hindi`; bump it whenever its output changes."""

NUKTA = "\u093c"
CANDRABINDU = "\u0901"
INVERTED_CANDRABINDU = "\u0900"
ANUSVARA = "\u0902"

_DIGITS = {ord("०") + i: str(i) for i in range(10)}
_CHAR_MAP: dict[int, str | None] = {
    ord(NUKTA): None,
    ord(CANDRABINDU): ANUSVARA,
    ord(INVERTED_CANDRABINDU): ANUSVARA,
    **_DIGITS,
}
_SPACES = re.compile(r"\s+")


def _blank_punctuation(text: str) -> str:
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        out.append(" " if category[0] in "PS" else ch)
    return "".join(out)


def normalize_hindi(text: str) -> str:
    """Return ``text`` in the canonical form used for WER and CER (see the module docstring for the steps).

    >>> normalize_hindi("ज़रा गाँव चलो।")
    'जरा गांव चलो'
    """
    text = unicodedata.normalize("NFD", text).translate(_CHAR_MAP)
    text = _blank_punctuation(text)
    text = unicodedata.normalize("NFC", text).casefold()
    return _SPACES.sub(" ", text).strip()
