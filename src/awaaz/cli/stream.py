"""``awaaz stream``: play a file into a server's live protocol and print what it hears as it hears it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from awaaz.cli.common import fail
from awaaz.errors import AwaazError


def stream(
    file: Annotated[Path, typer.Argument(help="Audio file to play into the server (any format).")],
    server: Annotated[str, typer.Option(help="The server's base URL.")] = "http://127.0.0.1:8000",
    fast: Annotated[bool, typer.Option(help="Send as fast as possible instead of in real time.")] = False,
    language: Annotated[str, typer.Option(help="Language code.")] = "hi",
    model: Annotated[str | None, typer.Option(help="Model id (default: the server's).")] = None,
) -> None:
    """Partials are shown in place as they change; each final is printed as a line with its start time."""
    from awaaz.audio import stream_audio
    from awaaz.stream_client import stream_audio_to

    url = server.rstrip("/").replace("https://", "wss://").replace("http://", "ws://") + "/v1/stream"
    try:
        blocks = stream_audio(file, block_s=1.0)
    except AwaazError as exc:
        fail(exc.message)
    errors: list[str] = []

    def show(event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "partial":
            sys.stderr.write(f"\r\x1b[2K… {event['text']}")
            sys.stderr.flush()
        elif kind == "final":
            sys.stderr.write("\r\x1b[2K")
            typer.echo(f"[{event['start']:8.2f}] {event['text']}")
        elif kind == "error":
            errors.append(f"{event['code']}: {event['message']}")

    try:
        asyncio.run(stream_audio_to(url, blocks, show, language=language, model=model, fast=fast))
    except OSError as exc:
        fail(f"cannot reach {url}: {exc}")
    if errors:
        fail("; ".join(errors))
