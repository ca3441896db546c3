"""Prometheus metrics, request ids and JSON logs."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from awaaz import logs
from awaaz.api.app import create_app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.jobs.conftest import WAIT_S, SecondsEngine, speech_wav


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data")
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    with TestClient(create_app(settings, models, preload=False), raise_server_exceptions=False) as http:
        yield http


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition ``text`` (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        sample, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample))
        if sample.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_count_requests_audio_jobs_streams_and_model_state(client: TestClient) -> None:
    upload = {"file": ("a.wav", speech_wav(3), "audio/wav")}
    assert client.post("/v1/audio/transcriptions", files=upload).status_code == 200
    job = client.post("/v1/jobs", files={"file": ("b.wav", speech_wav(2), "audio/wav")}).json()
    deadline = time.monotonic() + WAIT_S
    while client.get(f"/v1/jobs/{job['id']}").json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({"type": "start"}))
        ws.send_bytes(b"\0\0" * 16000)
        ws.send_text(json.dumps({"type": "stop"}))
        while ws.receive_json()["type"] != "end":
            pass
    client.get("/nope")

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    transcriptions = {"route": "/v1/audio/transcriptions", "method": "POST", "status": "200"}
    assert _metric(text, "awaaz_http_requests_total", **transcriptions) == 1
    polls = _metric(text, "awaaz_http_requests_total", route="/v1/jobs/{job_id}", status="200")
    assert polls >= 1  # the route's template, never the job's id
    assert _metric(text, "awaaz_http_requests_total", route="unmatched", status="404") == 1
    assert _metric(text, "awaaz_http_request_duration_seconds_count", route="/v1/audio/transcriptions") == 1
    assert _metric(text, "awaaz_audio_seconds_total", kind="file") >= 5  # 3 s request + 2 s job
    assert _metric(text, "awaaz_audio_seconds_total", kind="stream") == pytest.approx(1.0)
    assert _metric(text, "awaaz_transcription_rtf_count") == 2
    assert _metric(text, "awaaz_streams_total", protocol="stream") == 1
    assert _metric(text, "awaaz_job_outcomes_total", status="done") == 1
    assert _metric(text, "awaaz_jobs", status="queued") == 0
    assert _metric(text, "awaaz_model_loaded", model="whisper-base-hi-soup") == 1
    assert _metric(text, "awaaz_default_model_ready") == 1
    assert "awaaz_transcriptions_running" in text
    assert "awaaz_transcriptions_waiting" in text
    assert "awaaz_streams_open 0.0" in text


def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept(client: TestClient) -> None:
    first, second = client.get("/health"), client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert client.get("/health", headers={"X-Request-ID": "trace-42"}).headers["x-request-id"] == "trace-42"
    hostile = client.get("/health", headers={"X-Request-ID": "a b<script>" * 20})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    assert client.get("/nope").headers["x-request-id"]  # errors too


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every awaaz record at INFO and above, formatted as the server formats them."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("awaaz")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_access_log_is_json_with_the_request_id_and_no_audio_text_or_key(
    client: TestClient, json_log: io.StringIO
) -> None:
    upload = {"file": ("a.wav", speech_wav(2), "audio/wav")}
    response = client.post("/transcribe", files=upload, headers={"X-Request-ID": "req-1"})
    assert "खंड" in response.text
    client.get("/v1/jobs?api_key=awz_secret-in-query")
    records = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = [r for r in records if r["logger"] == "awaaz.access"]
    first = next(r for r in access if r.get("request_id") == "req-1")
    assert first["path"] == "/transcribe"
    assert first["method"] == "POST"
    assert first["status"] == 200
    assert first["duration_ms"] > 0
    assert first["caller"].startswith("address:")
    assert first["level"] == "info"
    assert "time" in first
    logged = json_log.getvalue()
    assert "खंड" not in logged  # no transcript in the logs
    assert "awz_secret-in-query" not in logged  # no query string either


def test_configure_sends_every_record_as_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("info", "json")
        token = logs.request_id.set("rid-7")
        logging.getLogger("awaaz.test").info("hello %s", "world", extra={"job": "job_1"})
        logs.request_id.reset(token)
        logging.getLogger("uvicorn.error").warning("from uvicorn")
        logging.getLogger("awaaz.test").debug("not at info")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["message"] == "hello world"
    assert lines[0]["request_id"] == "rid-7"
    assert lines[0]["job"] == "job_1"
    assert lines[1]["logger"] == "uvicorn.error"
    assert len(lines) == 2
