"""One live stream: PCM in, partial and final transcripts out, worked in its own thread.

Partials are greedy decodes of the open utterance without the language model (a greedy call passes the
rescorer untouched), refreshed every ``stream_partial_every_s`` of speech and skipped while audio is
waiting or the speaker pauses (so a slow machine falls behind on partials, never on finals). A final is
the utterance decoded as the offline path decodes a clip: beam search, LM rescoring, lexicon variants,
guards, with a beam of ``stream_final_beam_size`` (4: as accurate on the dev clips as the offline 5, and
a 12 s utterance decodes in 1.40 s instead of 1.75 s on the 2-core machine). It is decoded ahead: once
the speaker has been silent for ``SPECULATE_S``, the utterance as the pause would close it is decoded
while the pause goes on; when the pause closes it with that very audio, the final is ready at once (if
speech resumes, the guess is dropped). That decode is also sent as a partial: the best guess there is, at
no extra cost, so the partials keep their pace through short pauses.

Partials are decoded in a second thread of the session, one at a time, so a pause's decode ahead never
waits for a partial still in flight: on the 2-core machine a partial of a 12 s utterance takes 0.7-1.1 s,
which the final used to wait for at the start of every pause. A greedy step costs about what a beam step
does on this CPU, so a partial is cut short where it can: once a pause inside the utterance has been
decoded ahead (and speech went on), a partial decodes only the audio after that pause and shows it behind
the text read up to it. A partial that comes back after its utterance's final is dropped: events keep
their order (partials of an utterance, then its final).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

import av
import numpy as np

from awaaz.audio import Audio
from awaaz.config import LongFormSettings, StreamSettings
from awaaz.engines.base import Engine
from awaaz.longform.transcribe import transcribe_long
from awaaz.streaming.endpointer import Endpointer, Utterance
from awaaz.types import SAMPLE_RATE, CompletedTranscription, TranscribeOptions

log = logging.getLogger(__name__)

Event = dict[str, Any]


class Slots(Protocol):
    """Admission slots (``awaaz.api.slots``): a final waits for one, a partial needs one free at once."""

    def take(self, stopping: Callable[[], bool] = ...) -> Callable[[], object] | None: ...

    def take_now(self) -> Callable[[], object] | None: ...


COMMIT = "commit"
SPECULATE_S = 0.25
"""Silence after which the final is decoded ahead of the end of the pause."""
MAX_PARTIAL_LEAD_S = 0.3
"""At most this much sooner than every ``stream_partial_every_s`` is a partial started."""
EMPTY_RETRY_S = 0.25
"""Audio after which a partial that read nothing is tried again."""
MIN_NEW_AUDIO_S = 1.0
"""Audio after an utterance's last pause that a partial decodes on its own (behind the text the pause's
decode ahead read); with less, the whole utterance is decoded."""


class StreamSession:
    """Feed it PCM16 little-endian mono bytes at ``sample_rate``; ``emit`` gets each event (from the
    session's thread): ``partial``, ``final``, then ``end`` after :meth:`stop`, or ``error``."""

    def __init__(
        self,
        engine: Engine,
        options: TranscribeOptions,
        settings: StreamSettings,
        longform: LongFormSettings,
        sample_rate: int,
        emit: Callable[[Event], None],
        *,
        slots: Slots | None = None,
    ) -> None:
        self.engine = engine
        self.final_options = dataclasses.replace(
            options, word_timestamps=True, beam_size=options.beam_size or settings.stream_final_beam_size
        )
        self.partial_options = dataclasses.replace(
            options, beam_size=1, word_timestamps=False, vad_filter=False
        )
        self.settings = settings
        self.longform = longform
        self.sample_rate = sample_rate
        self.emit = emit
        self.slots = slots
        self.endpointer = Endpointer(settings.stream_end_silence_s, settings.stream_max_utterance_s)
        self._inbox: queue.Queue[bytes | str | None] = queue.Queue()
        self._cancelled = False
        self._samples = 0
        self._last_partial_s = 0.0
        self._partial_cost_s = 0.0
        """Wall seconds the last partial decode took."""
        self._partial_growth_s = 0.0
        """How much longer it took than the one before it, on the same utterance."""
        self._partial_start_s: float | None = None
        self._announced: float | None = None
        self._ahead: tuple[float, int, CompletedTranscription] | None = None
        """A final decoded ahead: (start, samples, result), kept until the utterance's final. If speech
        went on after that pause, partials decode only the audio after it."""
        self._emitting = threading.Lock()
        """Held while an event is checked and emitted (the session's thread and the partials' thread)."""
        self._finished_start_s = -math.inf
        """Start of the last utterance whose final was decided: later partials of it are dropped."""
        self._partials = ThreadPoolExecutor(max_workers=1, thread_name_prefix="awaaz-partial")
        self._partial_job: Future[None] | None = None
        self._resampler = (
            None
            if sample_rate == SAMPLE_RATE
            else av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        )

    def feed(self, pcm: bytes) -> None:
        """Queue audio (from any thread): PCM16 little-endian, whole samples (ValueError otherwise, and
        nothing is queued)."""
        if len(pcm) % 2:
            raise ValueError(f"Audio must hold whole 16-bit samples; got {len(pcm)} bytes.")
        if pcm:  # an empty frame is nothing to resample (FFmpeg fails on it)
            self._inbox.put(pcm)

    def stop(self) -> None:
        """The client is done: finish every final, then emit ``end``."""
        self._inbox.put(None)

    def commit(self) -> None:
        """Close the open utterance now (its final is decoded), as a pause would."""
        self._inbox.put(COMMIT)

    def cancel(self) -> None:
        """The client is gone: stop at once, emit nothing more."""
        self._cancelled = True
        self._inbox.put(None)

    @property
    def seconds(self) -> float:
        """Audio received so far, seconds."""
        return self._samples / SAMPLE_RATE

    def run(self) -> None:
        """Work the stream until :meth:`stop` or :meth:`cancel` (call in the session's thread)."""
        try:
            self._work()
        finally:
            # The engine is the caller's until run() returns: let a partial in flight finish first.
            if self._partial_job is not None:
                self._partial_job.result()
            self._partials.shutdown()

    def _work(self) -> None:
        # Each decode counts as a participant of the engine's batching, not the whole session: an idle
        # stream must not make batches of other requests wait for it.
        while True:
            item = self._inbox.get()
            if item is None or self._cancelled:
                break
            if item == COMMIT:
                committed = self.endpointer.flush()
                if committed is not None:
                    self._final(committed)
                continue
            assert isinstance(item, bytes)
            audio = self._to_16k(item)
            self._samples += audio.shape[0]
            for utterance in self.endpointer.feed(audio):
                self._announce(utterance.start_s)
                self._final(utterance)
            start = self.endpointer.open_start_s
            if start is not None:
                self._announce(start)
            self._decode_ahead()
            if self.seconds > self.settings.stream_max_session_s:
                limit = self.settings.stream_max_session_s
                message = f"The stream passed the {limit:g} s limit. Start a new one."
                self._send({"type": "error", "code": "session_too_long", "message": message}, last=True)
                return
            if self._inbox.empty() and self._partial_due():
                self._start_partial()
        if self._cancelled:
            return
        last = self.endpointer.flush()
        if last is not None:
            self._final(last)
        self._send({"type": "end"}, last=True)

    def _send(self, event: Event, *, last: bool = False) -> None:
        """Emit ``event`` in order with the partials' thread; after a ``last`` one, partials are dropped."""
        with self._emitting:
            if last:
                self._finished_start_s = math.inf
            self.emit(event)

    def _announce(self, start_s: float) -> None:
        """Tell the client, once, that an utterance began (the OpenAI protocol has an event for it)."""
        if self._announced != start_s:
            self._announced = start_s
            self._send({"type": "speech_started", "start": round(start_s, 3)})

    def _to_16k(self, pcm: bytes) -> Audio:
        samples = np.frombuffer(pcm, dtype="<i2")
        if self._resampler is None:
            return (samples.astype(np.float32) / 32768.0).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, dtype=np.float32)

    def _partial_due(self) -> bool:
        # A partial reaches the client its decode time after it starts, and that time grows with the
        # utterance: start the next one earlier by the last growth, so they arrive every ``every``.
        every = self.settings.stream_partial_every_s - self._partial_growth_s
        speaking = self.endpointer.speaking and self.endpointer.pause_s == 0
        busy = self._partial_job is not None and not self._partial_job.done()
        return speaking and not busy and self.seconds - self._last_partial_s >= every

    def _decode_ahead(self) -> None:
        """Decode the final a pause would close, once the pause has lasted ``SPECULATE_S``."""
        if self.endpointer.pause_s < SPECULATE_S or not self._inbox.empty():
            return
        closing = self.endpointer.closing()
        if closing is None:
            return
        key = (closing.start_s, closing.audio.shape[0])
        if self._ahead is not None and self._ahead[:2] == key:
            return
        at = self.seconds
        result = self._decode_final(closing, wait=False)
        if result is not None:
            self._ahead = (*key, result)
            self._send_partial(closing, at, result.text)

    def _start_partial(self) -> None:
        """Decode a partial of the open utterance in the partials' thread, if a slot is free now."""
        utterance = self.endpointer.current()
        if utterance is None:
            return
        self._last_partial_s = at = self.seconds
        release = self.slots.take_now() if self.slots is not None else _nothing
        if release is None:
            return  # the server is busy: no guess this time
        self._partial_job = self._partials.submit(self._partial, utterance, at, release)

    def _known_part(self, utterance: Utterance) -> tuple[int, str]:
        """How much of ``utterance`` a pause's decode ahead already read (samples, its text), if the new
        audio since then is long enough to read on its own; else (0, "")."""
        ahead = self._ahead  # kept until the utterance's final, though speech went on after its pause
        if ahead is None or ahead[0] != utterance.start_s:
            return 0, ""
        if utterance.audio.shape[0] - ahead[1] < MIN_NEW_AUDIO_S * SAMPLE_RATE:
            return 0, ""
        return ahead[1], ahead[2].text

    def _partial(self, utterance: Utterance, at: float, release: Callable[[], object]) -> None:
        """Decode a guess at ``utterance`` (started at ``at`` seconds of audio) and send it. Only the audio
        after the utterance's last pause is decoded when that pause's decode ahead read the rest."""
        started = time.perf_counter()
        try:
            if self._cancelled:
                return
            known, known_text = self._known_part(utterance)
            with self.engine.participant():
                new = self.engine.transcribe(utterance.audio[known:], self.partial_options).collect().text
            text = f"{known_text} {new}".strip()
        except Exception:  # a guess is not worth the stream: its final will report a failing engine
            log.exception("a partial decode failed")
            return
        finally:
            release()
        cost = time.perf_counter() - started
        growth = cost - self._partial_cost_s if self._partial_start_s == utterance.start_s else 0.0
        self._partial_growth_s = min(max(0.0, growth), MAX_PARTIAL_LEAD_S)
        self._partial_cost_s, self._partial_start_s = cost, utterance.start_s
        self._send_partial(utterance, at, text)

    def _send_partial(self, utterance: Utterance, at: float, text: str) -> None:
        """Emit a guess at ``utterance`` (decoded from ``at`` seconds of audio), unless its final has been
        decided meanwhile. The next guess is timed from ``at``, not from now: its period is the period
        of the decodes' starts."""
        with self._emitting:
            if self._cancelled or utterance.start_s <= self._finished_start_s:
                return
            # An empty guess (the utterance has just begun: too little audio to read) is tried again
            # after EMPTY_RETRY_S of audio, not a whole refresh period later: the first words show sooner.
            every = self.settings.stream_partial_every_s
            self._last_partial_s = at - (0.0 if text else max(0.0, every - EMPTY_RETRY_S))
            if text:
                self.emit(
                    {
                        "type": "partial",
                        "text": text,
                        "start": round(utterance.start_s, 3),
                        "end": round(utterance.end_s, 3),
                    }
                )

    def _decode_final(self, utterance: Utterance, *, wait: bool = True) -> CompletedTranscription | None:
        """The final's transcription, in an admission slot (waiting for one, or None if ``wait`` is
        False and none is free)."""
        release: Callable[[], object] | None = _nothing
        if self.slots is not None:
            release = self.slots.take(lambda: self._cancelled) if wait else self.slots.take_now()
        if release is None:
            return None
        try:
            with self.engine.participant():
                return transcribe_long(
                    self.engine, [utterance.audio], self.final_options, self.longform
                ).collect()
        finally:
            release()

    def _final(self, utterance: Utterance) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[:2] == (utterance.start_s, utterance.audio.shape[0]):
            result = ahead[2]  # decoded during the pause, from this very audio
        else:
            decoded = self._decode_final(utterance)
            if decoded is None:
                return  # cancelled while waiting for a slot
            result = decoded
        with self._emitting:
            self._finished_start_s = utterance.start_s
            self._last_partial_s = self.seconds
        if not result.text:
            return
        offset = utterance.start_s
        words = [
            {"word": w.word.strip(), "start": round(w.start + offset, 3), "end": round(w.end + offset, 3)}
            for w in result.words
        ]
        self._send(
            {
                "type": "final",
                "text": result.text,
                "start": round(utterance.start_s, 3),
                "end": round(utterance.end_s, 3),
                "words": words,
            }
        )


def _nothing() -> None:
    """Give back no slot (a session without admission slots: tools and tests)."""
