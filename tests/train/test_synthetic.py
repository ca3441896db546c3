"""Synthetic speech: sentence choice for new words, espeak-ng output as a trainable manifest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from awaaz.train.data import read_manifest, split_dev
from awaaz.train.synthetic import SynthesisError, pick_sentences, readable, synthesize


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        ("मैं आज बाज़ार जा रहा हूँ।", True),
        ("मैं जा रहा", False),  # too short
        ("मेरा नंबर 98 है और मैं घर पर हूँ", False),  # ASCII digits
        ("मेरा नंबर ९८ है और मैं घर पर हूँ", False),  # Devanagari digits
        ("मैं Zomato से खाना मंगा रहा हूँ", False),  # Latin script
    ],
)
def test_readable_sentences_are_devanagari_only(sentence: str, ok: bool) -> None:
    assert readable(sentence) is ok


def test_picks_bring_new_words_and_skip_repeats() -> None:
    corpus = [
        "राम घर जाता है रोज़",
        "राम घर जाता है रोज़",
        "राम घर जाता है रोज",  # the same words once normalised (nukta dropped)
        "राम घर जाता है हमेशा से",
        "मोहन बाज़ार से फल लाता है",
    ]
    picked = pick_sentences(corpus, ["राम घर जाता है", "हमेशा से"], count=10, seed=1)
    assert len(picked) == 2
    assert "मोहन बाज़ार से फल लाता है" in picked
    assert len({"राम घर जाता है रोज़", "राम घर जाता है रोज"} & set(picked)) == 1
    assert len(pick_sentences(corpus, [], count=1)) == 1


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (Debian: espeak-ng)"
)
def test_espeak_writes_a_train_manifest_that_never_lands_in_dev(tmp_path: Path) -> None:
    sentences = ["मैं आज बाज़ार जा रहा हूँ", "यह किताब बहुत अच्छी है"]
    manifest = synthesize(sentences, tmp_path / "tts", seed=0)
    clips = read_manifest(manifest)
    assert [c.text for c in clips] == sentences
    assert all(c.synthetic and c.audio.is_file() and c.duration_s > 1.0 for c in clips)
    train, dev = split_dev(clips, fraction=0.5)
    assert dev == []
    assert len(train) == 2
    # A rerun reuses the audio already written.
    before = clips[0].audio.stat().st_mtime_ns
    synthesize(sentences, tmp_path / "tts", seed=0)
    assert clips[0].audio.stat().st_mtime_ns == before


def test_missing_espeak_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(SynthesisError, match="apt-get install espeak-ng"):
        synthesize(["मैं आज बाज़ार जा रहा हूँ"], tmp_path)
