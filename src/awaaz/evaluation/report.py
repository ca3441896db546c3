"""What an evaluation run measured: per-utterance results, corpus summaries, JSON and a printable table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awaaz.text.metrics import CorpusScore, ErrorCounts, UtteranceScore, score_corpus, score_utterance
from awaaz.text.normalize import NORMALIZER_ID


@dataclass(frozen=True, slots=True)
class UtteranceResult:
    """One transcribed clip: its texts, score, timing and script checks."""

    audio: str
    split: str
    duration_s: float
    processing_s: float
    """Wall-clock seconds the engine took."""
    cpu_s: float
    """CPU seconds the process spent meanwhile, over all threads (steadier than wall time on a busy host)."""
    reference: str
    hypothesis: str
    score: UtteranceScore
    devanagari: bool
    """The hypothesis has Devanagari and no letter of another script."""
    looped: bool
    """The raw engine output held an n-gram repeated back to back three or more times."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this result."""
        return {
            "audio": self.audio,
            "split": self.split,
            "duration_s": round(self.duration_s, 3),
            "processing_s": round(self.processing_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "ref": self.reference,
            "hyp": self.hypothesis,
            "ref_normalized": self.score.reference,
            "hyp_normalized": self.score.hypothesis,
            "wer": round(self.score.wer, 4),
            "cer": round(self.score.cer, 4),
            "word_errors": _counts(self.score.words),
            "char_errors": _counts(self.score.chars),
            "devanagari": self.devanagari,
            "looped": self.looped,
        }


def _counts(counts: ErrorCounts) -> dict[str, int]:
    return {
        "substitutions": counts.substitutions,
        "deletions": counts.deletions,
        "insertions": counts.insertions,
        "hits": counts.hits,
    }


@dataclass(frozen=True, slots=True)
class Summary:
    """Corpus-level numbers over a set of utterance results."""

    utterances: int
    audio_s: float
    processing_s: float
    cpu_s: float
    score: CorpusScore
    devanagari: int
    looped: int

    @classmethod
    def of(cls, results: Sequence[UtteranceResult]) -> Summary:
        """Sum ``results`` into one summary."""
        return cls(
            utterances=len(results),
            audio_s=sum(r.duration_s for r in results),
            processing_s=sum(r.processing_s for r in results),
            cpu_s=sum(r.cpu_s for r in results),
            score=score_corpus(r.score for r in results),
            devanagari=sum(r.devanagari for r in results),
            looped=sum(r.looped for r in results),
        )

    @property
    def wer(self) -> float:
        """Corpus word error rate."""
        return self.score.wer

    @property
    def cer(self) -> float:
        """Corpus character error rate."""
        return self.score.cer

    @property
    def rtf(self) -> float:
        """Real-time factor: processing time over audio time (below 1 is faster than real time)."""
        return self.processing_s / self.audio_s if self.audio_s > 0 else 0.0

    @property
    def cpu_rtf(self) -> float:
        """CPU seconds over audio seconds, summed over threads (so it may exceed RTF)."""
        return self.cpu_s / self.audio_s if self.audio_s > 0 else 0.0

    @property
    def devanagari_fraction(self) -> float:
        """Share of hypotheses written in Devanagari only."""
        return self.devanagari / self.utterances if self.utterances else 0.0

    @property
    def looped_fraction(self) -> float:
        """Share of raw outputs that held a repetition loop."""
        return self.looped / self.utterances if self.utterances else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this summary."""
        return {
            "utterances": self.utterances,
            "audio_s": round(self.audio_s, 3),
            "processing_s": round(self.processing_s, 3),
            "wer": round(self.wer, 4),
            "cer": round(self.cer, 4),
            "rtf": round(self.rtf, 4),
            "cpu_s": round(self.cpu_s, 3),
            "cpu_rtf": round(self.cpu_rtf, 4),
            "devanagari_fraction": round(self.devanagari_fraction, 4),
            "looped_fraction": round(self.looped_fraction, 4),
            "reference_words": self.score.words.reference_length,
            "reference_chars": self.score.chars.reference_length,
            "word_errors": _counts(self.score.words),
            "char_errors": _counts(self.score.chars),
        }


@dataclass(slots=True)
class EvalReport:
    """Everything one evaluation run measured, with what is needed to reproduce it."""

    model: str
    results: list[UtteranceResult]
    manifests: list[str] = field(default_factory=list)
    split: str | None = None
    limit: int | None = None
    engine_settings: dict[str, Any] = field(default_factory=dict)
    concat_minutes: float | None = None
    """Set for a long-form run: each result is a recording of about this many minutes of joined clips."""
    normalizer: str = NORMALIZER_ID

    @property
    def summary(self) -> Summary:
        """Numbers over every utterance."""
        return Summary.of(self.results)

    def by_split(self) -> dict[str, Summary]:
        """Numbers for each split, in order of first appearance."""
        groups: dict[str, list[UtteranceResult]] = {}
        for result in self.results:
            groups.setdefault(result.split, []).append(result)
        return {name: Summary.of(group) for name, group in groups.items()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole report."""
        return {
            "model": self.model,
            "normalizer": self.normalizer,
            "manifests": self.manifests,
            "split": self.split,
            "limit": self.limit,
            "concat_minutes": self.concat_minutes,
            "engine_settings": self.engine_settings,
            **self.summary.to_dict(),
            "by_split": {name: s.to_dict() for name, s in self.by_split().items()},
            "per_utterance": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        """Rebuild a report from :meth:`to_dict` output; utterances are re-scored from their texts."""
        results = [
            UtteranceResult(
                audio=u["audio"],
                split=u["split"],
                duration_s=u["duration_s"],
                processing_s=u["processing_s"],
                cpu_s=u.get("cpu_s", 0.0),
                reference=u["ref"],
                hypothesis=u["hyp"],
                score=score_utterance(u["ref"], u["hyp"]),
                devanagari=u["devanagari"],
                looped=u["looped"],
            )
            for u in data["per_utterance"]
        ]
        return cls(
            model=data["model"],
            results=results,
            manifests=list(data.get("manifests", [])),
            split=data.get("split"),
            limit=data.get("limit"),
            engine_settings=dict(data.get("engine_settings", {})),
            concat_minutes=data.get("concat_minutes"),
            normalizer=data.get("normalizer", NORMALIZER_ID),
        )

    @classmethod
    def read_json(cls, path: Path) -> EvalReport:
        """Load a report written by :meth:`write_json`."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def write_json(self, path: Path) -> None:
        """Write the report as UTF-8 JSON (Devanagari kept readable), creating parent folders."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def format_table(self) -> str:
        """A short plain-text table: one line per split, then the total."""
        unit, kind = "clips", "clip by clip"
        if self.concat_minutes is not None:
            unit, kind = "files", f"long form: clips joined into recordings of ~{self.concat_minutes:g} min"
        header = f"{'split':<16}{unit:>6}{'audio_s':>10}{'WER':>8}{'CER':>8}{'RTF':>8}{'deva':>7}{'loops':>7}"
        lines = [f"model {self.model}  (normaliser {self.normalizer}), {kind}", header]
        rows = [*self.by_split().items(), ("all", self.summary)]
        for name, s in rows:
            lines.append(
                f"{name:<16}{s.utterances:>6}{s.audio_s:>10.1f}{s.wer:>8.2%}{s.cer:>8.2%}{s.rtf:>8.3f}"
                f"{s.devanagari_fraction:>7.0%}{s.looped_fraction:>7.0%}"
            )
        return "\n".join(lines)
