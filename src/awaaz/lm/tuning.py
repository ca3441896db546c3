"""Choosing the rescoring weights on dev clips: decode once with n-best lists, then search a grid.

The n-best lists do not depend on the weights, so each clip is decoded once and every (weight, word bonus)
pair is scored offline. Only clips of the training data's dev carve-out are used: the weights are decoding
settings, and nothing is tuned on an eval split.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from awaaz.config import RescoringSettings
from awaaz.lm.hypotheses import Hypothesis, best_hypothesis
from awaaz.text.metrics import UtteranceScore, score_corpus, score_utterance

WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0)
WORD_BONUSES = (-2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0)
EDIT_COSTS = (0.0, 2.0, 3.0, 4.0, 6.0, 8.0)
UNKNOWN_PENALTIES = (0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 30.0)
AXES = ("weight", "word_bonus", "edit_cost", "unknown_penalty")


@dataclass(frozen=True, slots=True)
class NbestRecord:
    """One clip: its reference and the n-best list of each window it was decoded in."""

    reference: str
    windows: list[list[Hypothesis]]


def choices(record: NbestRecord, settings: RescoringSettings | None) -> tuple[int, ...]:
    """The index of each window's chosen hypothesis (None: CTranslate2's own best, index 0)."""
    return tuple(
        0 if settings is None else best_hypothesis(hyps, settings) for hyps in record.windows if hyps
    )


def choose(record: NbestRecord, settings: RescoringSettings | None) -> str:
    """The transcript of each window's best hypothesis (None: CTranslate2's own best)."""
    return _transcript(record, choices(record, settings))


def _transcript(record: NbestRecord, picked: tuple[int, ...]) -> str:
    """The clip's text with hypothesis ``picked[k]`` of its k-th non-empty window."""
    windows = [hyps for hyps in record.windows if hyps]
    return " ".join(hyps[i].text.strip() for hyps, i in zip(windows, picked, strict=True))


class _Scorer:
    """Corpus WER and CER of any choice of hypotheses, each clip's choice scored once."""

    def __init__(self, records: Sequence[NbestRecord]) -> None:
        self.records = records
        self._cache: dict[tuple[int, tuple[int, ...]], UtteranceScore] = {}

    def __call__(self, settings: RescoringSettings | None) -> tuple[float, float]:
        utterances = []
        for n, record in enumerate(self.records):
            picked = choices(record, settings)
            key = (n, picked)
            if key not in self._cache:
                self._cache[key] = score_utterance(record.reference, _transcript(record, picked))
            utterances.append(self._cache[key])
        score = score_corpus(utterances)
        return score.wer, score.cer


def corpus_wer(records: Sequence[NbestRecord], settings: RescoringSettings | None) -> tuple[float, float]:
    """(WER, CER) of the transcripts chosen with ``settings`` (None: no rescoring)."""
    return _Scorer(records)(settings)


def grid_search(
    records: Sequence[NbestRecord],
    weights: Sequence[float] = WEIGHTS,
    bonuses: Sequence[float] = WORD_BONUSES,
    n_best: int = 5,
    edit_costs: Sequence[float] = EDIT_COSTS,
    unknown_penalties: Sequence[float] = UNKNOWN_PENALTIES,
) -> list[dict[str, float]]:
    """WER and CER for every (weight, bonus, edit cost, unknown penalty), best first.

    Edit costs other than the first are tried only when some hypothesis has lexicon edits to charge, and
    unknown penalties other than the first only when some hypothesis holds a word the LM does not know.
    Each row also has ``neighbourhood_wer``: the mean WER of the point and its ``neighbours`` on the grid
    (one step along any axes, the point included). On a hundred dev clips single points are noisy; a point
    in a flat, low region is the safer choice (:func:`steadiest`).
    """
    hyps = [h for r in records for window in r.windows for h in window]
    if not any(h.edits for h in hyps):
        edit_costs = edit_costs[:1]
    if not any(h.unknown for h in hyps):
        unknown_penalties = unknown_penalties[:1]
    axes = (weights, bonuses, edit_costs, unknown_penalties)
    scorer = _Scorer(records)
    table: dict[tuple[int, ...], dict[str, float]] = {}
    for index in itertools.product(*(range(len(axis)) for axis in axes)):
        point = dict(zip(AXES, (axis[i] for axis, i in zip(axes, index, strict=True)), strict=True))
        # Every field is given: no need to read the environment thousands of times.
        wer, cer = scorer(RescoringSettings.model_construct(None, n_best=n_best, **point))
        table[index] = {**point, "wer": wer, "cer": cer}
    for index, row in table.items():
        near = [
            table[other]["wer"]
            for step in itertools.product((-1, 0, 1), repeat=len(axes))
            if (other := tuple(i + s for i, s in zip(index, step, strict=True))) in table
        ]
        row["neighbourhood_wer"] = sum(near) / len(near)
        row["neighbours"] = len(near)
    return sorted(table.values(), key=lambda r: (r["wer"], r["cer"]))


def steadiest(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """The inner grid point with the lowest neighbourhood mean WER (ties: its own WER).

    Only points with a full neighbourhood count: at the grid's edge half the neighbours are missing, and a
    flat edge would win on what the grid cannot see beyond it.
    """
    full = max(r["neighbours"] for r in rows)
    inner = [r for r in rows if r["neighbours"] == full]
    return min(inner, key=lambda r: (r["neighbourhood_wer"], r["wer"], r["cer"]))


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
