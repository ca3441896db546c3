"""The nemo-ctc-onnx engine on a tiny model with NeMo's export signature, checked against numpy."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from awaaz.config import DecodingSettings, NemoSettings
from awaaz.engines.nemo_ctc_onnx import NemoCtcOnnxEngine, read_vocabulary
from awaaz.errors import InvalidParameterError, ModelLoadError
from awaaz.types import TranscribeOptions
from tests.engines.nemo_reference import nemo_features
from tests.engines.tiny_nemo import VOCABULARY, TinyWeights, reference_logprobs

BLANK = len(VOCABULARY)


def _audio(seconds: float, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16_000)) / 16_000
    return (0.2 * np.sin(2 * np.pi * 300 * t * (1 + t)) + 0.05 * rng.standard_normal(len(t))).astype(
        np.float32
    )


def _reference_text(logprobs: np.ndarray) -> str:
    labels = [k for k, _ in itertools.groupby(logprobs.argmax(axis=-1).tolist()) if k != BLANK]
    return " ".join("".join(VOCABULARY[i] for i in labels).replace("▁", " ").split())


@pytest.fixture
def engine(tiny_nemo_dir: tuple[Path, TinyWeights]) -> NemoCtcOnnxEngine:
    return NemoCtcOnnxEngine("tiny-nemo", tiny_nemo_dir[0], decoding=DecodingSettings(vad_filter=False))


def test_logits_match_the_reference_model(
    engine: NemoCtcOnnxEngine, tiny_nemo_dir: tuple[Path, TinyWeights]
) -> None:
    audio = _audio(2.3)
    features, valid = nemo_features(audio)
    expected = reference_logprobs(tiny_nemo_dir[1], features)[: (valid - 1) // 4 + 1]
    actual = engine.logprobs(audio)
    assert actual.shape == expected.shape == ((valid - 1) // 4 + 1, len(VOCABULARY) + 1)
    np.testing.assert_allclose(actual, expected, atol=2e-3)
    assert (actual.argmax(axis=-1) == expected.argmax(axis=-1)).mean() > 0.97


def test_transcript_matches_reference_greedy_decoding(
    engine: NemoCtcOnnxEngine, tiny_nemo_dir: tuple[Path, TinyWeights]
) -> None:
    audio = _audio(2.3)
    features, valid = nemo_features(audio)
    expected = _reference_text(reference_logprobs(tiny_nemo_dir[1], features)[: (valid - 1) // 4 + 1])
    assert expected  # random weights still spell something
    result = engine.transcribe(audio, TranscribeOptions(word_timestamps=True)).collect()
    assert result.text == expected
    assert result.info.language == "hi"
    assert result.info.duration == pytest.approx(2.3)


def test_word_times_are_ordered_inside_the_audio(engine: NemoCtcOnnxEngine) -> None:
    result = engine.transcribe(_audio(2.3), TranscribeOptions(word_timestamps=True)).collect()
    words = result.words
    assert words
    assert " ".join(w.word.strip() for w in words) == result.text
    for previous, current in itertools.pairwise(words):
        assert previous.end <= current.start + 1e-6
    assert all(0 <= w.start < w.end <= 2.3 for w in words)
    assert all(0 < w.probability <= 1 for w in words)


def test_long_audio_is_cut_into_chunks_with_offset_times(tiny_nemo_dir: tuple[Path, TinyWeights]) -> None:
    engine = NemoCtcOnnxEngine(
        "tiny-nemo", tiny_nemo_dir[0], NemoSettings(chunk_s=2.0), decoding=DecodingSettings(vad_filter=False)
    )
    audio = _audio(7.0)
    assert engine.chunks(audio, vad=False) == [(0, 32000), (32000, 64000), (64000, 96000), (96000, 112000)]
    segments = engine.transcribe(audio, TranscribeOptions()).collect().segments
    assert len(segments) >= 3
    assert [s.id for s in segments] == list(range(len(segments)))
    assert segments[-1].start >= 6.0
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(segments))


def test_vad_skips_silence_and_keeps_speech_positions(tiny_nemo_dir: tuple[Path, TinyWeights]) -> None:
    engine = NemoCtcOnnxEngine("tiny-nemo", tiny_nemo_dir[0], decoding=DecodingSettings(vad_filter=True))
    silence = np.zeros(16_000 * 3, dtype=np.float32)
    assert engine.chunks(silence, vad=True) == []
    assert engine.transcribe(silence, TranscribeOptions()).collect().segments == []


def test_other_languages_and_translation_are_refused(engine: NemoCtcOnnxEngine) -> None:
    with pytest.raises(InvalidParameterError, match="recognises only 'hi'"):
        engine.transcribe(_audio(1.0), TranscribeOptions(language="en"))
    with pytest.raises(InvalidParameterError, match="only transcribes"):
        engine.transcribe(_audio(1.0), TranscribeOptions(task="translate"))


def test_closed_engine_says_so(tiny_nemo_dir: tuple[Path, TinyWeights]) -> None:
    engine = NemoCtcOnnxEngine("tiny-nemo", tiny_nemo_dir[0])
    engine.close()
    with pytest.raises(ModelLoadError, match="unloaded"):
        engine.logprobs(_audio(1.0))


def test_vocabulary_file_format(tmp_path: Path) -> None:
    (tmp_path / "vocab.txt").write_text("▁क 0\nा 1\n<blk> 2\n", encoding="utf-8")
    assert read_vocabulary(tmp_path / "vocab.txt") == (["▁क", "ा", "<blk>"], 2)
    (tmp_path / "vocab.txt").write_text("▁क 0\nा 2\n", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="without gaps"):
        read_vocabulary(tmp_path / "vocab.txt")


def test_missing_files_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"model\.onnx, vocab\.txt missing.*export-nemo"):
        NemoCtcOnnxEngine("broken", tmp_path)


def test_corrupt_onnx_gives_a_clear_error(tmp_path: Path, tiny_nemo_dir: tuple[Path, TinyWeights]) -> None:
    shutil.copytree(tiny_nemo_dir[0], tmp_path / "m")
    (tmp_path / "m" / "model.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(ModelLoadError, match="could not load"):
        NemoCtcOnnxEngine("broken", tmp_path / "m")


def test_vocabulary_of_another_model_is_refused(
    tmp_path: Path, tiny_nemo_dir: tuple[Path, TinyWeights]
) -> None:
    shutil.copytree(tiny_nemo_dir[0], tmp_path / "m")
    (tmp_path / "m" / "vocab.txt").write_text("▁क 0\n<blk> 1\n", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="does not belong"):
        NemoCtcOnnxEngine("broken", tmp_path / "m")


def test_unsupported_preprocessor_is_refused(tmp_path: Path, tiny_nemo_dir: tuple[Path, TinyWeights]) -> None:
    shutil.copytree(tiny_nemo_dir[0], tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["preprocessor"]["sample_rate"] = 8000
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="sample_rate=8000"):
        NemoCtcOnnxEngine("broken", tmp_path / "m")
