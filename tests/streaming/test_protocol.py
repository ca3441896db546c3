"""The live protocol over a real WebSocket, on a fake engine: order, stop, errors, limits, idle timeout, a
client that leaves mid-utterance."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from awaaz.api.app import create_app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.jobs.conftest import SecondsEngine, speech_wav

FRAME_S = 0.1


def _pcm(rate: int = 16_000) -> bytes:
    """The fixture speech (12 clips with 1 s pauses) as raw PCM16 at ``rate``."""
    with wave.open(io.BytesIO(speech_wav(2)), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if rate != 16_000:
        positions = np.arange(0, samples.shape[0], 16_000 / rate)
        samples = np.interp(positions, np.arange(samples.shape[0]), samples).astype("<i2")
    return samples.tobytes()


@contextmanager
def _client(tmp_path: Path, **values: Any) -> Iterator[TestClient]:
    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data", **values)
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    with TestClient(create_app(settings, models, preload=False)) as client:
        yield client


def _stream(
    client: TestClient, start: dict[str, Any], pcm: bytes, rate: int = 16_000
) -> list[dict[str, Any]]:
    step = int(rate * FRAME_S) * 2
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json(start)
        for at in range(0, len(pcm), step):
            ws.send_bytes(pcm[at : at + step])
            time.sleep(0.001)  # a fast client, but one the session can drain now and then (partials)
        ws.send_json({"type": "stop"})
        messages = []
        while True:
            message = ws.receive_json()
            messages.append(message)
            if message["type"] in ("end", "error"):
                return messages


def test_partials_then_finals_in_order_then_end(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        messages = _stream(client, {"type": "start", "language": "hi", "sample_rate": 16_000}, _pcm())
    assert messages[-1] == {"type": "end"}
    finals = [m for m in messages if m["type"] == "final"]
    partials = [m for m in messages if m["type"] == "partial"]
    assert len(finals) >= 8  # one per clip, about: utterances are cut in the pauses
    assert partials, "no partial while someone spoke"
    starts = [f["start"] for f in finals]
    assert starts == sorted(starts)
    assert all(f["end"] > f["start"] and f["text"].startswith("खंड0") for f in finals)
    assert all(w["start"] >= f["start"] - 1e-3 for f in finals for w in f["words"])
    assert finals[-1]["end"] <= 48.0
    assert {m["type"] for m in messages} == {"partial", "final", "end"}


def test_no_partials_when_interim_results_are_off_and_other_rates_are_resampled(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        start = {"type": "start", "sample_rate": 8_000, "interim_results": False}
        messages = _stream(client, start, _pcm(8_000), rate=8_000)
    assert messages[-1] == {"type": "end"}
    assert {m["type"] for m in messages} == {"final", "end"}
    assert len(messages) >= 9


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ("hello", "invalid_message"),
        ({"type": "begin"}, "invalid_message"),
        ({"type": "start", "sample_rate": 96_000}, "invalid_parameter"),
        ({"type": "start", "sample_rate": "fast"}, "invalid_parameter"),
        ({"type": "start", "model": "nope"}, "model_not_found"),
    ],
)
def test_a_bad_start_is_an_error_and_a_policy_close(tmp_path: Path, first: Any, code: str) -> None:
    with _client(tmp_path) as client, client.websocket_connect("/v1/stream") as ws:
        if isinstance(first, str):
            ws.send_text(first)
        else:
            ws.send_json(first)
        assert ws.receive_json()["code"] == code
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_oversized_frames_odd_frames_and_junk_text_are_refused(tmp_path: Path) -> None:
    with _client(tmp_path, stream_max_frame_kb=1.0) as client:
        for payload, code, close in (
            (b"\0" * 2048, "frame_too_large", 1009),
            (b"\0" * 3, "invalid_audio", 1008),
        ):
            with client.websocket_connect("/v1/stream") as ws:
                ws.send_json({"type": "start"})
                ws.send_bytes(payload)
                assert ws.receive_json()["code"] == code
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
                assert closed.value.code == close
        with client.websocket_connect("/v1/stream") as ws:
            ws.send_json({"type": "start"})
            ws.send_text('{"type": "pause"}')
            assert ws.receive_json()["code"] == "invalid_message"


def test_streams_past_the_limit_are_told_to_retry_and_a_client_that_leaves_frees_its_slot(
    tmp_path: Path,
) -> None:
    with _client(tmp_path, max_streams=1) as client:
        with client.websocket_connect("/v1/stream") as first:
            first.send_json({"type": "start"})
            first.send_bytes(_pcm()[: 16_000 * 2 * 3])  # mid-utterance
            with client.websocket_connect("/v1/stream") as second:
                refused = second.receive_json()
                assert refused["code"] == "too_many_streams"
                with pytest.raises(WebSocketDisconnect) as closed:
                    second.receive_json()
                assert closed.value.code == 1013
        # The first client left without a stop: its slot is free again.
        messages = _stream(client, {"type": "start", "interim_results": False}, _pcm()[: 16_000 * 2 * 8])
        assert messages[-1] == {"type": "end"}


def test_an_idle_client_is_closed(tmp_path: Path) -> None:
    with _client(tmp_path, stream_idle_timeout_s=0.3) as client, client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start"})
        assert ws.receive_json()["code"] == "idle_timeout"
