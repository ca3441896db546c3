"""The one protocol every engine implements, a second one for engines that rescore with an LM, and where
an engine runs."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from awaaz.audio import Audio
from awaaz.lm.hypotheses import Hypothesis
from awaaz.types import TranscribeOptions, Transcription


class EngineName(StrEnum):
    """The engines a model can name (the one list: registry, CLI and factory read it)."""

    WHISPER_CT2 = "whisper-ct2"
    NEMO_CTC_ONNX = "nemo-ctc-onnx"


ENGINE_NAMES: tuple[str, ...] = tuple(e.value for e in EngineName)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where and how an engine's model calls run, resolved from the settings (see ``Settings.replicas``).

    The defaults are one single-thread-pool replica on the CPU without batching: what tools and tests want.
    """

    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0
    """Threads per replica (0: the library's default)."""
    replicas: int = 1
    """Replicas that run model calls in parallel."""
    batch_size: int = 1
    """Most model calls of concurrent transcriptions run as one batch (1: no batching)."""
    batch_wait_s: float = 0.5
    """Longest a model call waits for running transcriptions to join its batch."""


@runtime_checkable
class Engine(Protocol):
    """A loaded speech recognition model.

    ``transcribe`` must return quickly with a :class:`Transcription` whose ``segments`` iterator does the
    work lazily, so callers can stream segments as they are produced. Engines must be safe to call from
    several threads at once (each call may serialise internally).
    """

    model_id: str
    placement: Placement
    """Where its model calls run; ``placement.replicas`` transcriptions decode in parallel at full speed."""

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:
        """Start transcribing 16 kHz mono float32 ``audio``; segments are produced lazily."""
        ...

    def check(self, options: TranscribeOptions) -> None:
        """Raise :class:`~awaaz.errors.InvalidParameterError` for options this model cannot serve (a
        language it does not know, a task it cannot do), before any audio is decoded."""
        ...

    def participant(self) -> AbstractContextManager[None]:
        """Count one transcription as running on this engine for a ``with`` block.

        An engine that batches the model calls of concurrent transcriptions waits for the running ones to
        join a batch (and no longer); an engine that does not batch returns a context that does nothing.
        """
        ...

    def describe(self) -> dict[str, Any]:
        """The engine's settings, JSON-ready, for evaluation reports."""
        ...

    def close(self) -> None:
        """Release the model's memory. The engine must not be used afterwards."""
        ...


@runtime_checkable
class RescoringEngine(Engine, Protocol):
    """An engine that reranks its beam's n-best with a language model (``awaaz lm tune`` records them)."""

    @property
    def rescores(self) -> bool:
        """True when a language model is loaded and rescoring."""
        ...

    def record_hypotheses(self, sink: list[list[Hypothesis]] | None) -> None:
        """Append every rescored window's scored hypotheses to ``sink`` from now on (None: stop)."""
        ...
