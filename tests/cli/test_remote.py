"""``awaaz transcribe --server URL``: files go through a running server's job API, with the same output."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from awaaz.cli import app
from tests.conftest import encode, tone


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
