"""N-best rescoring of Whisper's beam search with a word n-gram language model.

faster-whisper keeps only the best beam. :class:`LMRescorer` stands in for the ``ctranslate2`` Whisper model
inside a ``WhisperModel`` and asks every beam-search ``generate`` call for its ``n_best`` hypotheses, then
puts first the one with the best combined score::

    acoustic log-probability + weight * ln p_LM(words) + word_bonus * words - unknown_penalty * unknown words

The acoustic score is CTranslate2's (the sum of token log-probabilities); the LM scores the hypothesis's
normalised words as one sentence (:mod:`awaaz.lm.ngram`). The word bonus offsets the LM's pull towards
short hypotheses. The unknown-word penalty is charged for each word the LM has never seen: the LM gives
every such word one flat, mild probability, while most of them are misrecognitions (near misses of a word
it knows). Sampling calls (temperature fallback), greedy calls and windows decoded in another language than
the LM's pass through untouched. The reported ``avg_logprob`` of a segment stays the acoustic one.

With a :class:`~awaaz.engines.expansion.CandidateExpander`, a window whose hypotheses hold words the LM
does not know also gets their lexicon variants (see :mod:`awaaz.engines.expansion`, which also says where a
variant's acoustic score comes from); the ranking formula is the same, less ``edit_cost`` per edit charged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from awaaz.config import RescoringSettings
from awaaz.lm.hypotheses import Hypothesis, best_hypothesis, scored_hypothesis
from awaaz.lm.ngram import NgramLM

if TYPE_CHECKING:
    from awaaz.engines.expansion import Candidate, CandidateExpander


@dataclass(frozen=True, slots=True)
class RescoredResult:
    """A ``WhisperGenerationResult`` with its hypotheses reordered (the fields faster-whisper reads)."""

    sequences: list[list[str]]
    sequences_ids: list[list[int]]
    scores: list[float]
    no_speech_prob: float


def beam_scores(result: Any, length_penalty: float) -> list[float]:
    """Each hypothesis's summed token log-probability (CTranslate2 gives it over length ** penalty)."""
    return [
        float(score) * max(len(ids), 1) ** length_penalty
        for ids, score in zip(result.sequences_ids, result.scores, strict=True)
    ]


class LMRescorer:
    """Wraps a ``ctranslate2.models.Whisper`` (or a wrapper of one); see the module docstring."""

    def __init__(
        self,
        model: Any,
        lm: NgramLM,
        decode: Callable[[Sequence[int]], str],
        settings: RescoringSettings,
        expander: CandidateExpander | None = None,
        language_token: int | None = None,
    ) -> None:
        self.model = model
        self.lm = lm
        self.decode = decode
        self.settings = settings
        self.expander = expander
        """Adds lexicon variants to windows with unknown words (None: plain n-best rescoring)."""
        self._counting = threading.Lock()  # generate runs in many threads at once
        self.expanded = 0
        """Rescored calls whose candidates included lexicon variants (statistics and tests)."""
        self.rescored = 0
        """Beam-search calls rescored so far (statistics and tests)."""
        self.changed = 0
        """Of those, how many put another hypothesis first."""
        self.recorder: list[list[Hypothesis]] | None = None
        """When a list, every rescored call appends its hypotheses (CTranslate2's order) to it."""
        self.language_token = language_token
        """The token of the LM's language (``<|hi|>``): windows decoded in another language pass through
        untouched, as every one of their words would be unknown to the LM. None: rescore every window."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def hypotheses(self, result: Any, length_penalty: float) -> list[Hypothesis]:
        """The scored hypotheses of one ``generate`` result, in the order CTranslate2 gave them."""
        return [
            self._scored(self.decode(ids), acoustic)
            for ids, acoustic in zip(result.sequences_ids, beam_scores(result, length_penalty), strict=True)
        ]

    def generate(self, encoder_output: Any, prompts: list[list[int]], **kwargs: Any) -> list[Any]:
        """``generate`` with beam search's best hypothesis chosen by the combined score."""
        beam = int(kwargs.get("beam_size", 1))
        passes = beam <= 1 or kwargs.get("sampling_temperature") or not kwargs.get("return_scores")
        if passes or not any(self.applies(prompt) for prompt in prompts):
            return list(self.model.generate(encoder_output, prompts, **kwargs))
        kwargs["num_hypotheses"] = min(self.settings.n_best, beam)
        results = self.model.generate(encoder_output, prompts, **kwargs)
        length_penalty = float(kwargs.get("length_penalty", 1.0))
        expander = None if self.expander is None or self.expander.failed else self.expander
        features = expander.host_features(encoder_output) if expander and expander.settings.align else None
        out = []
        for i, result in enumerate(results):
            if not self.applies(prompts[i]):
                out.append(result)  # CTranslate2's best first, as without rescoring
                continue
            pool = None
            if expander is not None:
                window = None if features is None else features[i]
                scores = beam_scores(result, length_penalty)
                pool = expander.expand(window, prompts[i], result.sequences_ids, scores)
            out.append(self._rerank(result, length_penalty, pool))
        return out

    def applies(self, prompt: Sequence[int]) -> bool:
        """Whether a window with this decoder prompt is rescored (it is in the LM's language)."""
        return self.language_token is None or self.language_token in prompt

    def _rerank(
        self, result: Any, length_penalty: float, pool: list[Candidate] | None = None
    ) -> RescoredResult:
        if pool is None:
            hyps = self.hypotheses(result, length_penalty)
        else:
            hyps = [self._scored(c.text, c.acoustic, c.edits) for c in pool]
        best = best_hypothesis(hyps, self.settings) if hyps else 0
        order = [best, *(i for i in range(len(hyps)) if i != best)]
        with self._counting:
            if self.recorder is not None:
                self.recorder.append(hyps)
            self.expanded += pool is not None
            self.rescored += 1
            self.changed += best != 0
        if pool is None:
            return RescoredResult(
                sequences=[result.sequences[i] for i in order],
                sequences_ids=[result.sequences_ids[i] for i in order],
                scores=[result.scores[i] for i in order],
                no_speech_prob=float(result.no_speech_prob),
            )
        chosen = [pool[i] for i in order]
        return RescoredResult(
            sequences=[self._pieces(c, result) for c in chosen],
            sequences_ids=[c.ids for c in chosen],
            # The source beam hypothesis's score: faster-whisper's fallback rules read it.
            scores=[float(result.scores[c.source]) for c in chosen],
            no_speech_prob=float(result.no_speech_prob),
        )

    def _scored(self, text: str, acoustic: float, edits: float = 0.0) -> Hypothesis:
        return scored_hypothesis(self.lm, text, acoustic, edits)

    def _pieces(self, candidate: Candidate, result: Any) -> list[str]:
        if not candidate.variant:
            return list(result.sequences[candidate.source])
        assert self.expander is not None
        tokenizer = self.expander.tokenizer
        return [tokenizer.id_to_token(i) or "" for i in candidate.ids]
