"""Transcription as a service: decode bytes, pick the engine, run it off the event loop, within limits.

Shared by the HTTP API, the CLI and (later) job workers. No HTTP here.

The asynchronous path is bounded: at most ``max_inflight`` transcriptions run (each in a worker thread of
the service's own pool), at most ``max_queue`` wait, and the rest are refused at once with
:class:`~awaaz.errors.OverloadedError` (see :mod:`awaaz.concurrency`). Each request has a deadline,
``request_timeout_s``, waiting included; past it the caller gets
:class:`~awaaz.errors.TranscriptionTimeoutError` and the transcription stops at its next segment. Its slot
is only freed once the worker thread has really finished, so abandoned work never piles up past the limit.
Running transcriptions of one Whisper model share batched model calls (see :mod:`awaaz.engines.batched`):
each counts as a participant of its engine for as long as it runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from awaaz.audio import AudioSource, skip_samples, stream_audio
from awaaz.concurrency import Admission
from awaaz.config import Settings
from awaaz.engines.base import Engine
from awaaz.errors import InvalidParameterError, TranscriptionTimeoutError
from awaaz.longform.transcribe import transcribe_long
from awaaz.models.manager import ModelManager
from awaaz.types import LANGUAGES, SAMPLE_RATE, CompletedTranscription, Segment, TranscribeOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TimedTranscription:
    """A finished transcription and how long it took (decoding the audio included)."""

    result: CompletedTranscription
    elapsed_s: float


class TranscriptionService:
    """Everything a front end needs to turn audio into text."""

    def __init__(self, settings: Settings, models: ModelManager) -> None:
        self.settings = settings
        self.models = models
        self.admission = Admission(settings.limits.max_inflight, settings.limits.max_queue)
        self.longform = settings.longform
        self._executor = ThreadPoolExecutor(
            max_workers=settings.limits.max_inflight, thread_name_prefix="awaaz-transcribe"
        )
        self.observers: list[Callable[[float, float], None]] = []
        """Called after each file transcription with (seconds of audio transcribed, seconds it took)."""

    def transcribe_sync(
        self,
        source: AudioSource,
        options: TranscribeOptions,
        model: str | None = None,
        max_duration_s: float | None = None,
        *,
        should_stop: Callable[[], bool] | None = None,
        on_segment: Callable[[Segment, float | None], None] | None = None,
        start_s: float = 0.0,
    ) -> TimedTranscription:
        """Decode and transcribe in the calling thread (CLI, workers), audio of any length.

        The audio is decoded block by block and cut into pieces (:mod:`awaaz.longform`), so memory does not
        grow with its duration. ``should_stop`` is polled before each segment; once it returns True the
        transcription ends with :class:`TranscriptionTimeoutError` (the asynchronous path uses it to stop
        work past its deadline). ``on_segment`` gets each segment as it is produced, with the container's
        declared duration (None when it declares none), for progress reports. ``start_s`` skips that much
        of the audio (a job resuming after its last stored segment); times stay those of the whole file.
        """
        self._check_request(options, model)  # before any decoding work (or a model load)
        long_model = self.models.catalog.longform_id(model)
        started = time.perf_counter()
        with ExitStack() as held:
            engine = self._hold(held, model, options)
            blocks = stream_audio(source, max_duration_s=max_duration_s)
            declared = blocks.declared_duration_s
            audio = skip_samples(blocks, round(start_s * SAMPLE_RATE)) if start_s > 0 else blocks
            transcription = transcribe_long(
                engine,
                audio,
                options,
                self.longform,
                duration_hint=declared,
                should_stop=should_stop,
                workers=engine.placement.replicas,
                piece_engine=None if long_model is None else lambda: self._hold(held, long_model, options),
            )
            segments = []
            for produced in transcription.segments:
                segment = produced.shifted(start_s) if start_s > 0 else produced
                segments.append(segment)
                if on_segment is not None:
                    on_segment(segment, declared)
        info = transcription.info
        if start_s > 0:
            info = dataclasses.replace(info, duration=info.duration + start_s)
        result = CompletedTranscription(info=info, segments=segments)
        elapsed = time.perf_counter() - started
        for observe in self.observers:
            observe(transcription.info.duration, elapsed)
        return TimedTranscription(result, elapsed)

    def _hold(self, held: ExitStack, model: str | None, options: TranscribeOptions) -> Engine:
        """The engine of ``model``, checked against ``options``, held and counted as running until ``held``
        closes."""
        engine = held.enter_context(self.models.use(model))
        held.enter_context(engine.participant())
        engine.check(options)
        return engine

    async def transcribe(
        self, data: bytes, options: TranscribeOptions, model: str | None = None
    ) -> CompletedTranscription:
        """Decode and transcribe an upload without blocking the event loop, within the service's limits.

        Raises :class:`~awaaz.errors.OverloadedError` when the queue is full and
        :class:`~awaaz.errors.TranscriptionTimeoutError` past ``request_timeout_s``.
        """
        self.check_options(options, model)  # before a slot is taken
        loop = asyncio.get_running_loop()
        timeout_s = self.settings.limits.request_timeout_s
        deadline = loop.time() + timeout_s
        slot = await self.admission.acquire(timeout_s)
        stop = threading.Event()
        work = functools.partial(
            self.transcribe_sync,
            data,
            options,
            model,
            self.settings.limits.max_sync_duration_s,
            should_stop=stop.is_set,
        )
        try:
            future = loop.run_in_executor(self._executor, work)
        except BaseException:
            slot.release()
            raise

        def finished(done: asyncio.Future[Any]) -> None:
            slot.release()
            if not done.cancelled() and done.exception() is not None and stop.is_set():
                log.info("an abandoned transcription ended: %s", done.exception())

        future.add_done_callback(finished)
        try:
            timed = await asyncio.wait_for(asyncio.shield(future), max(0.0, deadline - loop.time()))
        except TimeoutError as exc:
            stop.set()
            raise TranscriptionTimeoutError(
                f"The transcription took longer than the {timeout_s:g} s limit. Send shorter audio, "
                "retry when the server is less busy, or submit it as an asynchronous job."
            ) from exc
        except asyncio.CancelledError:
            stop.set()  # the client went away: stop at the next segment
            raise
        return timed.result

    def check_options(self, options: TranscribeOptions, model: str | None = None) -> None:
        """Refuse, before any work, options no model serves (an unknown language or model) and those the
        model cannot serve when it is loaded (a one-language model asked for another).

        Raises :class:`~awaaz.errors.InvalidParameterError` or :class:`~awaaz.errors.ModelNotFoundError`.
        """
        self._check_request(options, model)
        engine = self.models.loaded(model)
        if engine is not None:
            engine.check(options)

    def _check_request(self, options: TranscribeOptions, model: str | None) -> None:
        """What no model could serve: an unknown language or model."""
        if options.language is not None and options.language not in LANGUAGES:
            raise InvalidParameterError(
                f"language must be an ISO-639-1 code such as 'hi'; got {options.language!r}.",
                param="language",
            )
        self.models.catalog.get(model)

    def preload(self, model: str | None = None) -> Future[Engine]:
        """Load ``model`` in one of the service's long-lived worker threads; the future gives the engine.

        Load models here rather than in a short-lived thread: a CTranslate2 model loaded in a thread that
        then exits ran 5-10x slower in our measurements (docs/PERFORMANCE.md).
        """
        return self._executor.submit(self.models.get, model)

    def close(self) -> None:
        """Stop taking work and let running transcriptions finish in the background."""
        self._executor.shutdown(wait=False, cancel_futures=True)
