"""Slow, idle and too many connections (red-team defect 4), against a real server as `awaaz serve` runs it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from awaaz.api.app import create_app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.jobs.conftest import SecondsEngine, speech_wav
from tests.live_server import live_server

LIMITS = {
    "header_timeout_s": 1.0,
    "body_idle_timeout_s": 1.0,
    "body_grace_s": 1.0,
    "min_upload_kbps": 8.0,
    "max_connections": 6,
}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, int]]:
    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data", **LIMITS)
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    with live_server(create_app(settings, models, preload=False), settings.server) as url:
        yield url, int(url.rsplit(":", 1)[1])


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed the socket (None if it stayed open); what it sent is ignored."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


def _upload_head(path: str, length: int) -> bytes:
    """A multipart upload's request head and the start of its file part (the body the app then reads)."""
    part = b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode() + part


def test_an_idle_connection_that_never_sends_a_request_is_closed(site: tuple[str, int]) -> None:
    with socket.create_connection(("127.0.0.1", site[1])) as sock:
        closed = _closed_within(sock, 5.0)
    assert closed is not None, "an idle socket stayed open"
    assert closed < 2.5


def test_headers_trickled_a_byte_at_a_time_are_cut_off(site: tuple[str, int]) -> None:
    with socket.create_connection(("127.0.0.1", site[1])) as sock:
        started = time.monotonic()
        closed = False
        for byte in b"POST /transcribe HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.send(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.1)
            if time.monotonic() - started > 5:
                break
        closed = closed or _closed_within(sock, 3.0) is not None
    assert closed
    assert time.monotonic() - started < 5.0


def test_a_body_trickled_at_100_bytes_a_second_gets_408(site: tuple[str, int]) -> None:
    with socket.create_connection(("127.0.0.1", site[1])) as sock:
        sock.sendall(_upload_head("/v1/audio/transcriptions", 100_000))
        started = time.monotonic()
        answer = b""
        sock.settimeout(0.1)
        while time.monotonic() - started < 8 and not answer:
            try:
                sock.send(b"x" * 10)
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert b"request_timeout" in answer
    assert time.monotonic() - started < 4.0


def test_a_body_that_stops_gets_408(site: tuple[str, int]) -> None:
    with socket.create_connection(("127.0.0.1", site[1])) as sock:
        sock.sendall(_upload_head("/transcribe", 1000) + b"x" * 10)
        sock.settimeout(5)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]


def test_past_the_connection_cap_requests_get_503_and_the_server_recovers(site: tuple[str, int]) -> None:
    url, port = site
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(LIMITS["max_connections"])]
    try:
        time.sleep(0.2)
        assert httpx.get(f"{url}/health").status_code == 503
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(f"{url}/health").status_code == 200


def test_an_ordinary_upload_is_unaffected(site: tuple[str, int]) -> None:
    url, _ = site
    upload = {"file": ("a.wav", speech_wav(1), "audio/wav")}
    response = httpx.post(f"{url}/transcribe", files=upload, timeout=30)
    assert response.status_code == 200, response.text
    assert "server" not in response.headers  # it said "server: uvicorn"
