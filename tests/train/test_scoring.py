"""Checkpoint selection scores a model's output exactly as ``awaaz eval`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from awaaz.evaluation.manifest import read_manifest
from awaaz.evaluation.run import evaluate
from awaaz.train.scoring import corpus_error_rates
from tests.evaluation.fakes import CLIPS, ScriptedEngine, write_manifest


def test_checkpoint_scores_equal_the_eval_report_on_the_same_outputs(tmp_path: Path) -> None:
    engine = ScriptedEngine()
    report = evaluate(engine, read_manifest(write_manifest(tmp_path)), clock=engine.clock, progress=False)
    wer, cer = corpus_error_rates([c.reference for c in CLIPS], [c.hypothesis for c in CLIPS])
    assert (wer, cer) == (pytest.approx(report.summary.wer), pytest.approx(report.summary.cer))
    assert wer > 0.2  # the Latin-script clip counts too: nothing is dropped


def test_an_empty_reference_counts_its_inserted_words_as_eval_does() -> None:
    wer, _ = corpus_error_rates(["राम घर गया", "।"], ["राम घर गया", "कुछ"])
    assert wer == pytest.approx(1 / 3)


def test_nothing_to_score_is_refused() -> None:
    with pytest.raises(ValueError, match="No non-empty references"):
        corpus_error_rates(["।"], ["कुछ"])
