"""Cut a live audio stream into utterances with Silero VAD: an utterance starts at speech (with a little
audio before it) and ends after a pause of ``end_silence_s``, or after ``max_utterance_s`` of speech."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from awaaz.audio import Audio
from awaaz.longform.vad import FRAME, SILENCE, SPEECH, speech_probabilities
from awaaz.types import SAMPLE_RATE

PRE_ROLL_FRAMES = 10
"""Frames (0.32 s) kept before the first speech frame, so an utterance's first sound is not clipped."""
START_FRAMES = 3
"""Speech frames in a row (about 0.1 s) that start an utterance; shorter blips are ignored."""
KEPT_TAIL_S = 0.2
"""Trailing silence kept at the end of an utterance closed by a pause."""


@dataclass(frozen=True, slots=True)
class Utterance:
    """Audio from the stream and where it starts (seconds since the stream began)."""

    start_s: float
    audio: Audio

    @property
    def end_s(self) -> float:
        return self.start_s + float(self.audio.shape[0]) / SAMPLE_RATE


@dataclass
class Endpointer:
    """Feed it 16 kHz mono audio in any chunks; it reports closed utterances and holds the open one."""

    end_silence_s: float = 0.6
    max_utterance_s: float = 15.0
    detect: Callable[[Audio], np.ndarray] = speech_probabilities
    _pending: list[Audio] = field(default_factory=list)
    _pending_len: int = 0
    _frames: list[Audio] = field(default_factory=list)
    """The open utterance's frames (pre-roll included), or the pre-roll while nobody speaks."""
    _first_frame: int = 0
    """Stream frame index of ``_frames[0]``."""
    _speaking: bool = False
    _run: int = 0
    """Consecutive speech frames (before an utterance starts) or silent frames (inside one)."""

    @property
    def speaking(self) -> bool:
        """True while an utterance is open."""
        return self._speaking

    @property
    def pause_s(self) -> float:
        """Silence at the end of the open utterance so far (0 when nobody speaks or speech goes on)."""
        return self._run * FRAME / SAMPLE_RATE if self._speaking else 0.0

    def closing(self) -> Utterance | None:
        """The utterance a pause would close now, if the silence went on: the same audio :meth:`feed`
        returns then, so it can be decoded ahead (None while nobody speaks or speech goes on)."""
        if not self._speaking or self._run == 0:
            return None
        used = len(self._frames) - max(0, self._run - self._kept_tail)
        return Utterance(self._first_frame * FRAME / SAMPLE_RATE, np.concatenate(self._frames[:used]))

    @property
    def _kept_tail(self) -> int:
        return int(KEPT_TAIL_S * SAMPLE_RATE / FRAME)

    @property
    def open_start_s(self) -> float | None:
        """Where the open utterance starts (seconds), without copying its audio; None when none is open."""
        return self._first_frame * FRAME / SAMPLE_RATE if self._speaking else None

    def current(self) -> Utterance | None:
        """The open utterance so far (for a partial guess; copies its audio), or None."""
        start = self.open_start_s
        return None if start is None else Utterance(start, np.concatenate(self._frames))

    def feed(self, audio: Audio) -> list[Utterance]:
        """Add audio; return the utterances it closed."""
        self._pending.append(audio)
        self._pending_len += audio.shape[0]
        whole = self._pending_len // FRAME * FRAME
        if whole == 0:
            return []
        joined = np.concatenate(self._pending)
        ready, rest = joined[:whole], joined[whole:]
        self._pending, self._pending_len = ([rest] if rest.shape[0] else []), rest.shape[0]
        closed: list[Utterance] = []
        probabilities = self.detect(ready)
        for index, p in enumerate(probabilities):
            frame = ready[index * FRAME : (index + 1) * FRAME]
            utterance = self._step(frame, float(p))
            if utterance is not None:
                closed.append(utterance)
        return closed

    def _step(self, frame: Audio, p: float) -> Utterance | None:
        self._frames.append(frame)
        if not self._speaking:
            self._run = self._run + 1 if p >= SPEECH else 0
            if self._run >= START_FRAMES:
                self._speaking, self._run = True, 0
            elif len(self._frames) > PRE_ROLL_FRAMES + START_FRAMES:
                self._frames.pop(0)
                self._first_frame += 1
            return None
        self._run = self._run + 1 if p < SILENCE else 0
        frames_per_s = SAMPLE_RATE / FRAME
        if self._run >= self.end_silence_s * frames_per_s:
            return self._close(keep_tail=self._kept_tail)
        if len(self._frames) >= self.max_utterance_s * frames_per_s:
            return self._close(keep_tail=len(self._frames))
        return None

    def _close(self, keep_tail: int) -> Utterance:
        """End the open utterance, keeping ``keep_tail`` frames of its trailing silence."""
        silent = self._run if keep_tail < len(self._frames) else 0
        used = len(self._frames) - max(0, silent - keep_tail)
        utterance = Utterance(self._first_frame * FRAME / SAMPLE_RATE, np.concatenate(self._frames[:used]))
        self._first_frame += len(self._frames)
        self._frames, self._speaking, self._run = [], False, 0
        return utterance

    def flush(self) -> Utterance | None:
        """The stream ended: close the open utterance, if any (pending samples included)."""
        if self._pending_len and self._speaking:
            self._frames.append(np.concatenate(self._pending))
        self._pending, self._pending_len = [], 0
        if not self._speaking:
            return None
        return self._close(keep_tail=len(self._frames))
