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


class RedisServer:
    """A ``redis-server`` of the tests' own on a free port (Debian: redis-server); ``persistent`` keeps its
    data in an append-only file, so it survives :meth:`restart`."""

    def __init__(self, directory: Path, *, persistent: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (Debian: redis-server; .ci/run installs it)")
        self.binary, self.directory, self.port = binary, directory, free_port()
        self.persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else []
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            [self.binary, *args, *(self.persistence or ["--appendonly", "no"])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + WAIT_S
        try:
            while True:
                try:
                    client.ping()
                    return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        self.process.kill()
                        pytest.fail("redis-server did not start")
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # a clean shutdown: the append-only file is complete
            self.process.wait(10)

    def restart(self, down_s: float = 1.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A fresh ``redis-server`` on a free port, stopped after the test."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


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
