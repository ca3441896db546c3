"""Fixtures for model-management tests: settings over a temporary model directory, a tiny NeMo model."""

from __future__ import annotations

from pathlib import Path

import pytest

from awaaz.config import Settings
from awaaz.models.catalog import ModelCatalog
from tests.engines.tiny_nemo import build_model_dir


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose model directory is empty and private to the test."""
    return Settings.of(model_dir=tmp_path / "models", vad_filter=False)


@pytest.fixture
def catalog(settings: Settings) -> ModelCatalog:
    """A catalog over the test's model directory."""
    return ModelCatalog(settings)


@pytest.fixture(scope="session")
def nemo_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny exported NeMo CTC model (random weights), shared read-only by the session."""
    path = tmp_path_factory.mktemp("nemo") / "tiny-nemo"
    build_model_dir(path)
    return path
