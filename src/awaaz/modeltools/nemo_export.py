"""Convert a NeMo ``.nemo`` CTC checkpoint into the directory the ``nemo-ctc-onnx`` engine serves.

Needs the optional extra ``nemo`` (``pip install 'awaaz[nemo]'``); serving the result does not. NeMo is
imported only inside :func:`export_nemo`, so the rest of Awaaz never pays for it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from awaaz.engines.nemo_ctc_onnx import BLANK_TOKEN, CONFIG_FILE, MODEL_FILE, VOCAB_FILE
from awaaz.errors import ModelError
from awaaz.models.integrity import publish_directory

NEMO_EXTRA_HINT = (
    "Exporting a .nemo checkpoint needs NVIDIA NeMo: install the optional extra with "
    "`pip install 'awaaz[nemo]'` (it pulls nemo_toolkit[asr] and PyTorch). Serving the exported model "
    "does not need it."
)


def write_layout(
    target: Path,
    onnx_model: Path,
    vocabulary: Sequence[str],
    *,
    preprocessor: Mapping[str, Any],
    subsampling_factor: int,
    language: str = "hi",
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write ``model.onnx``, ``vocab.txt`` (blank last) and ``config.json`` into the existing ``target``."""
    if onnx_model.resolve() != (target / MODEL_FILE).resolve():
        shutil.copyfile(onnx_model, target / MODEL_FILE)
    lines = [f"{token} {index}" for index, token in enumerate(vocabulary)]
    lines.append(f"{BLANK_TOKEN} {len(vocabulary)}")
    (target / VOCAB_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = {
        "model_type": "nemo-conformer-ctc",
        "features_size": int(preprocessor.get("features", 80)),
        "subsampling_factor": subsampling_factor,
        "language": language,
        "preprocessor": dict(preprocessor),
        **(extra or {}),
    }
    (target / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=str) + "\n", encoding="utf-8")


def export_nemo(nemo_file: Path, out_dir: Path, *, language: str = "hi") -> Path:
    """Export a NeMo CTC (or hybrid CTC/RNN-T) checkpoint to ``out_dir``, published atomically."""
    if not nemo_file.is_file():
        raise ModelError(f"{nemo_file} does not exist. Pass the path of a .nemo checkpoint.")
    if out_dir.exists():
        raise ModelError(f"{out_dir} already exists. Choose a new directory or delete it first.")
    try:
        import nemo.collections.asr as nemo_asr
        from omegaconf import OmegaConf
    except ImportError as exc:
        raise ModelError(NEMO_EXTRA_HINT) from exc

    model = nemo_asr.models.ASRModel.restore_from(str(nemo_file), map_location="cpu")
    if hasattr(model, "cur_decoder"):  # hybrid CTC/RNN-T (IndicConformer): export the CTC branch
        model.change_decoding_strategy(decoder_type="ctc")
        model.set_export_config({"decoder_type": "ctc"})
    if not hasattr(model, "decoder") or not hasattr(model.decoder, "vocabulary"):
        raise ModelError(
            f"{nemo_file} is not a CTC model; only CTC (or hybrid CTC/RNN-T) models are supported."
        )
    model.preprocessor.featurizer.dither = 0.0
    model.preprocessor.featurizer.pad_to = 0
    model.eval()
    preprocessor = OmegaConf.to_container(model.cfg.preprocessor, resolve=True)
    subsampling = int(model.cfg.encoder.get("subsampling_factor", 4))
    vocabulary = [str(token) for token in model.decoder.vocabulary]

    def build(staging: Path) -> None:
        model.export(str(staging / MODEL_FILE))
        write_layout(
            staging,
            staging / MODEL_FILE,
            vocabulary,
            preprocessor=preprocessor,
            subsampling_factor=subsampling,
            language=language,
            extra={"source": nemo_file.name},
        )

    return publish_directory(out_dir, build)
