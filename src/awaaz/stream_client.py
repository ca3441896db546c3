"""A client of a server's live protocol (``/v1/stream``): what ``awaaz stream`` uses.

Audio is sent in 0.1 s frames of PCM16 at 16 kHz, at real-time pace unless ``fast``; every server event is
handed to ``on_event`` as it arrives.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import websockets

from awaaz.audio import Audio
from awaaz.types import SAMPLE_RATE

FRAME_S = 0.1


def pcm16(audio: Audio) -> bytes:
    """Float audio in [-1, 1] as PCM16 little-endian bytes."""
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _frames(blocks: Iterable[Audio]) -> Iterable[bytes]:
    step = int(SAMPLE_RATE * FRAME_S)
    rest = np.zeros(0, dtype=np.float32)
    for block in blocks:
        rest = np.concatenate([rest, block])
        while rest.shape[0] >= step:
            yield pcm16(rest[:step])
            rest = rest[step:]
    if rest.shape[0]:
        yield pcm16(rest)


async def stream_audio_to(
    url: str,
    blocks: Iterable[Audio],
    on_event: Callable[[dict[str, Any]], None],
    *,
    language: str = "hi",
    model: str | None = None,
    fast: bool = False,
    api_key: str | None = None,
) -> None:
    """Send 16 kHz ``blocks`` to the server at ``url`` (``ws://host:port/v1/stream``) and report events
    until the server's ``end`` (or ``error``)."""
    start: dict[str, Any] = {"type": "start", "language": language, "sample_rate": SAMPLE_RATE}
    if model:
        start["model"] = model
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
    async with websockets.connect(url, max_size=None, additional_headers=headers) as ws:
        await ws.send(json.dumps(start))

        async def send() -> None:
            for frame in _frames(blocks):
                await ws.send(frame)
                await asyncio.sleep(0 if fast else FRAME_S)
            await ws.send(json.dumps({"type": "stop"}))

        sender = asyncio.create_task(send())
        try:
            async for message in ws:
                event = json.loads(message)
                on_event(event)
                if event["type"] in ("end", "error"):
                    break
        finally:
            sender.cancel()
