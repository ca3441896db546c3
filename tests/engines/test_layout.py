"""The CPU thread layout: candidates, the choice, its cache, the real measurement and the factory's use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awaaz.config import Settings
from awaaz.engines import factory, layout
from awaaz.engines.layout import (
    DECODER_STEPS,
    Layout,
    LayoutTiming,
    candidate_layouts,
    choose,
    measure,
    tuned_layout,
    workload,
)


def test_candidates_use_every_core_most_replicas_first_within_the_inflight_limit() -> None:
    assert candidate_layouts(2, 8) == [Layout(2, 1), Layout(1, 2)]
    assert candidate_layouts(4, 2) == [Layout(2, 2), Layout(1, 4)]
    assert candidate_layouts(3, 8) == [Layout(3, 1), Layout(1, 3)]
    assert candidate_layouts(1, 4) == [Layout(1, 1)]


def test_the_choice_weighs_a_lone_request_and_a_loaded_server_alike() -> None:
    # AMD EPYC with AVX-512 VNNI (measured): two threads are slower even for a lone request.
    vnni = [LayoutTiming(Layout(2, 1), 0.20, 6.7), LayoutTiming(Layout(1, 2), 0.40, 2.5)]
    assert choose(vnni).layout == Layout(2, 1)
    # A machine where two threads make a lone request 27 % faster and lose a little under load.
    threads_help = [LayoutTiming(Layout(2, 1), 1.00, 1.6), LayoutTiming(Layout(1, 2), 0.73, 1.37)]
    assert choose(threads_help).layout == Layout(1, 2)
    # A faster lone request does not buy a halved throughput.
    halved = [LayoutTiming(Layout(2, 1), 1.00, 2.0), LayoutTiming(Layout(1, 2), 0.80, 1.25)]
    assert choose(halved).layout == Layout(2, 1)
    tie = [LayoutTiming(Layout(2, 1), 1.0, 1.0), LayoutTiming(Layout(1, 2), 1.0, 1.0)]
    assert choose(tie).layout == Layout(2, 1)


class Measurer:
    """Stands in for the timing: 1x2 is faster alone and as fast loaded; counts its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Layout]] = []

    def __call__(self, path: Path, compute_type: str, candidate: Layout) -> LayoutTiming:  # noqa: ARG002
        self.calls.append((compute_type, candidate))
        lone = 0.5 if candidate.threads == 2 else 1.0
        return LayoutTiming(candidate, lone, 2.0)


def _model(tmp_path: Path) -> Path:
    path = tmp_path / "model"
    path.mkdir()
    (path / "model.bin").write_bytes(b"0" * 10)
    return path


def test_the_layout_is_measured_once_then_read_from_the_cache(tmp_path: Path) -> None:
    path, cache, measurer = _model(tmp_path), tmp_path / "cache", Measurer()
    assert tuned_layout(path, "int8", 2, 8, cache, measurer=measurer) == Layout(1, 2)
    assert len(measurer.calls) == 2
    assert tuned_layout(path, "int8", 2, 8, cache, measurer=measurer) == Layout(1, 2)
    assert len(measurer.calls) == 2, "the second start read the cache"
    (entry,) = json.loads((cache / layout.CACHE_NAME).read_text()).values()
    assert entry["chosen"] == {"replicas": 1, "threads": 2}
    assert [(t["replicas"], t["threads"], t["lone_s"]) for t in entry["timings"]] == [
        (2, 1, 1.0),
        (1, 2, 0.5),
    ]
    # Another compute type, a changed model or another inflight limit is another measurement.
    tuned_layout(path, "float32", 2, 8, cache, measurer=measurer)
    (path / "model.bin").write_bytes(b"0" * 20)
    tuned_layout(path, "int8", 2, 8, cache, measurer=measurer)
    tuned_layout(path, "int8", 2, 1, cache, measurer=measurer)  # one candidate: nothing to measure
    assert len(measurer.calls) == 6


def test_other_ctranslate2_kernels_are_measured_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, cache, measurer = _model(tmp_path), tmp_path / "cache", Measurer()
    for name in layout.KERNEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    tuned_layout(path, "int8", 2, 8, cache, measurer=measurer)
    monkeypatch.setenv("CT2_USE_MKL", "0")
    monkeypatch.setenv("CT2_FORCE_CPU_ISA", "AVX2")
    tuned_layout(path, "int8", 2, 8, cache, measurer=measurer)
    tuned_layout(path, "int8", 2, 8, cache, measurer=measurer)
    assert len(measurer.calls) == 4, "the forced kernels were measured once, apart from the default ones"
    keys = list(json.loads((cache / layout.CACHE_NAME).read_text()))
    assert "CT2_FORCE_CPU_ISA=AVX2 | CT2_USE_MKL=0" in keys[1]


def test_a_failed_measurement_falls_back_to_one_replica_per_core_and_is_not_cached(tmp_path: Path) -> None:
    def broken(path: Path, compute_type: str, candidate: Layout) -> LayoutTiming:  # noqa: ARG001
        raise RuntimeError("no model here")

    path, cache = _model(tmp_path), tmp_path / "cache"
    assert tuned_layout(path, "int8", 2, 8, cache, measurer=broken) == Layout(2, 1)
    assert not (cache / layout.CACHE_NAME).exists()


def test_an_unwritable_cache_still_gives_the_measured_layout(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert tuned_layout(_model(tmp_path), "int8", 2, 8, blocked / "cache", measurer=Measurer()) == Layout(
        1, 2
    )


def test_a_corrupt_cache_is_measured_again(tmp_path: Path) -> None:
    cache, measurer = tmp_path / "cache", Measurer()
    cache.mkdir()
    (cache / layout.CACHE_NAME).write_text("{not json")
    assert tuned_layout(_model(tmp_path), "int8", 2, 8, cache, measurer=measurer) == Layout(1, 2)
    assert len(measurer.calls) == 2


def test_the_workload_runs_the_same_decoder_steps_on_the_real_model(default_model_path: Path) -> None:
    run = workload(default_model_path, "int8", Layout(1, 1))
    assert run() == DECODER_STEPS, "the end token is suppressed, so every layout decodes the same steps"
    timing = measure(default_model_path, "int8", Layout(2, 1), rounds=1)
    assert timing.lone_s > 0
    assert timing.loaded_per_s > 0


def test_the_factory_places_a_ct2_model_in_the_measured_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, int, int, Path]] = []

    def tuned(path: Path, compute_type: str, cores: int, max_replicas: int, cache_dir: Path) -> Layout:  # noqa: ARG001
        asked.append((compute_type, cores, max_replicas, cache_dir))
        return Layout(1, 2)

    monkeypatch.setattr(factory, "tuned_layout", tuned)
    monkeypatch.setattr(factory, "cpu_cores", lambda: 2)
    settings = Settings.of(cpu_layout="measure", model_dir=tmp_path, max_inflight=4)
    where = factory.placement(settings, None, tmp_path / "model")
    assert (where.replicas, where.cpu_threads, where.batch_size) == (1, 2, 4)
    assert asked == [("int8", 2, 4, tmp_path)]
    # An explicit replica or thread count, the fixed rule, a GPU or no model path: nothing is measured.
    for fixed in (
        Settings.of(cpu_layout="measure", num_workers=2),
        Settings.of(cpu_layout="measure", cpu_threads=1),
        Settings.of(cpu_layout="per-core"),
        Settings.of(cpu_layout="measure", device="cuda"),
    ):
        factory.placement(fixed, None, tmp_path / "model")
    factory.placement(settings, None, None)
    assert len(asked) == 1


def test_processes_starting_together_measure_once(tmp_path: Path) -> None:
    import threading
    import time

    path, cache = _model(tmp_path), tmp_path / "cache"
    measurer = Measurer()

    def slow(path: Path, compute_type: str, candidate: Layout) -> LayoutTiming:
        time.sleep(0.2)
        return measurer(path, compute_type, candidate)

    chosen: list[Layout] = []
    starts = [
        threading.Thread(target=lambda: chosen.append(tuned_layout(path, "int8", 2, 8, cache, measurer=slow)))
        for _ in range(3)
    ]
    for thread in starts:
        thread.start()
    for thread in starts:
        thread.join()
    assert chosen == [Layout(1, 2)] * 3
    assert len(measurer.calls) == 2, "one start measured the two layouts; the others read its result"


def test_a_held_lock_delays_a_start_only_so_long(tmp_path: Path) -> None:
    import fcntl
    import time

    cache = tmp_path / "cache"
    cache.mkdir()
    with (cache / layout.LOCK_NAME).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        started = time.monotonic()
        with layout._alone(cache, wait_s=0.3):
            waited = time.monotonic() - started
    assert 0.3 <= waited < 2.0
