"""Encoder windows trimmed to their content: the length rule, and the engine feeding the encoder."""

from __future__ import annotations

from typing import Any

import ctranslate2
import numpy as np
import pytest

from awaaz.whisper.windows import (
    FULL_WINDOW,
    MARGIN_FRAMES,
    STEP_FRAMES,
    WindowTrimmer,
    content_frames,
    pad_to_window,
    window_frames,
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(0, 200), (100, 200), (101, 400), (500, 600), (1000, 1200), (2899, 3000), (2900, 3000), (3000, 3000)],
)
def test_window_is_content_plus_margin_rounded_up_to_a_step_and_at_most_30_s(
    content: int, expected: int
) -> None:
    assert window_frames(content) == expected
    assert window_frames(content) % STEP_FRAMES == 0 or window_frames(content) == FULL_WINDOW
    assert window_frames(content) >= min(content + MARGIN_FRAMES, FULL_WINDOW)


def test_negative_content_is_refused() -> None:
    with pytest.raises(ValueError, match="content_frames"):
        window_frames(-1)


def test_content_ends_at_the_last_frame_that_is_not_all_zero() -> None:
    mel = np.zeros((80, 3000), dtype=np.float32)
    mel[:, :437] = -0.5
    mel[3, 436] = 0.0  # a zero value inside a frame does not end the content
    assert content_frames(mel) == 437
    assert content_frames(mel[None]) == 437
    assert content_frames(np.zeros((80, 3000), dtype=np.float32)) == 0


def test_pad_to_window_keeps_the_content_and_pads_with_zeros() -> None:
    mel = np.full((80, 437), 0.25, dtype=np.float32)
    trimmed = pad_to_window(mel)
    assert trimmed.shape == (80, 600)
    assert np.array_equal(trimmed[:, :437], mel)
    assert not trimmed[:, 437:].any()
    assert pad_to_window(mel, trim=False).shape == (80, FULL_WINDOW)
    assert pad_to_window(np.ones((80, 3500), dtype=np.float32)).shape == (80, FULL_WINDOW)


class RecordingModel:
    """Stands in for ctranslate2.models.Whisper: records encoder input shapes."""

    device = "cpu"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def encode(self, features: ctranslate2.StorageView, to_cpu: bool = False) -> Any:
        self.shapes.append(tuple(features.shape))
        assert not to_cpu
        return features

    def is_multilingual(self) -> bool:
        return True


def test_trimmer_cuts_the_padding_faster_whisper_adds_and_passes_everything_else_through() -> None:
    inner = RecordingModel()
    trimmer = WindowTrimmer(inner)
    mel = np.zeros((1, 80, FULL_WINDOW), dtype=np.float32)
    mel[..., :950] = -0.3
    out = trimmer.encode(ctranslate2.StorageView.from_array(mel))
    assert inner.shapes == [(1, 80, 1200)]
    assert np.array_equal(np.asarray(out), mel[..., :1200])
    full = np.full((1, 80, FULL_WINDOW), -0.3, dtype=np.float32)
    trimmer.encode(ctranslate2.StorageView.from_array(full))
    assert inner.shapes[-1] == (1, 80, FULL_WINDOW)
    assert trimmer.is_multilingual()


def test_engine_encodes_a_short_clip_on_a_trimmed_window(default_model_path: Any, hindi_clips: Any) -> None:
    from awaaz.audio import decode_audio
    from awaaz.config import DecodingSettings
    from awaaz.engines.whisper_ct2 import WhisperCT2Engine
    from awaaz.types import TranscribeOptions

    engine = WhisperCT2Engine("m", default_model_path, decoding=DecodingSettings(vad_filter=False))
    assert isinstance(engine._model.model, WindowTrimmer)
    real = engine._model.model.model
    shapes: list[tuple[int, ...]] = []

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def encode(self, features: ctranslate2.StorageView, to_cpu: bool = False) -> Any:
            shapes.append(tuple(features.shape))
            return real.encode(features, to_cpu=to_cpu)

    engine._model.model.model = Spy()
    clip = hindi_clips[0]
    audio = decode_audio(clip.path)
    text = " ".join(s.text for s in engine.transcribe(audio, TranscribeOptions(language="hi")).segments)
    assert text.strip()
    frames = len(audio) // 160  # 10 ms hops
    assert shapes
    assert shapes[0][-1] in {window_frames(frames - 1), window_frames(frames)}
    assert shapes[0][-1] < FULL_WINDOW
    engine.close()
