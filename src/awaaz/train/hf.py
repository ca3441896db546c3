"""CTranslate2 Whisper <-> transformers ``WhisperForConditionalGeneration``, with no hub downloads.

:func:`load_hf_from_ct2` reads a CTranslate2 Whisper directory (``model.bin``, ``config.json``,
``tokenizer.json``) into a trainable torch model; :func:`export_ct2` writes a transformers model back out
through ``ctranslate2.converters.TransformersConverter``. The transformers config and tokenizer are built
from the local files only. Needs the ``train`` extra (torch, transformers).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from awaaz.whisper.ct2_file import CT2Model, read_ct2_model, read_vocabulary
from awaaz.whisper.tokens import EOT, NO_TIMESTAMPS, SOT, TRANSCRIBE, TRANSLATE

if TYPE_CHECKING:
    from transformers import WhisperForConditionalGeneration, WhisperTokenizerFast  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class WhisperDims:
    """The shape of a Whisper model, read from its CTranslate2 weights."""

    n_mels: int
    d_model: int
    encoder_layers: int
    decoder_layers: int
    encoder_heads: int
    decoder_heads: int
    ffn_dim: int
    vocab_size: int
    max_source_positions: int
    max_target_positions: int


def dims_of(ct2: CT2Model) -> WhisperDims:
    """Infer the dimensions of the Whisper model held in ``ct2``."""

    def count(prefix: str) -> int:
        pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
        return len({m.group(1) for k in ct2.variables if (m := pattern.match(k))})

    return WhisperDims(
        n_mels=int(ct2.get("encoder/conv1/weight").shape[1]),
        d_model=int(ct2.get("encoder/conv1/weight").shape[0]),
        encoder_layers=count("encoder"),
        decoder_layers=count("decoder"),
        encoder_heads=int(ct2.get("encoder/num_heads")),
        decoder_heads=int(ct2.get("decoder/num_heads")),
        ffn_dim=int(ct2.get("encoder/layer_0/ffn/linear_0/weight").shape[0]),
        vocab_size=int(ct2.get("decoder/embeddings/weight").shape[0]),
        max_source_positions=int(ct2.get("encoder/position_encodings/encodings").shape[0]),
        max_target_positions=int(ct2.get("decoder/position_encodings/encodings").shape[0]),
    )


def load_tokenizer(ct2_dir: Path) -> WhisperTokenizerFast:
    """The Whisper tokenizer of ``ct2_dir`` built from its ``tokenizer.json`` alone."""
    from transformers import WhisperTokenizerFast  # type: ignore[attr-defined]

    return WhisperTokenizerFast(
        tokenizer_file=str(ct2_dir / "tokenizer.json"),
        unk_token=EOT,
        bos_token=EOT,
        eos_token=EOT,
        pad_token=EOT,
        add_prefix_space=False,
    )


def _build_config(dims: WhisperDims, ct2_config: dict[str, Any], token_id: dict[str, int]) -> Any:
    from transformers import WhisperConfig

    eot = token_id[EOT]
    return WhisperConfig(
        vocab_size=dims.vocab_size,
        num_mel_bins=dims.n_mels,
        d_model=dims.d_model,
        encoder_layers=dims.encoder_layers,
        decoder_layers=dims.decoder_layers,
        encoder_attention_heads=dims.encoder_heads,
        decoder_attention_heads=dims.decoder_heads,
        encoder_ffn_dim=dims.ffn_dim,
        decoder_ffn_dim=dims.ffn_dim,
        max_source_positions=dims.max_source_positions,
        max_target_positions=dims.max_target_positions,
        activation_function="gelu",
        scale_embedding=False,
        tie_word_embeddings=True,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=token_id[SOT],
        suppress_tokens=list(ct2_config.get("suppress_ids", [])),
        begin_suppress_tokens=list(ct2_config.get("suppress_ids_begin", [])),
        use_cache=True,
    )


def _build_generation_config(ct2_config: dict[str, Any], token_id: dict[str, int], vocab: list[str]) -> Any:
    from transformers import GenerationConfig

    lang_ids = list(ct2_config.get("lang_ids", []))
    return GenerationConfig(
        decoder_start_token_id=token_id[SOT],
        bos_token_id=token_id[EOT],
        eos_token_id=token_id[EOT],
        pad_token_id=token_id[EOT],
        suppress_tokens=list(ct2_config.get("suppress_ids", [])),
        begin_suppress_tokens=list(ct2_config.get("suppress_ids_begin", [])),
        alignment_heads=[list(h) for h in ct2_config.get("alignment_heads", [])],
        lang_to_id={vocab[i]: i for i in lang_ids},
        task_to_id={"transcribe": token_id[TRANSCRIBE], "translate": token_id[TRANSLATE]},
        no_timestamps_token_id=token_id[NO_TIMESTAMPS],
        is_multilingual=len(lang_ids) > 1,
        max_length=dims_max_length(),
    )


def dims_max_length() -> int:
    """Longest token sequence generation is allowed (Whisper's decoder context)."""
    return 448


def _hf_state_dict(ct2: CT2Model, dims: WhisperDims) -> dict[str, np.ndarray]:
    """Map CTranslate2 variable names to transformers parameter names (float32 arrays)."""
    f = ct2.float32
    d = dims.d_model
    out: dict[str, np.ndarray] = {}

    def linear(hf: str, c: str) -> None:
        out[f"{hf}.weight"] = f(f"{c}/weight")
        out[f"{hf}.bias"] = f(f"{c}/bias")

    def norm(hf: str, c: str) -> None:
        out[f"{hf}.weight"] = f(f"{c}/gamma")
        out[f"{hf}.bias"] = f(f"{c}/beta")

    def split(hf_prefix: str, c: str, names: tuple[str, ...]) -> None:
        weight, bias = f(f"{c}/weight"), f(f"{c}/bias")
        for i, name in enumerate(names):
            out[f"{hf_prefix}.{name}.weight"] = weight[i * d : (i + 1) * d]
            if name != "k_proj":  # Whisper's key projections have no bias (it cancels in the softmax)
                out[f"{hf_prefix}.{name}.bias"] = bias[i * d : (i + 1) * d]

    enc, dec = "model.encoder", "model.decoder"
    for conv in ("conv1", "conv2"):
        linear(f"{enc}.{conv}", f"encoder/{conv}")
    out[f"{enc}.embed_positions.weight"] = f("encoder/position_encodings/encodings")
    norm(f"{enc}.layer_norm", "encoder/layer_norm")
    for i in range(dims.encoder_layers):
        hf, c = f"{enc}.layers.{i}", f"encoder/layer_{i}"
        split(f"{hf}.self_attn", f"{c}/self_attention/linear_0", ("q_proj", "k_proj", "v_proj"))
        linear(f"{hf}.self_attn.out_proj", f"{c}/self_attention/linear_1")
        norm(f"{hf}.self_attn_layer_norm", f"{c}/self_attention/layer_norm")
        linear(f"{hf}.fc1", f"{c}/ffn/linear_0")
        linear(f"{hf}.fc2", f"{c}/ffn/linear_1")
        norm(f"{hf}.final_layer_norm", f"{c}/ffn/layer_norm")
    out[f"{dec}.embed_tokens.weight"] = f("decoder/embeddings/weight")
    out[f"{dec}.embed_positions.weight"] = f("decoder/position_encodings/encodings")
    norm(f"{dec}.layer_norm", "decoder/layer_norm")
    for i in range(dims.decoder_layers):
        hf, c = f"{dec}.layers.{i}", f"decoder/layer_{i}"
        split(f"{hf}.self_attn", f"{c}/self_attention/linear_0", ("q_proj", "k_proj", "v_proj"))
        linear(f"{hf}.self_attn.out_proj", f"{c}/self_attention/linear_1")
        norm(f"{hf}.self_attn_layer_norm", f"{c}/self_attention/layer_norm")
        split(f"{hf}.encoder_attn", f"{c}/attention/linear_0", ("q_proj",))
        kv_weight, kv_bias = f(f"{c}/attention/linear_1/weight"), f(f"{c}/attention/linear_1/bias")
        out[f"{hf}.encoder_attn.k_proj.weight"] = kv_weight[:d]
        out[f"{hf}.encoder_attn.v_proj.weight"] = kv_weight[d:]
        out[f"{hf}.encoder_attn.v_proj.bias"] = kv_bias[d:]
        linear(f"{hf}.encoder_attn.out_proj", f"{c}/attention/linear_2")
        norm(f"{hf}.encoder_attn_layer_norm", f"{c}/attention/layer_norm")
        linear(f"{hf}.fc1", f"{c}/ffn/linear_0")
        linear(f"{hf}.fc2", f"{c}/ffn/linear_1")
        norm(f"{hf}.final_layer_norm", f"{c}/ffn/layer_norm")
    return out


def load_hf_from_ct2(ct2_dir: Path) -> tuple[WhisperForConditionalGeneration, WhisperTokenizerFast]:
    """Build a float32 transformers Whisper model and its tokenizer from a CTranslate2 directory.

    Every parameter of the transformers model is filled from ``model.bin``; a missing or unexpected name
    raises ``ValueError`` so a format change cannot silently leave random weights in place.
    """
    import torch
    from transformers import WhisperForConditionalGeneration

    ct2 = read_ct2_model(ct2_dir / "model.bin")
    ct2_config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    vocab = read_vocabulary(ct2_dir)
    token_id = {t: i for i, t in enumerate(vocab) if t.startswith("<|")}
    dims = dims_of(ct2)
    tokenizer = load_tokenizer(ct2_dir)
    config = _build_config(dims, ct2_config, token_id)
    with torch.device("meta"):
        model = WhisperForConditionalGeneration(config)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _hf_state_dict(ct2, dims).items()}
    model.load_state_dict(state, strict=False, assign=True)
    model.tie_weights()
    leftover = [n for n, p in model.named_parameters() if p.is_meta]
    extra = set(state) - {n for n, _ in model.state_dict().items()}
    if leftover or extra:
        raise ValueError(f"CT2 -> transformers mapping incomplete: missing {leftover}, unexpected {extra}")
    model.generation_config = _build_generation_config(ct2_config, token_id, vocab)
    model.eval()
    return model, tokenizer


def save_hf(model: WhisperForConditionalGeneration, tokenizer: WhisperTokenizerFast, out_dir: Path) -> Path:
    """Save ``model`` and ``tokenizer`` as a transformers directory (safetensors)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return out_dir


def export_ct2(
    model: WhisperForConditionalGeneration,
    tokenizer: WhisperTokenizerFast,
    out_dir: Path,
    *,
    quantization: str | None = "int8",
    reference_ct2_dir: Path | None = None,
) -> Path:
    """Write ``model`` as a CTranslate2 Whisper directory via ``TransformersConverter``.

    The model is saved to a temporary transformers directory first. When ``reference_ct2_dir`` is given,
    its ``tokenizer.json`` is copied and the exported ``vocabulary.txt`` and ``config.json`` are checked
    against it, since a model trained from it must keep the same tokens and decoding config.
    """
    from ctranslate2.converters import TransformersConverter

    if out_dir.exists():
        shutil.rmtree(out_dir)
    with tempfile.TemporaryDirectory(prefix="awaaz-hf-") as tmp:
        hf_dir = save_hf(model, tokenizer, Path(tmp) / "hf")
        if reference_ct2_dir is not None:
            shutil.copyfile(reference_ct2_dir / "tokenizer.json", hf_dir / "tokenizer.json")
        converter = TransformersConverter(str(hf_dir), copy_files=["tokenizer.json"], load_as_float16=False)
        converter.convert(str(out_dir), quantization=quantization, force=True)
    if reference_ct2_dir is not None:
        _check_same_decoding_setup(reference_ct2_dir, out_dir)
    return out_dir


def _check_same_decoding_setup(reference: Path, exported: Path) -> None:
    if read_vocabulary(reference) != read_vocabulary(exported):
        raise ValueError(
            f"Exported vocabulary differs from {reference}; the tokenizer was not rebuilt faithfully."
        )
    ref = json.loads((reference / "config.json").read_text(encoding="utf-8"))
    new = json.loads((exported / "config.json").read_text(encoding="utf-8"))
    for key in ("lang_ids", "suppress_ids", "suppress_ids_begin", "alignment_heads"):
        if [list(x) if isinstance(x, list) else x for x in ref.get(key, [])] != new.get(key):
            raise ValueError(f"Exported config {key} differs from {reference}.")
