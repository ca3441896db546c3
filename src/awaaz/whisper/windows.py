"""Encoder windows cut to the audio they hold, instead of always 30 s.

Whisper's encoder was trained on 30 s windows, and faster-whisper pads every window's log-Mel features
with zeros up to 3,000 frames. For a 10 s clip two thirds of the encoder's work is then spent on padding,
and attention makes the waste grow faster than linearly: on the 2-core CPU one window of whisper-base int8
takes 0.62 s at 3,000 frames and 0.09 s at 1,000 (see docs/PERFORMANCE.md). CTranslate2 accepts shorter
inputs, so :class:`WindowTrimmer` cuts the zero padding down to the content plus a margin of silence
(which lets the decoder see where speech ends), rounded up to a step so that windows of similar length
share a shape, and so a batch.

The same rule, :func:`window_frames`, shapes the encoder outputs the decoder is fine-tuned on
(:mod:`awaaz.train.features`), so a model trained on trimmed windows is served on trimmed windows.
"""

from __future__ import annotations

from typing import Any

import ctranslate2
import numpy as np
import numpy.typing as npt

FULL_WINDOW = 3000
"""Mel frames in Whisper's 30 s window."""
MARGIN_FRAMES = 100
"""Zero frames (1 s) kept after the content."""
STEP_FRAMES = 200
"""Trimmed windows are a multiple of this many frames (2 s)."""


def window_frames(content_frames: int) -> int:
    """The encoder input length for a window whose first ``content_frames`` frames are audio."""
    if content_frames < 0:
        raise ValueError("content_frames must be >= 0")
    padded = content_frames + MARGIN_FRAMES
    return min(FULL_WINDOW, -(-padded // STEP_FRAMES) * STEP_FRAMES)


def content_frames(features: npt.NDArray[np.float32]) -> int:
    """Frames before the trailing all-zero padding of ``(n_mels, frames)`` or ``(batch, n_mels, frames)``.

    faster-whisper pads with exact zeros; a log-Mel frame of real audio, silence included, is never all
    zero (its values are clamped to within 8 of the maximum, then shifted and scaled).
    """
    energy = np.abs(features).reshape(-1, features.shape[-2], features.shape[-1]).max(axis=(0, 1))
    nonzero = np.flatnonzero(energy)
    return int(nonzero[-1]) + 1 if len(nonzero) else 0


def pad_to_window(mel: npt.NDArray[np.float32], trim: bool = True) -> npt.NDArray[np.float32]:
    """``(n_mels, frames)`` features padded with zeros (or cut) to the encoder input the engine would give.

    With ``trim`` the length is :func:`window_frames` of the content, else the full 30 s window.
    """
    frames = min(mel.shape[-1], FULL_WINDOW)
    target = window_frames(frames) if trim else FULL_WINDOW
    out = np.zeros((mel.shape[0], target), dtype=np.float32)
    out[:, :frames] = mel[:, :frames]
    return out


class WindowTrimmer:
    """Stands in for the ``ctranslate2.models.Whisper`` of a ``WhisperModel``; trims every encoder input.

    Every attribute but :meth:`encode` is the wrapped model's (which may itself be a batching wrapper:
    trimming first means only windows of the same trimmed length are batched together).
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def encode(self, features: ctranslate2.StorageView, to_cpu: bool = False) -> ctranslate2.StorageView:
        """Encode ``features`` cut to :func:`window_frames` of their content."""
        if features.device != "cpu" or len(features.shape) != 3 or features.shape[-1] != FULL_WINDOW:
            return self.model.encode(features, to_cpu=to_cpu)
        array = np.asarray(features)
        frames = window_frames(content_frames(array))
        if frames < FULL_WINDOW:
            features = ctranslate2.StorageView.from_array(np.ascontiguousarray(array[..., :frames]))
        return self.model.encode(features, to_cpu=to_cpu)
