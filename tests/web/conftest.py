"""The web page in a real browser: Debian's Chromium (installed by `.ci/run`) driven by Playwright for
Python, against a live server on the real default model. Chromium's fake microphone plays a Hindi WAV."""

from __future__ import annotations

import shutil
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from awaaz.api.app import create_app
from awaaz.audio import decode_audio
from awaaz.config import Settings
from awaaz.types import SAMPLE_RATE
from tests.conftest import REPO, Clip
from tests.live_server import live_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

ARTIFACTS = REPO / "test-artifacts" / "web"
MAX_JOB_UPLOAD_MB = 2.0


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("needs Debian's chromium for the browser tests (.ci/run installs it)")
    return path


def microphone_wav(clips: list[Clip], path: Path) -> Path:
    """The clips as one 16 kHz mono WAV with pauses between them (the pauses end utterances)."""
    pause = np.zeros(int(1.5 * SAMPLE_RATE), dtype=np.float32)
    parts = [pause[: SAMPLE_RATE // 2]]
    for clip in clips:
        parts += [decode_audio(clip.path.read_bytes()), pause]
    pcm = (np.clip(np.concatenate(parts), -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


@contextmanager
def real_site(folder: Path, model_dir: Path, **settings: Any) -> Iterator[str]:
    """The app on the real default model, its data in ``folder``, served until the block ends."""
    config = Settings.of(model_dir=model_dir, data_dir=folder, **settings)
    with live_server(create_app(config)) as url:
        yield url


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, model_dir: Path, default_model_path: Path
) -> Iterator[str]:
    """The app on the real default model, with a small job upload limit for the oversize test."""
    assert default_model_path.is_dir()
    folder = tmp_path_factory.mktemp("web-data")
    with real_site(folder, model_dir, max_job_upload_mb=MAX_JOB_UPLOAD_MB) as url:
        yield url


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the dev extra)")
    with sync_api.sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(
    playwright: Playwright, hindi_clips: list[Clip], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """Headless Chromium whose microphone plays the committed Hindi clips, with permission granted."""
    wav = microphone_wav(hindi_clips[:3], tmp_path_factory.mktemp("mic") / "mic.wav")
    browser = playwright.chromium.launch(
        executable_path=chromium(),
        args=[
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )
    yield browser
    browser.close()


def open_page(browser: Browser, site: str, **context: Any) -> Page:
    """A fresh context (its own storage) on the page, ready once its module has run."""
    page = browser.new_context(accept_downloads=True, **context).new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(site)
    page.wait_for_selector("body[data-ready=true]")
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under test-artifacts/web/ (kept by CI as an artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


API_KEY = "awz_browser-test-key"


@pytest.fixture(scope="module")
def locked_site(
    tmp_path_factory: pytest.TempPathFactory, model_dir: Path, default_model_path: Path
) -> Iterator[str]:
    """The app on the real default model with an API key required."""
    assert default_model_path.is_dir()
    with real_site(tmp_path_factory.mktemp("web-locked-data"), model_dir, api_keys=API_KEY) as url:
        yield url
