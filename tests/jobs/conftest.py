"""Fixtures for jobs: a Redis server of the test's own, a fake engine that hears one segment a second."""

from __future__ import annotations

import functools
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest
import redis

from awaaz.audio import Audio, decode_audio
from awaaz.types import SAMPLE_RATE, Segment, TranscribeOptions, Word
from tests.conftest import encode, read_fixture_clips
from tests.fakes import FakeEngine
from tests.live_server import free_port

WAIT_S = 60.0
"""How long a test waits for something that should happen within seconds."""


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A fresh ``redis-server`` on a free port, stopped after the test (Debian: redis-server)."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (Debian: redis-server; .ci/run installs it)")
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    try:
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(10)


class SecondsEngine(FakeEngine):
    """Hears one segment per whole second of the audio it is given, each after ``delay_s`` of work."""

    model_id = "whisper-base-hi-soup"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[float] = []

    def answer(self, audio: Audio, options: TranscribeOptions) -> Iterable[Segment]:  # noqa: ARG002
        seconds = audio.shape[0] // SAMPLE_RATE
        self.calls.append(audio.shape[0] / SAMPLE_RATE)
        for k in range(seconds):
            time.sleep(self.delay_s)
            yield Segment(k, float(k), k + 1.0, f"खंड{k}", words=(Word(k + 0.1, k + 0.9, f"खंड{k}", 1.0),))


@functools.cache
def speech_wav(rounds: int = 2, gap_s: float = 1.0) -> bytes:
    """The CC0 fixture clips, ``rounds`` times over with ``gap_s`` of silence after each, as one WAV:
    real speech, so that the long-form cutter makes several pieces of it (a tone has no speech in it)."""
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    parts = [
        np.concatenate([decode_audio(clip.path), gap]) for _ in range(rounds) for clip in read_fixture_clips()
    ]
    return encode(np.concatenate(parts)[None, :], SAMPLE_RATE, "wav")
