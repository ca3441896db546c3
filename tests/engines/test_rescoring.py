"""N-best rescoring: the LM picks among beam hypotheses, and only beam-search calls are touched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from awaaz.config import RescoringSettings
from awaaz.engines.rescoring import LMRescorer
from awaaz.lm.ngram import NgramLM, build, sentences_from
from awaaz.lm.tuning import NbestRecord, choose, corpus_wer, grid_search

WORDS = {1: "राम", 2: "घर", 3: "जाता", 4: "है", 5: "घार", 6: "जता"}


def decode(ids: Sequence[int]) -> str:
    return " ".join(WORDS[i] for i in ids if i in WORDS)


@dataclass
class Result:
    sequences_ids: list[list[int]]
    scores: list[float]
    no_speech_prob: float = 0.01
    sequences: list[list[str]] = field(default_factory=list)


class FakeWhisper:
    """Returns two hypotheses: a slightly better-scored misspelling, then the right words."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def generate(self, encoder_output: Any, prompts: list[list[int]], **kwargs: Any) -> list[Result]:
        assert encoder_output is None
        self.calls.append(kwargs)
        n = kwargs.get("num_hypotheses", 1)
        hyps = [[1, 5, 3, 4], [1, 2, 3, 4], [1, 6, 4]][:n]
        scores = [-0.50, -0.55, -0.9][:n]
        return [Result(hyps, scores, sequences=[[str(i) for i in h] for h in hyps]) for _ in prompts]


@pytest.fixture(scope="module")
def lm() -> NgramLM:
    corpus = ["राम घर जाता है", "सीता घर जाती है", "मोहन घर जाता है", "राम स्कूल जाता है"] * 3
    return build(sentences_from(corpus))


def test_the_lm_puts_the_fluent_hypothesis_first(lm: NgramLM) -> None:
    inner = FakeWhisper()
    rescorer = LMRescorer(inner, lm, decode, RescoringSettings(weight=0.5, word_bonus=0.0, n_best=3))
    (result,) = rescorer.generate(None, [[50258]], beam_size=5, return_scores=True, length_penalty=1.0)
    assert inner.calls[0]["num_hypotheses"] == 3
    assert result.sequences_ids[0] == [1, 2, 3, 4]
    assert result.scores[0] == -0.55  # the reported score stays the acoustic one
    assert result.no_speech_prob == pytest.approx(0.01)
    assert (rescorer.rescored, rescorer.changed) == (1, 1)


def test_weight_zero_keeps_the_acoustic_order(lm: NgramLM) -> None:
    settings = RescoringSettings(weight=0.0, word_bonus=0.0, unknown_penalty=0.0)
    rescorer = LMRescorer(FakeWhisper(), lm, decode, settings)
    (result,) = rescorer.generate(None, [[1]], beam_size=5, return_scores=True, length_penalty=1.0)
    assert result.sequences_ids[0] == [1, 5, 3, 4]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"beam_size": 1, "return_scores": True},
        {"beam_size": 1, "sampling_temperature": 0.4, "num_hypotheses": 2, "return_scores": True},
        {"beam_size": 5},
    ],
)
def test_greedy_sampling_and_scoreless_calls_pass_through(lm: NgramLM, kwargs: dict[str, Any]) -> None:
    inner = FakeWhisper()
    rescorer = LMRescorer(inner, lm, decode, RescoringSettings())
    rescorer.generate(None, [[1]], **kwargs)
    assert inner.calls == [kwargs]
    assert rescorer.rescored == 0


def test_grid_search_finds_weights_that_beat_no_rescoring(lm: NgramLM) -> None:
    inner = FakeWhisper()
    rescorer = LMRescorer(inner, lm, decode, RescoringSettings())
    recorder: list[Any] = []
    rescorer.recorder = recorder
    rescorer.generate(None, [[1]], beam_size=5, return_scores=True)
    record = NbestRecord("राम घर जाता है", [list(recorder[0])])
    assert choose(record, None) == "राम घार जाता है"
    assert corpus_wer([record], None)[0] == pytest.approx(0.25)
    best = grid_search([record], unknown_penalties=(0.0,))[0]
    assert best["wer"] == 0.0
    assert best["weight"] > 0


def test_engine_rescores_when_given_a_model_file(
    lm: NgramLM, tmp_path: Path, default_model_path: Path, hindi_clips: Any
) -> None:
    from awaaz.audio import decode_audio
    from awaaz.config import DecodingSettings, LmSettings
    from awaaz.engines.base import Placement
    from awaaz.engines.whisper_ct2 import WhisperCT2Engine
    from awaaz.types import TranscribeOptions

    path = tmp_path / "lm.npz"
    lm.save(path)
    engine = WhisperCT2Engine(
        "m",
        default_model_path,
        placement=Placement(batch_size=4, batch_wait_s=1.0),
        decoding=DecodingSettings(vad_filter=False),
        lm=LmSettings(model=str(path)),
    )
    assert engine.rescorer is not None
    text = (
        engine.transcribe(decode_audio(hindi_clips[0].path), TranscribeOptions(language="hi")).collect().text
    )
    assert text.strip()
    assert engine.rescorer.rescored >= 1
    assert engine.batcher is not None
    assert engine.rescorer.model is engine.batcher  # the batcher sits innermost, under the rescorer
    engine.close()


def test_a_damaged_lm_file_fails_the_model_load_with_a_fix(tmp_path: Path, default_model_path: Path) -> None:
    from awaaz.config import LmSettings
    from awaaz.engines.whisper_ct2 import WhisperCT2Engine
    from awaaz.errors import ModelLoadError

    bad = tmp_path / "lm.npz"
    bad.write_bytes(b"junk")
    with pytest.raises(ModelLoadError, match="AWAAZ_LM=none"):
        WhisperCT2Engine("m", default_model_path, lm=LmSettings(model=str(bad)))


def test_an_empty_hypothesis_never_beats_one_with_words() -> None:
    from awaaz.lm.hypotheses import Hypothesis, best_hypothesis

    settings = RescoringSettings(weight=0.5, word_bonus=5.0)
    spoken = Hypothesis(" अनजाने शब्दों वाला वाक्य", acoustic=-12.0, lm=-140.0, words=4)
    silence = Hypothesis("", acoustic=-10.7, lm=-6.7, words=0)
    assert silence.total(settings) > spoken.total(settings)  # what the LM alone would pick
    assert best_hypothesis([spoken, silence], settings) == 0
    assert best_hypothesis([silence, spoken], settings) == 1
    assert best_hypothesis([silence, silence], settings) == 0
    record = NbestRecord("अनजाने शब्दों वाला वाक्य", [[silence, spoken]])
    assert choose(record, settings).strip() == "अनजाने शब्दों वाला वाक्य"


def test_the_unknown_word_penalty_outranks_a_better_acoustic_score(lm: NgramLM) -> None:
    # घार is not in the LM: with the LM's own weight at zero (the test above), only the penalty demotes it.
    recorder: list[Any] = []
    settings = RescoringSettings(weight=0.0, word_bonus=0.0, unknown_penalty=1.0)
    penalised = LMRescorer(FakeWhisper(), lm, decode, settings)
    penalised.recorder = recorder
    (result,) = penalised.generate(None, [[1]], beam_size=5, return_scores=True, length_penalty=1.0)
    assert result.sequences_ids[0] == [1, 2, 3, 4]
    assert [h.unknown for h in recorder[0]] == [1, 0, 1]  # घार, none, जता


def test_grid_search_tries_unknown_penalties_and_reports_a_steady_point(lm: NgramLM) -> None:
    from awaaz.lm.tuning import UNKNOWN_PENALTIES, steadiest

    rescorer = LMRescorer(FakeWhisper(), lm, decode, RescoringSettings())
    recorder: list[Any] = []
    rescorer.recorder = recorder
    rescorer.generate(None, [[1]], beam_size=5, return_scores=True)
    rows = grid_search([NbestRecord("राम घर जाता है", [list(recorder[0])])], weights=(0.0,), bonuses=(0.0,))
    assert sorted(r["unknown_penalty"] for r in rows) == sorted(UNKNOWN_PENALTIES)
    assert {r["wer"] for r in rows if r["unknown_penalty"] == 0} == {0.25}
    assert {r["wer"] for r in rows if r["unknown_penalty"] >= 4} == {0.0}
    steady = steadiest(rows)
    # an inner point whose neighbours along the penalty axis are all right (next to zero, one is not)
    assert (steady["wer"], steady["neighbourhood_wer"], steady["neighbours"]) == (0.0, 0.0, 3)
    assert 8 <= steady["unknown_penalty"] < max(UNKNOWN_PENALTIES)


def test_windows_in_another_language_than_the_lm_s_pass_through(lm: NgramLM) -> None:
    hindi, english = 50276, 50259
    inner = FakeWhisper()
    rescorer = LMRescorer(inner, lm, decode, RescoringSettings(unknown_penalty=0.0), language_token=hindi)
    (result,) = rescorer.generate(None, [[50258, english]], beam_size=5, return_scores=True)
    assert inner.calls[-1] == {"beam_size": 5, "return_scores": True}  # not even an n-best was asked for
    assert result.sequences_ids[0] == [1, 5, 3, 4]
    mixed = rescorer.generate(None, [[50258, hindi], [50258, english]], beam_size=5, return_scores=True)
    assert [r.sequences_ids[0] for r in mixed] == [[1, 2, 3, 4], [1, 5, 3, 4]]
    assert rescorer.rescored == 1


def test_counters_and_the_recorder_stay_exact_under_concurrent_calls(lm: NgramLM) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rescorer = LMRescorer(FakeWhisper(), lm, decode, RescoringSettings(weight=0.5, word_bonus=0.0, n_best=3))
    recorder: list[Any] = []
    rescorer.recorder = recorder
    calls = 400

    def call(_: int) -> None:
        rescorer.generate(None, [[50258], [50258]], beam_size=5, return_scores=True, length_penalty=1.0)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(call, range(calls)))
    assert rescorer.rescored == len(recorder) == 2 * calls
    assert rescorer.changed == 2 * calls  # the fluent second hypothesis always wins
