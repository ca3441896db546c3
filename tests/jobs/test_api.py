"""The job API in embedded mode, on a fake engine: lifecycle, formats, partial results, cancel, limits,
retention, webhooks, restarts, and synchronous requests beside a long job."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from awaaz.api.app import create_app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.conftest import encode, tone
from tests.jobs.conftest import WAIT_S, SecondsEngine, speech_wav


def _settings(tmp_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "model_dir": tmp_path / "models",
        "data_dir": tmp_path / "data",
        "max_inflight": 2,
        "job_lease_s": 30.0,
    }
    return Settings.of(**{**base, **values})


@contextmanager
def _client(settings: Settings, engine: SecondsEngine) -> Iterator[TestClient]:
    models = ModelManager(settings, loader=lambda _: engine)
    with TestClient(create_app(settings, models, preload=False), raise_server_exceptions=False) as client:
        yield client


def _wav(seconds: float) -> bytes:
    return encode(tone(seconds), 16_000, "wav")


def _submit(client: TestClient, seconds: float | None, **form: str) -> dict[str, Any]:
    """Submit ``seconds`` of tone (one piece), or with None the fixture speech (several pieces)."""
    audio = speech_wav() if seconds is None else _wav(seconds)
    response = client.post("/v1/jobs", files={"file": ("talk.wav", audio, "audio/wav")}, data=form)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/jobs/{body['id']}"
    return body


def _until(client: TestClient, job_id: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if done(job):
            return job
        time.sleep(0.05)
    pytest.fail(f"job {job_id} never got there: {job}")


def _finished(job: dict[str, Any]) -> bool:
    return job["status"] in ("done", "failed", "cancelled")


def test_a_job_runs_to_done_and_its_result_reads_in_every_format(tmp_path: Path) -> None:
    with _client(_settings(tmp_path), SecondsEngine()) as client:
        job = _submit(client, 5.0)
        assert job["status"] == "queued"
        assert job["duration"] == pytest.approx(5.0, abs=0.01)
        done = _until(client, job["id"], _finished)
        assert (done["status"], done["progress"], done["segments"], done["attempts"]) == ("done", 1.0, 5, 1)
        assert done["finished_at"] >= done["started_at"] >= done["created_at"]
        url = f"/v1/jobs/{job['id']}/result"
        assert client.get(url).json() == {"text": "खंड0 खंड1 खंड2 खंड3 खंड4"}
        assert client.get(url, params={"format": "text"}).text == "खंड0 खंड1 खंड2 खंड3 खंड4\n"
        srt = client.get(url, params={"format": "srt"}).text
        assert srt.count(" --> ") == 5
        assert "00:00:04,000 --> 00:00:05,000" in srt
        assert client.get(url, params={"format": "vtt"}).text.startswith("WEBVTT")
        verbose = client.get(
            url, params={"format": "verbose_json", "timestamp_granularities[]": "word"}
        ).json()
        assert [w["word"] for w in verbose["words"]] == [f"खंड{k}" for k in range(5)]
        assert verbose["duration"] == pytest.approx(5.0, abs=0.01)
        listed = client.get("/v1/jobs", params={"limit": 1}).json()
        assert [j["id"] for j in listed["data"]] == [job["id"]]


def test_until_done_the_result_is_409_but_a_partial_one_shows_what_is_transcribed(tmp_path: Path) -> None:
    with _client(_settings(tmp_path), SecondsEngine(delay_s=0.1)) as client:
        job = _submit(client, None)  # several pieces: segments come piece by piece
        running = _until(client, job["id"], lambda j: j["segments"] >= 1)
        assert running["status"] == "running"
        assert 0 < running["progress"] < 1
        early = client.get(f"/v1/jobs/{job['id']}/result")
        assert early.status_code == 409
        assert early.json()["error"]["code"] == "job_not_done"
        partial = client.get(f"/v1/jobs/{job['id']}/result", params={"partial": "true"}).json()
        assert partial["text"].startswith("खंड0")
        done = _until(client, job["id"], _finished)
        whole = client.get(f"/v1/jobs/{job['id']}/result").json()
        assert len(whole["text"].split()) == done["segments"] > running["segments"]


def test_cancel_stops_a_running_job_and_deletes_its_audio(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with _client(settings, SecondsEngine(delay_s=0.1)) as client:
        job = _submit(client, None)
        _until(client, job["id"], lambda j: j["segments"] >= 1)
        cancelled = client.delete(f"/v1/jobs/{job['id']}").json()
        assert cancelled["status"] == "cancelled"
        assert not (settings.jobs.data_dir / "jobs" / "audio" / job["id"]).exists()
        time.sleep(1.0)  # the worker stops at its next step
        count = client.get(f"/v1/jobs/{job['id']}").json()["segments"]
        time.sleep(0.6)
        after = client.get(f"/v1/jobs/{job['id']}").json()
        assert (after["status"], after["segments"]) == ("cancelled", count)
        assert count < 40  # the whole would have been about 48
        assert client.get(f"/v1/jobs/{job['id']}/result").status_code == 409


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/jobs/nope", 404, "job_not_found"),
        ("GET", "/v1/jobs/job_" + "0" * 32, 404, "job_not_found"),
        ("DELETE", "/v1/jobs/job_" + "0" * 32, 404, "job_not_found"),
        ("GET", "/v1/jobs/../etc/result", 404, "not_found"),
        ("GET", "/v1/jobs/job_" + "0" * 32 + "/result?format=xml", 422, "invalid_parameter"),
        ("GET", "/v1/jobs?limit=0", 422, "invalid_parameter"),
    ],
)
def test_bad_ids_and_options_are_clear_errors(
    tmp_path: Path, method: str, path: str, status: int, code: str
) -> None:
    with _client(_settings(tmp_path), SecondsEngine()) as client:
        response = client.request(method, path)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("form", "data", "status", "code"),
    [
        ({"temperature": "2"}, None, 422, "invalid_parameter"),
        ({"model": "no-such-model"}, None, 422, "invalid_parameter"),
        ({"callback_url": "http://evil.example/hook"}, None, 422, "invalid_parameter"),
        ({}, b"this is not audio at all" * 100, 415, "unsupported_media"),
        ({}, b"", 400, "empty_file"),
    ],
)
def test_bad_submissions_are_refused_and_leave_no_file(
    tmp_path: Path, form: dict[str, str], data: bytes | None, status: int, code: str
) -> None:
    settings = _settings(tmp_path, webhook_allowed_hosts="hooks.example")
    with _client(settings, SecondsEngine()) as client:
        body = _wav(1.0) if data is None else data
        response = client.post("/v1/jobs", files={"file": ("a.wav", body, "audio/wav")}, data=form)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert client.get("/v1/jobs").json()["data"] == []
    audio = settings.jobs.data_dir / "jobs" / "audio"
    assert not audio.exists() or list(audio.iterdir()) == []


def test_uploads_past_the_job_limits_are_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path, max_job_upload_mb=0.05, max_job_duration_s=3.0)
    with _client(settings, SecondsEngine()) as client:
        big = client.post("/v1/jobs", files={"file": ("a.wav", _wav(4.0), "audio/wav")})  # 128 kB
        assert big.status_code == 413
        assert "0.05 MB" in big.json()["error"]["message"]
        long = client.post(
            "/v1/jobs", files={"file": ("a.ogg", encode(tone(5.0), 16_000, "ogg"), "audio/ogg")}
        )
        assert long.status_code == 400
        assert long.json()["error"]["code"] == "audio_too_long"


def test_finished_jobs_and_their_audio_go_after_the_retention_period(tmp_path: Path) -> None:
    settings = _settings(tmp_path, job_retention_h=0.5 / 3600)
    with _client(settings, SecondsEngine()) as client:
        job = _submit(client, 2.0)
        _until(client, job["id"], _finished)
        time.sleep(0.6)
        manager = client.app.state.jobs.manager  # type: ignore[attr-defined]
        assert manager.purge() == [job["id"]]
        assert client.get(f"/v1/jobs/{job['id']}").status_code == 404
        assert not (settings.jobs.data_dir / "jobs" / "audio" / job["id"]).exists()


def test_the_webhook_reaches_an_allowed_host_signed(tmp_path: Path) -> None:
    received: list[tuple[dict[str, Any], str, bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers.get("X-Awaaz-Signature", ""), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = _settings(tmp_path, webhook_allowed_hosts="127.0.0.1", webhook_secret="s3cret")
    try:
        with _client(settings, SecondsEngine()) as client:
            url = f"http://127.0.0.1:{server.server_port}/done"
            job = _submit(client, 2.0, callback_url=url)
            _until(client, job["id"], _finished)
            deadline = time.monotonic() + WAIT_S
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        server.shutdown()
    ((payload, signature, body),) = received
    assert (payload["id"], payload["status"]) == (job["id"], "done")
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


def test_synchronous_requests_keep_a_slot_while_jobs_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path, max_inflight=2, job_workers=4)  # 4 asked, 1 allowed: one slot stays free
    with _client(settings, SecondsEngine(delay_s=0.3)) as client:
        first, second = _submit(client, 20.0), _submit(client, 20.0)
        _until(client, first["id"], lambda j: j["status"] == "running")
        started = time.monotonic()
        response = client.post(
            "/v1/audio/transcriptions",
            files={"file": ("a.wav", _wav(1.0), "audio/wav")},
            data={"model": "whisper-1"},
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert response.json()["text"] == "खंड0"
        assert elapsed < 3.0  # not behind the 6 s job
        assert client.get(f"/v1/jobs/{second['id']}").json()["status"] == "queued"  # one job at a time
        assert client.get(f"/v1/jobs/{first['id']}").json()["status"] == "running"
        for job in (first, second):
            client.delete(f"/v1/jobs/{job['id']}")


def test_a_job_stopped_by_a_restart_resumes_after_its_last_segment_exactly_once(tmp_path: Path) -> None:
    # Without the stretch check, which decodes each piece a second time: the seconds the resumed run
    # decodes then say whether it started over.
    settings = _settings(tmp_path, longform_coverage_pause_s=0.0)
    with _client(settings, SecondsEngine(delay_s=0.1)) as client:
        job = _submit(client, None)
        stopped = _until(client, job["id"], lambda j: j["segments"] >= 1)
    # The app stopped mid-job: the job is left running, its segments stored.
    resumed_engine = SecondsEngine()
    with _client(settings, resumed_engine) as client:
        done = _until(client, job["id"], _finished)
        assert (done["status"], done["attempts"]) == ("done", 2)
        verbose = client.get(f"/v1/jobs/{job['id']}/result", params={"format": "verbose_json"}).json()
        manager = client.app.state.jobs.manager  # type: ignore[attr-defined]
        writes = manager.store.segment_writes(job["id"])
    segments = verbose["segments"]
    assert [s["id"] for s in segments] == list(range(len(segments)))
    assert all(b["start"] >= a["end"] - 1e-6 for a, b in itertools.pairwise(segments))  # nothing twice
    assert writes == len(segments) == done["segments"]
    first_run = stopped["segments"]
    assert first_run < len(segments)
    assert sum(resumed_engine.calls) < 48 - segments[first_run - 1]["end"] + 1  # only the rest again


class BrokenEngine(SecondsEngine):
    """Fails as a broken library does."""

    def answer(self, audio: Any, options: Any) -> Iterator[Any]:  # noqa: ARG002
        yield from ()
        raise RuntimeError("CUDA error: an illegal memory access was encountered")


def test_a_failing_transcription_fails_the_job_with_the_error_and_the_worker_goes_on(tmp_path: Path) -> None:
    with _client(_settings(tmp_path), BrokenEngine()) as client:
        first = _submit(client, 2.0)
        failed = _until(client, first["id"], _finished)
        assert failed["status"] == "failed"
        assert failed["error"]["type"] == "server_error"
        assert failed["error"]["code"] == "internal_error"
        assert "illegal memory access" in failed["error"]["message"]
        second = _submit(client, 2.0)  # the worker thread lived on
        assert _until(client, second["id"], _finished)["status"] == "failed"
