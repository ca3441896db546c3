"""Live transcription over WebSocket: ``/v1/stream`` (the native protocol, README "Live transcription").

The client sends ``{"type": "start", ...}``, then binary frames of PCM16 little-endian mono, then
``{"type": "stop"}``; the server sends ``partial`` and ``final`` messages, then ``end`` and closes.
Protocol errors get ``{"type": "error", "code", "message"}`` and a close code: 1008 (a bad message),
1009 (a frame too big), 1013 (too many streams: try again later), 1011 (a server failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from awaaz.api.deps import get_budget
from awaaz.api.observability import Metrics
from awaaz.api.slots import call_on
from awaaz.config import Settings
from awaaz.errors import AwaazError, RateLimitedError
from awaaz.models.manager import ModelManager
from awaaz.service import TranscriptionService
from awaaz.streaming.session import Event, Slots, StreamSession
from awaaz.types import TranscribeOptions

log = logging.getLogger(__name__)

router = APIRouter(tags=["stream"])

POLICY, TOO_BIG, TRY_LATER, FAILED = 1008, 1009, 1013, 1011
RATES = (8_000, 48_000)
NATIVE = frozenset({"partial", "final", "end", "error"})


class _RefusedError(Exception):
    def __init__(self, code: str, message: str, close: int = POLICY) -> None:
        super().__init__(message)
        self.code, self.message, self.close = code, message, close


async def _fail(ws: WebSocket, refused: _RefusedError) -> None:
    if ws.client_state is WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.send_json({"type": "error", "code": refused.code, "message": refused.message})
            await ws.close(code=refused.close, reason=refused.code)


def checked_rate(rate: object) -> int:
    """``rate`` if it is a sample rate the live protocols take (8-48 kHz), else ValueError saying so."""
    if not isinstance(rate, int) or isinstance(rate, bool) or not RATES[0] <= rate <= RATES[1]:
        raise ValueError(f"sample_rate must be an integer from {RATES[0]} to {RATES[1]} Hz; got {rate!r}.")
    return rate


def _start_options(text: str | None) -> tuple[TranscribeOptions, int, str | None, bool]:
    """The session options of the client's first message."""
    try:
        message = json.loads(text or "")
    except ValueError as exc:
        raise _RefusedError("invalid_message", 'The first message must be JSON, {"type": "start"}.') from exc
    if not isinstance(message, dict) or message.get("type") != "start":
        raise _RefusedError("invalid_message", 'The first message must be {"type": "start", ...}.')
    try:
        rate = checked_rate(message.get("sample_rate", 16_000))
    except ValueError as exc:
        raise _RefusedError("invalid_parameter", str(exc)) from exc
    language = message.get("language") or "hi"
    prompt = message.get("prompt")
    if not isinstance(language, str) or (prompt is not None and not isinstance(prompt, str)):
        raise _RefusedError("invalid_parameter", "language and prompt must be strings.")
    options = TranscribeOptions(language=language, prompt=prompt or None)
    return options, rate, message.get("model"), bool(message.get("interim_results", True))


@router.websocket("/v1/stream")
async def stream(ws: WebSocket) -> None:
    """One live stream (see the module's docstring for the protocol)."""
    settings: Settings = ws.app.state.settings
    limits = settings.streams
    await ws.accept()
    if not stream_slot(ws):
        await _fail(
            ws,
            _RefusedError("too_many_streams", f"{limits.max_streams} streams are open; retry.", TRY_LATER),
        )
        return
    try:
        await _serve(ws, settings)
    except _RefusedError as refused:
        await _fail(ws, refused)
    except WebSocketDisconnect:
        pass
    finally:
        free_slot(ws)


async def _receive(ws: WebSocket, timeout_s: float) -> dict[str, Any]:
    try:
        message = dict(await asyncio.wait_for(ws.receive(), timeout_s))
    except TimeoutError as exc:
        raise _RefusedError(
            "idle_timeout", f"Nothing was received for {timeout_s:g} s; the stream is closed."
        ) from exc
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    return message


def start_session(
    ws: WebSocket, options: TranscribeOptions, rate: int, model: str | None
) -> tuple[asyncio.Queue[Event], asyncio.Future[StreamSession]]:
    """Run a :class:`StreamSession` in its own thread, holding the model meanwhile; its events arrive on
    the queue, and the future gives the session once the model is ready (shared by both protocols)."""
    settings: Settings = ws.app.state.settings
    models: ModelManager = ws.app.state.models
    slots: Slots = ws.app.state.slots
    budget = get_budget(ws)
    metrics: Metrics = ws.app.state.metrics
    metrics.streams.labels(ws.url.path.rsplit("/", 1)[-1]).inc()
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[Event] = asyncio.Queue()
    ready: asyncio.Future[StreamSession] = loop.create_future()

    def emit(event: Event) -> None:
        call_on(loop, events.put_nowait, event)

    def work() -> None:
        try:
            with models.use(model) as engine:
                session = StreamSession(
                    engine, options, settings.streams, settings.longform, rate, emit, slots=slots
                )
                call_on(loop, ready.set_result, session)
                try:
                    session.run()
                finally:
                    budget.charge(session.seconds)
                    metrics.audio.labels("stream").inc(session.seconds)
        except AwaazError as exc:
            emit({"type": "error", "code": exc.code, "message": exc.message})
        except Exception as exc:  # the stream fails, the server lives on
            log.exception("stream failed")
            emit({"type": "error", "code": "internal_error", "message": f"The stream failed: {exc}."})
        finally:
            call_on(loop, _no_session, ready)

    threading.Thread(target=work, name="awaaz-stream", daemon=True).start()
    return events, ready


def stream_slot(ws: WebSocket) -> bool:
    """Take one of ``AWAAZ_MAX_STREAMS`` (False when all are taken); give it back with :func:`free_slot`."""
    state = ws.app.state
    settings: Settings = state.settings
    if getattr(state, "streams_open", 0) >= settings.streams.max_streams:
        return False
    state.streams_open = getattr(state, "streams_open", 0) + 1
    return True


def free_slot(ws: WebSocket) -> None:
    """Give a stream slot back."""
    ws.app.state.streams_open -= 1


async def _serve(ws: WebSocket, settings: Settings) -> None:
    limits = settings.streams
    first = await _receive(ws, limits.stream_idle_timeout_s)
    options, rate, model, interim = _start_options(first.get("text"))
    service: TranscriptionService = ws.app.state.service
    try:
        service.check_options(options, model)
        get_budget(ws).check()
    except RateLimitedError as exc:
        raise _RefusedError(exc.code, exc.message, TRY_LATER) from exc
    except AwaazError as exc:
        raise _RefusedError(exc.code, exc.message) from exc
    events, ready = start_session(ws, options, rate, model)
    sender = asyncio.create_task(_send(ws, events, interim))
    session: StreamSession | None = None
    try:
        session = await ready
        max_frame = int(limits.stream_max_frame_kb * 1024)
        while not sender.done():
            receiving = asyncio.ensure_future(_receive(ws, limits.stream_idle_timeout_s))
            await asyncio.wait({receiving, sender}, return_when=asyncio.FIRST_COMPLETED)
            if not receiving.done():
                receiving.cancel()
                break
            message = receiving.result()
            data = message.get("bytes")
            if data is not None:
                if len(data) > max_frame:
                    raise _RefusedError("frame_too_large", f"Frames hold at most {max_frame} bytes.", TOO_BIG)
                if len(data) % 2:
                    raise _RefusedError("invalid_audio", "Audio frames must hold whole 16-bit samples.")
                session.feed(data)
                continue
            try:
                control = json.loads(message.get("text") or "")
            except ValueError as exc:
                raise _RefusedError("invalid_message", "Text messages must be JSON.") from exc
            if isinstance(control, dict) and control.get("type") == "stop":
                session.stop()
                await sender  # every final, then end
                return
            raise _RefusedError("invalid_message", 'Send binary audio frames, then {"type": "stop"}.')
        await sender
    except BaseException:
        if session is not None:
            session.cancel()
        sender.cancel()
        raise


def _no_session(ready: asyncio.Future[StreamSession]) -> None:
    """The worker ended without a session (the model failed to load): unblock the receiver."""
    if not ready.done():
        ready.set_exception(_RefusedError("model_error", "The model could not be loaded.", FAILED))


async def _send(ws: WebSocket, events: asyncio.Queue[Event], interim: bool) -> None:
    """Forward the session's events; close after ``end`` (normally) or ``error``."""
    while True:
        event = await events.get()
        if event["type"] not in NATIVE or (event["type"] == "partial" and not interim):
            continue
        await ws.send_json(event)
        if event["type"] == "end":
            await ws.close(code=1000)
            return
        if event["type"] == "error":
            await ws.close(code=FAILED if event["code"] == "internal_error" else POLICY, reason=event["code"])
            return
