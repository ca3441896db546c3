"""Run the Whisper encoder of a transformers model on trimmed windows, training only its top layers.

transformers' ``WhisperEncoder.forward`` accepts nothing but 30 s windows (3,000 frames), while the engine
encodes trimmed windows (:mod:`awaaz.whisper.windows`). :func:`encode_trimmed` runs the same modules on any
even number of frames: the convolutions, the first ``frames / 2`` sinusoidal positions, the layers and the
final layer norm. The bottom layers that stay frozen run without gradients, so fine-tuning the top ``n``
layers costs their backward pass only; that makes encoder adaptation affordable on a CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from awaaz.whisper.windows import content_frames


def freeze_encoder_below(encoder: Any, trainable_layers: int) -> None:
    """Freeze the encoder except its top ``trainable_layers`` layers and its final layer norm."""
    layers = len(encoder.layers)
    if not 0 <= trainable_layers <= layers:
        raise ValueError(f"trainable encoder layers must be between 0 and {layers}, got {trainable_layers}")
    for param in encoder.parameters():
        param.requires_grad_(False)
    if trainable_layers == 0:
        return
    for layer in encoder.layers[layers - trainable_layers :]:
        for param in layer.parameters():
            param.requires_grad_(True)
    for param in encoder.layer_norm.parameters():
        param.requires_grad_(True)


def encode_trimmed(encoder: Any, features: Any, trainable_layers: int) -> Any:
    """Encoder output ``(batch, frames / 2, d_model)`` of log-Mel ``features`` ``(batch, n_mels, frames)``.

    The convolutions and the bottom ``len(layers) - trainable_layers`` layers run under ``no_grad``.
    """
    import torch
    from torch.nn import functional

    frames = int(features.shape[-1])
    positions = frames // 2
    if frames % 2 or positions > encoder.embed_positions.num_embeddings:
        raise ValueError(f"The encoder takes an even number of frames up to 3000, got {frames}.")
    frozen = len(encoder.layers) - trainable_layers
    with torch.no_grad():
        hidden = functional.gelu(encoder.conv1(features))
        hidden = functional.gelu(encoder.conv2(hidden)).permute(0, 2, 1)
        hidden = hidden + encoder.embed_positions.weight[:positions]
        for layer in encoder.layers[:frozen]:
            hidden = layer(hidden, None)
    hidden = hidden.detach()
    for layer in encoder.layers[frozen:]:
        hidden = layer(hidden, None)
    return encoder.layer_norm(hidden)


def spec_augment(
    mel: npt.NDArray[np.float32], probability: float, rng: np.random.Generator, span: int = 10
) -> npt.NDArray[np.float32]:
    """SpecAugment on ``(n_mels, frames)`` content: zero ``probability`` of the frames and of the mel bins.

    Masks are spans of ``span`` frames (or bins), as transformers' ``mask_time_length`` default; only the
    first ``content`` frames (before the zero padding) are masked, so the window's silent tail stays intact.
    """
    if probability <= 0:
        return mel
    out = mel.copy()
    content = content_frames(mel)
    for axis_length, is_time in ((content, True), (mel.shape[0], False)):
        count = int(probability * axis_length / span + rng.random())
        for _ in range(count):
            if axis_length <= span:
                break
            start = int(rng.integers(0, axis_length - span))
            if is_time:
                out[:, start : start + span] = 0.0
            else:
                out[start : start + span, :content] = 0.0
    return out
