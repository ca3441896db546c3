"""OpenAI's realtime transcription protocol at /v1/realtime, driven by the official openai client."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from awaaz.api.app import create_app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.jobs.conftest import SecondsEngine, speech_wav


def _pcm24k() -> bytes:
    with wave.open(io.BytesIO(speech_wav(1)), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32)
    positions = np.arange(0, samples.shape[0], 16_000 / 24_000)
    return np.interp(positions, np.arange(samples.shape[0]), samples).astype("<i2").tobytes()


@contextmanager
def _session_on_a_fake_model(tmp_path: Path) -> Iterator[Any]:
    """A realtime transcription session, past its session.created event."""
    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data")
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    with (
        TestClient(create_app(settings, models, preload=False)) as client,
        client.websocket_connect("/v1/realtime?intent=transcription") as ws,
    ):
        assert ws.receive_json()["type"] == "session.created"
        yield ws


def test_the_official_client_gets_deltas_and_completed_transcripts(server: str) -> None:
    client = OpenAI(base_url=f"{server}/v1", api_key="unused")
    pcm = _pcm24k()
    with client.realtime.connect(model="whisper-1", extra_query={"intent": "transcription"}) as connection:
        created = connection.recv()
        assert created.type == "session.created"
        connection.session.update(
            session={
                "type": "transcription",
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcm", "rate": 24_000},
                        "transcription": {"model": "whisper-1", "language": "hi"},
                    }
                },
            }
        )
        assert connection.recv().type == "session.updated"
        step = 24_000 * 2 // 10  # 0.1 s
        for at in range(0, len(pcm), step):
            connection.input_audio_buffer.append(audio=base64.b64encode(pcm[at : at + step]).decode())
        connection.input_audio_buffer.commit()
        kinds: list[str] = []
        completed: list[str] = []
        while len(completed) < 4:
            event = connection.recv()
            kinds.append(event.type)
            if event.type == "conversation.item.input_audio_transcription.completed":
                completed.append(event.transcript)
            assert event.type != "error", event
    assert "input_audio_buffer.speech_started" in kinds
    assert kinds.index("input_audio_buffer.speech_started") < kinds.index("input_audio_buffer.committed")
    assert all(text.startswith("खंड0") for text in completed)


@pytest.mark.parametrize(
    "session",
    [
        {"type": "transcription", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 96_000}}}},
        {"type": "transcription", "audio": {"input": {"format": {"rate": "fast"}}}},
        {"type": "transcription", "audio": "pcm"},
        {"input_audio_transcription": {"language": 7}},
    ],
)
def test_a_bad_session_update_is_an_error_event_and_the_session_lives_on(
    tmp_path: Path, session: dict[str, Any]
) -> None:
    with _session_on_a_fake_model(tmp_path) as ws:
        ws.send_json({"type": "session.update", "session": session})
        error = ws.receive_json()
        assert (error["type"], error["error"]["code"]) == ("error", "invalid_parameter")
        ws.send_json({"type": "session.update", "session": {"type": "transcription"}})
        assert ws.receive_json()["type"] == "session.updated"


def test_odd_or_empty_audio_is_no_dead_stream(tmp_path: Path) -> None:
    """Found by the fuzzer: base64 of 3 bytes, or of nothing, killed the session with internal_error."""
    with _session_on_a_fake_model(tmp_path) as ws:
        ws.send_json({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\0\0\0").decode()})
        error = ws.receive_json()
        assert (error["type"], error["error"]["code"]) == ("error", "invalid_audio")
        ws.send_json({"type": "input_audio_buffer.append", "audio": ""})  # empty: nothing, no failure
        ws.send_json({"type": "input_audio_buffer.append", "audio": base64.b64encode(_pcm24k()).decode()})
        ws.send_json({"type": "input_audio_buffer.commit"})
        kinds = set()
        while "conversation.item.input_audio_transcription.completed" not in kinds:
            event = ws.receive_json()
            assert event["type"] != "error", event
            kinds.add(event["type"])
