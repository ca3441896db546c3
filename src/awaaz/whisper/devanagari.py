"""Token suppression that keeps Whisper's Hindi output in Devanagari.

The multilingual Whisper vocabulary is byte-level BPE. A token is kept when its bytes are, or may be part of,
Devanagari text, digits, punctuation or spaces; every token carrying a letter of another script (Latin,
Arabic/Urdu, ...) is suppressed, so the decoder cannot answer in the wrong script.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from awaaz.text.script import is_allowed_in_hindi


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's bytes-to-unicode table used by Whisper's tokenizer."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


def token_bytes(token: str) -> bytes | None:
    """The raw bytes of a byte-level BPE token string, or None for a special token."""
    decoder = _byte_decoder()
    try:
        return bytes(decoder[ch] for ch in token)
    except KeyError:
        return None


def _partial_utf8_ok(data: bytes) -> bool:
    """For bytes that are not complete UTF-8: may they be a piece of Devanagari text?

    Devanagari is U+0900..U+097F, encoded E0 A4 80..E0 A5 BF. A piece may hold continuation bytes
    (80..BF), the lead byte E0 (only followed by A4/A5), and ASCII that is not a letter.
    """
    for i, b in enumerate(data):
        if b < 0x80:
            if not is_allowed_in_hindi(chr(b)):
                return False
        elif b == 0xE0:
            if i + 1 < len(data) and data[i + 1] not in (0xA4, 0xA5):
                return False
        elif not 0x80 <= b <= 0xBF:
            return False
    return True


def is_hindi_token(data: bytes) -> bool:
    """True when a token's bytes can appear in Devanagari Hindi output."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _partial_utf8_ok(data)
    return all(is_allowed_in_hindi(ch) for ch in text)


def non_devanagari_token_ids(vocabulary: Sequence[str], first_special_id: int) -> list[int]:
    """Ids of ordinary tokens (below ``first_special_id``) that would put a foreign letter in the output."""
    suppressed = []
    for token_id, token in enumerate(vocabulary[:first_special_id]):
        data = token_bytes(token)
        if data is not None and not is_hindi_token(data):
            suppressed.append(token_id)
    return suppressed


KEPT_PUNCTUATION = frozenset("?,")
"""Punctuation the Hindi punctuation guard still lets through (the danda is spelled with byte pieces shared
with Devanagari letters, so it cannot be suppressed and is always kept)."""


def punctuation_token_ids(
    vocabulary: Sequence[str], first_special_id: int, keep: frozenset[str] = KEPT_PUNCTUATION
) -> list[int]:
    """Ids of ordinary tokens that write punctuation or a symbol other than ``keep``.

    Only tokens that decode to whole characters are considered; byte pieces of a multi-byte character are
    never suppressed, because the same pieces spell Devanagari letters.
    """
    suppressed = []
    for token_id, token in enumerate(vocabulary[:first_special_id]):
        data = token_bytes(token)
        if data is None:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if any(unicodedata.category(ch)[0] in "PS" and ch not in keep for ch in text):
            suppressed.append(token_id)
    return suppressed
