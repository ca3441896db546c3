"""Reliability proofs against a real ``awaaz serve`` on the default model (docs/RELIABILITY.md).

``python bench/reliability.py fuzz [--cases 1200]``: malformed, mutated, truncated and random uploads,
form fields, paths, methods and live-stream messages across every endpoint; counts answers by status and
requires none of 500 or above, the server alive, and its open descriptors and threads back where they were.

``python bench/reliability.py overload [--seconds 60] [--factor 8]``: ``factor`` x ``AWAAZ_MAX_INFLIGHT``
clients post a 5 s clip in a loop; only 200 and 429 are allowed; latency of the admitted requests and of
the refusals, and how the server answers right afterwards.

``python bench/reliability.py soak [--requests 2000]``: short, long and bad requests mixed, four at a time;
RSS growth (after a warm-up of 200 requests of the same mix) must stay under 10 % and the descriptor
count flat.

Each writes ``bench/results/reliability-<kind>-<tag>.json`` with the machine it ran on. Inputs come from the
committed CC0 clips (tests/fixtures/audio), and every random choice from ``--seed``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import io
import json
import os
import random
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import soundfile as sf
import websockets

from run import FIXTURES, RESULTS, Server, free_port, machine, start_server

RATE = 16_000
FORMATS = {  # extension: (container, codec)
    "wav": ("wav", "pcm_s16le"),
    "mp3": ("mp3", "libmp3lame"),
    "flac": ("flac", "flac"),
    "ogg": ("ogg", "libopus"),
    "webm": ("webm", "libopus"),
    "m4a": ("ipod", "aac"),
}
HOSTILE_TEXTS = [
    b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6100 RTP/AVP 0\n",
    b"ffconcat version 1.0\nfile /etc/passwd\n",
    b"#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:1/x.ts\n",
    b"<html><body>not audio</body></html>",
    b'{"text": "not audio"}',
    "यह ऑडियो नहीं है".encode(),
]


# --- the server -------------------------------------------------------------------------------------


def serve(extra: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {"AWAAZ_PORT": str(port), "AWAAZ_LOG_LEVEL": "warning", **(extra or {})}
    return start_server("awaaz", [sys.executable, "-m", "awaaz.cli", "serve"], env, port, "/ready")


def process_state(server: Server) -> dict[str, float]:
    """Open descriptors, threads and resident memory (MiB) of the server process now."""
    pid = server.process.pid
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    field = {line.split(":")[0]: line.split(":", 1)[1].split() for line in status}
    return {
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(field["Threads"][0]),
        "rss_mb": round(int(field["VmRSS"][0]) / 1024, 1),
    }


# --- inputs -----------------------------------------------------------------------------------------


def fixture_audio() -> list[np.ndarray]:
    return [sf.read(p, dtype="float32")[0] for p in sorted(FIXTURES.glob("*.flac"))]


def encode(audio: np.ndarray, ext: str) -> bytes:
    container_format, codec = FORMATS[ext]
    out_rate = 48_000 if codec == "libopus" else RATE
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=out_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(audio[None, :].astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = RATE
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=out_rate)
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def wav_header(rate: int, channels: int, bits: int, data: bytes, tag: int = 1) -> bytes:
    width = max(1, bits // 8)
    fmt = struct.pack(
        "<HHIIHH",
        tag,
        channels,
        min(rate, 2**32 - 1),
        min(rate * channels * width, 2**32 - 1),
        min(channels * width, 2**16 - 1),
        bits,
    )
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


class Mutator:
    """Malformed uploads from valid seeds, reproducibly."""

    def __init__(self, seeds: list[bytes], rng: random.Random) -> None:
        self.seeds, self.rng = seeds, rng

    def upload(self) -> tuple[str, bytes]:
        rng = self.rng
        seed = rng.choice(self.seeds)
        kind = rng.choice(
            ["truncate", "flip", "header", "random", "splice", "text", "empty", "wavhdr", "valid"]
        )
        if kind == "truncate":
            data = seed[: rng.randrange(0, len(seed))]
        elif kind == "flip":
            data = bytearray(seed)
            for _ in range(rng.randint(1, 64)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        elif kind == "header":
            cut = min(len(seed), rng.choice([4, 16, 64, 512]))
            data = bytes(rng.randrange(256) for _ in range(cut)) + seed[cut:]
        elif kind == "random":
            data = rng.randbytes(rng.choice([1, 10, 100, 4096, 65536, 300_000]))
        elif kind == "splice":
            other = rng.choice(self.seeds)
            data = seed[: rng.randrange(1, len(seed))] + other[rng.randrange(len(other)) :]
        elif kind == "text":
            data = rng.choice(HOSTILE_TEXTS)
        elif kind == "empty":
            data = b""
        elif kind == "wavhdr":
            rate = rng.choice([0, 1, 100, 8000, 16000, 44100, 384_000, 2**31])
            bits = rng.choice([0, 1, 7, 8, 12, 16, 24, 32, 64, 65535])
            data = wav_header(
                rate,
                rng.choice([0, 1, 2, 8, 64, 65535]),
                bits,
                rng.randbytes(rng.choice([0, 100, 32000])),
                rng.choice([1, 3, 2, 0xFFFE, 0]),
            )
        else:
            data = seed
        name = rng.choice(
            ["a.wav", "a.mp3", "b.flac", "c.ogg", "d.webm", "x", "../../etc/passwd", "😀.m4a", ""]
        )
        return name, data

    def form(self) -> dict[str, str]:
        rng = self.rng
        choices = {
            "model": ["whisper-1", "whisper-base-hi-soup", "nope", "../../x", ""],
            "language": ["hi", "en", "xx", "", "h" * 300],
            "response_format": ["json", "text", "srt", "vtt", "verbose_json", "docx", ""],
            "temperature": ["0", "0.5", "1", "-1", "7", "nan", "x"],
            "prompt": ["", "नमस्ते", "क" * 3000],
            "timestamp_granularities[]": ["word", "segment", "char"],
            "callback_url": ["http://127.0.0.1:1/hook", "file:///etc/passwd", "not a url"],
        }
        return {k: rng.choice(v) for k, v in choices.items() if rng.random() < 0.4}


# --- fuzz -------------------------------------------------------------------------------------------


def fuzz(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    clips = fixture_audio()
    seeds = [encode(rng.choice(clips), ext) for ext in FORMATS for _ in range(2)]
    mutator = Mutator(seeds, rng)
    server = serve({"AWAAZ_MAX_JOB_DURATION_S": "120"})
    statuses: collections.Counter[str] = collections.Counter()
    failures: list[dict[str, Any]] = []
    try:
        client = httpx.Client(base_url=server.url, timeout=120)
        for _ in range(3):  # warm every path once before counting descriptors and threads
            client.post("/v1/audio/transcriptions", files={"file": ("a.wav", seeds[0])})
            client.post("/v1/jobs", files={"file": ("a.wav", seeds[0])})
        time.sleep(3)
        before = process_state(server)
        ws_url = server.url.replace("http", "ws")
        for case in range(args.cases):
            target = rng.choices(
                ["sync", "compat", "job", "read", "path", "stream", "realtime"], [35, 10, 20, 12, 8, 10, 5]
            )[0]
            try:
                if target in ("stream", "realtime"):
                    status = asyncio.run(fuzz_socket(ws_url, target, rng))
                else:
                    status = fuzz_http(client, target, mutator, rng)
            except (httpx.HTTPError, OSError) as exc:
                status = f"transport:{type(exc).__name__}"
            statuses[f"{target}:{str(status).split(' ', 1)[0]}"] += 1
            if str(status).startswith("5") or (
                str(status).startswith("transport") and server.process.poll() is not None
            ):
                failures.append({"case": case, "target": target, "status": status})
            if server.process.poll() is not None:
                failures.append({"case": case, "target": target, "status": "server died"})
                break
        settle(client)
        after = process_state(server)
        alive = httpx.get(server.url + "/health", timeout=30).status_code == 200
    finally:
        server.stop()
    by_status = collections.Counter(k.split(":", 1)[1] for k in statuses.elements())
    return {
        "cases": sum(statuses.values()),
        "by_status": dict(sorted(by_status.items())),
        "by_target": dict(sorted(statuses.items())),
        "server_errors": failures,
        "alive_after": alive,
        "before": before,
        "after": after,
    }


def fuzz_http(client: httpx.Client, target: str, mutator: Mutator, rng: random.Random) -> int:
    if target == "sync":
        name, data = mutator.upload()
        return client.post(
            "/v1/audio/transcriptions", files={"file": (name, data)}, data=mutator.form()
        ).status_code
    if target == "compat":
        name, data = mutator.upload()
        return client.post("/transcribe", files={"file": (name, data)}).status_code
    if target == "job":
        name, data = mutator.upload()
        fields = {
            k: v
            for k, v in mutator.form().items()
            if k in ("model", "language", "prompt", "temperature", "callback_url")
        }
        return client.post("/v1/jobs", files={"file": (name, data)}, data=fields).status_code
    if target == "read":
        job = rng.choice(["job_" + "0" * 32, "../x", "x" * 500, "%00", rng.randbytes(8).hex()])
        recent = client.get("/v1/jobs", params={"limit": rng.choice([1, 5, 0, 1000, -1])})
        if recent.status_code == 200 and recent.json()["data"] and rng.random() < 0.7:
            job = rng.choice(recent.json()["data"])["id"]
        path = rng.choice([f"/v1/jobs/{job}", f"/v1/jobs/{job}/result", f"/v1/models/{job}"])
        method = rng.choice(["GET", "GET", "DELETE"])
        params = {
            "format": rng.choice(["json", "srt", "vtt", "text", "verbose_json", "pdf"]),
            "partial": rng.choice(["true", "false", "x"]),
        }
        return client.request(method, path, params=params).status_code
    path = rng.choice(
        [
            "/",
            "/v1",
            "/v1/audio",
            "/v1/audio/transcriptions",
            "/transcribe",
            "/v1/jobs",
            "/metrics",
            "/web/../../etc/passwd",
            "/web/config",
            "/%2e%2e/",
            "/" + "a" * 5000,
        ]
    )
    method = rng.choice(["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "POST"])
    body = rng.randbytes(rng.choice([0, 10, 1000]))
    headers = rng.choice(
        [
            {},
            {"Content-Type": "multipart/form-data; boundary=x"},
            {"Content-Type": "application/json"},
            {"Content-Type": "text/plain; charset=x"},
        ]
    )
    return client.request(method, path, content=body, headers=headers).status_code


async def fuzz_socket(url: str, target: str, rng: random.Random) -> str:
    path = "/v1/stream" if target == "stream" else "/v1/realtime?intent=transcription"
    try:
        async with websockets.connect(url + path, max_size=None, open_timeout=10, close_timeout=5) as ws:
            first = rng.choice(
                [
                    json.dumps(
                        {
                            "type": "start",
                            "sample_rate": rng.choice([16000, 8000, 0, 10**9, "x"]),
                            "language": rng.choice(["hi", "xx", 5]),
                        }
                    ),
                    json.dumps(
                        {
                            "type": "session.update",
                            "session": {
                                "input_audio_format": rng.choice(["pcm16", "g711"]),
                                "input_audio_transcription": {"language": rng.choice(["hi", "zz"])},
                            },
                        }
                    ),
                    "not json",
                    json.dumps([1, 2]),
                ]
            )
            await ws.send(first)
            for _ in range(rng.randint(0, 20)):
                choice = rng.random()
                if choice < 0.5:
                    await ws.send(rng.randbytes(rng.choice([1, 2, 3200, 65536])))
                elif choice < 0.8:
                    await ws.send(
                        json.dumps(
                            {"type": "input_audio_buffer.append", "audio": rng.choice(["!!", "AAAA", ""])}
                        )
                    )
                else:
                    await ws.send(
                        rng.choice(['{"type": "stop"}', '{"type": "input_audio_buffer.commit"}', "{}", "x"])
                    )
            with contextlib.suppress(asyncio.TimeoutError):
                while True:
                    message = await asyncio.wait_for(ws.recv(), 2)
                    if isinstance(message, str) and '"internal_error"' in message:
                        return "500 " + message[-200:]
            return "open"
    except websockets.exceptions.ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else 1006
        return "500" if code == 1011 else f"closed:{code}"
    except websockets.exceptions.InvalidStatus as exc:
        return str(exc.response.status_code)


def settle(client: httpx.Client, seconds: float = 120) -> None:
    """Wait until no job is queued or running, then let idle connections and threads wind down."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        jobs = client.get("/v1/jobs", params={"limit": 100}).json()["data"]
        if not any(j["status"] in ("queued", "running") for j in jobs):
            break
        time.sleep(1)
    client.close()
    time.sleep(8)


# --- overload ---------------------------------------------------------------------------------------


def clip_wav(seconds: float, clips: list[np.ndarray]) -> bytes:
    pause = np.zeros(int(0.6 * RATE), dtype=np.float32)
    audio = np.concatenate([part for c in clips for part in (c, pause)])
    while len(audio) < seconds * RATE:
        audio = np.concatenate([audio, audio])
    buffer = io.BytesIO()
    sf.write(buffer, audio[: int(seconds * RATE)], RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def overload(args: argparse.Namespace) -> dict[str, Any]:
    clip = clip_wav(5.0, fixture_audio())
    server = serve()
    inflight = int(os.environ.get("AWAAZ_MAX_INFLIGHT", "4"))
    clients = args.factor * inflight
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def client_loop() -> None:
        with httpx.Client(base_url=server.url, timeout=600) as http:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    status = http.post(
                        "/v1/audio/transcriptions", files={"file": ("a.wav", clip)}
                    ).status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    results.append((status, time.perf_counter() - started))
                if status == 429:
                    time.sleep(0.05)

    try:
        threads = [threading.Thread(target=client_loop) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after_started = time.perf_counter()
        health = httpx.get(server.url + "/health", timeout=30).status_code
        health_s = time.perf_counter() - after_started
        started = time.perf_counter()
        single = httpx.post(
            server.url + "/v1/audio/transcriptions", files={"file": ("a.wav", clip)}, timeout=120
        ).status_code
        single_s = time.perf_counter() - started
        state = process_state(server)
    finally:
        server.stop()
    ok = [s for code, s in results if code == 200]
    refused = [s for code, s in results if code == 429]
    others = collections.Counter(code for code, _ in results if code not in (200, 429))
    return {
        "clients": clients,
        "max_inflight": inflight,
        "seconds": args.seconds,
        "requests": len(results),
        "ok": len(ok),
        "refused_429": len(refused),
        "other_statuses": dict(others),
        "admitted_latency_s": {
            "p50": percentile(ok, 0.5),
            "p95": percentile(ok, 0.95),
            "p99": percentile(ok, 0.99),
            "max": percentile(ok, 1.0),
        },
        "refusal_latency_s": {
            "p50": percentile(refused, 0.5),
            "p99": percentile(refused, 0.99),
            "max": percentile(refused, 1.0),
        },
        "audio_s_per_s": round(len(ok) * 5.0 / args.seconds, 2),
        "after": {
            "health_status": health,
            "health_s": round(health_s, 3),
            "single_status": single,
            "single_s": round(single_s, 3),
            **state,
        },
    }


# --- soak -------------------------------------------------------------------------------------------


WARMUP_REQUESTS = 200


def run_workers(worker: Callable[[], None], count: int = 4) -> None:
    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def soak(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    clips = fixture_audio()
    short, long_ = clip_wav(4.0, clips), clip_wav(30.0, clips)
    seeds = [encode(rng.choice(clips), ext) for ext in FORMATS]
    mutator = Mutator(seeds, rng)
    server = serve()
    statuses: collections.Counter[str] = collections.Counter()
    samples: list[dict[str, float]] = []
    mix = (["short", "long", "bad", "job"], [70, 8, 20, 2])
    warmup = rng.choices(*mix, k=WARMUP_REQUESTS)
    plan = rng.choices(*mix, k=args.requests)
    lock = threading.Lock()
    cursor = iter(enumerate(warmup))
    counting = False

    def one(http: httpx.Client, kind: str) -> str:
        if kind == "short":
            fmt = rng.choice(["json", "srt", "verbose_json", "text"])
            return str(
                http.post(
                    "/v1/audio/transcriptions",
                    files={"file": ("a.wav", short)},
                    data={"response_format": fmt},
                ).status_code
            )
        if kind == "long":
            return str(http.post("/transcribe", files={"file": ("long.wav", long_)}).status_code)
        if kind == "job":
            return str(http.post("/v1/jobs", files={"file": ("a.wav", short)}).status_code)
        name, data = mutator.upload()
        return str(
            http.post(
                "/v1/audio/transcriptions", files={"file": (name, data)}, data=mutator.form()
            ).status_code
        )

    def worker() -> None:
        with httpx.Client(base_url=server.url, timeout=600) as http:
            while True:
                with lock:
                    item = next(cursor, None)
                if item is None:
                    return
                index, kind = item
                try:
                    status = one(http, kind)
                except httpx.HTTPError as exc:
                    status = f"transport:{type(exc).__name__}"
                with lock:
                    if counting:
                        statuses[f"{kind}:{status}"] += 1
                        if index % 100 == 0:
                            samples.append({"done": index, **process_state(server)})

    started = time.monotonic()
    try:
        # The same mix, four at a time, before measuring: memory for concurrent work is taken once.
        run_workers(worker)
        settle(httpx.Client(base_url=server.url, timeout=60))
        before = process_state(server)
        cursor, counting = iter(enumerate(plan)), True
        run_workers(worker)
        settle(httpx.Client(base_url=server.url, timeout=60))
        after = process_state(server)
    finally:
        server.stop()
    errors = {k: v for k, v in statuses.items() if k.split(":", 1)[1].startswith(("5", "transport"))}
    return {
        "requests": sum(statuses.values()),
        "by_kind_and_status": dict(sorted(statuses.items())),
        "server_errors": errors,
        "wall_s": round(time.monotonic() - started, 1),
        "before": before,
        "after": after,
        "rss_growth_pct": round(100 * (after["rss_mb"] - before["rss_mb"]) / before["rss_mb"], 2),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["fuzz", "overload", "soak"])
    parser.add_argument("--cases", type=int, default=1200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--factor", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    run: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
        "fuzz": fuzz,
        "overload": overload,
        "soak": soak,
    }
    started = time.monotonic()
    report = {"kind": args.kind, "machine": machine(), "seed": args.seed, **run[args.kind](args)}
    report["bench_wall_s"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"reliability-{args.kind}{'-' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {k: v for k, v in report.items() if k not in ("samples", "by_target", "machine")},
            indent=1,
            ensure_ascii=False,
        )
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
