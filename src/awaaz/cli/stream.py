"""``awaaz stream``: play a file into a server's live protocol and print what it hears as it hears it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from websockets.exceptions import InvalidStatus

from awaaz.audio import Audio
from awaaz.cli.common import ApiKeyOption, fail
from awaaz.errors import AwaazError
from awaaz.types import SAMPLE_RATE


def _microphone() -> Iterator[Audio]:
    """16 kHz mono blocks of 0.1 s from the default microphone, until Ctrl-C; opened now, so a missing
    package or device fails before anything connects."""
    try:
        import sounddevice  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        fail("--mic needs the sounddevice package (pip install sounddevice) and a microphone.")
    try:
        microphone = sounddevice.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32")
        microphone.start()
    except Exception as exc:  # PortAudio missing, no input device...
        fail(f"no microphone to record from: {exc}")
    typer.echo("listening; Ctrl-C to stop", err=True)

    def blocks() -> Iterator[Audio]:
        try:
            while True:
                block, _ = microphone.read(SAMPLE_RATE // 10)
                yield np.asarray(block, dtype=np.float32).reshape(-1)
        except KeyboardInterrupt:
            return
        finally:
            microphone.close()

    return blocks()


def stream(
    file: Annotated[
        Path | None, typer.Argument(help="Audio file to play into the server (any format).")
    ] = None,
    mic: Annotated[bool, typer.Option(help="Stream the default microphone instead of a file.")] = False,
    server: Annotated[str, typer.Option(help="The server's base URL.")] = "http://127.0.0.1:8000",
    fast: Annotated[bool, typer.Option(help="Send as fast as possible instead of in real time.")] = False,
    language: Annotated[str, typer.Option(help="Language code.")] = "hi",
    model: Annotated[str | None, typer.Option(help="Model id (default: the server's).")] = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Partials are shown in place as they change; each final is printed as a line with its start time."""
    from awaaz.audio import stream_audio
    from awaaz.stream_client import stream_audio_to

    url = server.rstrip("/").replace("https://", "wss://").replace("http://", "ws://") + "/v1/stream"
    blocks: Iterable[Audio]
    if mic:
        blocks, fast = _microphone(), True  # the microphone sets the pace
    elif file is None:
        fail("give an audio FILE, or --mic.")
    else:
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
        asyncio.run(
            stream_audio_to(url, blocks, show, language=language, model=model, fast=fast, api_key=api_key)
        )
    except OSError as exc:
        fail(f"cannot reach {url}: {exc}")
    except InvalidStatus as exc:
        body = exc.response.body.decode(errors="replace")
        fail(f"{url} refused the stream: HTTP {exc.response.status_code} {body}")
    if errors:
        fail("; ".join(errors))
