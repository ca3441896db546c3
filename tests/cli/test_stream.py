"""``awaaz stream FILE``: a file played into a server's live protocol, finals printed as lines."""

from __future__ import annotations

from pathlib import Path

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
