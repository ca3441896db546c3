"""Checksums and atomic directory publication for model files."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from awaaz.errors import ModelIntegrityError

CHUNK = 4 * 1024 * 1024


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of one file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def concatenate(parts: Iterable[Path], target: Path) -> str:
    """Write ``parts`` one after another into ``target``, fsync it, and return its sha256."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(CHUNK):
                    digest.update(block)
                    out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Raise :class:`ModelIntegrityError` unless ``path`` hashes to ``expected``."""
    actual = sha256_file(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path} has sha256 {actual}, expected {expected}. The file is corrupt or was changed: "
            "delete it and run `awaaz models prepare` again."
        )


def publish_directory(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a directory next to ``target`` and move it into place in one atomic rename.

    A crash at any point leaves either no ``target`` or a complete one, never a half-written model. If
    another process published ``target`` first, its copy is kept and ours is discarded.
    """
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        build(staging)
        _fsync_dir(staging)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
        _fsync_dir(target.parent)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_partials(parent: Path) -> None:
    """Delete staging directories a crashed assembly left behind."""
    if parent.is_dir():
        for stale in parent.glob(".*.partial"):
            shutil.rmtree(stale, ignore_errors=True)
