"""Cross-request batching for Whisper on CTranslate2.

Each transcription still runs faster-whisper's own sequential loop in its own thread (VAD, 30 s windows,
temperature fallback, timestamps), so its decode options and results are those of the library. What is
shared are the two expensive model calls: :class:`BatchingWhisper` stands in for the
``ctranslate2.models.Whisper`` object inside a ``WhisperModel`` and gathers the ``encode`` calls (one
30 s window each) and the ``generate`` calls (one prompt each, same decoding options) that concurrent
transcriptions make within a few milliseconds, runs each group as one batched call, and hands every caller
its own row. Calls with different options never share a batch, and a transcription running alone never
waits for company.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import ctranslate2
import numpy as np

K = TypeVar("K", bound=Hashable)
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741


@dataclass(slots=True)
class _Batch(Generic[I, O]):
    items: list[I] = field(default_factory=list)
    closed: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    results: list[O] = field(default_factory=list)
    error: BaseException | None = None


class MicroBatcher(Generic[K, I, O]):
    """Runs concurrent :meth:`submit` calls that share a key as one call of ``run``, from many threads.

    The first caller of a batch leads it: it waits up to ``max_wait_s`` for others to join, and no longer
    than needed: it stops once the batch holds ``max_size`` items or ``ready(len(items))`` is true (the
    owner knows when nobody else can come soon, and calls :meth:`poke` when that may have changed). Then
    it runs the batch in its own thread and wakes the others. No background thread is involved.
    """

    def __init__(
        self,
        run: Callable[[K, list[I]], list[O]],
        *,
        max_size: int,
        max_wait_s: float,
        ready: Callable[[int], bool] = lambda _: True,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be >= 1")
        self._run = run
        self.max_size = max_size
        self.max_wait_s = max_wait_s
        self._ready = ready
        self._lock = threading.Condition()
        self._open: dict[K, _Batch[I, O]] = {}
        self.batch_sizes: Counter[int] = Counter()
        """How many batches of each size have run (a histogram: its size is bounded by ``max_size``)."""

    def submit(self, key: K, item: I) -> O:
        """Add ``item`` to the open batch for ``key`` (or open one) and return its own result."""
        with self._lock:
            batch = self._open.get(key)
            leader = batch is None
            if batch is None:
                batch = self._open[key] = _Batch()
            index = len(batch.items)
            batch.items.append(item)
            if len(batch.items) >= self.max_size or self._ready(len(batch.items)):
                self._close(key, batch)
        if leader:
            self._lead(key, batch)
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error
        return batch.results[index]

    def _close(self, key: K, batch: _Batch[I, O]) -> None:
        """Stop ``batch`` taking items (call with the lock held)."""
        if not batch.closed:
            batch.closed = True
            if self._open.get(key) is batch:
                del self._open[key]
            self._lock.notify_all()

    def poke(self) -> None:
        """Make waiting batch leaders check ``ready`` again."""
        with self._lock:
            self._lock.notify_all()

    def _lead(self, key: K, batch: _Batch[I, O]) -> None:
        with self._lock:
            self._lock.wait_for(
                lambda: batch.closed or self._ready(len(batch.items)), timeout=self.max_wait_s
            )
            self._close(key, batch)
            self.batch_sizes[len(batch.items)] += 1
        try:
            results = self._run(key, batch.items)
            if len(results) != len(batch.items):
                raise RuntimeError(f"a batch of {len(batch.items)} gave {len(results)} results")
            batch.results = results
        except BaseException as exc:  # every caller of the batch gets the failure
            batch.error = exc
        finally:
            batch.done.set()


def _freeze(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


def _rows(view: ctranslate2.StorageView) -> list[ctranslate2.StorageView]:
    array = np.asarray(view)
    return [
        ctranslate2.StorageView.from_array(np.ascontiguousarray(array[i : i + 1])) for i in range(len(array))
    ]


def _stack(views: Sequence[ctranslate2.StorageView]) -> ctranslate2.StorageView:
    if len(views) == 1:
        return views[0]
    return ctranslate2.StorageView.from_array(
        np.ascontiguousarray(np.concatenate([np.asarray(v) for v in views]))
    )


class BatchingWhisper:
    """A drop-in for ``ctranslate2.models.Whisper`` whose ``encode`` and ``generate`` batch across threads.

    Every other attribute is the wrapped model's. Only CPU models are batched this way (their encoder
    output can be split and stacked as numpy arrays); on other devices calls pass straight through.
    """

    def __init__(self, model: Any, *, max_batch_size: int, max_wait_s: float) -> None:
        self._model = model
        self._active = 0
        self._inside = 0
        self._count_lock = threading.Lock()
        enabled = max_batch_size > 1 and getattr(model, "device", "cpu") == "cpu"
        size = max_batch_size if enabled else 1
        self.encoder = MicroBatcher(
            self._encode_batch, max_size=size, max_wait_s=max_wait_s, ready=self._ready
        )
        self.decoder = MicroBatcher(
            self._generate_batch, max_size=size, max_wait_s=max_wait_s, ready=self._ready
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def _ready(self, _: int) -> bool:
        # Close a batch once every running transcription is inside a model call that has not run yet (this
        # batch or another): the others are still decoding audio or running VAD, and will join within
        # moments. A call stops counting when its batch has run, not when its thread wakes: under load a
        # thread woken from a finished batch can take many milliseconds to be scheduled, and counted as
        # inside until then it let the first thread's next batch close alone.
        return self._inside >= self._active

    def _count(self, active: int = 0, inside: int = 0) -> None:
        with self._count_lock:
            self._active += active
            self._inside += inside
        self.encoder.poke()
        self.decoder.poke()

    @contextmanager
    def participant(self) -> Iterator[None]:
        """Count one transcription as running for the ``with`` block, so batches wait for it to join."""
        self._count(active=1)
        try:
            yield
        finally:
            self._count(active=-1)

    def _enter_model_call(self) -> None:
        """Count one call as waiting for its batch; :meth:`_batch_ran` stops counting it."""
        self._count(inside=1)

    def _batch_ran(self, size: int) -> None:
        self._count(inside=-size)

    # faster-whisper calls these two with one window / one prompt at a time.

    def encode(self, features: ctranslate2.StorageView, to_cpu: bool = False) -> ctranslate2.StorageView:
        """Encode one window of features, in a batch with other threads' windows of the same shape."""
        if to_cpu or self.encoder.max_size == 1:
            return self._model.encode(features, to_cpu=to_cpu)
        self._enter_model_call()
        return self.encoder.submit(tuple(features.shape[1:]), features)

    def generate(
        self, encoder_output: ctranslate2.StorageView, prompts: list[list[int]], **kwargs: Any
    ) -> list[Any]:
        """Decode one prompt, in a batch with other threads' prompts of the same length and options."""
        if len(prompts) != 1 or self.decoder.max_size == 1:
            return list(self._model.generate(encoder_output, prompts, **kwargs))
        key = (len(prompts[0]), tuple(encoder_output.shape[1:]), _freeze(kwargs))
        self._enter_model_call()
        return [self.decoder.submit(key, (encoder_output, prompts[0], kwargs))]

    def _encode_batch(
        self, _: Hashable, items: list[ctranslate2.StorageView]
    ) -> list[ctranslate2.StorageView]:
        try:
            output = self._model.encode(_stack(items), to_cpu=False)
        finally:
            self._batch_ran(len(items))
        return [output] if len(items) == 1 else _rows(output)

    def _generate_batch(
        self, _: Hashable, items: list[tuple[ctranslate2.StorageView, list[int], dict[str, Any]]]
    ) -> list[Any]:
        kwargs = items[0][2]
        try:
            encoded = _stack([item[0] for item in items])
            return list(self._model.generate(encoded, [item[1] for item in items], **kwargs))
        finally:
            self._batch_ran(len(items))
