"""A real HTTP server on a fake engine, for the commands that talk to a server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from awaaz.api.app import create_app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
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
