"""The tests' one fake engine: every stand-in for a model derives from it and says only what it hears."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from awaaz.audio import Audio
from awaaz.engines.base import Placement
from awaaz.types import SAMPLE_RATE, Segment, TranscribeOptions, Transcription, TranscriptionInfo


class FakeEngine:
    """Implements the :class:`~awaaz.engines.base.Engine` protocol around :meth:`answer`.

    Subclasses override :meth:`answer` (the segments heard in some audio) or, to control how segments are
    produced over time, :meth:`transcribe` itself.
    """

    model_id: str = "fake"
    placement: Placement = Placement(replicas=2)
    """Two pieces of a long recording at a time, as on the 2-core machines the suite runs on."""
    closed: bool = False

    def answer(self, audio: Audio, options: TranscribeOptions) -> Iterable[Segment]:  # noqa: ARG002
        """The segments heard in ``audio``: nothing, unless a subclass says otherwise."""
        return ()

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:
        """A transcription whose segments are :meth:`answer`'s, produced lazily."""
        info = TranscriptionInfo(
            language=options.language or "hi", duration=audio.shape[0] / SAMPLE_RATE, model=self.model_id
        )
        return Transcription(info=info, segments=iter(self.answer(audio, options)))

    def check(self, options: TranscribeOptions) -> None:
        """Fakes hear every language."""

    def participant(self) -> AbstractContextManager[None]:
        """Fakes do not batch."""
        return nullcontext()

    def describe(self) -> dict[str, Any]:
        """What a report says of the engine."""
        return {"fake": type(self).__name__}

    def close(self) -> None:
        """Remember that the engine was closed."""
        self.closed = True


class NamingEngine(FakeEngine):
    """Hears its own name in whatever it is given, and counts the calls."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.calls = 0

    def answer(self, piece: Audio, _: TranscribeOptions) -> list[Segment]:
        self.calls += 1
        return [Segment(0, 0.0, piece.shape[0] / SAMPLE_RATE, self.model_id)]
