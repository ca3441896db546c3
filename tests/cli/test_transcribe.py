"""The ``awaaz`` command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from awaaz.cli import app
from awaaz.cli.transcribe import find_audio_files
from awaaz.config import get_settings
from awaaz.text.script import is_devanagari_text
from tests.conftest import Clip

runner = CliRunner()


@pytest.fixture
def env(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWAAZ_MODEL_DIR", str(model_dir))
    get_settings.cache_clear()


def test_find_audio_files_walks_directories(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for name in ("a/x.wav", "a/y.MP3", "a/notes.txt", "z.flac"):
        (tmp_path / name).write_bytes(b"")
    found = find_audio_files([tmp_path / "a", tmp_path / "z.flac"])
    assert [p.name for p in found] == ["x.wav", "y.MP3", "z.flac"]


@pytest.mark.model
@pytest.mark.usefixtures("env", "default_model_path")
def test_transcribe_a_directory_to_srt_files(tmp_path: Path, hindi_clips: list[Clip]) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    for clip in hindi_clips[:2]:
        shutil.copy(clip.path, inbox)
    (inbox / "broken.wav").write_bytes(b"RIFF but not really a wav file at all")
    result = runner.invoke(
        app, ["transcribe", str(inbox), "--format", "srt", "--output", str(tmp_path / "out")]
    )
    assert result.exit_code == 1  # one file failed...
    assert "broken.wav" in result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())  # ...and the others were still written
    assert written == sorted(f"{c.path.stem}.srt" for c in hindi_clips[:2])
    srt = (tmp_path / "out" / written[0]).read_text(encoding="utf-8")
    assert " --> " in srt
    assert is_devanagari_text(srt.split("\n", 2)[2])


@pytest.mark.model
@pytest.mark.usefixtures("env", "default_model_path")
def test_transcribe_json_to_stdout_with_words(hindi_clips: list[Clip]) -> None:
    result = runner.invoke(
        app, ["transcribe", str(hindi_clips[0].path), "--format", "json", "--word-timestamps"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout[result.stdout.index("{") :])
    assert body["language"] == "hindi"
    assert body["words"]
    assert body["segments"]


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["transcribe", str(tmp_path / "nope.wav")])
    assert result.exit_code == 1
    assert "does not exist" in result.output


@pytest.mark.usefixtures("env", "default_model_path")
def test_models_prepare_and_list() -> None:
    prepared = runner.invoke(app, ["models", "prepare"])
    assert prepared.exit_code == 0, prepared.output
    assert "whisper-base" in prepared.output
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0
    assert "whisper-base" in listed.output
