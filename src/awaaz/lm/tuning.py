"""Choosing the rescoring weights on dev clips: decode once with n-best lists, then search a grid.

The n-best lists do not depend on the weights, so each clip is decoded once and every (weight, word bonus)
pair is scored offline. Only clips of the training data's dev carve-out are used: the weights are decoding
settings, and nothing is tuned on an eval split.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from awaaz.engines.rescoring import Hypothesis, RescoringSettings, best_hypothesis
from awaaz.text.metrics import score_corpus, score_utterance

WEIGHTS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5)
WORD_BONUSES = (-1.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0)
EDIT_COSTS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0)


@dataclass(frozen=True, slots=True)
class NbestRecord:
    """One clip: its reference and the n-best list of each window it was decoded in."""

    reference: str
    windows: list[list[Hypothesis]]


def choose(record: NbestRecord, settings: RescoringSettings | None) -> str:
    """The transcript of each window's best hypothesis (None: CTranslate2's own best)."""
    texts = []
    for hyps in record.windows:
        if not hyps:
            continue
        best = hyps[0] if settings is None else hyps[best_hypothesis(hyps, settings)]
        texts.append(best.text)
    return " ".join(t.strip() for t in texts)


def corpus_wer(records: Sequence[NbestRecord], settings: RescoringSettings | None) -> tuple[float, float]:
    """(WER, CER) of the transcripts chosen with ``settings`` (None: no rescoring)."""
    score = score_corpus(score_utterance(r.reference, choose(r, settings)) for r in records)
    return score.wer, score.cer


def grid_search(
    records: Sequence[NbestRecord],
    weights: Sequence[float] = WEIGHTS,
    bonuses: Sequence[float] = WORD_BONUSES,
    n_best: int = 5,
    edit_costs: Sequence[float] = EDIT_COSTS,
) -> list[dict[str, float]]:
    """WER and CER for every (weight, bonus, edit cost), best first.

    Edit costs other than the first are tried only when some hypothesis has lexicon edits to charge.
    """
    if not any(h.edits for r in records for window in r.windows for h in window):
        edit_costs = edit_costs[:1]
    rows = []
    for weight, bonus, edit_cost in itertools.product(weights, bonuses, edit_costs):
        settings = RescoringSettings(weight=weight, word_bonus=bonus, n_best=n_best, edit_cost=edit_cost)
        wer, cer = corpus_wer(records, settings)
        rows.append({"weight": weight, "word_bonus": bonus, "edit_cost": edit_cost, "wer": wer, "cer": cer})
    return sorted(rows, key=lambda r: (r["wer"], r["cer"]))


def collect(
    transcribe: Callable[[int], object], references: Sequence[str], recorder: list[list[Hypothesis]]
) -> list[NbestRecord]:
    """Decode clip ``i`` with ``transcribe(i)`` while ``recorder`` gathers its windows' n-best lists."""
    records = []
    for index, reference in enumerate(references):
        recorder.clear()
        transcribe(index)
        records.append(NbestRecord(reference, [list(h) for h in recorder]))
    recorder.clear()
    return records
