"""A tiny stand-in for an exported NeMo Conformer-CTC model: NeMo's ONNX signature, random weights.

nemo_toolkit is too heavy for CI, so the "encoder" is one strided convolution (subsampling by 4, like
Conformer's) and a linear CTC head with log-softmax. Its inputs and outputs are those of ``model.export()``:
``audio_signal`` [B, n_mels, T] float32 and ``length`` [B] int64 in; ``logprobs`` [B, T', V + 1] and
``encoded_lengths`` [B] out. :func:`reference_logprobs` computes the same thing in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from awaaz.modeltools.nemo_export import write_layout

N_MELS = 80
SUBSAMPLING = 4
HIDDEN = 16
VOCABULARY = ["▁नमस्ते", "▁दुनिया", "▁हम", "▁आप", "ं", "ी", "▁", "क", "र", "ा"]
PREPROCESSOR = {
    "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
    "sample_rate": 16000,
    "normalize": "per_feature",
    "window_size": 0.025,
    "window_stride": 0.01,
    "window": "hann",
    "features": N_MELS,
    "n_fft": 512,
    "log": True,
    "frame_splicing": 1,
    "dither": 1e-05,
    "pad_to": 0,
    "pad_value": 0.0,
}


@dataclass(frozen=True)
class TinyWeights:
    """The weights of the tiny model, for the numpy reference."""

    conv_w: npt.NDArray[np.float32]  # [HIDDEN, N_MELS, SUBSAMPLING]
    conv_b: npt.NDArray[np.float32]  # [HIDDEN]
    head_w: npt.NDArray[np.float32]  # [HIDDEN, V + 1]
    head_b: npt.NDArray[np.float32]  # [V + 1]


def make_weights(seed: int = 0) -> TinyWeights:
    """Random weights, scaled so the best label changes from frame to frame."""
    rng = np.random.default_rng(seed)
    labels = len(VOCABULARY) + 1
    return TinyWeights(
        conv_w=(rng.standard_normal((HIDDEN, N_MELS, SUBSAMPLING)) * 0.3).astype(np.float32),
        conv_b=(rng.standard_normal(HIDDEN) * 0.1).astype(np.float32),
        head_w=(rng.standard_normal((HIDDEN, labels)) * 2.0).astype(np.float32),
        head_b=np.zeros(labels, dtype=np.float32),
    )


def build_onnx(weights: TinyWeights, path: Path) -> None:
    """Write the tiny model as an ONNX file with NeMo's CTC export signature."""
    labels = weights.head_w.shape[1]
    nodes = [
        helper.make_node(
            "Conv",
            ["audio_signal", "conv_w", "conv_b"],
            ["conv"],
            strides=[SUBSAMPLING],
            pads=[0, SUBSAMPLING - 1],
        ),
        helper.make_node("Tanh", ["conv"], ["hidden"]),
        helper.make_node("Transpose", ["hidden"], ["hidden_t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["hidden_t", "head_w"], ["logits_nb"]),
        helper.make_node("Add", ["logits_nb", "head_b"], ["logits"]),
        helper.make_node("LogSoftmax", ["logits"], ["logprobs"], axis=-1),
        helper.make_node("Sub", ["length", "one"], ["len_m1"]),
        helper.make_node("Div", ["len_m1", "factor"], ["len_div"]),
        helper.make_node("Add", ["len_div", "one"], ["encoded_lengths"]),
    ]
    initializers = [
        numpy_helper.from_array(weights.conv_w, "conv_w"),
        numpy_helper.from_array(weights.conv_b, "conv_b"),
        numpy_helper.from_array(weights.head_w, "head_w"),
        numpy_helper.from_array(weights.head_b, "head_b"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
        numpy_helper.from_array(np.array(SUBSAMPLING, dtype=np.int64), "factor"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_conformer_ctc",
        [
            helper.make_tensor_value_info("audio_signal", TensorProto.FLOAT, ["B", N_MELS, "T"]),
            helper.make_tensor_value_info("length", TensorProto.INT64, ["B"]),
        ],
        [
            helper.make_tensor_value_info("logprobs", TensorProto.FLOAT, ["B", "T_out", labels]),
            helper.make_tensor_value_info("encoded_lengths", TensorProto.INT64, ["B"]),
        ],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="awaaz-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_model_dir(target: Path, seed: int = 0) -> TinyWeights:
    """Write a complete ``nemo-ctc-onnx`` model directory (model.onnx, vocab.txt, config.json)."""
    target.mkdir(parents=True, exist_ok=True)
    weights = make_weights(seed)
    build_onnx(weights, target / "model.onnx")
    write_layout(
        target, target / "model.onnx", VOCABULARY, preprocessor=PREPROCESSOR, subsampling_factor=SUBSAMPLING
    )
    return weights


def reference_logprobs(weights: TinyWeights, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """The tiny model in numpy: features [N_MELS, T] -> log-probabilities [ceil(T / 4), V + 1]."""
    frames = features.shape[1]
    out_frames = (frames - 1) // SUBSAMPLING + 1
    padded = np.zeros((N_MELS, out_frames * SUBSAMPLING), dtype=np.float64)
    padded[:, :frames] = features
    windows = padded.reshape(N_MELS, out_frames, SUBSAMPLING).transpose(1, 0, 2)  # [T', mels, k]
    hidden = np.tanh(np.einsum("tmk,hmk->th", windows, weights.conv_w.astype(np.float64)) + weights.conv_b)
    logits = hidden @ weights.head_w.astype(np.float64) + weights.head_b
    logits -= logits.max(axis=-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
