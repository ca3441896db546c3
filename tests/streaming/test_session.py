"""The endpointer and the session on their own: finals decoded ahead during the pause are the finals."""

from __future__ import annotations

import io
import itertools
import statistics
import threading
import time
import wave
from typing import Any

import numpy as np

from awaaz.audio import decode_audio
from awaaz.config import LongFormSettings, StreamSettings
from awaaz.longform.vad import FRAME, SPEECH, speech_probabilities
from awaaz.streaming.endpointer import Endpointer
from awaaz.streaming.session import StreamSession
from awaaz.types import TranscribeOptions
from tests.conftest import read_fixture_clips
from tests.jobs.conftest import SecondsEngine, speech_wav


def _speech() -> np.ndarray:
    with wave.open(io.BytesIO(speech_wav(1)), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def _play(engine: Any, pcm: bytes, pause_s: float, *, slots: Any = None) -> list[dict[str, Any]]:
    """Feed ``pcm`` to a session in 0.1 s frames, ``pause_s`` apart, then stop; its events."""
    events: list[dict[str, Any]] = []
    session = StreamSession(
        engine,
        TranscribeOptions(),
        StreamSettings(),
        LongFormSettings(),
        16_000,
        events.append,
        slots=slots,
    )
    worker = threading.Thread(target=session.run)
    worker.start()
    for at in range(0, len(pcm), 3200):
        session.feed(pcm[at : at + 3200])
        time.sleep(pause_s)
    session.stop()
    worker.join(30)
    assert not worker.is_alive()
    return events


def test_the_utterance_a_pause_would_close_is_the_one_it_closes() -> None:
    endpointer = Endpointer(end_silence_s=0.6)
    audio = _speech().astype(np.float32) / 32768
    ahead: dict[float, int] = {}
    closed = []
    for at in range(0, audio.shape[0], 1600):
        closed += endpointer.feed(audio[at : at + 1600])
        candidate = endpointer.closing()
        if candidate is not None and endpointer.pause_s >= 0.25:
            ahead.setdefault(candidate.start_s, candidate.audio.shape[0])
    assert len(closed) >= 4
    for utterance in closed:
        assert ahead.get(utterance.start_s) == utterance.audio.shape[0]


class CountingEngine(SecondsEngine):
    def __init__(self) -> None:
        super().__init__()
        self.beams: list[int | None] = []

    def answer(self, audio: Any, options: TranscribeOptions) -> Any:
        self.beams.append(options.beam_size)
        return super().answer(audio, options)


def test_each_final_is_decoded_once_and_ahead_of_the_end_of_its_pause() -> None:
    engine = CountingEngine()
    # The session drains its inbox now and then, as it does live.
    events = _play(engine, _speech().tobytes(), 0.002)
    finals = [e for e in events if e["type"] == "final"]
    assert events[-1] == {"type": "end"}
    assert len(finals) >= 4
    final_beam = StreamSettings().stream_final_beam_size
    assert engine.beams.count(final_beam) == len(finals)  # final decodes (full beam): one per final
    assert [e["type"] for e in events].count("speech_started") == len(finals)
    for final in finals:  # the decode ahead was shown at once, as a partial, before it became the final
        before = events[: events.index(final)]
        shown = {"type": "partial", "text": final["text"], "start": final["start"], "end": final["end"]}
        assert shown in before, final


class BusySlots:
    """Admission with no free slot at once: finals wait for theirs (granted here), partials are skipped."""

    def __init__(self) -> None:
        self.waited = 0
        self.held = 0

    def take(self, stopping: Any = None) -> Any:  # noqa: ARG002
        self.waited += 1
        self.held += 1

        def release() -> None:
            self.held -= 1

        return release

    def take_now(self) -> None:
        return None


def test_decodes_take_admission_slots_and_a_busy_server_gets_finals_but_no_partials() -> None:
    slots = BusySlots()
    events = _play(CountingEngine(), _speech().tobytes(), 0.002, slots=slots)
    kinds = [e["type"] for e in events]
    assert "partial" not in kinds
    assert kinds.count("final") == slots.waited >= 4  # one slot per final, none decoded ahead
    assert slots.held == 0


class ListeningEngine(SecondsEngine):
    """Records the length of each partial (greedy) decode; it reads nothing in less than a second."""

    def __init__(self) -> None:
        super().__init__()
        self.partials: list[float] = []

    def answer(self, audio: Any, options: TranscribeOptions) -> Any:
        if options.beam_size == 1:
            self.partials.append(audio.shape[0] / 16_000)
        return super().answer(audio, options)


def test_a_partial_that_read_nothing_is_tried_again_soon() -> None:
    engine = ListeningEngine()
    settings = StreamSettings()
    # Ten times real time: the session keeps up and decodes partials.
    events = _play(engine, _speech().tobytes(), 0.01)
    steps = list(itertools.pairwise(engine.partials))  # a later call on a longer audio: the same utterance
    after_empty = [b - a for a, b in steps if a < 1.0 and b > a]
    after_text = [b - a for a, b in steps if a >= 1.0 and b > a]
    assert len(after_empty) >= 3, engine.partials
    assert statistics.median(after_empty) <= 0.4  # tried again after 0.25 s (in 0.1 s frames), not 0.8 s
    assert after_text, engine.partials
    assert min(after_text) >= settings.stream_partial_every_s - 1e-6  # one that read words: 0.6 s
    assert any(e["type"] == "partial" for e in events)


class SlowGuessEngine(SecondsEngine):
    """Partials (greedy) take 0.3 s, finals none; records when each call ran."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def answer(self, audio: Any, options: TranscribeOptions) -> Any:
        kind = "partial" if options.beam_size == 1 else "final"
        started = time.monotonic()
        if kind == "partial":
            time.sleep(0.3)
        segments = list(super().answer(audio, options))
        with self._lock:
            self.spans.append((kind, started, time.monotonic()))
        return segments


def test_a_pause_is_decoded_at_once_even_while_a_partial_is_in_flight() -> None:
    engine = SlowGuessEngine()
    # Four times real time: a 0.3 s partial spans several frames.
    events = _play(engine, _speech().tobytes(), 0.025)
    partials = [(a, b) for kind, a, b in engine.spans if kind == "partial"]
    finals = [a for kind, a, _ in engine.spans if kind == "final"]
    overlapping = [f for f in finals if any(a < f < b for a, b in partials)]
    assert partials
    assert finals
    assert overlapping, "no final decode started while a partial was in flight"
    # Events stay in order: no partial of an utterance after its final, and nothing after the end.
    assert events[-1] == {"type": "end"}
    final_starts: set[float] = set()
    for event in events:
        if event["type"] == "final":
            final_starts.add(event["start"])
        elif event["type"] == "partial":
            assert event["start"] not in final_starts, event


def _speech_only(audio: np.ndarray) -> np.ndarray:
    """``audio`` from its first to its last speech frame (Silero VAD)."""
    speech = np.flatnonzero(speech_probabilities(audio) >= SPEECH)
    return audio[speech[0] * FRAME : (speech[-1] + 1) * FRAME]


def test_after_a_decoded_pause_a_partial_reads_only_the_new_audio() -> None:
    first, *rest = (_speech_only(decode_audio(clip.path)) for clip in read_fixture_clips()[:4])
    pause, end = np.zeros(int(0.3 * 16_000), np.float32), np.zeros(int(1.5 * 16_000), np.float32)
    audio = np.concatenate([first, pause, *rest, end])  # one utterance: the pause is under 0.6 s
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    engine = ListeningEngine()
    events = _play(engine, pcm, 0.02)  # five times real time: partials keep their pace
    finals = [e for e in events if e["type"] == "final"]
    assert len(finals) == 1  # the short pause did not end the utterance
    first_s = first.shape[0] / 16_000
    # The pause's decode ahead read the first clip (shown as a partial); later partials decoded the
    # audio after it only, and show it behind that text.
    ahead = next(e["text"] for e in events if e["type"] == "partial" and e["end"] >= first_s)
    later = [e for e in events if e["type"] == "partial" and e["end"] > first_s + 2.0]
    assert later
    assert all(e["text"].startswith(ahead + " ") for e in later), (ahead, later)
    utterance_s = finals[0]["end"] - finals[0]["start"]
    assert min(engine.partials[-len(later) :]) < utterance_s - first_s + 0.5  # the new audio only
    assert engine.partials[-1] < utterance_s - first_s + 0.5
