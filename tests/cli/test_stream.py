"""``awaaz stream FILE``: a file played into a server's live protocol, finals printed as lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from awaaz.cli import app
from tests.jobs.conftest import speech_wav


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
