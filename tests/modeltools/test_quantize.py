"""``quantize``: ONNX dynamic int8 for NeMo models, CTranslate2 compute types for Whisper models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from awaaz.config import DecodingSettings
from awaaz.engines.nemo_ctc_onnx import NemoCtcOnnxEngine
from awaaz.errors import InvalidParameterError, ModelError
from awaaz.models.catalog import ModelCatalog
from awaaz.models.registry import RegisteredModel
from awaaz.modeltools.quantize import ct2_compute_types, quantize, quantize_onnx


def _audio(seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (0.1 * rng.standard_normal(int(seconds * 16_000))).astype(np.float32)


def test_onnx_quantization_writes_int8_matmuls_and_keeps_the_outputs_close(
    nemo_model_dir: Path, tmp_path: Path
) -> None:
    before, after = quantize_onnx(nemo_model_dir, tmp_path / "q")
    assert before == (nemo_model_dir / "model.onnx").stat().st_size
    assert after == (tmp_path / "q" / "model.onnx").stat().st_size
    ops = {node.op_type for node in onnx.load(str(tmp_path / "q" / "model.onnx")).graph.node}
    assert "MatMulInteger" in ops
    assert "MatMul" not in ops
    assert (tmp_path / "q" / "vocab.txt").read_text() == (nemo_model_dir / "vocab.txt").read_text()

    decoding = DecodingSettings(vad_filter=False)
    full = NemoCtcOnnxEngine("full", nemo_model_dir, decoding=decoding).logprobs(_audio())
    quantized = NemoCtcOnnxEngine("q", tmp_path / "q", decoding=decoding).logprobs(_audio())
    assert quantized.shape == full.shape
    assert np.abs(np.exp(quantized) - np.exp(full)).mean() < 0.01
    assert (quantized.argmax(-1) == full.argmax(-1)).mean() > 0.9


def test_quantize_registers_a_nemo_variant(catalog: ModelCatalog, nemo_model_dir: Path) -> None:
    catalog.register(RegisteredModel(id="hi-nemo", engine="nemo-ctc-onnx", path=str(nemo_model_dir)))
    result = quantize(catalog, "hi-nemo")
    assert result.model.id == "hi-nemo-int8"
    assert result.model.source == "quantize:hi-nemo"
    spec = catalog.get("hi-nemo-int8")
    assert spec.engine == "nemo-ctc-onnx"
    assert catalog.prepare("hi-nemo-int8") == catalog.registry.model_dir / "quantized" / "hi-nemo-int8"
    with pytest.raises(ModelError, match="already exists"):
        quantize(catalog, "hi-nemo", new_id="hi-nemo-int8", replace=True)


def test_onnx_models_accept_only_int8_types(catalog: ModelCatalog, nemo_model_dir: Path) -> None:
    catalog.register(RegisteredModel(id="hi-nemo", engine="nemo-ctc-onnx", path=str(nemo_model_dir)))
    with pytest.raises(InvalidParameterError, match="int8, uint8"):
        quantize(catalog, "hi-nemo", compute_type="float16")


def test_whisper_variants_name_a_compute_type(catalog: ModelCatalog, tmp_path: Path) -> None:
    model = tmp_path / "ct2"
    model.mkdir()
    (model / "model.bin").write_bytes(b"\0" * 1000)
    catalog.register(RegisteredModel(id="w", engine="whisper-ct2", path=str(model)))
    result = quantize(catalog, "w", compute_type="int8_float32")
    assert (result.size_before, result.size_after) == (1000, 1000)
    spec = catalog.get("w-int8-float32")
    assert (spec.engine, spec.compute_type) == ("whisper-ct2", "int8_float32")
    assert catalog.prepare("w-int8-float32") == model


def test_unsupported_ct2_compute_type_lists_the_supported(catalog: ModelCatalog, tmp_path: Path) -> None:
    (tmp_path / "ct2").mkdir()
    catalog.register(RegisteredModel(id="w", engine="whisper-ct2", path=str(tmp_path / "ct2")))
    with pytest.raises(InvalidParameterError, match=r"supports compute types .*int8"):
        quantize(catalog, "w", compute_type="int3")
    assert "int8" in ct2_compute_types("cpu")
