"""Admission control, 429 + Retry-After and per-request timeouts, through the app with a fake slow engine."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from awaaz.api.app import create_app
from awaaz.audio import Audio
from awaaz.concurrency import Admission
from awaaz.config import Settings
from awaaz.engines.base import Engine
from awaaz.errors import OverloadedError, TranscriptionTimeoutError
from awaaz.models.manager import ModelManager
from awaaz.types import Segment, TranscribeOptions, Transcription, TranscriptionInfo
from tests.conftest import encode, tone
from tests.fakes import FakeEngine

WAIT_S = 30.0
"""How long a test waits for something that should happen at once; never reached when all is well."""


class GatedEngine(FakeEngine):
    """A fake engine whose segments wait for the test to open a gate, and which counts what it did."""

    model_id = "whisper-base"

    def __init__(self, segments: int = 1) -> None:
        self.gate = threading.Event()
        self.segments = segments
        self.started = threading.Semaphore(0)
        self.produced = 0
        self._lock = threading.Lock()

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:  # noqa: ARG002
        """Announce the start, then yield segments once the gate opens."""
        self.started.release()
        info = TranscriptionInfo(language="hi", duration=len(audio) / 16_000, model=self.model_id)
        return Transcription(info=info, segments=self._segments())

    def _segments(self) -> Iterator[Segment]:
        for index in range(self.segments):
            assert self.gate.wait(WAIT_S), "the test never opened the gate"
            with self._lock:
                self.produced += 1
            yield Segment(id=index, start=0.0, end=1.0, text=f"खंड{index}")


def FakeModels(settings: Settings, engine: Engine) -> ModelManager:  # noqa: N802
    """A model manager whose every model is ``engine`` (nothing is loaded from disk)."""
    return ModelManager(settings, loader=lambda _: engine)


@pytest.fixture(scope="module")
def wav() -> bytes:
    """Half a second of tone as WAV bytes."""
    return encode(tone(0.5), 16_000, "wav")


def _settings(tmp_path: Path, **limits: float) -> Settings:
    return Settings.of(model_dir=tmp_path, **limits)


def _post(client: TestClient, wav: bytes) -> httpx.Response:
    return client.post("/v1/audio/transcriptions", files={"file": ("a.wav", wav, "audio/wav")})


def _wait_started(engine: GatedEngine, count: int) -> None:
    for _ in range(count):
        assert engine.started.acquire(timeout=WAIT_S), "a transcription never started"


def test_saturated_server_answers_429_with_retry_after(tmp_path: Path, wav: bytes) -> None:
    engine = GatedEngine()
    settings = _settings(tmp_path, max_inflight=1, max_queue=1)
    app = create_app(settings, FakeModels(settings, engine), preload=False)
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(2) as pool:
        running: Future[httpx.Response] = pool.submit(_post, client, wav)
        _wait_started(engine, 1)
        queued: Future[httpx.Response] = pool.submit(_post, client, wav)
        service = app.state.service
        for _ in range(int(WAIT_S * 100)):  # until the second request is in line
            if service.admission.stats().waiting == 1:
                break
            threading.Event().wait(0.01)
        refused = _post(client, wav)
        engine.gate.set()
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"]["code"] == "overloaded"
        assert running.result(WAIT_S).status_code == 200
        assert queued.result(WAIT_S).json() == {"text": "खंड0"}
    assert engine.produced == 2  # the refused request never reached the engine


def test_queued_requests_run_once_a_slot_frees(tmp_path: Path, wav: bytes) -> None:
    engine = GatedEngine()
    settings = _settings(tmp_path, max_inflight=2, max_queue=4)
    app = create_app(settings, FakeModels(settings, engine), preload=False)
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(_post, client, wav) for _ in range(6)]
        _wait_started(engine, 2)
        assert app.state.service.admission.stats().running == 2  # never more than max_inflight
        engine.gate.set()
        statuses = [f.result(WAIT_S).status_code for f in futures]
    assert statuses == [200] * 6
    assert engine.produced == 6


def test_request_past_its_timeout_gets_504_and_the_work_stops(tmp_path: Path, wav: bytes) -> None:
    engine = GatedEngine(segments=3)
    settings = _settings(tmp_path, max_inflight=1, max_queue=1, request_timeout_s=0.05)
    app = create_app(settings, FakeModels(settings, engine), preload=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = _post(client, wav)
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "timeout"
        admission = app.state.service.admission
        assert admission.stats().running == 1  # the slot stays held while the worker still runs
        engine.gate.set()
        for _ in range(int(WAIT_S * 100)):
            if admission.stats().running == 0:
                break
            threading.Event().wait(0.01)
        assert admission.stats().running == 0
    assert engine.produced == 1  # stopped at the next segment, not run to the end


def test_event_loop_stays_responsive_while_transcriptions_run(tmp_path: Path, wav: bytes) -> None:
    engine = GatedEngine()
    settings = _settings(tmp_path, max_inflight=2, max_queue=0)
    app = create_app(settings, FakeModels(settings, engine), preload=False)
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(_post, client, wav) for _ in range(2)]
        _wait_started(engine, 2)
        assert client.get("/health").status_code == 200  # answered while both slots are busy
        engine.gate.set()
        assert [f.result(WAIT_S).status_code for f in futures] == [200, 200]


# --- Admission on its own ---------------------------------------------------------------------------


def test_admission_refuses_past_the_queue_and_hands_slots_over_in_order() -> None:
    async def scenario() -> list[str]:
        admission = Admission(max_inflight=1, max_queue=2)
        order: list[str] = []
        first = await admission.acquire()

        async def waiter(name: str) -> None:
            slot = await admission.acquire()
            order.append(name)
            slot.release()

        tasks = [asyncio.create_task(waiter(n)) for n in ("b", "c")]
        await asyncio.sleep(0)
        assert admission.stats().waiting == 2
        with pytest.raises(OverloadedError) as refused:
            await admission.acquire()
        assert refused.value.retry_after_s >= 1.0
        first.release()
        await asyncio.gather(*tasks)
        assert admission.stats().running == 0
        return order

    assert asyncio.run(scenario()) == ["b", "c"]


def test_admission_wait_times_out_and_leaves_the_line() -> None:
    async def scenario() -> None:
        admission = Admission(max_inflight=1, max_queue=1)
        held = await admission.acquire()
        with pytest.raises(TranscriptionTimeoutError):
            await admission.acquire(timeout_s=0.01)
        assert admission.stats().waiting == 0
        held.release()
        held.release()  # idempotent
        assert admission.stats().running == 0

    asyncio.run(scenario())


def test_retry_after_grows_with_the_line() -> None:
    clock = [0.0]
    admission = Admission(max_inflight=2, max_queue=10, initial_run_s=4.0, clock=lambda: clock[0])
    assert admission.retry_after_s() == 4.0
    admission._running = 2
    admission._waiters = [object()] * 3  # type: ignore[list-item]
    assert admission.retry_after_s() == 12.0  # three rounds of two
