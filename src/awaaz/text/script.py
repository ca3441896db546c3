"""Which characters belong to Hindi's Devanagari output, and which are letters of another script."""

from __future__ import annotations

import unicodedata

DEVANAGARI_RANGES = ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF))
JOINERS = {"\u200c", "\u200d"}
EXTRA_PUNCTUATION = set("\u2013\u2014\u2018\u2019\u201c\u201d\u2026")
"""Dashes, curly quotes and the ellipsis: the only punctuation outside ASCII and Devanagari we keep."""


def is_devanagari_char(ch: str) -> bool:
    """True for a code point of the Devanagari blocks."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in DEVANAGARI_RANGES)


def is_allowed_in_hindi(ch: str) -> bool:
    """True for a character a Devanagari transcript may contain.

    Devanagari (with its danda), ASCII digits, whitespace, joiners, ASCII punctuation and symbols, dashes and
    curly quotes. Letters, marks, digits and punctuation of every other script (Latin, Arabic/Urdu with its
    full stop, CJK, ...) are refused.
    """
    if is_devanagari_char(ch) or ch in JOINERS or ch in EXTRA_PUNCTUATION or ch in " \t\n":
        return True
    if ord(ch) < 0x80:
        return ch.isdigit() or unicodedata.category(ch)[0] in "PS"
    return False


def foreign_letters(text: str) -> str:
    """Return the characters of ``text`` that a Devanagari transcript should not contain."""
    return "".join(ch for ch in text if not is_allowed_in_hindi(ch))


def is_devanagari_text(text: str) -> bool:
    """True when ``text`` has at least one Devanagari letter and no letter of another script."""
    return any(is_devanagari_char(c) for c in text) and not foreign_letters(text)
