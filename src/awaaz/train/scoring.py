"""Corpus WER/CER for checkpoint selection, over the project's Hindi normaliser."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

import jiwer


def _fallback_normalize(text: str) -> str:
    text = unicodedata.normalize("NFD", text).replace("\u093c", "").replace("\u0901", "\u0902")
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


def _normalizer() -> Callable[[str], str]:
    try:
        from awaaz.text.normalize import normalize_hindi
    except ImportError:  # the shared normaliser is optional for this package
        return _fallback_normalize
    return normalize_hindi


def corpus_error_rates(references: Sequence[str], hypotheses: Sequence[str]) -> tuple[float, float]:
    """(WER, CER) over the whole corpus, both sides normalised; empty normalised references are skipped."""
    normalize = _normalizer()
    pairs = [(normalize(r), normalize(h)) for r, h in zip(references, hypotheses, strict=True)]
    pairs = [(r, h) for r, h in pairs if r]
    if not pairs:
        raise ValueError("No non-empty references to score.")
    refs, hyps = [r for r, _ in pairs], [h for _, h in pairs]
    return float(jiwer.wer(refs, hyps)), float(jiwer.cer(refs, hyps))
