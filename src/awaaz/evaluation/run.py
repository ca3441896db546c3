"""Transcribe every clip of a manifest with an engine and score it against the reference."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tqdm import tqdm

from awaaz.audio import BLOCK_S, Audio, block_samples, decode_audio, duration_s, fixed_blocks
from awaaz.config import LongFormSettings
from awaaz.engines.base import Engine
from awaaz.evaluation.manifest import ManifestEntry
from awaaz.evaluation.report import EvalReport, UtteranceResult
from awaaz.longform.transcribe import transcribe_long
from awaaz.text.loops import collapse_loops
from awaaz.text.metrics import score_corpus, score_utterance
from awaaz.text.script import is_devanagari_text
from awaaz.types import TranscribeOptions


def has_loop(text: str) -> bool:
    """True when ``text`` holds an n-gram repeated back to back three or more times."""
    return collapse_loops(text) != " ".join(text.split())


def evaluate(
    engine: Engine,
    entries: Sequence[ManifestEntry],
    options: TranscribeOptions | None = None,
    *,
    longform: LongFormSettings | None = None,
    workers: int = 1,
    piece_engine: Callable[[], Engine] | None = None,
    postprocess: Callable[[str], str] | None = None,
    load_audio: Callable[[Path], Audio] = decode_audio,
    clock: Callable[[], float] = time.perf_counter,
    progress: bool = True,
    desc: str = "eval",
) -> EvalReport:
    """Transcribe each entry as the service would (:mod:`awaaz.longform`), time it and score it.

    Processing time covers the transcription only (decoding the FLAC file is not counted), so RTF
    measures the recogniser. ``piece_engine`` decodes clips longer than one (:func:`transcribe_long`).
    ``postprocess``, if given, rewrites each hypothesis before scoring (the loop
    collapser, for instance); loop detection looks at the raw output. ``load_audio`` and ``clock`` are
    there for tests.
    """
    options = options or TranscribeOptions()
    longform = longform or LongFormSettings()
    scorer = _Scorer(postprocess, desc, len(entries), progress)
    models: dict[str, None] = {}  # the models that decoded, in order
    for entry in entries:
        audio = load_audio(entry.audio)
        start, cpu_start = clock(), time.process_time()
        done = transcribe_long(
            engine, [audio], options, longform, workers=workers, piece_engine=piece_engine
        ).collect()
        raw, models[done.info.model] = done.text, None
        timing = (clock() - start, time.process_time() - cpu_start)
        scorer.add(str(entry.audio), entry.split, duration_s(audio), raw, entry.text, timing)
    return _report(engine, entries, scorer.results, models)


def concatenations(entries: Sequence[ManifestEntry], minutes: float) -> list[list[ManifestEntry]]:
    """``entries`` in order, grouped into runs of at least ``minutes`` of audio (the last may be shorter);
    a run never mixes splits. Durations come from the manifest."""
    target = minutes * 60.0
    groups: list[list[ManifestEntry]] = []
    length = 0.0
    for entry in entries:
        if not groups or length >= target or groups[-1][0].split != entry.split:
            groups.append([])
            length = 0.0
        groups[-1].append(entry)
        length += entry.duration_s
    return groups


def evaluate_concatenated(
    engine: Engine,
    entries: Sequence[ManifestEntry],
    minutes: float,
    options: TranscribeOptions | None = None,
    *,
    longform: LongFormSettings | None = None,
    workers: int = 1,
    piece_engine: Callable[[], Engine] | None = None,
    load_audio: Callable[[Path], Audio] = decode_audio,
    clock: Callable[[], float] = time.perf_counter,
    progress: bool = True,
) -> EvalReport:
    """Join consecutive clips into recordings of about ``minutes`` (:func:`concatenations`), transcribe
    each as one long recording and score it against the clips' references joined: long-form accuracy.

    The clips are decoded one at a time as the transcription reads them, so memory stays bounded.
    """
    options = options or TranscribeOptions()
    longform = longform or LongFormSettings()
    groups = concatenations(entries, minutes)
    scorer = _Scorer(None, f"eval --concat {minutes:g}", len(groups), progress)
    models: dict[str, None] = {}
    for group in groups:
        lengths: list[float] = []

        def clips(group: list[ManifestEntry] = group, lengths: list[float] = lengths) -> Iterator[Audio]:
            for entry in group:
                audio = load_audio(entry.audio)
                lengths.append(duration_s(audio))
                yield audio

        # in the blocks a file of these clips is read in, so that the transcript is the one HTTP and
        # `awaaz transcribe` give for that file
        blocks = fixed_blocks(clips(), block_samples(BLOCK_S))
        start, cpu_start = clock(), time.process_time()
        done = transcribe_long(
            engine, blocks, options, longform, workers=workers, piece_engine=piece_engine
        ).collect()
        raw, models[done.info.model] = done.text, None
        name = f"{group[0].audio} +{len(group) - 1} clips"
        reference = " ".join(e.text for e in group)
        timing = (clock() - start, time.process_time() - cpu_start)
        scorer.add(name, group[0].split, sum(lengths), raw, reference, timing)
    report = _report(engine, entries, scorer.results, models)
    report.concat_minutes = minutes
    return report


class _Scorer:
    """Scores hypotheses as they come, with a progress bar that shows the running WER and CER."""

    def __init__(self, postprocess: Callable[[str], str] | None, desc: str, total: int, show: bool) -> None:
        self.postprocess = postprocess
        self.results: list[UtteranceResult] = []
        self.bar = tqdm(
            total=total, desc=desc, unit="file", file=sys.stderr, disable=not show, dynamic_ncols=True
        )

    def add(
        self,
        audio: str,
        split: str,
        duration: float,
        raw: str,
        reference: str,
        timing: tuple[float, float],
    ) -> None:
        """Score ``raw`` against ``reference``; ``timing`` is the (wall, CPU) seconds it took."""
        hypothesis = self.postprocess(raw) if self.postprocess is not None else raw
        self.results.append(
            UtteranceResult(
                audio=audio,
                split=split,
                duration_s=duration,
                processing_s=timing[0],
                cpu_s=timing[1],
                reference=reference,
                hypothesis=hypothesis,
                score=score_utterance(reference, hypothesis),
                devanagari=is_devanagari_text(hypothesis),
                looped=has_loop(raw),
            )
        )
        running = score_corpus(r.score for r in self.results)
        self.bar.set_postfix(wer=f"{running.wer:.1%}", cer=f"{running.cer:.1%}", refresh=False)
        self.bar.update()


def _report(
    engine: Engine, entries: Sequence[ManifestEntry], results: list[UtteranceResult], models: dict[str, None]
) -> EvalReport:
    return EvalReport(
        model=" + ".join(models) or engine.model_id,
        results=results,
        manifests=list(dict.fromkeys(str(e.manifest) for e in entries)),
        engine_settings=engine.describe(),
    )
