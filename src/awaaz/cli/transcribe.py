"""``awaaz transcribe``: files and folders of audio to text, subtitles or JSON, through the service."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from tqdm import tqdm

from awaaz import formats
from awaaz.cli.common import ApiKeyOption, fail
from awaaz.config import get_settings
from awaaz.errors import AwaazError

if TYPE_CHECKING:
    from awaaz.client import JobClient
    from awaaz.service import TranscriptionService
    from awaaz.types import Segment, TranscribeOptions

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".opus", ".webm", ".m4a", ".aac", ".mp4", ".mpga", ".mpeg"}


class OutputFormat(StrEnum):
    """File formats ``awaaz transcribe`` can write."""

    txt = "txt"
    srt = "srt"
    vtt = "vtt"
    json = "json"


FORMATS = {
    OutputFormat.txt: "text",
    OutputFormat.srt: "srt",
    OutputFormat.vtt: "vtt",
    OutputFormat.json: "verbose_json",
}
"""The response format of the API that each file format is."""


def find_audio_files(inputs: Iterable[Path]) -> list[Path]:
    """Expand files and directories (recursively) into a sorted list of audio files."""
    found: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found.extend(sorted(p for p in item.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES))
        elif item.is_file():
            found.append(item)
        else:
            fail(f"{item} does not exist.")
    return found


def transcribe(
    inputs: Annotated[list[Path], typer.Argument(help="Audio files or directories of audio files.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.txt,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write one file per input here (default: stdout).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model id (default: the configured default).")] = None,
    language: Annotated[str, typer.Option(help="Language code.")] = "hi",
    word_timestamps: Annotated[bool, typer.Option(help="Add word timings to JSON output.")] = False,
    server: Annotated[
        str | None,
        typer.Option(help="Send the files to this server's job API (e.g. http://host:8000) instead."),
    ] = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Transcribe audio files, with a progress bar over files and over audio time."""
    files = find_audio_files(inputs)
    if not files:
        fail("no audio files found in the given paths.")
    one: Callable[[Path], str]
    if server:
        from awaaz.client import JobClient

        client = JobClient(server, api_key=api_key)
        one = functools.partial(_remote_one, client, model, language, word_timestamps, fmt)
    else:
        # Imported here so that `awaaz --help` does not load faster-whisper and PyAV.
        from awaaz.models.manager import ModelManager
        from awaaz.service import TranscriptionService
        from awaaz.types import TranscribeOptions

        settings = get_settings()
        service = TranscriptionService(settings, ModelManager(settings))
        options = TranscribeOptions(language=language, word_timestamps=word_timestamps)
        one = functools.partial(_transcribe_one, service, options=options, model=model, fmt=fmt)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    failures = 0
    file_bar = tqdm(files, desc="files", unit="file", file=sys.stderr, position=0)
    for path in file_bar:
        file_bar.set_postfix_str(path.name)
        try:
            rendered = one(path)
        except AwaazError as exc:
            failures += 1
            tqdm.write(f"error: {path}: {exc.message}", file=sys.stderr)
            continue
        if output is None:
            tqdm.write(rendered.rstrip("\n"), file=sys.stdout)
        else:
            (output / f"{path.stem}.{fmt.value}").write_text(rendered, encoding="utf-8")
    file_bar.close()
    if failures:
        raise typer.Exit(code=1)


def _remote_one(
    client: JobClient, model: str | None, language: str, words: bool, fmt: OutputFormat, path: Path
) -> str:
    """One file through a server's job API, with a progress bar over its audio, rendered as ``fmt``."""
    job = client.submit(path, model=model, language=language)
    with tqdm(desc="audio", unit="s", file=sys.stderr, position=1, leave=False) as bar:

        def progress(state: dict[str, Any]) -> None:
            if state.get("duration") and bar.total is None:
                bar.total = round(state["duration"], 1)
            bar.update(round(max(state["transcribed"] - bar.n, 0.0), 1))

        client.wait(job["id"], progress)
    granularities = ("segment", "word") if words else ()
    text = client.result(job["id"], FORMATS[fmt], granularities)
    if fmt is OutputFormat.json:  # as the local path writes it
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"
    return text


def _transcribe_one(
    service: TranscriptionService,
    path: Path,
    *,
    options: TranscribeOptions,
    model: str | None,
    fmt: OutputFormat,
) -> str:
    """One file through the service (with a progress bar over its audio), rendered as ``fmt``."""
    granularities = ("segment", "word") if options.word_timestamps else ("segment",)
    response_format = FORMATS[fmt]
    words = formats.needs_word_times(response_format, granularities)
    options = dataclasses.replace(options, word_timestamps=words)
    with tqdm(desc="audio", unit="s", file=sys.stderr, position=1, leave=False) as bar:

        def progress(segment: Segment, declared: float | None) -> None:
            if declared and bar.total is None:
                bar.total = round(declared, 1)
            bar.update(round(max(segment.end - bar.n, 0.0), 1))

        result = service.transcribe_sync(path, options, model, on_segment=progress).result
    rendered = formats.render(
        result, response_format, cues=service.longform.cues, granularities=granularities
    )
    return rendered.text(indent=2)
