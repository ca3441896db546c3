"""``awaaz stream FILE`` and ``--mic``: audio played into a server's live protocol, finals printed as lines;
and the client commands' API key."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from awaaz.api.app import create_app
from awaaz.audio import decode_audio
from awaaz.cli import app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.jobs.conftest import SecondsEngine, speech_wav
from tests.live_server import live_server


def test_a_file_streamed_fast_prints_its_finals(tmp_path: Path, server: str) -> None:
    path = tmp_path / "talk.wav"
    path.write_bytes(speech_wav(1))
    result = CliRunner().invoke(app, ["stream", str(path), "--server", server, "--fast"])
    assert result.exit_code == 0, result.output
    finals = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert len(finals) >= 4
    assert all("खंड0" in line for line in finals)


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "talk.wav"
    path.write_bytes(speech_wav(1))
    result = CliRunner().invoke(app, ["stream", str(path), "--server", "http://127.0.0.1:9", "--fast"])
    assert result.exit_code == 1
    assert "cannot reach ws://127.0.0.1:9/v1/stream" in result.output


def test_neither_a_file_nor_the_microphone_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["stream"])
    assert result.exit_code == 1
    assert "give an audio FILE, or --mic" in result.output


def test_the_microphone_without_its_package_is_a_clear_error() -> None:
    try:  # sounddevice is an optional extra, not a dependency
        import sounddevice  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        result = CliRunner().invoke(app, ["stream", "--mic"])
        assert result.exit_code == 1
        assert "sounddevice" in result.output
    else:
        pytest.skip("sounddevice is installed here")


class _FakeMicrophone:
    """sounddevice.InputStream over a recording: 0.1 s reads, then Ctrl-C once it has all been read."""

    def __init__(self, samplerate: int, channels: int, dtype: str) -> None:
        assert (samplerate, channels, dtype) == (16_000, 1, "float32")
        self.audio = decode_audio(speech_wav(1))
        self.at = 0
        self.closed = False

    def start(self) -> None:
        pass

    def read(self, frames: int) -> tuple[np.ndarray, bool]:
        if self.at >= self.audio.shape[0]:
            raise KeyboardInterrupt
        block = self.audio[self.at : self.at + frames]
        self.at += frames
        return block.reshape(-1, 1), False

    def close(self) -> None:
        self.closed = True


def test_the_microphone_is_streamed_until_ctrl_c(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    opened: list[_FakeMicrophone] = []

    def input_stream(**kwargs: object) -> _FakeMicrophone:
        opened.append(_FakeMicrophone(**kwargs))  # type: ignore[arg-type]
        return opened[-1]

    monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(InputStream=input_stream))
    result = CliRunner().invoke(app, ["stream", "--mic", "--server", server])
    assert result.exit_code == 0, result.output
    assert "listening; Ctrl-C to stop" in result.stderr
    finals = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert len(finals) >= 4  # every sentence of the recording
    assert opened[0].closed


def test_a_missing_microphone_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_device(**_: object) -> None:
        raise OSError("Error querying device -1")

    monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(InputStream=no_device))
    result = CliRunner().invoke(app, ["stream", "--mic"])
    assert result.exit_code == 1
    assert "no microphone to record from: Error querying device -1" in result.output


@pytest.fixture
def locked_server(tmp_path: Path) -> Iterator[str]:
    settings = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data", api_keys="awz_cli-key")
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    with live_server(create_app(settings, models, preload=False)) as url:
        yield url


def test_client_commands_send_the_api_key(
    tmp_path: Path, locked_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "talk.wav"
    path.write_bytes(speech_wav(1))
    stream = ["stream", str(path), "--server", locked_server, "--fast"]
    refused = CliRunner().invoke(app, stream)
    assert refused.exit_code == 1
    assert "refused the stream: HTTP 401" in refused.output
    assert CliRunner().invoke(app, [*stream, "--api-key", "awz_cli-key"]).exit_code == 0
    remote = ["transcribe", str(path), "--server", locked_server]
    refused = CliRunner().invoke(app, remote)
    assert refused.exit_code == 1
    assert "API key" in refused.output
    monkeypatch.setenv("AWAAZ_API_KEY", "awz_cli-key")
    done = CliRunner().invoke(app, remote)
    assert done.exit_code == 0, done.output
    assert "खंड0" in done.stdout
