"""Greedy CTC decoding with token and word time spans, written once for every CTC engine.

A CTC model emits one distribution over ``vocabulary + blank`` per encoder frame. Greedy decoding takes the
best label of every frame, merges repeats and drops blanks. Each emitted token keeps the frames it spanned, so
words (runs of tokens between word-start markers) get times without a separate aligner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

WORD_START = "\u2581"
"""SentencePiece's word-start marker (``▁``); NeMo vocabularies use it, and so does ``vocab.txt``."""


@dataclass(frozen=True, slots=True)
class CtcToken:
    """One emitted token: its id, text, the frames [start, end) it covered and its log-probability."""

    id: int
    text: str
    start_frame: int
    end_frame: int
    logprob: float


@dataclass(frozen=True, slots=True)
class CtcWord:
    """A word assembled from tokens, with frame span and mean token log-probability."""

    text: str
    start_frame: int
    end_frame: int
    logprob: float


def log_softmax(logits: npt.NDArray[np.float32], axis: int = -1) -> npt.NDArray[np.float32]:
    """Numerically stable log-softmax; idempotent, so it is safe on outputs that already are log-probs."""
    shifted: npt.NDArray[np.float32] = (logits - logits.max(axis=axis, keepdims=True)).astype(np.float32)
    result: npt.NDArray[np.float32] = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return result


def greedy_decode(
    logprobs: npt.NDArray[np.float32], vocabulary: Sequence[str], blank_id: int
) -> list[CtcToken]:
    """Best path of ``logprobs`` ([frames, labels]): repeats merged, blanks dropped, frame spans kept."""
    if logprobs.ndim != 2:
        raise ValueError(f"expected [frames, labels] log-probabilities, got shape {logprobs.shape}")
    best = logprobs.argmax(axis=-1)
    scores = logprobs[np.arange(len(best)), best]
    tokens: list[CtcToken] = []
    run_start = 0
    for frame in range(1, len(best) + 1):
        if frame < len(best) and best[frame] == best[run_start]:
            continue
        label = int(best[run_start])
        if label != blank_id:
            tokens.append(
                CtcToken(
                    id=label,
                    text=vocabulary[label] if label < len(vocabulary) else "",
                    start_frame=run_start,
                    end_frame=frame,
                    logprob=float(scores[run_start:frame].max()),
                )
            )
        run_start = frame
    return tokens


def _starts_word(text: str) -> bool:
    return text.startswith((WORD_START, " "))


def group_words(tokens: Sequence[CtcToken]) -> list[CtcWord]:
    """Join tokens into words: a token starting with ``▁`` (or a space) opens a new word."""
    words: list[CtcWord] = []
    pieces: list[CtcToken] = []

    def flush() -> None:
        text = "".join(t.text for t in pieces).replace(WORD_START, " ").strip()
        if text:
            words.append(
                CtcWord(
                    text=text,
                    start_frame=pieces[0].start_frame,
                    end_frame=pieces[-1].end_frame,
                    logprob=float(np.mean([t.logprob for t in pieces])),
                )
            )
        pieces.clear()

    for token in tokens:
        if _starts_word(token.text) and pieces:
            flush()
        pieces.append(token)
    flush()
    return words


def tokens_to_text(tokens: Sequence[CtcToken]) -> str:
    """The transcript the tokens spell, with single spaces between words."""
    text = "".join(t.text for t in tokens).replace(WORD_START, " ")
    return " ".join(text.split())
