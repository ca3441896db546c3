"""``awaaz transcribe --server URL``: files go through a running server's job API, with the same output."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from awaaz.api.app import create_app
from awaaz.cli import app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.conftest import encode, tone
from tests.jobs.conftest import WAIT_S, SecondsEngine, free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server (uvicorn in a thread) on a fake engine, in embedded job mode."""
    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data")
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    port = free_port()
    config = uvicorn.Config(create_app(settings, models, preload=False), port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not running.started:
        assert time.monotonic() < deadline, "the server never started"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(WAIT_S)


def test_files_are_transcribed_through_the_servers_job_api(tmp_path: Path, server: str) -> None:
    audio = tmp_path / "in"
    audio.mkdir()
    (audio / "a.wav").write_bytes(encode(tone(3.0), 16_000, "wav"))
    (audio / "b.wav").write_bytes(encode(tone(2.0), 16_000, "wav"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["transcribe", str(audio), "--server", server, "-f", "srt", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "a.srt").read_text(encoding="utf-8").count(" --> ") == 3
    assert (out / "b.srt").read_text(encoding="utf-8").count(" --> ") == 2
    as_json = CliRunner().invoke(
        app, ["transcribe", str(audio / "b.wav"), "--server", server, "-f", "json", "--word-timestamps"]
    )
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert body["text"] == "खंड0 खंड1"
    assert [w["word"] for w in body["words"]] == ["खंड0", "खंड1"]


def test_a_server_refusal_is_reported_per_file(tmp_path: Path, server: str) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio" * 100)
    result = CliRunner().invoke(app, ["transcribe", str(bad), "--server", server])
    assert result.exit_code == 1
    assert "415" in result.output
    assert "bad.wav" in result.output
