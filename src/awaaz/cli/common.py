"""What every command shares: how a command fails, how a client command names its server's key, and where
training text comes from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn

import typer

ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        envvar="AWAAZ_API_KEY",
        help="The server's API key, when it wants one (env AWAAZ_API_KEY).",
        show_default=False,
    ),
]


def fail(message: str) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit with status 1."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)


def text_lines(sources: list[Path], hold_out_dev: bool) -> Iterator[str]:
    """Sentences from text files (one a line) and manifests (their split=train transcripts, less awaaz
    train's dev clips with ``hold_out_dev``): what LMs and vocabularies are built from."""
    from awaaz.train.data import expand_manifests, read_manifest, split_dev

    for source in sources:
        manifests = expand_manifests([source]) if source.is_dir() or source.suffix == ".tsv" else []
        if manifests:
            clips = [clip for manifest in manifests for clip in read_manifest(manifest)]
            if hold_out_dev:
                clips, _ = split_dev(clips)  # awaaz train's default dev carve-out
            yield from (clip.text for clip in clips)
        elif source.is_file():
            with source.open(encoding="utf-8") as handle:
                yield from handle
        else:
            raise typer.BadParameter(f"{source} is neither a text file nor a manifest", param_hint="SOURCE")
