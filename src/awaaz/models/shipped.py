"""Models trained by this project and shipped inside the package, split into parts under 50 MB.

A shipped model lives in ``awaaz/models/shipped/<model-id>/``: ``manifest.json`` lists every file of the
CTranslate2 directory with its sha256, and the parts ``model.bin.partNN`` that join into ``model.bin``. At
setup the parts are concatenated, every file is verified, and the directory is published atomically into
the model cache (the same scheme as :mod:`awaaz.models.default`). :func:`pack_model` writes that layout
from a CTranslate2 directory; it is how a training run becomes a release.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from awaaz.errors import ModelError, ModelIntegrityError
from awaaz.models.integrity import (
    concatenate,
    publish_directory,
    remove_stale_partials,
    sha256_file,
    verify_sha256,
)
from awaaz.whisper.scope import SCOPE_FILE

MANIFEST = "manifest.json"
VERIFIED_MARKER = ".sha256"
PART_BYTES = 45 * 1024 * 1024
"""Largest part written by :func:`pack_model` (GitHub rejects files over 100 MB and warns over 50 MB)."""
SIDE_FILES = (
    "config.json",
    "tokenizer.json",
    "vocabulary.json",
    "vocabulary.txt",
    "preprocessor_config.json",
    SCOPE_FILE,
)


def shipped_root() -> Path:
    """The folder inside the installed package that holds the shipped models."""
    return Path(str(resources.files("awaaz.models") / "shipped"))


def shipped_model_ids(root: Path | None = None) -> list[str]:
    """Ids of the models shipped in ``root`` (default: the package's folder)."""
    base = root or shipped_root()
    if not base.is_dir():
        return []
    return sorted(p.parent.name for p in base.glob(f"*/{MANIFEST}"))


def read_manifest(model_id: str, root: Path | None = None) -> dict[str, Any]:
    """The manifest of shipped model ``model_id``."""
    path = (root or shipped_root()) / model_id / MANIFEST
    if not path.is_file():
        raise ModelError(
            f"No shipped model {model_id!r} (no {path}). Reinstall awaaz from a complete checkout; the "
            "model parts are committed under src/awaaz/models/shipped/."
        )
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _target(model_id: str, model_dir: Path) -> Path:
    return model_dir / model_id


def is_prepared(model_id: str, model_dir: Path, root: Path | None = None) -> bool:
    """True when ``model_dir`` already holds the verified, assembled model ``model_id``."""
    marker = _target(model_id, model_dir) / VERIFIED_MARKER
    expected = read_manifest(model_id, root)["model_bin_sha256"]
    return marker.is_file() and marker.read_text().strip() == expected


def prepare_shipped_model(model_id: str, model_dir: Path, root: Path | None = None) -> Path:
    """Assemble and verify shipped model ``model_id`` into ``model_dir`` (once); return its directory."""
    manifest = read_manifest(model_id, root)
    source = (root or shipped_root()) / model_id
    target = _target(model_id, model_dir)
    if is_prepared(model_id, model_dir, root):
        return target
    if target.exists():
        shutil.rmtree(target)  # present but unverified: rebuild
    remove_stale_partials(model_dir)
    expected = str(manifest["model_bin_sha256"])

    def build(staging: Path) -> None:
        parts = []
        for part in manifest["parts"]:
            path = source / part["name"]
            if not path.is_file():
                raise ModelIntegrityError(f"Shipped model part {path} is missing. Restore it from git.")
            verify_sha256(path, part["sha256"])
            parts.append(path)
        digest = concatenate(parts, staging / "model.bin")
        if digest != expected:
            raise ModelIntegrityError(
                f"The assembled model.bin of {model_id!r} has sha256 {digest}, expected {expected}. "
                "Restore the parts from git."
            )
        for name, sha in manifest["files"].items():
            verify_sha256(source / name, sha)
            shutil.copyfile(source / name, staging / name)
        (staging / VERIFIED_MARKER).write_text(expected + "\n")

    return publish_directory(target, build)


def shipped_preparer(model_id: str) -> Callable[[Path], Path]:
    """A ``prepare(model_dir) -> path`` callable for the model catalog."""

    def prepare(model_dir: Path) -> Path:
        return prepare_shipped_model(model_id, model_dir)

    return prepare


def pack_model(
    ct2_dir: Path,
    model_id: str,
    root: Path,
    *,
    metadata: dict[str, Any] | None = None,
    part_bytes: int = PART_BYTES,
) -> Path:
    """Write CTranslate2 directory ``ct2_dir`` as shipped model ``model_id`` under ``root``.

    ``model.bin`` is cut into parts of at most ``part_bytes``; the side files are copied; ``manifest.json``
    records every sha256 plus ``metadata`` (training data, scores...). Returns the model's folder.
    """
    out = root / model_id
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    parts = []
    with (ct2_dir / "model.bin").open("rb") as handle:
        index = 0
        while block := handle.read(part_bytes):
            name = f"model.bin.part{index:02d}"
            (out / name).write_bytes(block)
            parts.append({"name": name, "sha256": sha256_file(out / name), "bytes": len(block)})
            index += 1
    files = {}
    for name in SIDE_FILES:
        if (ct2_dir / name).is_file():
            shutil.copyfile(ct2_dir / name, out / name)
            files[name] = sha256_file(out / name)
    manifest = {
        "model_id": model_id,
        "format": "ctranslate2-whisper",
        "model_bin_sha256": sha256_file(ct2_dir / "model.bin"),
        "parts": parts,
        "files": files,
        "metadata": metadata or {},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out
