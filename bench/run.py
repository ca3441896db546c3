"""CPU benchmark of the default model, in one run: Awaaz's HTTP API against the raw library and
faster-whisper-server, side by side on the same model files and the same 10 s Hindi clip.

Measures single-clip latency and real-time factor (RTF = processing seconds / audio seconds), throughput
(audio seconds per wall second) at several concurrencies through the HTTP API, the same clips through
faster-whisper run sequentially in one process, and through ``faster-whisper-server`` (from PyPI, in its own
virtual environment ``bench/.venv-fws``) at the same concurrencies; and the peak RSS of each server. Prints
a table and the ratios, and writes ``bench/results/latest.json``.

Run it with ``make bench``; ``python bench/run.py --help`` lists the knobs.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = REPO / "tests" / "fixtures" / "audio"
FWS_VENV = BENCH / ".venv-fws"
FWS_VERSION = "0.0.3"
SAMPLE_RATE = 16_000
CLIP_S = 10.0
# A train-split news clip of 10.0 s (never an eval split); the fixtures are the fallback. Chosen because the
# default decoding finishes it in one decoder pass: most train news clips fall back through all six
# temperatures with the current defaults, which measures the fallback, not the server.
ENCODER_GFLOP = 87.4
"""Whisper base encoder, one 30 s window (1500 positions, d=512, 6 layers, FFN 2048): 56.6 GFLOP of linear
layers, 27.6 of attention matmuls, 3.1 of the two convolutions (see docs/PERFORMANCE.md)."""
CLIP_SOURCE = "ai4bharat_noa/audio/news/Regional-Dehradun-Hindi-1830-2019915185934/sent_43.flac"


# --- the clip ------------------------------------------------------------------------------------


def make_clip() -> tuple[bytes, str]:
    """A WAV of exactly ``CLIP_S`` seconds of Hindi speech, and where it came from."""
    import soundfile as sf

    source = SHARED_DATA / CLIP_SOURCE
    if source.is_file():
        audio, rate = sf.read(source, dtype="float32")
        origin = f"shared/data/{CLIP_SOURCE} (train split)"
    else:  # a user's clone: concatenate the committed CC0 fixtures
        with (FIXTURES / "manifest.tsv").open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
        parts = [sf.read(FIXTURES / r["audio"], dtype="float32")[0] for r in rows]
        audio, rate = np.concatenate(parts), SAMPLE_RATE
        origin = "tests/fixtures/audio, concatenated"
    assert rate == SAMPLE_RATE, f"expected 16 kHz audio, got {rate}"
    samples = int(CLIP_S * SAMPLE_RATE)
    audio = np.pad(audio[:samples], (0, max(0, samples - len(audio))))
    buffer = io.BytesIO()
    sf.write(buffer, audio, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue(), origin


# --- servers ---------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process started for the benchmark."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def peak_rss_mb(self) -> float:
        """The process's peak resident set (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        """Terminate the server (and wait for it)."""
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(name: str, command: list[str], env: dict[str, str], port: int, ready_path: str) -> Server:
    """Start ``command`` and wait until ``ready_path`` answers 200."""
    log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=REPO
    )
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early; its log:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(server.url + ready_path, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"{name} was not ready within 300 s; its log:\n{log.read_text()[-3000:]}")


# --- load ----------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one concurrency level measured."""

    concurrency: int
    requests: int
    wall_s: float
    audio_s: float
    latencies_s: list[float]
    statuses: dict[str, int]
    text: str

    @property
    def throughput(self) -> float:
        """Audio seconds transcribed per wall-clock second."""
        return self.audio_s / self.wall_s


async def _load(url: str, clip: bytes, form: dict[str, str], concurrency: int, requests: int) -> LoadResult:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    texts: list[str] = []
    remaining = requests

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.post(
                url, files={"file": ("clip.wav", clip, "audio/wav")}, data=form, timeout=900
            )
            latencies.append(time.perf_counter() - started)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            if response.status_code == 200:
                texts.append(response.json()["text"])

    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    done = statuses.get("200", 0)
    return LoadResult(
        concurrency, requests, wall, done * CLIP_S, latencies, statuses, texts[0] if texts else ""
    )


def run_load(url: str, clip: bytes, form: dict[str, str], concurrency: int, requests: int) -> LoadResult:
    """Send ``requests`` transcriptions of ``clip``, ``concurrency`` at a time (closed loop)."""
    return asyncio.run(_load(url, clip, form, concurrency, requests))


# --- the raw library ----------------------------------------------------------------------------


def default_model_path(model_dir: Path) -> Path:
    """The default model's CTranslate2 directory (assembled and verified if needed)."""
    from awaaz.config import ModelSettings, Settings
    from awaaz.models.catalog import ModelCatalog

    settings = Settings(models=ModelSettings(model_dir=model_dir))
    return ModelCatalog(settings).prepare(settings.models.default_model)


def awaaz_decode_kwargs(model_dir: Path) -> dict[str, Any]:
    """The faster-whisper ``transcribe`` arguments Awaaz's default engine uses for a Hindi request."""
    from awaaz.config import ModelSettings, Settings
    from awaaz.engines.whisper_ct2 import WhisperCT2Engine
    from awaaz.models.loading import load_engine
    from awaaz.types import TranscribeOptions

    engine = load_engine(None, Settings(models=ModelSettings(model_dir=model_dir)))
    assert isinstance(engine, WhisperCT2Engine), "the default model is a Whisper model"
    kwargs = engine.decode_kwargs(TranscribeOptions(language="hi"), CLIP_S)
    engine.close()
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}


LIBRARY_SCRIPT = """
import json, resource, sys, time
from faster_whisper import WhisperModel, decode_audio
path, clip, runs, threads, kwargs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
device, compute_type = sys.argv[6], sys.argv[7]
kwargs = json.load(open(kwargs))
model = WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=threads)
audio = decode_audio(clip)
text = " ".join(s.text.strip() for s in model.transcribe(audio, **kwargs)[0])  # warm-up
times = []
for _ in range(runs):
    started = time.perf_counter()
    decoded = decode_audio(clip)
    segments, _ = model.transcribe(decoded, **kwargs)
    text = " ".join(s.text.strip() for s in segments)
    times.append(time.perf_counter() - started)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
calls = []
ct2 = model.model


class Counting:
    def __getattr__(self, name):
        return getattr(ct2, name)

    def generate(self, *args, **kwargs):
        calls.append(kwargs.get("sampling_temperature") or 0.0)
        return ct2.generate(*args, **kwargs)


model.model = Counting()
list(model.transcribe(audio, **kwargs)[0])
import ctranslate2, numpy as np


def encode_s(frames):
    window = ctranslate2.StorageView.from_array(np.full((1, 80, frames), -0.5, dtype=np.float32))
    best = []
    for _ in range(3):
        started = time.perf_counter()
        ct2.encode(window, to_cpu=True)
        best.append(time.perf_counter() - started)
    return min(best)


print(json.dumps({"times": times, "text": text, "peak_rss_mb": rss, "decoder_calls": calls,
                  "encode_30s_window_s": encode_s(3000), "encode_trimmed_window_s": encode_s(TRIMMED)}))
"""


def run_library(
    python: str,
    model_path: Path,
    clip_path: Path,
    runs: int,
    kwargs_path: Path,
    device: str = "cpu",
    compute_type: str = "int8",
    threads: int = 0,
) -> dict[str, Any]:
    """Transcribe the clip ``runs`` times in a row with faster-whisper in a fresh process.

    ``threads`` is faster-whisper's ``cpu_threads``: 0, its default, lets CTranslate2 choose.
    """
    from awaaz.whisper.windows import window_frames

    script = LIBRARY_SCRIPT.replace("TRIMMED", str(window_frames(round(CLIP_S * 100))))
    out = subprocess.run(
        [
            python,
            "-c",
            script,
            str(model_path),
            str(clip_path),
            str(runs),
            str(threads),
            str(kwargs_path),
            device,
            compute_type,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- faster-whisper-server -------------------------------------------------------------------------


def ensure_fws() -> Path | None:
    """The faster-whisper-server executable in its own venv, installing it from PyPI when missing."""
    exe = FWS_VENV / "bin" / "faster-whisper-server"
    if exe.exists():
        return exe
    try:
        subprocess.run([sys.executable, "-m", "venv", str(FWS_VENV)], check=True)
        subprocess.run(
            [str(FWS_VENV / "bin" / "pip"), "install", "-q", f"faster-whisper-server=={FWS_VERSION}"],
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        print(f"! could not install faster-whisper-server=={FWS_VERSION}: {exc}", file=sys.stderr)
        return None
    return exe


# --- the machine -----------------------------------------------------------------------------------


def gpu_name() -> str | None:
    """The first GPU nvidia-smi names, or None."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else None


def machine(device: str = "cpu") -> dict[str, Any]:
    """What the benchmark ran on."""
    from awaaz.engines.layout import cpu_info, forced_kernels

    cpu, isa = cpu_info()
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    import ctranslate2
    import faster_whisper

    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "isa": list(isa),
        # Forced CTranslate2 kernels (on Intel, CT2_USE_MKL=0 CT2_FORCE_CPU_ISA=AVX2 stands in for AMD AVX2).
        "ct2_kernels": forced_kernels(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "gpu": gpu_name() if device == "cuda" else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "ctranslate2": ctranslate2.__version__,
        "faster_whisper": faster_whisper.__version__,
        "load_average_at_start": os.getloadavg(),
    }


# --- main ------------------------------------------------------------------------------------------


@dataclass
class Report:
    """Everything written to latest.json."""

    machine: dict[str, Any]
    clip: str
    model: str
    rtf_single: float = float("nan")
    latency_single_s: float = float("nan")
    throughput: dict[str, dict[str, float]] = field(default_factory=dict)
    library_sequential_throughput: float = float("nan")
    library_rtf: float = float("nan")
    throughput_ratio_vs_library: float = float("nan")
    throughput_ratio_vs_faster_whisper_server: float | None = None
    peak_rss_mb: float = float("nan")
    peak_rss_mb_library: float = float("nan")
    peak_rss_mb_faster_whisper_server: float | None = None
    faster_whisper_server: dict[str, Any] = field(default_factory=dict)
    transcripts: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rounds", type=int, default=3, help="Requests per client at each concurrency.")
    parser.add_argument(
        "--fws-concurrency", type=int, nargs="+", default=[1, 4], help="Levels run on faster-whisper-server."
    )
    parser.add_argument("--single-runs", type=int, default=3, help="Runs of the single-clip latency.")
    parser.add_argument("--skip-fws", action="store_true", help="Leave faster-whisper-server out.")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="cuda: the GPU benchmark.")
    parser.add_argument(
        "--compute-type",
        default=None,
        help="CTranslate2 compute type (default int8 on cpu, float16 on cuda).",
    )
    parser.add_argument(
        "--library-threads",
        type=int,
        nargs="+",
        default=[0, 1],
        help="cpu_threads of the raw-library runs; the first is the reference of the ratio (0: its default).",
    )
    args = parser.parse_args()
    compute_type = args.compute_type or ("float16" if args.device == "cuda" else "int8")
    started = time.monotonic()

    from awaaz.config import Settings

    model_dir = Settings().models.model_dir
    model_path = default_model_path(model_dir)
    clip, origin = make_clip()
    work = Path(tempfile.mkdtemp(prefix="awaaz-bench-"))
    clip_path = work / "clip10s.wav"
    clip_path.write_bytes(clip)
    report = Report(
        machine=machine(args.device),
        clip=f"{CLIP_S:g} s, {origin}",
        model=f"{Settings().models.default_model} {compute_type} on {args.device} ({model_path})",
    )
    kwargs = awaaz_decode_kwargs(model_dir)
    kwargs_path = work / "decode.json"
    kwargs_path.write_text(json.dumps(kwargs))
    c4 = 4 if 4 in args.concurrency else max(args.concurrency)

    # 1. Awaaz through its HTTP API.
    port = free_port()
    awaaz = start_server(
        "awaaz",
        [sys.executable, "-m", "awaaz.cli", "serve"],  # the real server: it preloads in its own pool
        {
            "AWAAZ_PORT": str(port),
            "AWAAZ_MODEL_DIR": str(model_dir),
            "AWAAZ_LOG_LEVEL": "warning",
            "AWAAZ_REQUEST_TIMEOUT_S": "3600",  # measure throughput, not the deadline
            "AWAAZ_DEVICE": args.device,
            "AWAAZ_COMPUTE_TYPE": compute_type,
        },
        port,
        "/ready",
    )
    url = awaaz.url + "/v1/audio/transcriptions"
    form = {"model": "whisper-1", "language": "hi"}
    try:
        run_load(url, clip, form, 1, 1)  # warm-up
        single = run_load(url, clip, form, 1, args.single_runs)
        report.latency_single_s = statistics.median(single.latencies_s)
        report.rtf_single = report.latency_single_s / CLIP_S
        report.transcripts["awaaz"] = single.text
        for c in args.concurrency:
            result = run_load(url, clip, form, c, c * args.rounds)
            report.throughput.setdefault("awaaz", {})[str(c)] = result.throughput
            report.details[f"awaaz_c{c}"] = asdict(result)
            print(f"  awaaz c={c}: {result.throughput:.2f} audio s/s {result.statuses}", flush=True)
        report.peak_rss_mb = awaaz.peak_rss_mb()
    finally:
        awaaz.stop()

    # 2. The raw library, sequentially, with the same decoding options.
    runs = c4 * args.rounds
    lib = run_library(
        sys.executable,
        model_path,
        clip_path,
        runs,
        kwargs_path,
        args.device,
        compute_type,
        args.library_threads[0],
    )
    for threads in args.library_threads[1:]:  # other thread counts, reported beside the reference
        other = run_library(
            sys.executable, model_path, clip_path, runs, kwargs_path, args.device, compute_type, threads
        )
        report.details[f"library_cpu_threads_{threads}_throughput"] = (
            len(other["times"]) * CLIP_S / sum(other["times"])
        )
        print(
            f"  library sequential, cpu_threads={threads}: "
            f"{report.details[f'library_cpu_threads_{threads}_throughput']:.2f} audio s/s",
            flush=True,
        )
    report.details["library_cpu_threads"] = args.library_threads[0]
    report.library_sequential_throughput = len(lib["times"]) * CLIP_S / sum(lib["times"])
    report.library_rtf = statistics.median(lib["times"]) / CLIP_S
    report.peak_rss_mb_library = lib["peak_rss_mb"]
    report.transcripts["library"] = lib["text"]
    report.details["library_decoder_calls_per_clip"] = lib["decoder_calls"]
    report.details["encode_30s_window_s"] = lib["encode_30s_window_s"]
    report.details["encoder_gflop_per_window"] = ENCODER_GFLOP
    report.details["encoder_gflops_measured"] = ENCODER_GFLOP / lib["encode_30s_window_s"]
    report.details["encode_trimmed_window_s"] = lib["encode_trimmed_window_s"]
    report.throughput_ratio_vs_library = (
        report.throughput["awaaz"][str(c4)] / report.library_sequential_throughput
    )
    print(f"  library sequential: {report.library_sequential_throughput:.2f} audio s/s", flush=True)

    # 3. faster-whisper-server from PyPI, same model files and decoding options, own venv.
    exe = None if args.skip_fws else ensure_fws()
    if exe is not None:
        config = work / "fws.yaml"
        fws_kwargs = {k: v for k, v in kwargs.items() if v is not None}
        model_options = {"device": args.device, "compute_type": compute_type, "cpu_threads": 0}
        entry = {"name": "whisper-base", "path": str(model_path), "model_options": model_options}
        config.write_text(
            json.dumps({"models": [{**entry, "transcribe_options": fws_kwargs}]})
        )  # JSON is YAML
        port = free_port()
        fws = start_server(
            "fws", [str(exe), "--config", str(config), "--port", str(port)], {}, port, "/health"
        )
        fws_url = fws.url + "/v1/audio/transcriptions"
        fws_form = {"model_name": "whisper-base"}
        try:
            run_load(fws_url, clip, fws_form, 1, 1)  # warm-up (loads the model)
            for c in sorted({*args.fws_concurrency, c4}):
                result = run_load(fws_url, clip, fws_form, c, c * args.rounds)
                report.throughput.setdefault("faster_whisper_server", {})[str(c)] = result.throughput
                report.details[f"fws_c{c}"] = asdict(result)
                report.transcripts["faster_whisper_server"] = result.text
                print(f"  faster-whisper-server c={c}: {result.throughput:.2f} audio s/s {result.statuses}")
            report.peak_rss_mb_faster_whisper_server = fws.peak_rss_mb()
        finally:
            fws.stop()
        fws_c4 = report.throughput["faster_whisper_server"][str(c4)]
        report.throughput_ratio_vs_faster_whisper_server = report.throughput["awaaz"][str(c4)] / fws_c4
        report.faster_whisper_server = {
            "version": FWS_VERSION,
            "venv": str(FWS_VENV),
            "config": "same model, int8, cpu_threads=0, Awaaz's decoding options",
        }

    report.machine["load_average_at_end"] = os.getloadavg()
    report.details["bench_wall_s"] = time.monotonic() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n")
    print_table(report, c4, args.out)
    shutil.rmtree(work, ignore_errors=True)


def print_table(report: Report, c4: int, out: Path) -> None:
    """The results, readable."""
    m = report.machine
    kernels = "".join(f", {k}={v}" for k, v in m.get("ct2_kernels", {}).items())
    isa = ", ".join(m["isa"]) + kernels
    print(f"\nMachine: {m['cpu']}, {m['cores']} cores ({isa}), {m['memory_gb']} GB, no GPU")
    print(f"Load average at start / end: {m['load_average_at_start']} / {m['load_average_at_end']}")
    print(f"Clip: {report.clip}\nModel: {report.model}\n")
    print(f"Single clip: latency {report.latency_single_s:.2f} s, RTF {report.rtf_single:.3f} (HTTP API)")
    print(
        f"Library alone: RTF {report.library_rtf:.3f}; decoder calls per clip (temperatures): "
        f"{report.details['library_decoder_calls_per_clip']}"
    )
    enc_s = report.details["encode_30s_window_s"]
    trimmed_s = report.details["encode_trimmed_window_s"]
    print(
        f"Encoder: one 30 s window in {enc_s:.2f} s = {ENCODER_GFLOP / enc_s:.0f} GFLOP/s; "
        f"the trimmed window of this clip in {trimmed_s:.3f} s\n"
    )
    print(
        f"{'throughput (audio s / wall s)':<34}"
        + "".join(f"{'c=' + c:>9}" for c in report.throughput["awaaz"])
    )
    for name, row in report.throughput.items():
        cells = (f"{row[c]:>9.2f}" if c in row else f"{'-':>9}" for c in report.throughput["awaaz"])
        print(f"{name:<34}" + "".join(cells))
    print(f"{'faster-whisper, sequential':<34}{report.library_sequential_throughput:>9.2f}")
    print(f"\nAt concurrency {c4}: {report.throughput_ratio_vs_library:.2f}x the raw library, ", end="")
    if report.throughput_ratio_vs_faster_whisper_server is not None:
        print(f"{report.throughput_ratio_vs_faster_whisper_server:.2f}x faster-whisper-server")
    else:
        print("faster-whisper-server not measured")
    fws_rss = report.peak_rss_mb_faster_whisper_server
    print(
        f"Peak RSS: awaaz {report.peak_rss_mb:.0f} MB, library {report.peak_rss_mb_library:.0f} MB"
        + (f", faster-whisper-server {fws_rss:.0f} MB" if fws_rss is not None else "")
    )
    print(f"Benchmark wall time: {report.details['bench_wall_s']:.0f} s -> {out}")


if __name__ == "__main__":
    main()
