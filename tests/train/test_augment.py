"""Speed perturbation: duration and pitch scale by the factor; each copy has its own cache key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from awaaz.train.augment import change_speed, with_speed_copies
from awaaz.train.data import Clip


def _tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return np.sin(2 * np.pi * hz * t).astype(np.float32)


def _peak_hz(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.argmax(spectrum) * 16000 / len(audio))


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_change_scales_duration_and_pitch(factor: float) -> None:
    audio = _tone(440.0)
    out = change_speed(audio, factor)
    assert abs(len(out) - len(audio) / factor) <= 2
    assert _peak_hz(out) == pytest.approx(440.0 * factor, rel=0.01)


def test_factor_one_and_bad_factors() -> None:
    audio = _tone(300.0)
    assert change_speed(audio, 1.0) is audio
    with pytest.raises(ValueError, match="> 0"):
        change_speed(audio, 0.0)


def test_copies_keep_text_and_group_but_not_the_cache_key() -> None:
    clip = Clip(audio=Path("/x/a.flac"), text="राम", duration_s=2.0, source="s", group="g")
    clips = with_speed_copies([clip], [0.9, 1.0, 1.1])
    assert [c.speed for c in clips] == [1.0, 0.9, 1.1]
    assert len({c.key for c in clips}) == 3
    assert clips[1].duration_s == pytest.approx(2.0 / 0.9)
    assert {c.text for c in clips} == {"राम"}
    assert {c.group for c in clips} == {"g"}


def test_synthetic_clips_get_no_speed_copies() -> None:
    real = Clip(audio=Path("/x/a.flac"), text="राम", duration_s=2.0, source="s", group="g")
    tts = Clip(audio=Path("/x/t.wav"), text="सीता", duration_s=2.0, source="t", group="t", synthetic=True)
    clips = with_speed_copies([real, tts], [0.9, 1.1])
    assert [(c.text, c.speed) for c in clips] == [("राम", 1.0), ("सीता", 1.0), ("राम", 0.9), ("राम", 1.1)]


def test_per_source_factors_override_the_global_ones() -> None:
    news = Clip(audio=Path("/x/n.flac"), text="खबर", duration_s=5.0, source="ai4bharat_noa", group="n")
    word = Clip(audio=Path("/x/w.flac"), text="एक", duration_s=1.0, source="words", group="w")
    prose = Clip(audio=Path("/x/p.flac"), text="कथा", duration_s=4.0, source="ohmvikrant", group="p")
    clips = with_speed_copies(
        [news, word, prose], [0.9, 1.1], {"ai4bharat_noa": [0.9, 0.95, 1.05, 1.1], "words": []}
    )
    speeds: dict[str, list[float]] = {}
    for clip in clips:
        speeds.setdefault(clip.source, []).append(clip.speed)
    # The global factors come first, then the overrides' other factors in the order given.
    assert speeds == {
        "ai4bharat_noa": [1.0, 0.9, 1.1, 0.95, 1.05],
        "words": [1.0],
        "ohmvikrant": [1.0, 0.9, 1.1],
    }
    assert clips[:3] == [news, word, prose]  # the recorded clips first, as before
    assert len({c.key for c in clips}) == len(clips)
