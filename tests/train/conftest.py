"""Fixtures for the training tests: a handful of short Hindi clips, real or generated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from awaaz.train.data import Clip, read_manifest

FIXTURE_MANIFEST = Path(__file__).resolve().parents[1] / "fixtures" / "audio" / "manifest.tsv"
SYNTHETIC_TEXTS = ("एक दो तीन", "नमस्ते भारत", "पानी और खाना", "घर की किताब", "आज का मौसम", "हिंदी गाना")


def _write_flac(path: Path, samples: np.ndarray) -> None:
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("flac", rate=16_000, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            (samples * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 16_000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def generated_clips(folder: Path) -> list[Clip]:
    """Six clips of tone sweeps, each paired with a short synthetic Hindi text."""
    rng = np.random.default_rng(0)
    clips = []
    for i, text in enumerate(SYNTHETIC_TEXTS):
        seconds = 1.5 + 0.25 * i
        t = np.arange(int(seconds * 16_000)) / 16_000
        samples = 0.3 * np.sin(2 * np.pi * (200 + 60 * i) * t * (1 + t)) + 0.01 * rng.standard_normal(t.size)
        path = folder / f"gen_{i}.flac"
        _write_flac(path, samples.astype(np.float32))
        clips.append(Clip(audio=path, text=text, duration_s=seconds, source="generated", group=f"g{i}"))
    return clips


@pytest.fixture(scope="session")
def train_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Clip]:
    """The committed fixture clips when present, else generated audio with synthetic Hindi text."""
    if FIXTURE_MANIFEST.is_file():
        clips = read_manifest(FIXTURE_MANIFEST)
        if len(clips) >= 4:
            return clips[:6]
    return generated_clips(tmp_path_factory.mktemp("generated-clips"))


def smoke_config(**overrides: Any) -> Any:
    """The TrainConfig of the CI smoke runs: six steps of batch 2, scored once at the end."""
    from awaaz.train.loop import TrainConfig

    settings: dict[str, Any] = {
        "mode": "decoder",
        "learning_rate": 5e-5,
        "warmup_fraction": 0.2,
        "batch_size": 2,
        "epochs": 100,
        "max_steps": 6,
        "eval_every": 6,
        "log_every": 1,
        "timestamp_fraction": 0.0,
        "score_base": False,
        "seed": 0,
    }
    return TrainConfig(**{**settings, **overrides})
