"""Assembling the default model: once, verified by sha256, atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from awaaz.errors import ModelIntegrityError
from awaaz.models import default
from awaaz.models.integrity import concatenate, publish_directory, remove_stale_partials, verify_sha256


def test_prepare_assembles_verifies_and_reuses(tmp_path: Path) -> None:
    path = default.prepare_base_model(tmp_path)
    assert default.is_prepared(tmp_path)
    assert {p.name for p in path.iterdir()} >= {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    verify_sha256(path / "model.bin", default.BASE_MODEL_SHA256)
    mtime = (path / "model.bin").stat().st_mtime_ns
    assert default.prepare_base_model(tmp_path) == path
    assert (path / "model.bin").stat().st_mtime_ns == mtime  # reused, not rebuilt
    assert not list(tmp_path.glob(".*.partial"))


def test_an_unverified_copy_is_rebuilt(tmp_path: Path) -> None:
    target = default.base_model_path(tmp_path)
    target.mkdir(parents=True)
    (target / "model.bin").write_bytes(b"half a model")
    assert not default.is_prepared(tmp_path)
    default.prepare_base_model(tmp_path)
    verify_sha256(target / "model.bin", default.BASE_MODEL_SHA256)


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(default, "BASE_MODEL_SHA256", "0" * 64)
    with pytest.raises(ModelIntegrityError, match="Reinstall"):
        default.prepare_base_model(tmp_path)
    assert not default.base_model_path(tmp_path).exists()
    assert not list(tmp_path.glob(".*.partial"))


def test_a_crash_mid_build_never_publishes_a_partial_directory(tmp_path: Path) -> None:
    target = tmp_path / "model"

    def build(staging: Path) -> None:
        (staging / "model.bin").write_bytes(b"partial")
        raise KeyboardInterrupt  # the process dies half way

    with pytest.raises(KeyboardInterrupt):
        publish_directory(target, build)
    assert not target.exists()


def test_stale_partials_from_a_killed_process_are_cleaned(tmp_path: Path) -> None:
    stale = tmp_path / ".whisper-base-ct2.abc.partial"
    stale.mkdir()
    (stale / "model.bin").write_bytes(b"x")
    remove_stale_partials(tmp_path)
    assert not stale.exists()


def test_the_first_publisher_wins(tmp_path: Path) -> None:
    target = tmp_path / "model"

    def racing_build(staging: Path) -> None:
        (staging / "who").write_text("second")
        target.mkdir()  # another process publishes while we build
        (target / "who").write_text("first")

    assert publish_directory(target, racing_build) == target
    assert (target / "who").read_text() == "first"
    assert not list(tmp_path.glob(".*.partial"))


def test_concatenate_hashes_what_it_writes(tmp_path: Path) -> None:
    parts = [tmp_path / "a", tmp_path / "b"]
    parts[0].write_bytes(b"hello ")
    parts[1].write_bytes(b"world")
    digest = concatenate(parts, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"hello world"
    assert digest == hashlib.sha256(b"hello world").hexdigest()
    with pytest.raises(ModelIntegrityError, match="corrupt"):
        verify_sha256(tmp_path / "out", "f" * 64)
