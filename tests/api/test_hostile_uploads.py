"""Regression tests for the red-team defects (issue 20): uploads that make FFmpeg open sockets or other
files, headers that declare costly decoding, and clients that hang up mid-transcription."""

from __future__ import annotations

import io
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from awaaz.api.app import create_app
from awaaz.audio import decode_audio
from awaaz.config import Settings
from awaaz.longform.pieces import PiecePlanner
from awaaz.models.manager import ModelManager
from tests.conftest import FIXTURES
from tests.jobs.conftest import SecondsEngine, speech_wav
from tests.live_server import free_port, live_server

FIXTURE_CLIP = FIXTURES / "audio" / "common_voice_hi_23824468.flac"


def _udp_port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _wav_header(rate: int, channels: int, data_bytes: int, payload: bytes = b"") -> bytes:
    byte_rate = rate * channels * 2
    fmt = struct.pack("<HHIIHH", 1, channels, rate, byte_rate, channels * 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
        + payload
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.of(model_dir=tmp_path / "models", max_sync_duration_s=600.0)
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    with TestClient(create_app(settings, models, preload=False), raise_server_exceptions=False) as http:
        yield http


def test_an_sdp_upload_opens_no_socket_and_is_refused_at_once(client: TestClient) -> None:
    port = free_port()
    sdp = f"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio {port} RTP/AVP 0\n"
    started = time.monotonic()
    response = client.post("/transcribe", files={"file": ("b.sdp", sdp.encode(), "application/sdp")})
    assert response.status_code == 415
    assert time.monotonic() - started < 2.0  # FFmpeg's RTP demuxer would wait 20 s for packets
    assert _udp_port_is_free(port)
    assert _udp_port_is_free(port + 1)


@pytest.mark.parametrize(
    "playlist",
    [
        f"ffconcat version 1.0\nfile {FIXTURE_CLIP}\n",
        f"ffconcat version 1.0\nfile file:{FIXTURE_CLIP}\n",
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{FIXTURE_CLIP}\n#EXT-X-ENDLIST\n",
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{FIXTURE_CLIP}\n#EXT-X-ENDLIST\n",
        "#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/a.flac\n#EXT-X-ENDLIST\n",
    ],
)
def test_playlists_that_point_at_other_files_or_urls_are_refused(client: TestClient, playlist: str) -> None:
    response = client.post(
        "/v1/audio/transcriptions", files={"file": ("list.txt", playlist.encode(), "text/plain")}
    )
    assert response.status_code == 415, response.text  # never the server's own file, transcribed
    assert response.json()["error"]["code"] == "unsupported_media"


def test_a_header_declaring_absurd_rates_or_channels_is_refused_before_decoding(client: TestClient) -> None:
    costly = _wav_header(384_000, 8, 620 * 384_000 * 8 * 2, b"\0" * 4096)
    response = client.post("/transcribe", files={"file": ("a.wav", costly, "audio/wav")})
    assert response.status_code == 415
    assert "384000 Hz" in response.json()["error"]["message"]


def test_a_client_that_hangs_up_stops_its_transcription(tmp_path: Path) -> None:
    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data")
    engine = SecondsEngine(delay_s=0.2)  # a second of audio costs 0.2 s: the whole talk about 10 s
    models = ModelManager(settings, loader=lambda _: engine)
    app = create_app(settings, models, preload=False)
    talk = speech_wav(4)  # about 100 s: many pieces
    total = len(list(PiecePlanner(settings.longform.pieces).pieces([decode_audio(io.BytesIO(talk))])))
    with live_server(app) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{url}/v1/audio/transcriptions",
                files={"file": ("talk.wav", talk, "audio/wav")},
                timeout=httpx.Timeout(30.0, read=1.0),
            )
        time.sleep(1.5)  # the server notices within its poll, the work stops at its next piece
        pieces = len(engine.calls)
        time.sleep(2.0)
        assert len(engine.calls) == pieces, "the abandoned transcription went on"
        assert pieces <= total // 2, (pieces, total)
        service = app.state.service
        assert service.admission.stats().running == 0  # its slot is free again


def test_an_overlong_prompt_is_refused_before_any_work(client: TestClient) -> None:
    response = client.post(
        "/v1/audio/transcriptions",
        files={"file": ("a.wav", b"never decoded", "audio/wav")},
        data={"prompt": "क" * 3_000},
    )
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "prompt"


def _wav(bits: int, rate: int = 16_000, tag: int = 1, seconds: float = 2.0) -> bytes:
    """A mono WAV whose header declares ``bits`` per sample of format ``tag`` over noise."""
    width = max(1, bits // 8)
    payload = np.random.default_rng(0).integers(0, 255, int(seconds * rate) * width, dtype=np.uint8).tobytes()
    fmt = struct.pack("<HHIIHH", tag, 1, rate, rate * width, width, bits)
    size = struct.pack("<I", len(payload))
    riff = struct.pack("<I", 36 + len(payload))
    return b"RIFF" + riff + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + size + payload


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (_wav(7), "7 bits per sample"),
        (_wav(64), "64 bits per sample of integer PCM"),
        (_wav(12), "12 bits per sample"),
        (_wav(16, tag=3), "16 bits per sample of float"),
        (_wav(16, rate=100), "100 Hz"),
    ],
)
def test_wav_headers_with_odd_bit_depths_or_rates_are_refused(
    client: TestClient, upload: bytes, says: str
) -> None:
    """They used to get 200 with empty or invented text."""
    response = client.post("/transcribe", files={"file": ("odd.wav", upload, "audio/wav")})
    assert response.status_code == 415, response.text
    assert says in response.json()["error"]["message"]


@pytest.mark.parametrize(("bits", "tag"), [(8, 1), (16, 1), (24, 1), (32, 1), (32, 3), (64, 3)])
def test_wav_bit_depths_in_use_are_decoded(client: TestClient, bits: int, tag: int) -> None:
    response = client.post("/transcribe", files={"file": ("ok.wav", _wav(bits, tag=tag), "audio/wav")})
    assert response.status_code == 200, response.text


def test_an_unknown_language_is_refused_before_decoding_or_a_slot(tmp_path: Path) -> None:
    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data")
    engine = SecondsEngine()
    models = ModelManager(settings, loader=lambda _: engine)
    app = create_app(settings, models, preload=False)
    with TestClient(app, raise_server_exceptions=False) as http:
        for path in ("/v1/audio/transcriptions", "/v1/jobs"):
            response = http.post(
                path, files={"file": ("a.wav", b"not even audio", "audio/wav")}, data={"language": "xx"}
            )
            assert response.status_code == 422, response.text  # not 415: the bytes were never decoded
            assert response.json()["error"]["param"] == "language"
        assert engine.calls == []
        assert http.get("/v1/jobs").json()["data"] == []
