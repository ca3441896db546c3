"""Transcribe every clip of a manifest with an engine and score it against the reference."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from awaaz.audio import Audio, decode_audio, duration_s
from awaaz.engines.base import Engine
from awaaz.evaluation.manifest import ManifestEntry
from awaaz.evaluation.report import EvalReport, UtteranceResult
from awaaz.text.loops import collapse_loops
from awaaz.text.metrics import score_corpus, score_utterance
from awaaz.text.script import is_devanagari_text
from awaaz.types import TranscribeOptions


def has_loop(text: str) -> bool:
    """True when ``text`` holds an n-gram repeated back to back three or more times."""
    return collapse_loops(text) != " ".join(text.split())


def engine_settings(engine: Engine) -> dict[str, Any]:
    """The engine's settings as a dict, when it exposes a dataclass ``settings`` (for the report)."""
    settings = getattr(engine, "settings", None)
    if settings is not None and dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(settings).items()}
    return {}


def evaluate(
    engine: Engine,
    entries: Sequence[ManifestEntry],
    options: TranscribeOptions | None = None,
    *,
    postprocess: Callable[[str], str] | None = None,
    load_audio: Callable[[Path], Audio] = decode_audio,
    clock: Callable[[], float] = time.perf_counter,
    progress: bool = True,
    desc: str = "eval",
) -> EvalReport:
    """Transcribe each entry, time it and score it; return the report.

    Processing time covers ``engine.transcribe(...).collect()`` only (decoding the FLAC file is not
    counted), so RTF measures the recogniser. ``postprocess``, if given, rewrites each hypothesis before
    scoring (the loop collapser, for instance); loop detection looks at the raw output. ``load_audio`` and
    ``clock`` are there for tests.
    """
    options = options or TranscribeOptions()
    results: list[UtteranceResult] = []
    bar = tqdm(entries, desc=desc, unit="clip", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    for entry in bar:
        audio = load_audio(entry.audio)
        start, cpu_start = clock(), time.process_time()
        raw = engine.transcribe(audio, options).collect().text
        elapsed, cpu = clock() - start, time.process_time() - cpu_start
        hypothesis = postprocess(raw) if postprocess is not None else raw
        results.append(
            UtteranceResult(
                audio=str(entry.audio),
                split=entry.split,
                duration_s=duration_s(audio),
                processing_s=elapsed,
                cpu_s=cpu,
                reference=entry.text,
                hypothesis=hypothesis,
                score=score_utterance(entry.text, hypothesis),
                devanagari=is_devanagari_text(hypothesis),
                looped=has_loop(raw),
            )
        )
        running = score_corpus(r.score for r in results)
        bar.set_postfix(wer=f"{running.wer:.1%}", cer=f"{running.cer:.1%}", refresh=False)
    return EvalReport(
        model=engine.model_id,
        results=results,
        manifests=list(dict.fromkeys(str(e.manifest) for e in entries)),
        engine_settings=engine_settings(engine),
    )
