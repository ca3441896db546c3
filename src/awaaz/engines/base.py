"""The one protocol every engine implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from awaaz.audio import Audio
from awaaz.types import TranscribeOptions, Transcription


@runtime_checkable
class Engine(Protocol):
    """A loaded speech recognition model.

    ``transcribe`` must return quickly with a :class:`Transcription` whose ``segments`` iterator does the
    work lazily, so callers can stream segments as they are produced. Engines must be safe to call from
    several threads at once (each call may serialise internally).
    """

    model_id: str

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:
        """Start transcribing 16 kHz mono float32 ``audio``; segments are produced lazily."""
        ...

    def close(self) -> None:
        """Release the model's memory. The engine must not be used afterwards."""
        ...
