"""Live transcription on the real default model: partials while speech goes on, then finals close to the
offline transcript of the same audio."""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from awaaz.api.app import create_app
from awaaz.config import Settings
from awaaz.text.metrics import wer
from tests.jobs.conftest import speech_wav

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_partials_then_finals_that_match_the_offline_transcript(
    tmp_path: Path, model_dir: Path, default_model_path: Path
) -> None:
    assert default_model_path.is_dir()
    audio = speech_wav(1)  # the six CC0 clips, 1 s of silence after each
    with wave.open(io.BytesIO(audio), "rb") as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").tobytes()
    settings = Settings.of(model_dir=model_dir, data_dir=tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        offline = client.post(
            "/v1/audio/transcriptions", files={"file": ("a.wav", audio, "audio/wav")}
        ).json()["text"]
        with client.websocket_connect("/v1/stream") as ws:
            ws.send_json({"type": "start", "language": "hi", "sample_rate": 16_000})
            for at in range(0, len(pcm), 3200):  # 0.1 s frames at 4x real time, as a fast client would
                ws.send_bytes(pcm[at : at + 3200])
                time.sleep(0.025)
            ws.send_json({"type": "stop"})
            messages = []
            while not messages or messages[-1]["type"] not in ("end", "error"):
                messages.append(ws.receive_json())
    assert messages[-1] == {"type": "end"}, messages[-1]
    finals = [m for m in messages if m["type"] == "final"]
    assert any(m["type"] == "partial" for m in messages)
    assert len(finals) >= 4
    live = " ".join(f["text"] for f in finals)
    assert wer(offline, live) <= 0.25, (offline, live)
    assert all(f["words"] for f in finals)
