"""Long recordings on the real default model: every clip's words survive, cues fit, memory stays flat."""

from __future__ import annotations

import io
import re
import tracemalloc
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from awaaz.api.app import create_app
from awaaz.audio import decode_audio
from awaaz.config import CueSettings, Settings
from awaaz.service import TranscriptionService
from awaaz.text.metrics import score_utterance
from awaaz.text.normalize import normalize_hindi
from awaaz.types import SAMPLE_RATE, TranscribeOptions
from tests.conftest import Clip

MAX_CLIP_WER = 0.67
"""A lost clip scores 1.0. The clips have 3-5 words: one word spelt apart ("आप का" for "आपका") costs two
errors, so a three-word clip can reach 0.67 with every word heard."""
MAX_TOTAL_WER = 0.2
"""Clip by clip the six clips score 0 %."""


def _joined(clips: list[Clip], gap_s: float, repeat: int = 2) -> tuple[bytes, list[str]]:
    silence = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    parts = [part for _ in range(repeat) for c in clips for part in (decode_audio(c.path), silence)]
    buffer = io.BytesIO()
    sf.write(buffer, np.concatenate(parts), SAMPLE_RATE, format="FLAC")
    return buffer.getvalue(), [c.text for _ in range(repeat) for c in clips]


def per_clip_wer(references: list[str], hypothesis: str) -> list[float]:
    """Align the joined references with the hypothesis and charge each error to the clip it falls in."""
    words = [normalize_hindi(r).split() for r in references]
    owner = [i for i, clip in enumerate(words) for _ in clip]
    errors = [0] * len(words)
    output = jiwer.process_words(" ".join(w for clip in words for w in clip), normalize_hindi(hypothesis))
    for chunk in output.alignments[0]:
        if chunk.type == "equal":
            continue
        if chunk.type == "insert":
            errors[owner[min(chunk.ref_start_idx, len(owner) - 1)]] += chunk.hyp_end_idx - chunk.hyp_start_idx
        else:
            for index in range(chunk.ref_start_idx, chunk.ref_end_idx):
                errors[owner[index]] += 1
    return [e / len(w) for e, w in zip(errors, words, strict=True)]


@pytest.mark.parametrize("gap_s", [0.0, 1.0])
def test_every_clip_of_a_joined_recording_is_transcribed(
    service: TranscriptionService, hindi_clips: list[Clip], gap_s: float
) -> None:
    data, references = _joined(hindi_clips, gap_s)  # 36 s back to back, 48 s with pauses
    result = service.transcribe_sync(data, TranscribeOptions()).result
    rates = per_clip_wer(references, result.text)
    assert max(rates) <= MAX_CLIP_WER, list(zip(references, rates, strict=True))
    assert score_utterance(" ".join(references), result.text).wer <= MAX_TOTAL_WER
    assert result.info.duration == pytest.approx(36.0 + 12 * gap_s, abs=0.5)
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    assert result.segments[-1].end <= result.info.duration + 0.01


SRT_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)")


def _cues(text: str) -> list[tuple[float, float, list[str]]]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        index = next(i for i, line in enumerate(lines) if SRT_TIME.match(line))
        h1, m1, s1, f1, h2, m2, s2, f2 = map(int, SRT_TIME.match(lines[index]).groups())  # type: ignore[union-attr]
        start, end = h1 * 3600 + m1 * 60 + s1 + f1 / 1000, h2 * 3600 + m2 * 60 + s2 + f2 / 1000
        cues.append((start, end, lines[index + 1 :]))
    return cues


def test_subtitles_of_a_long_recording_keep_the_cue_limits(model_dir: Path, hindi_clips: list[Clip]) -> None:
    data, references = _joined(hindi_clips, 0.3)
    limits = CueSettings()
    settings = Settings.of(model_dir=model_dir, cue_max_s=5.0)  # tighter than the default, so cues must split
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        for fmt in ("srt", "vtt"):
            response = http.post(
                "/v1/audio/transcriptions",
                files={"file": ("long.flac", data, "audio/flac")},
                data={"model": "whisper-1", "response_format": fmt},
            )
            assert response.status_code == 200, response.text
            body = response.text.removeprefix("WEBVTT\n\n") if fmt == "vtt" else response.text
            cues = _cues(body)
            assert len(cues) >= len(references) // 2
            for start, end, lines in cues:
                assert 0 < end - start <= 5.0 + 1e-3
                assert 1 <= len(lines) <= limits.lines
                assert all(len(line) <= limits.line_chars for line in lines)
            spoken = " ".join(" ".join(lines) for _, _, lines in cues)
            assert max(per_clip_wer(references, spoken)) <= MAX_CLIP_WER
        response = http.post(
            "/v1/audio/transcriptions",
            files={"file": ("long.flac", data, "audio/flac")},
            data={"model": "whisper-1", "response_format": "verbose_json"},
        )
        segments = response.json()["segments"]
        assert all(s["end"] - s["start"] <= 5.0 + 1e-3 for s in segments)
        assert [s["id"] for s in segments] == list(range(len(segments)))


def _write_half_hour(path: Path, clip: np.ndarray, every_s: float = 180.0) -> int:
    """30 min of silence and a quiet tone, with ``clip`` spoken every ``every_s``; written block by block."""
    t = np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.05 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    silence = np.zeros(10 * SAMPLE_RATE, dtype=np.float32)
    spoken = 0
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, format="FLAC") as out:
        for block in range(180):  # 10 s blocks
            if block % int(every_s / 10) == 0:
                out.write(np.concatenate([clip, silence[: 10 * SAMPLE_RATE - clip.shape[0]]]))
                spoken += 1
            else:
                out.write(tone if block % 3 == 1 else silence)
    return spoken


def test_half_an_hour_runs_in_bounded_memory(
    service: TranscriptionService, hindi_clips: list[Clip], tmp_path: Path
) -> None:
    clip = hindi_clips[3]
    path = tmp_path / "half-hour.flac"
    spoken = _write_half_hour(path, decode_audio(clip.path))
    tracemalloc.start()
    try:
        result = service.transcribe_sync(path, TranscribeOptions()).result
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.info.duration == pytest.approx(1800.0, abs=0.1)
    # 30 min of float32 audio is 115 MB; one 60 s VAD buffer and its working copies are about 20 MB.
    assert peak < 40e6, f"peak traced memory {peak / 1e6:.0f} MB"
    rates = per_clip_wer([clip.text] * spoken, result.text)
    assert max(rates) <= MAX_CLIP_WER
