"""Fixtures for engine tests: a tiny NeMo-signature CTC model written to a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engines.tiny_nemo import TinyWeights, build_model_dir


@pytest.fixture(scope="session")
def tiny_nemo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TinyWeights]:
    """A ``nemo-ctc-onnx`` model directory with random weights, and those weights."""
    path = tmp_path_factory.mktemp("tiny-nemo") / "model"
    return path, build_model_dir(path)
