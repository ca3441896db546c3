"""Lexicon expansion of a window's n-best, scored by the acoustic model itself.

Beam search proposes a handful of spellings; when the right word is not among them, n-best rescoring cannot
find it. :class:`CandidateExpander` adds, for each of the best ``sources`` hypotheses, the spelling variants
:class:`awaaz.lm.lexicon.LexiconCorrector` proposes for its unknown words. The rescorer then ranks every
candidate by acoustic + weight * ln p_LM + bonus * words - edit_cost * edits, as for a plain n-best
(:mod:`awaaz.engines.rescoring`). Where the acoustic score comes from:

- by default (``LexiconSettings.align`` False) a variant inherits its source hypothesis's beam score and
  pays ``RescoringSettings.edit_cost`` per edit: the audio never judges the new word, but it costs nothing;
- with ``align``, **every** candidate (the beam's and the new ones) is scored the same way, by CTranslate2's
  forced alignment (``Whisper.align``: the log sum of each text token's probability given the audio), and
  no edit is charged. It is more accurate on dev but costs about 20 ms per candidate on one CPU thread.

A variant keeps its source hypothesis's timestamp tokens: each text run between two timestamps is rewritten
word for word and re-tokenised, so segments and their times are those the beam decoded. Windows whose
hypotheses hold only known words get no variants and cost nothing extra.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import ctranslate2
import numpy as np
import numpy.typing as npt

from awaaz.lm.lexicon import LexiconCorrector
from awaaz.text.normalize import normalize_hindi
from awaaz.whisper.tokens import EOT, NO_TIMESTAMPS, SOT

log = logging.getLogger(__name__)

LOG_FLOOR = 1e-10
"""Token probabilities are floored here before the log, so one impossible token does not give -inf."""


class Tokenizer(Protocol):
    """The part of a ``tokenizers.Tokenizer`` the expander uses."""

    def encode(self, sequence: str, add_special_tokens: bool = ...) -> Any: ...

    def decode(self, ids: list[int], skip_special_tokens: bool = ...) -> str: ...

    def token_to_id(self, token: str) -> int | None: ...

    def id_to_token(self, id: int) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """One transcript of a window: its tokens (timestamps included) and scores."""

    ids: list[int]
    text: str
    acoustic: float
    """Sum of ln p(token | audio, previous tokens): the beam's, or by forced alignment (see the module)."""
    source: int
    """Index of the beam hypothesis it came from (itself, for a beam hypothesis)."""
    variant: bool
    edits: float
    """Edits the rescorer charges for: the lexicon replacements' (0 for a beam hypothesis, and for every
    candidate scored by forced alignment, whose score already judges the new words)."""


class CandidateExpander:
    """See the module docstring. ``model`` is a ``ctranslate2.models.Whisper`` (or a wrapper of one)."""

    def __init__(self, model: Any, corrector: LexiconCorrector, tokenizer: Tokenizer) -> None:
        self.model = model
        self.corrector = corrector
        self.tokenizer = tokenizer
        self.eot = _token(tokenizer, EOT)
        self.sot = _token(tokenizer, SOT)
        self.no_timestamps = _token(tokenizer, NO_TIMESTAMPS)
        self.failed = False
        """Set when forced alignment raised once; expansion then stays off for this model."""

    @property
    def settings(self) -> Any:
        return self.corrector.settings

    def host_features(self, encoder_output: Any) -> npt.NDArray[np.float32]:
        """The batch's encoder output as a host array (copied from the device when it is not on the CPU)."""
        if isinstance(encoder_output, ctranslate2.StorageView) and encoder_output.device != "cpu":
            encoder_output = encoder_output.to_device(ctranslate2.Device.cpu)
        return np.asarray(encoder_output, dtype=np.float32)

    def expand(
        self,
        features: npt.NDArray[np.float32] | None,
        prompt: Sequence[int],
        hypotheses: Sequence[Sequence[int]],
        beam_scores: Sequence[float],
    ) -> list[Candidate] | None:
        """Every candidate of one window (beam hypotheses first, in their order), or None when no variant
        was found and plain rescoring applies.

        ``beam_scores`` are the hypotheses' summed log-probabilities from the beam. With forced alignment
        on, ``features`` (this window's ``(frames, d_model)`` encoder output) rescores every candidate;
        otherwise a variant inherits its source's beam score.
        """
        if self.failed:
            return None
        seen = {tuple(ids) for ids in hypotheses}
        extra: list[tuple[list[int], int, float]] = []
        for source, ids in enumerate(hypotheses[: self.settings.sources]):
            for new_ids, edits in self._variants(list(ids)):
                if tuple(new_ids) not in seen:
                    seen.add(tuple(new_ids))
                    extra.append((new_ids, source, edits))
        if not extra:
            return None
        acoustic = list(beam_scores) + [beam_scores[source] for _, source, _ in extra]
        aligned = False
        if self.settings.align and features is not None:
            try:
                acoustic = self._acoustic(features, prompt, [*map(list, hypotheses), *(e[0] for e in extra)])
            except (RuntimeError, ValueError) as exc:
                self.failed = True
                log.warning("lexicon expansion turned off: forced alignment failed (%s)", exc)
                return None
            aligned = True
        n = len(hypotheses)
        beam = [
            Candidate(list(ids), self._text(ids), score, i, False, 0.0)
            for i, (ids, score) in enumerate(zip(hypotheses, acoustic[:n], strict=True))
        ]
        more = [
            Candidate(ids, self._text(ids), score, source, True, 0.0 if aligned else edits)
            for (ids, source, edits), score in zip(extra, acoustic[n:], strict=True)
        ]
        return beam + more

    def _text(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode([i for i in ids if i < self.eot]))

    def _runs(self, ids: list[int]) -> list[int | list[int]]:
        """``ids`` as a list of timestamp tokens and runs of text tokens."""
        runs: list[int | list[int]] = []
        for token in ids:
            if token >= self.eot:  # timestamps (and any special token) end a text run
                runs.append(token)
            elif runs and isinstance(runs[-1], list):
                runs[-1].append(token)
            else:
                runs.append([token])
        return runs

    def _variants(self, ids: list[int]) -> list[tuple[list[int], float]]:
        """Token ids of the corrector's variants of one hypothesis, timestamps kept in place."""
        runs = self._runs(ids)
        pieces: list[list[str]] = []  # whitespace tokens of each text run
        words: list[str] = []
        slots: dict[int, tuple[int, int]] = {}  # word index -> (run, piece) for one-word pieces
        for r, run in enumerate(runs):
            if not isinstance(run, list):
                pieces.append([])
                continue
            text = self.tokenizer.decode(run)
            if "\ufffd" in text:  # a character cut at the window's end: leave this hypothesis alone
                return []
            pieces.append(text.split())
            for p, piece in enumerate(pieces[-1]):
                parts = normalize_hindi(piece).split()
                if len(parts) == 1:
                    slots[len(words)] = (r, p)
                words.extend(parts)
        out = []
        for variant in self.corrector.variants(words, editable=slots.keys()):
            edited = [list(p) for p in pieces]
            for index, replacement in variant.replacements.items():
                r, p = slots[index]
                edited[r][p] = replacement
            new_ids: list[int] = []
            for run, old, run_pieces in zip(runs, pieces, edited, strict=True):
                if not isinstance(run, list):
                    new_ids.append(run)
                elif run_pieces == old:
                    new_ids.extend(run)
                else:
                    text = " " + " ".join(run_pieces)
                    new_ids.extend(self.tokenizer.encode(text, add_special_tokens=False).ids)
            out.append((new_ids, variant.edits))
        return out

    def _acoustic(
        self, features: npt.NDArray[np.float32], prompt: Sequence[int], ids: list[list[int]]
    ) -> list[float]:
        """ln p(text | audio) of each candidate by forced alignment (text tokens only, no timestamps)."""
        start = self._start_sequence(prompt)
        texts = [[t for t in c if t < self.eot] for c in ids]
        scores = [0.0] * len(ids)
        scored = [i for i, t in enumerate(texts) if t]
        if not scored:
            return scores
        batch = np.ascontiguousarray(np.repeat(features[None], len(scored), axis=0))
        frames = 2 * features.shape[0]  # mel frames: the encoder halves them
        results = self.model.align(
            ctranslate2.StorageView.from_array(batch), start, [texts[i] for i in scored], frames
        )
        for i, result in zip(scored, results, strict=True):
            probs = np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), LOG_FLOOR)
            scores[i] = float(np.log(probs).sum())
        return scores

    def _start_sequence(self, prompt: Sequence[int]) -> list[int]:
        """The prompt's start-of-transcript tokens (language, task), without any previous-text prompt,
        ending in ``<|notimestamps|>``: every candidate is scored on its words alone."""
        start = list(prompt)
        if self.sot in start:
            start = start[start.index(self.sot) :]
        if not start or start[-1] != self.no_timestamps:
            start.append(self.no_timestamps)
        return start


def _token(tokenizer: Tokenizer, token: str) -> int:
    found = tokenizer.token_to_id(token)
    if found is None:
        raise ValueError(f"the tokenizer has no {token} token")
    return int(found)
