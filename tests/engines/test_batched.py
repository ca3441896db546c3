"""Cross-request batching: the micro-batcher on its own, and the same transcript batched or alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import ctranslate2
import numpy as np
import pytest

from awaaz.audio import decode_audio
from awaaz.engines import batched
from awaaz.engines.batched import MicroBatcher
from awaaz.types import TranscribeOptions
from tests.conftest import Clip

T = TypeVar("T")
WAIT_S = 30.0
"""A batch leader's wait for peers that are known to come; reached only when something is broken."""


def _in_threads(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call in its own thread, all released at once, and return the results in order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        start.wait(WAIT_S)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


# --- the micro-batcher, with a fake batched function ---------------------------------------------


class Recorder:
    """A batched function that doubles numbers and remembers every batch it was given."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[int]]] = []

    def __call__(self, key: str, items: list[int]) -> list[int]:
        self.batches.append((key, list(items)))
        if -1 in items:
            raise ValueError("bad item")
        return [2 * i for i in items]


def test_concurrent_calls_with_one_key_share_one_batch_and_get_their_own_results() -> None:
    recorder = Recorder()
    batcher = MicroBatcher(recorder, max_size=8, max_wait_s=WAIT_S, ready=lambda n: n >= 4)
    results = _in_threads([lambda i=i: batcher.submit("k", i) for i in range(4)])  # type: ignore[misc]
    assert results == [0, 2, 4, 6]
    assert batcher.batch_sizes == {4: 1}
    assert sorted(recorder.batches[0][1]) == [0, 1, 2, 3]


def test_calls_with_different_keys_never_share_a_batch() -> None:
    recorder = Recorder()
    batcher = MicroBatcher(recorder, max_size=8, max_wait_s=0.05, ready=lambda n: n >= 4)
    results = _in_threads([lambda i=i: batcher.submit("ab"[i % 2], i) for i in range(4)])  # type: ignore[misc]
    assert results == [0, 2, 4, 6]
    for key, items in recorder.batches:
        assert all("ab"[i % 2] == key for i in items)


def test_batches_never_exceed_max_size() -> None:
    recorder = Recorder()
    batcher = MicroBatcher(recorder, max_size=2, max_wait_s=0.05, ready=lambda n: n >= 5)
    results = _in_threads([lambda i=i: batcher.submit("k", i) for i in range(5)])  # type: ignore[misc]
    assert results == [0, 2, 4, 6, 8]
    assert max(batcher.batch_sizes) <= 2
    assert sum(size * count for size, count in batcher.batch_sizes.items()) == 5


def test_a_call_alone_does_not_wait_for_company() -> None:
    batcher = MicroBatcher(Recorder(), max_size=8, max_wait_s=3600.0)  # ready at once: run alone
    assert batcher.submit("k", 21) == 42
    assert batcher.batch_sizes == {1: 1}


def test_a_failing_batch_fails_every_caller() -> None:
    batcher = MicroBatcher(Recorder(), max_size=8, max_wait_s=WAIT_S, ready=lambda n: n >= 2)

    def call(item: int) -> str:
        try:
            batcher.submit("k", item)
        except ValueError as exc:
            return str(exc)
        return "no error"

    assert _in_threads([lambda: call(-1), lambda: call(3)]) == ["bad item", "bad item"]


# --- the model wrapper, with a fake CTranslate2 model --------------------------------------------


class FakeWhisper:
    """Stands in for ``ctranslate2.models.Whisper``: encode doubles the features, generate echoes prompts."""

    device = "cpu"

    def encode(self, features: ctranslate2.StorageView, to_cpu: bool = False) -> ctranslate2.StorageView:
        assert not to_cpu
        return ctranslate2.StorageView.from_array(np.asarray(features) * 2)

    def generate(
        self, encoder_output: ctranslate2.StorageView, prompts: list[list[int]], **_: object
    ) -> list[list[int]]:
        assert len(np.asarray(encoder_output)) == len(prompts)
        return [list(prompt) for prompt in prompts]


class SlowWake(threading.Event):
    """An event whose waiters resume 0.3 s late, as threads of a loaded machine are scheduled late."""

    def wait(self, timeout: float | None = None) -> bool:
        woke = super().wait(timeout)
        time.sleep(0.3)
        return woke


def test_a_caller_woken_late_from_one_batch_still_joins_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    plain_batch = batched._Batch

    def batch_with_slow_wake() -> batched._Batch[object, object]:
        batch: batched._Batch[object, object] = plain_batch()
        batch.done = SlowWake()
        return batch

    monkeypatch.setattr(batched, "_Batch", batch_with_slow_wake)
    whisper = batched.BatchingWhisper(FakeWhisper(), max_batch_size=4, max_wait_s=WAIT_S)
    joined = threading.Barrier(2)

    def transcribe(value: float) -> tuple[float, list[int]]:
        features = ctranslate2.StorageView.from_array(np.full((1, 4, 6), value, dtype=np.float32))
        with whisper.participant():
            joined.wait(WAIT_S)
            encoded = whisper.encode(features)
            (tokens,) = whisper.generate(encoded, [[7, 8]], beam_size=5)
        return float(np.asarray(encoded).max()), tokens

    assert _in_threads([lambda: transcribe(1.0), lambda: transcribe(3.0)]) == [(2.0, [7, 8]), (6.0, [7, 8])]
    assert whisper.encoder.batch_sizes == {2: 1}
    # The leader of the encode batch is back first and opens the generate batch; the other caller is still
    # waking up, and the batch must wait for it rather than run alone.
    assert whisper.decoder.batch_sizes == {2: 1}


# --- the real default model ----------------------------------------------------------------------


@pytest.mark.model
@pytest.mark.slow
def test_same_transcript_batched_or_alone(default_model_path: Path, hindi_clips: list[Clip]) -> None:
    from awaaz.engines.base import Placement
    from awaaz.engines.whisper_ct2 import WhisperCT2Engine

    # Beam search without temperature fallback (the engine's default: no sampling) is deterministic: any
    # difference would come from batching.
    placement = Placement(batch_size=8, batch_wait_s=WAIT_S)
    engine = WhisperCT2Engine("whisper-base", default_model_path, placement=placement)
    batcher = engine.batcher
    assert batcher is not None
    # Clips 1-3 share a duration bucket, so their decoder calls have the same options and may batch.
    audios = [decode_audio(clip.path) for clip in hindi_clips[1:4]]
    options = TranscribeOptions(language="hi")

    def tokens_of(index: int) -> list[tuple[int, ...]]:
        return [s.tokens for s in engine.transcribe(audios[index], options).collect().segments]

    alone = [tokens_of(i) for i in range(len(audios))]  # nobody else runs: batches of one, no waiting
    assert set(batcher.decoder.batch_sizes) == {1}

    joined = threading.Barrier(len(audios))

    def batched(index: int) -> list[tuple[int, ...]]:
        with engine.participant():
            joined.wait(WAIT_S)  # every transcription counts as running before any calls the model
            return tokens_of(index)

    together = _in_threads([lambda i=i: batched(i) for i in range(len(audios))])  # type: ignore[misc]
    assert together == alone
    assert max(batcher.encoder.batch_sizes) > 1, "the encoder calls were never batched"
    assert max(batcher.decoder.batch_sizes) > 1, "the decoder calls were never batched"
    engine.close()


@pytest.mark.model
def test_the_batcher_is_built_once_when_the_model_loads_however_many_requests_start_together(
    model_dir: Path,
) -> None:
    from awaaz.config import Settings
    from awaaz.engines.batched import BatchingWhisper
    from awaaz.engines.whisper_ct2 import WhisperCT2Engine
    from awaaz.models.manager import ModelManager

    models = ModelManager(Settings.of(model_dir=model_dir, max_inflight=8, num_workers=1, lm="none"))

    def first_request() -> WhisperCT2Engine:
        with models.use("whisper-base") as engine, engine.participant():
            assert isinstance(engine, WhisperCT2Engine)
            return engine

    engines = _in_threads([first_request] * 8)
    engine = engines[0]
    assert all(e is engine for e in engines)
    stack, layer = [], engine._model.model
    while layer is not None:
        stack.append(layer)
        layer = getattr(layer, "model", None) or getattr(layer, "_model", None)
    assert [type(x).__name__ for x in stack[:-1]] == ["WindowTrimmer", "BatchingWhisper"]
    assert sum(isinstance(x, BatchingWhisper) for x in stack) == 1
    assert stack[1] is engine.batcher
    models.close()
