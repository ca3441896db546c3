"""Evaluation numbers on a tiny generated manifest, with a fake engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from awaaz.audio import Audio
from awaaz.evaluation import run as run_module
from awaaz.evaluation.manifest import read_manifest
from awaaz.evaluation.report import EvalReport
from awaaz.evaluation.run import concatenations, evaluate, evaluate_concatenated, has_loop
from awaaz.text.loops import collapse_loops
from awaaz.types import SAMPLE_RATE, Segment, TranscribeOptions, Transcription, TranscriptionInfo
from tests.evaluation.fakes import FakeClock, ScriptedEngine, write_manifest
from tests.fakes import FakeEngine

# By hand, for the train split of fakes.CLIPS (see the comments there):
TRAIN_WORD_ERRORS, TRAIN_REF_WORDS = 2, 10  # b: 1 deletion; c: 1 substitution
TRAIN_CHAR_ERRORS, TRAIN_REF_CHARS = 5, 36  # b: 3 deleted (" है"); c: घर -> वन, 2 substitutions
TRAIN_AUDIO_S = 4.5


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "set")


def run(
    manifest: Path, split: str | None = "train", postprocess: Callable[[str], str] | None = None
) -> tuple[EvalReport, ScriptedEngine]:
    engine = ScriptedEngine()
    entries = read_manifest(manifest, split=split)
    report = evaluate(engine, entries, postprocess=postprocess, clock=engine.clock, progress=False)
    return report, engine


def test_corpus_numbers(manifest: Path) -> None:
    report, _ = run(manifest)
    s = report.summary
    assert s.utterances == 3
    assert s.score.words.errors == TRAIN_WORD_ERRORS
    assert s.score.words.reference_length == TRAIN_REF_WORDS
    assert s.wer == pytest.approx(TRAIN_WORD_ERRORS / TRAIN_REF_WORDS)
    assert s.score.chars.errors == TRAIN_CHAR_ERRORS
    assert s.score.chars.reference_length == TRAIN_REF_CHARS
    assert s.cer == pytest.approx(TRAIN_CHAR_ERRORS / TRAIN_REF_CHARS)
    assert s.audio_s == pytest.approx(TRAIN_AUDIO_S)
    assert s.processing_s == pytest.approx(0.75)
    assert s.rtf == pytest.approx(0.75 / TRAIN_AUDIO_S)


def test_per_utterance_numbers(manifest: Path) -> None:
    report, _ = run(manifest)
    a, b, c = report.results
    assert (a.score.wer, a.score.cer) == (0.0, 0.0)
    assert b.score.wer == pytest.approx(1 / 3)
    assert b.score.cer == pytest.approx(3 / 11)
    assert c.score.wer == pytest.approx(1 / 4)
    assert c.hypothesis == "राम वन गया था । । ।"
    assert c.score.hypothesis == "राम वन गया था"
    assert [r.looped for r in report.results] == [False, False, True]
    assert all(r.devanagari for r in report.results)
    assert all(r.processing_s == pytest.approx(0.25) for r in report.results)


def test_devanagari_fraction_and_split_breakdown(manifest: Path) -> None:
    report, _ = run(manifest, split=None)
    assert report.summary.devanagari_fraction == pytest.approx(3 / 4)
    assert report.summary.wer == pytest.approx((TRAIN_WORD_ERRORS + 2) / (TRAIN_REF_WORDS + 2))
    splits = report.by_split()
    assert list(splits) == ["train", "eval_fake"]
    assert splits["train"].wer == pytest.approx(TRAIN_WORD_ERRORS / TRAIN_REF_WORDS)
    assert splits["eval_fake"].wer == 1.0
    assert splits["eval_fake"].devanagari_fraction == 0.0


def test_postprocess_rewrites_hypotheses_but_loops_are_detected_on_raw_output(manifest: Path) -> None:
    report, _ = run(manifest, postprocess=collapse_loops)
    c = report.results[2]
    assert c.hypothesis == "राम वन गया था ।"
    assert c.looped


def test_options_reach_the_engine(manifest: Path) -> None:
    engine = ScriptedEngine()
    evaluate(engine, read_manifest(manifest), TranscribeOptions(language="hi", beam_size=2), progress=False)
    assert {o.beam_size for o in engine.calls} == {2}


def test_report_json_round_trip(manifest: Path, tmp_path: Path) -> None:
    report, _ = run(manifest)
    path = tmp_path / "out" / "report.json"
    report.write_json(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "ज़रा" in path.read_text(encoding="utf-8")  # Devanagari stays readable
    assert data["model"] == "fake-model"
    assert data["normalizer"].startswith("awaaz-hindi")
    assert data["wer"] == pytest.approx(TRAIN_WORD_ERRORS / TRAIN_REF_WORDS, abs=1e-4)
    assert data["cer"] == pytest.approx(TRAIN_CHAR_ERRORS / TRAIN_REF_CHARS, abs=1e-4)
    assert data["rtf"] == pytest.approx(0.75 / TRAIN_AUDIO_S, abs=1e-4)
    assert data["reference_words"] == TRAIN_REF_WORDS
    first = data["per_utterance"][0]
    assert set(first) >= {"audio", "ref", "hyp", "wer", "cer", "duration_s", "processing_s"}
    again = EvalReport.read_json(path)
    assert again.summary.wer == pytest.approx(report.summary.wer)
    assert [r.hypothesis for r in again.results] == [r.hypothesis for r in report.results]


def test_table_lists_each_split_and_the_total(manifest: Path) -> None:
    report, _ = run(manifest, split=None)
    table = report.format_table()
    assert "fake-model" in table
    assert "train" in table
    assert "eval_fake" in table
    assert "20.00%" in table  # the train WER


def test_has_loop() -> None:
    assert has_loop("क ख ग ग ग")
    assert not has_loop("क ख ग ग")


def test_clock_default_measures_real_time(manifest: Path) -> None:
    engine = ScriptedEngine(clock=FakeClock())
    report = evaluate(engine, read_manifest(manifest, split="train"), progress=False)
    assert all(0 <= r.processing_s < 5 for r in report.results)


@dataclass
class LengthEngine(FakeEngine):
    """Answers with the length of the audio it was given, in tenths of a second."""

    lengths: list[float] = field(default_factory=list)

    def answer(self, audio: Audio, options: TranscribeOptions) -> list[Segment]:  # noqa: ARG002
        seconds = audio.shape[0] / SAMPLE_RATE
        self.lengths.append(round(seconds, 3))
        return [Segment(0, 0.0, seconds, f"{round(seconds * 10)}")]


def test_concatenations_group_consecutive_clips_by_length_and_never_mix_splits(manifest: Path) -> None:
    entries = read_manifest(manifest)  # 1.0, 2.0, 1.5 s of train, then 0.5 s of eval_fake
    groups = concatenations(entries, minutes=2.5 / 60)
    assert [[e.duration_s for e in g] for g in groups] == [[1.0, 2.0], [1.5], [0.5]]
    assert [len(g) for g in concatenations(entries, minutes=10)] == [3, 1]


def test_long_form_evaluation_reads_the_joined_clips_in_the_blocks_a_file_is_read_in(
    manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pieces depend on where blocks end: clip by clip, they would end at each clip's end and the
    # transcript would differ from the one HTTP and `awaaz transcribe` give for the same audio as a file.
    seen: list[int] = []

    def transcribe(*args: object, **_: object) -> Transcription:
        blocks = args[1]
        assert isinstance(blocks, Iterator)
        seen.extend(block.shape[0] for block in blocks)
        return Transcription(TranscriptionInfo(language="hi", duration=0.0), iter(()))

    monkeypatch.setattr(run_module, "transcribe_long", transcribe)
    monkeypatch.setattr(run_module, "BLOCK_S", 0.4)
    entries = read_manifest(manifest)  # 1.0, 2.0, 1.5 s of train
    evaluate_concatenated(LengthEngine(), entries[:3], minutes=10, progress=False)
    assert seen == [round(0.4 * SAMPLE_RATE)] * 11 + [round(0.1 * SAMPLE_RATE)]


def test_long_form_evaluation_joins_clips_and_scores_the_joined_references(manifest: Path) -> None:
    engine = LengthEngine()
    entries = read_manifest(manifest)
    report = evaluate_concatenated(engine, entries, minutes=10, progress=False)
    assert report.concat_minutes == 10
    assert engine.lengths == [pytest.approx(4.5), pytest.approx(0.5)]  # one recording per split, whole
    first = report.results[0]
    assert first.reference == " ".join(e.text for e in entries[:3])
    assert first.duration_s == pytest.approx(4.5)
    assert "long form" in report.format_table()
    assert EvalReport.from_dict(report.to_dict()).concat_minutes == 10
