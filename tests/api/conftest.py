"""An app on the real default model, driven by the official openai client through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from awaaz.api.app import create_app
from awaaz.config import Settings


@pytest.fixture(scope="module")
def api_settings(model_dir: Path, default_model_path: Path) -> Settings:
    """Small limits so the limit tests are cheap; the model cache the session prepared."""
    assert default_model_path.is_dir()
    return Settings.of(model_dir=model_dir, max_upload_mb=1.0, max_sync_duration_s=20.0)


@pytest.fixture(scope="module")
def http(api_settings: Settings) -> Iterator[TestClient]:
    """A TestClient (an httpx.Client) running the app's lifespan."""
    with TestClient(create_app(api_settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def client(http: TestClient) -> OpenAI:
    """The official openai client speaking to the app in-process."""
    return OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=http, max_retries=0)
