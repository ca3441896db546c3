"""``awaaz models quantize``: smaller, faster variants of registered models.

- ``nemo-ctc-onnx``: dynamic int8 quantization of ``model.onnx`` with ``onnxruntime.quantization`` (weights
  of MatMul/Gemm stored as int8, activations quantized on the fly), written as a new model directory.
- ``whisper-ct2``: CTranslate2 converts weights when it loads a model, to any compute type the device supports
  (``int8``, ``int8_float32``, ``int8_float16``, ``float16``, ``bfloat16``, ``float32``...). The variant is a
  registry entry naming the same files and a compute type; nothing is rewritten.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from awaaz.engines.nemo_ctc_onnx import CONFIG_FILE, MODEL_FILE, VOCAB_FILE
from awaaz.errors import InvalidParameterError, ModelError
from awaaz.models.catalog import ModelCatalog
from awaaz.models.integrity import publish_directory
from awaaz.models.registry import RegisteredModel, validate_model_id

ONNX_WEIGHT_TYPES = ("int8", "uint8")
QUANTIZED_OPS = ["MatMul", "Gemm"]
"""Conformer weights live almost all in MatMul/Gemm; ONNX Runtime's CPU has no int8 (signed) ConvInteger."""


@dataclass(frozen=True, slots=True)
class QuantizeResult:
    """What ``quantize`` made: the new entry and the model file sizes before and after (bytes)."""

    model: RegisteredModel
    size_before: int
    size_after: int
    note: str = ""


def quantize_onnx(source: Path, target: Path, *, weight_type: str = "int8") -> tuple[int, int]:
    """Write a dynamically quantized copy of the model directory ``source`` to ``target``; return sizes."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if weight_type not in ONNX_WEIGHT_TYPES:
        raise InvalidParameterError(
            f"ONNX weights can be quantized to {', '.join(ONNX_WEIGHT_TYPES)}, not {weight_type!r}.",
            param="compute_type",
        )
    if target.exists():
        raise ModelError(f"{target} already exists. Remove it or choose another id.")
    qtype = QuantType.QInt8 if weight_type == "int8" else QuantType.QUInt8

    def build(staging: Path) -> None:
        quantize_dynamic(
            source / MODEL_FILE,
            staging / MODEL_FILE,
            weight_type=qtype,
            op_types_to_quantize=QUANTIZED_OPS,
            use_external_data_format=(source / MODEL_FILE).stat().st_size > 1_800_000_000,
        )
        shutil.copyfile(source / VOCAB_FILE, staging / VOCAB_FILE)
        config = {}
        if (source / CONFIG_FILE).is_file():
            config = json.loads((source / CONFIG_FILE).read_text(encoding="utf-8"))
        config["quantization"] = {"method": "onnxruntime-dynamic", "weight_type": weight_type}
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    publish_directory(target, build)
    return _onnx_size(source), _onnx_size(target)


def _onnx_size(path: Path) -> int:
    return sum(
        p.stat().st_size for p in path.iterdir() if p.is_file() and p.name not in (VOCAB_FILE, CONFIG_FILE)
    )


def ct2_compute_types(device: str) -> list[str]:
    """The compute types CTranslate2 supports on ``device`` (``cpu`` or ``cuda``) on this machine."""
    import ctranslate2

    try:
        return sorted(ctranslate2.get_supported_compute_types(device))
    except (RuntimeError, ValueError):
        return []


def quantize(
    catalog: ModelCatalog,
    name: str,
    *,
    compute_type: str = "int8",
    new_id: str | None = None,
    device: str = "cpu",
    replace: bool = False,
) -> QuantizeResult:
    """Make and register a quantized variant of the model ``name``."""
    spec = catalog.get(name)
    model_id = new_id or f"{spec.id}-{compute_type.replace('_', '-')}"
    validate_model_id(model_id)
    source = catalog.prepare(spec.id)
    model_dir = catalog.registry.model_dir
    if spec.engine == "nemo-ctc-onnx":
        target = model_dir / "quantized" / model_id
        before, after = quantize_onnx(source, target, weight_type=compute_type)
        entry = RegisteredModel(
            id=model_id,
            engine=spec.engine,
            path=str(target.relative_to(model_dir)),
            description=f"{spec.id}, ONNX dynamic {compute_type} quantization",
            source=f"quantize:{spec.id}",
        )
        catalog.register(entry, replace=replace)
        return QuantizeResult(entry, before, after)
    if spec.engine == "whisper-ct2":
        supported = ct2_compute_types(device)
        if compute_type not in supported:
            raise InvalidParameterError(
                f"CTranslate2 on {device} supports compute types {', '.join(supported) or 'none'}; "
                f"not {compute_type!r}.",
                param="compute_type",
            )
        path = source.relative_to(model_dir) if source.is_relative_to(model_dir) else source
        size = (source / "model.bin").stat().st_size
        entry = RegisteredModel(
            id=model_id,
            engine=spec.engine,
            path=str(path),
            description=f"{spec.id} with CTranslate2 compute type {compute_type}",
            compute_type=compute_type,
            source=f"quantize:{spec.id}",
        )
        catalog.register(entry, replace=replace)
        return QuantizeResult(
            entry,
            size,
            size,
            note="CTranslate2 converts weights as the model loads: the files are shared, memory shrinks.",
        )
    raise ModelError(f"Model {spec.id!r} uses engine {spec.engine!r}, which quantize does not support.")
