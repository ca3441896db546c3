"""The ``awaaz`` command line: transcribe files, serve the API, manage models."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from awaaz import formats
from awaaz.cli_eval import app as eval_app
from awaaz.cli_lm import lm_app
from awaaz.cli_models import models_app
from awaaz.cli_train import synth_command, train_command
from awaaz.config import get_settings
from awaaz.errors import AwaazError

app = typer.Typer(help="Awaaz: self-hosted Hindi speech-to-text.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(lm_app, name="lm")
app.add_typer(eval_app)
app.command("train")(train_command)
app.command("synth")(synth_command)

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".opus", ".webm", ".m4a", ".aac", ".mp4", ".mpga", ".mpeg"}


class OutputFormat(StrEnum):
    """File formats ``awaaz transcribe`` can write."""

    txt = "txt"
    srt = "srt"
    vtt = "vtt"
    json = "json"


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)


def find_audio_files(inputs: Iterable[Path]) -> list[Path]:
    """Expand files and directories (recursively) into a sorted list of audio files."""
    found: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found.extend(sorted(p for p in item.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES))
        elif item.is_file():
            found.append(item)
        else:
            _fail(f"{item} does not exist.")
    return found


@app.command()
def transcribe(
    inputs: Annotated[list[Path], typer.Argument(help="Audio files or directories of audio files.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.txt,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write one file per input here (default: stdout).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model id (default: the configured default).")] = None,
    language: Annotated[str, typer.Option(help="Language code.")] = "hi",
    word_timestamps: Annotated[bool, typer.Option(help="Add word timings to JSON output.")] = False,
) -> None:
    """Transcribe audio files, with a progress bar over files and over audio time."""
    from awaaz.models.manager import ModelManager
    from awaaz.service import TranscriptionService
    from awaaz.types import TranscribeOptions

    files = find_audio_files(inputs)
    if not files:
        _fail("no audio files found in the given paths.")
    settings = get_settings()
    service = TranscriptionService(settings, ModelManager(settings))
    options = TranscribeOptions(language=language, word_timestamps=word_timestamps)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    failures = 0
    file_bar = tqdm(files, desc="files", unit="file", file=sys.stderr, position=0)
    for path in file_bar:
        file_bar.set_postfix_str(path.name)
        try:
            rendered = _transcribe_one(service, path, options, model, fmt)
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


def _transcribe_one(
    service: object, path: Path, options: object, model: str | None, fmt: OutputFormat
) -> str:
    from awaaz.service import TranscriptionService
    from awaaz.types import Segment, TranscribeOptions

    assert isinstance(service, TranscriptionService)
    assert isinstance(options, TranscribeOptions)
    wanted_words = options.word_timestamps
    if fmt is not OutputFormat.txt:  # cues are cut at word times
        options = dataclasses.replace(options, word_timestamps=True)
    with tqdm(desc="audio", unit="s", file=sys.stderr, position=1, leave=False) as bar:

        def progress(segment: Segment, declared: float | None) -> None:
            if declared and bar.total is None:
                bar.total = round(declared, 1)
            bar.update(round(max(segment.end - bar.n, 0.0), 1))

        result = service.transcribe_sync(path, options, model, on_segment=progress).result
    cues = service.longform.cues
    if fmt is OutputFormat.srt:
        return formats.to_srt(result, cues)
    if fmt is OutputFormat.vtt:
        return formats.to_vtt(result, cues)
    if fmt is OutputFormat.json:
        granularities = ("segment", "word") if wanted_words else ("segment",)
        return json.dumps(formats.to_verbose_json(result, granularities), ensure_ascii=False, indent=2) + "\n"
    return formats.to_text(result)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default: AWAAZ_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: AWAAZ_PORT).")] = None,
) -> None:
    """Start the HTTP API."""
    import uvicorn

    from awaaz.api.app import create_app

    settings = get_settings()
    logging.basicConfig(
        level=settings.server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=host or settings.server.host,
        port=port or settings.server.port,
        log_level=settings.server.log_level.lower(),
    )


def main() -> None:
    """Entry point of the ``awaaz`` script."""
    app()


if __name__ == "__main__":
    main()
