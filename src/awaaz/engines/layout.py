"""How a CTranslate2 model spreads over the CPU cores: replicas x threads, measured once per machine.

Which layout is fastest differs by machine, and by a lot (docs/PERFORMANCE.md, "Thread layout"): on the
AMD EPYC VM with AVX-512 VNNI one replica with two threads decodes a lone request 2.6x *slower* than one
thread does, while on an AMD EPYC VM with AVX2 only it was 27 % faster. A fixed rule is wrong somewhere,
so each candidate layout (``replicas x threads == cores``) is timed on a fixed synthetic workload (the
encoder on a 10 s window, then beam-5 decoder steps with the end token suppressed, so every layout runs
the same steps) and the winner is cached per CPU, CTranslate2 version, compute type and model size.

A layout is scored by the product of two speeds: one request alone (what a lone user waits for) and all
replicas busy (what a loaded server delivers). Neither is sacrificed for a small gain in the other.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from awaaz.config import cpu_cores
from awaaz.whisper.ct2_file import read_vocabulary
from awaaz.whisper.tokens import EOT

log = logging.getLogger(__name__)

WINDOW_FRAMES = 1000
"""Mel frames of the workload's encoder window: 10 s, a typical trimmed window."""
DECODER_STEPS = 48
"""Beam-5 decoder steps of the workload (a 10 s Hindi clip takes about 150, so the decoder dominates as in
real decoding)."""
BEAM_SIZE = 5
CACHE_NAME = "cpu-layouts.json"
LOCK_NAME = ".cpu-layouts.lock"
KERNEL_VARIABLES = ("CT2_FORCE_CPU_ISA", "CT2_USE_MKL", "ONEDNN_MAX_CPU_ISA")
"""Environment variables that choose CTranslate2's CPU kernels (oneDNN's for its int8 products): another
setting is another machine as far as the layout goes (on Intel, ``CT2_USE_MKL=0 CT2_FORCE_CPU_ISA=AVX2``
stands in for an AVX2 AMD; ``ONEDNN_MAX_CPU_ISA=AVX2`` also stops oneDNN using VNNI)."""
LOCK_WAIT_S = 120.0
"""Longest a process waits for another one's measurement (a few seconds on a 2-core VM) before its own."""


@dataclass(frozen=True)
class Layout:
    """Model replicas that decode in parallel, and the threads each one uses."""

    replicas: int
    threads: int

    def __str__(self) -> str:
        return f"{self.replicas}x{self.threads}"


@dataclass(frozen=True)
class LayoutTiming:
    """One layout's measured speed on the workload."""

    layout: Layout
    lone_s: float
    """Seconds for one workload with nothing else running."""
    loaded_per_s: float
    """Workloads finished per second with every replica busy."""

    @property
    def score(self) -> float:
        """Lone speed times loaded throughput: higher is better."""
        return self.loaded_per_s / self.lone_s


def candidate_layouts(cores: int, max_replicas: int) -> list[Layout]:
    """Every ``replicas x threads`` that uses all ``cores``, most replicas first, at most ``max_replicas``."""
    return [
        Layout(replicas, cores // replicas)
        for replicas in range(min(cores, max_replicas), 0, -1)
        if cores % replicas == 0
    ] or [Layout(1, cores)]


def choose(timings: list[LayoutTiming]) -> LayoutTiming:
    """The best-scoring layout; on a tie, the one listed first (more replicas)."""
    return max(timings, key=lambda timing: timing.score)


VECTOR_EXTENSIONS = ("avx512_vnni", "avx512f", "avx_vnni", "avx2")
"""The x86 extensions that set CTranslate2's int8 speed, widest first."""


@lru_cache(maxsize=1)
def cpu_info() -> tuple[str, tuple[str, ...]]:
    """The CPU model and which of :data:`VECTOR_EXTENSIONS` it has (widest first)."""
    model, flags = "unknown CPU", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown CPU":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:  # not Linux: the platform string is what there is
        import platform

        model = platform.processor() or platform.machine()
    return model, tuple(f for f in VECTOR_EXTENSIONS if f in flags)


def forced_kernels() -> dict[str, str]:
    """Those of :data:`KERNEL_VARIABLES` set in the environment, with their values."""
    return {name: os.environ[name] for name in KERNEL_VARIABLES if name in os.environ}


@lru_cache(maxsize=1)
def cpu_signature() -> str:
    """The CPU model, its widest vector extension that CTranslate2 uses, and the cores this process has."""
    model, isa = cpu_info()
    return f"{model} | {isa[0] if isa else 'baseline'} | {cpu_cores()} cores"


def workload(path: Path, compute_type: str, layout: Layout) -> Callable[[], int]:
    """Load the model at ``path`` in ``layout`` and return one call of the fixed workload (which returns
    the tokens it decoded: :data:`DECODER_STEPS` where the model has an end token to suppress). The model
    lives as long as the call."""
    import ctranslate2
    import numpy as np

    model = ctranslate2.models.Whisper(
        str(path),
        device="cpu",
        compute_type=compute_type,
        inter_threads=layout.replicas,
        intra_threads=layout.threads,
    )
    rng = np.random.default_rng(0)
    features = rng.standard_normal((1, model.n_mels, WINDOW_FRAMES)).astype(np.float32)
    prompt = [["<|startoftranscript|>", "<|hi|>", "<|transcribe|>", "<|notimestamps|>"]]
    end = _token_id(path, EOT)

    def run() -> int:
        result = model.generate(
            ctranslate2.StorageView.from_array(features),
            prompt,
            beam_size=BEAM_SIZE,
            max_length=2 * DECODER_STEPS,  # CTranslate2's Whisper decodes up to half of max_length
            suppress_tokens=[-1] if end is None else [-1, end],
            suppress_blank=False,
        )
        return len(result[0].sequences_ids[0])

    return run


def _token_id(path: Path, token: str) -> int | None:
    """The id of ``token`` in the model's vocabulary, None where it has none (or no vocabulary file)."""
    try:
        tokens = read_vocabulary(path)
    except OSError:
        return None
    return tokens.index(token) if token in tokens else None


def measure(path: Path, compute_type: str, layout: Layout, *, rounds: int = 3) -> LayoutTiming:
    """Time the workload in ``layout``: the median of ``rounds`` lone calls, then every replica busy."""
    run = workload(path, compute_type, layout)
    run()  # warm-up: first-call allocations and caches
    lone = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        lone.append(time.perf_counter() - started)
    lone_s = statistics.median(lone)
    if layout.replicas == 1:
        return LayoutTiming(layout, lone_s, 1 / lone_s)
    per_replica = 2
    threads = [
        threading.Thread(target=lambda: [run() for _ in range(per_replica)], daemon=True)
        for _ in range(layout.replicas)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LayoutTiming(layout, lone_s, layout.replicas * per_replica / (time.perf_counter() - started))


Measure = Callable[[Path, str, Layout], LayoutTiming]


def tuned_layout(
    path: Path,
    compute_type: str,
    cores: int,
    max_replicas: int,
    cache_dir: Path,
    *,
    measurer: Measure = measure,
) -> Layout:
    """The measured best layout of the model at ``path`` on this machine, read from ``cache_dir`` when it
    was measured before (same CPU, cores, CTranslate2 version, compute type and model size)."""
    candidates = candidate_layouts(cores, max_replicas)
    if len(candidates) == 1:
        return candidates[0]
    key = _cache_key(path, compute_type, candidates)
    cache = cache_dir / CACHE_NAME
    with _alone(cache_dir):  # a second process starting now (a job worker) waits, then reads the cache
        known = _read_cache(cache)
        if key in known:
            entry = known[key]["chosen"]
            chosen = Layout(int(entry["replicas"]), int(entry["threads"]))
            log.info("thread layout %s, measured on this CPU before (%s)", chosen, cache)
            return chosen
        return _measured(path, compute_type, candidates, measurer, cache, known, key)


def _measured(
    path: Path,
    compute_type: str,
    candidates: list[Layout],
    measurer: Measure,
    cache: Path,
    known: dict[str, Any],
    key: str,
) -> Layout:
    """Time every candidate, log and cache the timings under ``key``, and return the best layout."""
    started = time.perf_counter()
    try:
        timings = [measurer(path, compute_type, layout) for layout in candidates]
    except Exception as exc:  # the model's own load reports a broken model; serve meanwhile
        log.warning("could not measure thread layouts (%s); using %s", exc, candidates[0])
        return candidates[0]
    best = choose(timings)
    log.info(
        "thread layout for this CPU (%s), measured in %.1f s: %s; chose %s (override with "
        "AWAAZ_NUM_WORKERS / AWAAZ_CPU_THREADS)",
        cpu_signature(),
        time.perf_counter() - started,
        ", ".join(
            f"{t.layout} lone {t.lone_s * 1000:.0f} ms, loaded {t.loaded_per_s:.2f}/s" for t in timings
        ),
        best.layout,
    )
    known[key] = {
        "chosen": asdict(best.layout),
        "timings": [
            {**asdict(t.layout), "lone_s": round(t.lone_s, 4), "loaded_per_s": round(t.loaded_per_s, 3)}
            for t in timings
        ],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_cache(cache, known)
    return best.layout


@contextmanager
def _alone(cache_dir: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the cache folder's measuring lock (an advisory ``flock``) for a ``with`` block: processes that
    measure at once would slow each other's timings. Past ``wait_s`` of waiting, or where there is no lock
    to take (a read-only folder, no ``fcntl``), the block runs anyway."""
    try:
        import fcntl

        cache_dir.mkdir(parents=True, exist_ok=True)
        handle = (cache_dir / LOCK_NAME).open("a")
    except (ImportError, OSError):
        yield
        return
    with handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    log.warning("another process holds %s; measuring anyway", cache_dir / LOCK_NAME)
                    break
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cache_key(path: Path, compute_type: str, candidates: list[Layout]) -> str:
    import ctranslate2

    model = path / "model.bin"
    size = model.stat().st_size if model.is_file() else 0
    layouts = ",".join(map(str, candidates))
    version = ctranslate2.__version__
    kernels = "".join(f" | {name}={value}" for name, value in forced_kernels().items())
    return f"{cpu_signature()}{kernels} | ctranslate2 {version} | {compute_type} | {size} B | {layouts}"


def _read_cache(cache: Path) -> dict[str, Any]:
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _write_cache(cache: Path, known: dict[str, Any]) -> None:
    """Write the cache atomically; a read-only cache directory costs a measurement per start, no more."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.{os.getpid()}")
        partial.write_text(json.dumps(known, indent=1, ensure_ascii=False), encoding="utf-8")
        partial.replace(cache)
    except OSError as exc:
        log.warning("could not cache the thread layout in %s (%s); it is measured again", cache, exc)
