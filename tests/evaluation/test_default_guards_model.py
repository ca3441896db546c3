"""The default guards on the real base model: Devanagari only, no loops, bounded decoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from awaaz.engines.whisper_ct2 import WhisperCT2Engine, WhisperGuards
from awaaz.evaluation.manifest import read_manifest
from awaaz.evaluation.run import evaluate, has_loop
from awaaz.text.script import foreign_letters
from awaaz.types import TranscribeOptions

FIXTURE_MANIFEST = Path(__file__).resolve().parents[1] / "fixtures" / "audio" / "manifest.tsv"

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine(default_model_path: Path) -> WhisperCT2Engine:
    return WhisperCT2Engine("whisper-base", default_model_path)


def test_default_output_is_devanagari_without_loops(engine: WhisperCT2Engine) -> None:
    report = evaluate(engine, read_manifest(FIXTURE_MANIFEST), progress=False)
    for result in report.results:
        assert result.devanagari, result.hypothesis
        assert not foreign_letters(result.hypothesis), result.hypothesis
        assert not has_loop(result.hypothesis), result.hypothesis
    # Behaviour check, not an accuracy report (these are train clips): the guards keep the base model
    # well clear of the 90 %+ CER of unguarded decoding.
    assert report.summary.cer < 0.6


def test_new_tokens_are_bounded_by_duration(engine: WhisperCT2Engine) -> None:
    options = TranscribeOptions()
    assert engine._max_new_tokens(options, 3.0) == 128  # 30 tokens/s * 3 s + 16, rounded up to 32
    assert engine._max_new_tokens(options, 60.0) is None  # a full window: the model's own limit
    with_prompt = TranscribeOptions(prompt="नमस्ते")
    assert engine._max_new_tokens(with_prompt, 10.0) is None  # no room left beside a caller's prompt
    assert engine._max_new_tokens(with_prompt, 2.0) == 96


def test_steering_prompt_only_for_hindi_without_a_caller_prompt(engine: WhisperCT2Engine) -> None:
    assert engine._steering_prompt(TranscribeOptions()) == WhisperGuards().hindi_prompt
    assert engine._steering_prompt(TranscribeOptions(prompt="मेरा संकेत")) is None
    assert engine._steering_prompt(TranscribeOptions(language="en")) is None


def test_script_guard_suppresses_most_of_the_vocabulary(engine: WhisperCT2Engine) -> None:
    assert engine.suppressed_for_hindi > 45_000
