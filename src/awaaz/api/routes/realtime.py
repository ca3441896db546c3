"""OpenAI's Realtime API, transcription sessions only: ``/v1/realtime`` (``?intent=transcription``).

The same live session as ``/v1/stream`` (:mod:`awaaz.streaming`) behind OpenAI's events, so the official
clients and tools built for it work: the client sends ``session.update`` (or the beta
``transcription_session.update``), ``input_audio_buffer.append`` with base64 PCM16 (24 kHz unless the
session says otherwise), ``input_audio_buffer.commit``; the server answers ``session.created``/``updated``,
``input_audio_buffer.speech_started``, ``...speech_stopped``, ``...committed``,
``conversation.item.input_audio_transcription.delta`` (partials: only the text they add) and ``.completed``
(finals), and ``error``. Turn detection is always the server's VAD.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from awaaz.api.deps import get_budget
from awaaz.api.routes.stream import checked_rate, free_slot, start_session, stream_slot
from awaaz.config import Settings
from awaaz.errors import AwaazError, RateLimitedError
from awaaz.service import TranscriptionService
from awaaz.streaming.session import Event, StreamSession
from awaaz.types import TranscribeOptions

router = APIRouter(tags=["realtime"])

RATE = 24_000
"""OpenAI's realtime PCM16 rate."""


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def _session(kind: str, rate: int, language: str, prompt: str | None) -> dict[str, Any]:
    return {
        "id": _id("sess"),
        "object": "realtime.transcription_session",
        "type": "transcription",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": rate},
                "transcription": {"model": "whisper-1", "language": language, "prompt": prompt or ""},
                "turn_detection": {"type": "server_vad"},
            }
        },
        "kind": kind,
    }


def _error(code: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "event_id": _id("event"),
        "error": {"type": "invalid_request_error", "code": code, "message": message},
    }


def _update(event: dict[str, Any]) -> tuple[int, str, str | None]:
    """(rate, language, prompt) from a session update of either API version; ValueError saying what is
    wrong otherwise."""
    try:
        session = event.get("session") or {}
        audio_input = ((session.get("audio") or {}).get("input")) or {}
        transcription = audio_input.get("transcription") or session.get("input_audio_transcription") or {}
        rate = ((audio_input.get("format") or {}).get("rate")) or RATE
        language, prompt = transcription.get("language") or "hi", transcription.get("prompt") or None
    except AttributeError as exc:
        raise ValueError("session, audio, input, format and transcription must be JSON objects.") from exc
    if not isinstance(language, str) or (prompt is not None and not isinstance(prompt, str)):
        raise ValueError("language and prompt must be strings.")
    return checked_rate(rate), language, prompt


@router.websocket("/v1/realtime")
async def realtime(ws: WebSocket) -> None:
    """One OpenAI realtime transcription session."""
    await ws.accept()
    if not stream_slot(ws):
        await ws.send_json(_error("too_many_streams", "Too many live sessions are open; retry later."))
        await ws.close(code=1013)
        return
    try:
        await _serve(ws, ws.app.state.settings)
    except WebSocketDisconnect:
        pass
    finally:
        free_slot(ws)


async def _serve(ws: WebSocket, settings: Settings) -> None:
    idle = settings.streams.stream_idle_timeout_s
    rate, language, prompt = RATE, "hi", None
    service: TranscriptionService = ws.app.state.service
    await ws.send_json(
        {
            "type": "session.created",
            "event_id": _id("event"),
            "session": _session("created", rate, language, prompt),
        }
    )
    session: StreamSession | None = None
    pump: asyncio.Task[None] | None = None
    try:
        while True:
            try:
                message = dict(await asyncio.wait_for(ws.receive(), idle))
            except TimeoutError:
                await ws.send_json(_error("idle_timeout", f"Nothing was received for {idle:g} s."))
                await ws.close(code=1008)
                return
            if message["type"] == "websocket.disconnect":
                return
            try:
                event = json.loads(message.get("text") or "")
                kind = event["type"]
            except (ValueError, KeyError, TypeError):
                await ws.send_json(_error("invalid_event", "Events are JSON objects with a type."))
                continue
            if kind in ("session.update", "transcription_session.update"):
                if session is not None:
                    await ws.send_json(_error("session_started", "Update the session before sending audio."))
                    continue
                try:
                    rate, language, prompt = _update(event)
                    service.check_options(TranscribeOptions(language=language, prompt=prompt))
                except ValueError as exc:
                    await ws.send_json(_error("invalid_parameter", str(exc)))
                    continue
                except AwaazError as exc:
                    await ws.send_json(_error(exc.code, exc.message))
                    continue
                updated = "session.updated" if kind == "session.update" else "transcription_session.updated"
                await ws.send_json(
                    {
                        "type": updated,
                        "event_id": _id("event"),
                        "session": _session("updated", rate, language, prompt),
                    }
                )
            elif kind == "input_audio_buffer.append":
                if session is None:
                    try:
                        get_budget(ws).check()
                    except RateLimitedError as exc:
                        await ws.send_json(_error(exc.code, exc.message))
                        await ws.close(code=1013, reason=exc.code)
                        return
                    options = TranscribeOptions(language=language, prompt=prompt)
                    events, ready = start_session(ws, options, rate, None)
                    session = await ready
                    pump = asyncio.create_task(_pump(ws, events))
                try:
                    session.feed(base64.b64decode(event.get("audio", ""), validate=True))
                except (binascii.Error, ValueError):
                    await ws.send_json(
                        _error("invalid_audio", "audio must be base64 of whole PCM16 samples.")
                    )
            elif kind == "input_audio_buffer.commit":
                if session is not None:
                    session.commit()
            elif kind == "input_audio_buffer.clear":
                await ws.send_json({"type": "input_audio_buffer.cleared", "event_id": _id("event")})
            else:
                await ws.send_json(
                    _error("unsupported_event", f"{kind} is not supported in a transcription session.")
                )
    finally:
        if session is not None:
            session.cancel()
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


async def _pump(ws: WebSocket, events: asyncio.Queue[Event]) -> None:
    """Session events as OpenAI realtime events."""
    item, previous, said = _id("item"), None, ""
    while True:
        event = await events.get()
        kind = event["type"]
        if kind == "speech_started":
            item, said = _id("item"), ""
            await ws.send_json(
                {
                    "type": "input_audio_buffer.speech_started",
                    "event_id": _id("event"),
                    "audio_start_ms": int(event["start"] * 1000),
                    "item_id": item,
                }
            )
        elif kind == "partial":
            text = event["text"]
            if text.startswith(said) and len(text) > len(said):
                await ws.send_json(
                    {
                        "type": "conversation.item.input_audio_transcription.delta",
                        "event_id": _id("event"),
                        "item_id": item,
                        "content_index": 0,
                        "delta": text[len(said) :],
                    }
                )
                said = text
        elif kind == "final":
            await ws.send_json(
                {
                    "type": "input_audio_buffer.speech_stopped",
                    "event_id": _id("event"),
                    "audio_end_ms": int(event["end"] * 1000),
                    "item_id": item,
                }
            )
            await ws.send_json(
                {
                    "type": "input_audio_buffer.committed",
                    "event_id": _id("event"),
                    "item_id": item,
                    "previous_item_id": previous,
                }
            )
            await ws.send_json(
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "event_id": _id("event"),
                    "item_id": item,
                    "content_index": 0,
                    "transcript": event["text"],
                }
            )
            previous = item
        elif kind == "error":
            await ws.send_json(_error(event["code"], event["message"]))
