"""``awaaz models list|add|remove|pull|quantize|export-nemo`` through the command line."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from awaaz.cli.models import models_app
from awaaz.config import get_settings
from tests.modeltools.fake_hub import serve
from tests.modeltools.test_hub import CT2_FILES

runner = CliRunner()


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("AWAAZ_MODEL_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    yield tmp_path / "models"
    get_settings.cache_clear()


def _ok(*args: str) -> str:
    result = runner.invoke(models_app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _fails(*args: str) -> str:
    result = runner.invoke(models_app, list(args))
    assert result.exit_code == 1, result.output
    return result.output


def test_add_list_quantize_remove(model_dir: Path, nemo_model_dir: Path) -> None:
    assert "added hi-nemo (nemo-ctc-onnx)" in _ok(
        "add", "hi-nemo", str(nemo_model_dir), "--engine", "nemo-ctc-onnx"
    )
    listing = _ok("list")
    assert "* whisper-base" in listing
    assert "hi-nemo" in listing
    assert "nemo-ctc-onnx" in listing
    assert "hi-nemo-int8:" in _ok("quantize", "hi-nemo")
    assert "hi-nemo-int8" in _ok("list")
    quantized = model_dir / "quantized" / "hi-nemo-int8"
    assert quantized.is_dir()
    assert "deleted" in _ok("remove", "hi-nemo-int8", "--delete-files")
    assert not quantized.exists()
    assert "kept" in _ok("remove", "hi-nemo", "--delete-files")  # outside the model dir: never deleted
    assert nemo_model_dir.is_dir()
    assert "hi-nemo" not in _ok("list")


def test_add_checks_the_directory(model_dir: Path, tmp_path: Path) -> None:
    assert "not a directory" in _fails("add", "x", str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    assert "no model.bin" in _fails("add", "x", str(tmp_path / "empty"))
    assert "export-nemo" in _fails("add", "x", str(tmp_path / "empty"), "--engine", "nemo-ctc-onnx")
    assert not (model_dir / "registry.json").exists()


@pytest.mark.usefixtures("model_dir")
def test_builtin_models_cannot_be_removed() -> None:
    assert "built in" in _fails("remove", "whisper-base")


def test_pull_from_a_local_hub(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve({"Systran/faster-whisper-tiny": CT2_FILES}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        assert "pulled Systran/faster-whisper-tiny as whisper-tiny" in _ok("pull", "tiny")
    assert "whisper-tiny" in _ok("list")
    assert (model_dir / "hub" / "Systran--faster-whisper-tiny" / "model.bin").is_file()


@pytest.mark.skipif(importlib.util.find_spec("nemo") is not None, reason="nemo_toolkit is installed here")
@pytest.mark.usefixtures("model_dir")
def test_export_nemo_without_the_extra(tmp_path: Path) -> None:
    (tmp_path / "m.nemo").write_bytes(b"")
    assert "awaaz[nemo]" in _fails("export-nemo", str(tmp_path / "m.nemo"), str(tmp_path / "out"))
