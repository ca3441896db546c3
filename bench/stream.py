"""Live transcription as a speaker meets it: eval_news clips played into ``/v1/stream`` at real-time pace.

``python bench/stream.py [--clips 30] [--streams 1 4] [--minutes 5]``

For one stream, the clips are played one after another with 1.5 s of silence between them (the pause that
ends an utterance), and the script measures, per clip: how soon after the clip starts (and after its speech
starts, by Silero VAD over the clip) the first partial arrives, how often partials are refreshed while it
plays, and how long after the clip ends its final arrives; then the WER of all finals against the
references, beside the WER of the same clips sent to ``POST /v1/audio/transcriptions`` one by one (the
offline path). For N concurrent streams it plays the clips
round and round for ``--minutes`` and reports the final latency in the first and the last minute (a stream
that cannot keep up shows a growing lag). The server is a fresh ``awaaz serve`` with default settings.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import statistics
import sys
import time
from typing import Any

import httpx
import numpy as np
import soundfile as sf
import websockets

from awaaz.evaluation.manifest import read_manifest
from awaaz.longform.vad import FRAME, SPEECH, speech_probabilities
from awaaz.text.metrics import score_corpus, score_utterance
from run import RESULTS, SHARED_DATA, free_port, machine, start_server

RATE = 16_000
FRAME_S = 0.1
GAP_S = 1.5


def speech_onset_s(audio: np.ndarray) -> float:
    """When speech begins in a clip: its first Silero VAD frame at the speech threshold (0 if none)."""
    probability = speech_probabilities(audio)
    speech = np.flatnonzero(probability >= SPEECH)
    return float(speech[0]) * FRAME / RATE if speech.size else 0.0


def load_clips(count: int) -> list[tuple[np.ndarray, str]]:
    manifest = SHARED_DATA / "ai4bharat_noa" / "manifest.tsv"
    if not manifest.is_file():
        sys.exit(f"needs {manifest} (../shared/data)")
    entries = read_manifest(manifest, split="eval_news", limit=count)
    return [(sf.read(e.audio, dtype="float32")[0], e.text) for e in entries]


def pcm(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


async def play(url: str, clips: list[tuple[np.ndarray, str]], seconds: float | None) -> dict[str, Any]:
    """Play ``clips`` (round and round until ``seconds`` of audio if given) in real time; time the events."""
    schedule: list[
        tuple[float, float, str, float]
    ] = []  # (start, end, reference, speech onset) in the stream
    events: list[tuple[float, dict[str, Any]]] = []  # (stream seconds when received, event)
    onsets = [speech_onset_s(audio) for audio, _ in clips]  # before the clock starts: VAD is not free
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "language": "hi", "sample_rate": RATE}))
        began = time.monotonic()

        async def send() -> None:
            at = 0.0
            index = 0
            while True:
                audio, text = clips[index % len(clips)]
                onset = onsets[index % len(clips)]
                index += 1
                stream = np.concatenate([audio, np.zeros(int(GAP_S * RATE), dtype=np.float32)])
                schedule.append((at, at + audio.shape[0] / RATE, text, at + onset))
                step = int(FRAME_S * RATE)
                for offset in range(0, stream.shape[0], step):
                    await ws.send(pcm(stream[offset : offset + step]))
                    at += min(step, stream.shape[0] - offset) / RATE
                    delay = began + at - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if (seconds is None and index >= len(clips)) or (seconds is not None and at >= seconds):
                    break
            await ws.send(json.dumps({"type": "stop"}))

        sender = asyncio.create_task(send())
        async for message in ws:
            event = json.loads(message)
            events.append((time.monotonic() - began, event))
            if event["type"] in ("end", "error"):
                break
        await sender
    return {"schedule": schedule, "events": events}


def clip_of(schedule: list[tuple[float, float, str, float]], start: float, end: float) -> int:
    """The clip an utterance (stream times) overlaps most."""
    overlaps = [max(0.0, min(end, b) - max(start, a)) for a, b, _, _ in schedule]
    return int(np.argmax(overlaps))


def analyse(run: dict[str, Any]) -> dict[str, Any]:
    schedule, events = run["schedule"], run["events"]
    first_partial: list[float] = []
    first_after_speech: list[float] = []
    refresh: list[float] = []
    final_latency: list[tuple[float, float]] = []  # (clip end in the stream, final's delay after it)
    per_clip: list[dict[str, Any]] = []
    finals: dict[int, list[str]] = {}
    partial_times: dict[int, list[float]] = {}
    last_final_at: dict[int, float] = {}
    for received, event in events:
        if event["type"] == "partial":
            partial_times.setdefault(clip_of(schedule, event["start"], event["end"]), []).append(received)
        elif event["type"] == "final":
            clip = clip_of(schedule, event["start"], event["end"])
            finals.setdefault(clip, []).append(event["text"])
            last_final_at[clip] = received
    for clip, (start, end, _, onset) in enumerate(schedule):
        times = partial_times.get(clip, [])
        if times:
            first_partial.append(times[0] - start)
            first_after_speech.append(times[0] - onset)
            refresh += [b - a for a, b in itertools.pairwise(times) if b <= end]
        if clip in last_final_at:
            final_latency.append((end, last_final_at[clip] - end))
        per_clip.append(
            {
                "seconds": round(end - start, 2),
                "finals": len(finals.get(clip, [])),
                "partials": len(times),
                "final_after_end_s": round(last_final_at[clip] - end, 3) if clip in last_final_at else None,
            }
        )
    last_end = schedule[-1][1] if schedule else 0.0
    scores = [score_utterance(t, " ".join(finals.get(i, []))) for i, (_, _, t, _) in enumerate(schedule)]
    return {
        "clips": len(schedule),
        "first_partial_s": _stats(first_partial),
        "first_partial_after_speech_s": _stats(first_after_speech),
        "partial_refresh_s": _stats(refresh),
        "final_after_end_s": _stats([delay for _, delay in final_latency]),
        "finals_wer": round(score_corpus(scores).wer, 4),
        "final_latency_first_minute_s": _stats([d for end, d in final_latency if end < 60]),
        "final_latency_last_minute_s": _stats([d for end, d in final_latency if end > last_end - 60]),
        "per_clip": per_clip,
    }


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    return {
        "n": len(values),
        "median": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def offline_wer(base: str, clips: list[tuple[np.ndarray, str]]) -> float:
    scores = []
    for audio, text in clips:
        buffer = io.BytesIO()
        sf.write(buffer, audio, RATE, format="WAV")
        response = httpx.post(
            f"{base}/v1/audio/transcriptions", files={"file": ("c.wav", buffer.getvalue())}, timeout=120
        )
        scores.append(score_utterance(text, response.json()["text"]))
    return round(score_corpus(scores).wer, 4)


async def concurrent(
    url: str, clips: list[tuple[np.ndarray, str]], streams: int, seconds: float
) -> list[dict[str, Any]]:
    runs = await asyncio.gather(*(play(url, clips[i::streams] or clips, seconds) for i in range(streams)))
    return [analyse(run) for run in runs]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the concurrent runs")
    parser.add_argument("--tag", default="latest")
    args = parser.parse_args()
    clips = load_clips(args.clips)
    port = free_port()
    server = start_server(
        "awaaz", [sys.executable, "-m", "awaaz.cli", "serve"], {"AWAAZ_PORT": str(port)}, port, "/ready"
    )
    url = f"ws://127.0.0.1:{port}/v1/stream"
    results: dict[str, Any] = {"machine": machine()}
    try:
        results["offline_wer"] = offline_wer(server.url, clips)
        for count in args.streams:
            if count == 1:
                results["one_stream"] = analyse(asyncio.run(play(url, clips, None)))
                print(json.dumps(results["one_stream"], indent=1), flush=True)
            else:
                try:
                    runs = asyncio.run(concurrent(url, clips, count, args.minutes * 60))
                except websockets.exceptions.ConnectionClosedError as exc:  # over AWAAZ_MAX_STREAMS
                    results[f"{count}_streams"] = {"refused": str(exc)}
                    print(count, "streams: refused:", exc, flush=True)
                    continue
                results[f"{count}_streams"] = runs
                for run in runs:
                    print(
                        count,
                        "streams:",
                        json.dumps(
                            {
                                k: run[k]
                                for k in (
                                    "final_after_end_s",
                                    "final_latency_first_minute_s",
                                    "final_latency_last_minute_s",
                                    "finals_wer",
                                )
                            }
                        ),
                        flush=True,
                    )
    finally:
        server.stop()
    print("offline WER", results["offline_wer"])
    out = RESULTS / f"stream-{args.tag}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
