"""Training clips from manifest files, and a deterministic dev carve-out of the training data.

A manifest is the TSV of ``../shared/data``: columns ``audio duration_s speaker text split``, no quoting,
audio paths relative to the manifest's folder. Only ``split == "train"`` rows are ever used here; the
``eval_*`` splits are for reporting and must never reach training or checkpoint selection.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from awaaz.evaluation.manifest import read_manifest as read_entries

TRAIN_SPLIT = "train"
DEV_FRACTION = 0.04
"""Share of the training clips :func:`split_dev` holds out by default (``awaaz train``, ``awaaz lm``)."""
SYNTHETIC_SPEAKER = "synthetic:"
"""Manifest speakers with this prefix mark synthetic speech (see :mod:`awaaz.train.synthetic`)."""


@dataclass(frozen=True, slots=True)
class Clip:
    """One utterance: audio file, transcript, and the group it must stay with when splitting."""

    audio: Path
    text: str
    duration_s: float
    source: str
    group: str
    """Clips sharing a group (a broadcast, a speaker, a sentence) go to the same side of a split."""
    synthetic: bool = False
    """Machine-made speech (manifest speaker ``synthetic:...``): trained on, never held out for dev."""
    speed: float = 1.0
    """Speed perturbation factor applied when the audio is loaded (see :mod:`awaaz.train.augment`)."""
    joined: tuple[Clip, ...] = ()
    """The recorded clips this example plays back to back (:func:`join_clips`); ``text`` and
    ``duration_s`` are then those of the whole example, ``audio`` its first clip's."""
    span: tuple[float, float] | None = None
    """The stretch of the audio file (start, end in seconds) this clip plays; None: all of it.
    ``duration_s`` is then the stretch's length (see :func:`awaaz.train.augment.with_tight_joins`)."""

    @property
    def key(self) -> str:
        """A stable id for caching: sha1 of the absolute audio paths (and the speed, when not 1)."""
        name = "+".join(str(part.audio.resolve()) + _span_label(part.span) for part in self.parts)
        name += f"@{self.speed:g}" if self.speed != 1.0 else ""
        return hashlib.sha1(name.encode("utf-8")).hexdigest()[:16]

    @property
    def parts(self) -> tuple[Clip, ...]:
        """The recorded clips of this example, in order: itself alone, or the clips it joins."""
        return self.joined or (self,)


def _span_label(span: tuple[float, float] | None) -> str:
    return "" if span is None else f"[{span[0]:.3f},{span[1]:.3f}]"


def join_clips(clips: Sequence[Clip]) -> Clip:
    """One training example of ``clips`` played back to back, as a long recording cut into pieces gives
    the model: a change of speaker or room inside a window, which no single clip shows."""
    if len(clips) < 2 or any(c.joined or c.speed != 1.0 for c in clips):
        raise ValueError("join two or more recorded clips (not joined, not speed copies)")
    return replace(
        clips[0],
        text=" ".join(c.text for c in clips),
        duration_s=sum(c.duration_s for c in clips),
        joined=tuple(clips),
        span=None,
    )


def joined_examples(
    clips: Sequence[Clip], count: int, max_duration_s: float, seed: int, sources: Iterable[str]
) -> list[Clip]:
    """``count`` examples of two or three clips of one source, from different groups (other broadcasts,
    speakers or sentences), at most ``max_duration_s`` long, drawn with ``seed``. Clips of ``sources`` only
    (read speech and news: digits and isolated words never run into each other in a recording)."""
    wanted = set(sources)
    by_source: dict[str, list[Clip]] = defaultdict(list)
    for clip in clips:
        if clip.source in wanted and not clip.synthetic and not clip.joined and clip.speed == 1.0:
            by_source[clip.source].append(clip)
    pool = [source for source in sorted(by_source) if len(by_source[source]) >= 2]
    if count <= 0 or not pool:
        return []
    rng = random.Random(f"join:{seed}")
    weights = [len(by_source[source]) for source in pool]
    examples: list[Clip] = []
    for _ in range(count * 20):  # draws that do not fit are retried, within bounds
        if len(examples) == count:
            break
        candidates = by_source[rng.choices(pool, weights)[0]]
        parts = [rng.choice(candidates)]
        for _ in range(rng.choice((1, 1, 2))):
            other = rng.choice(candidates)
            if other.group not in {p.group for p in parts}:
                parts.append(other)
        if len(parts) >= 2 and sum(p.duration_s for p in parts) <= max_duration_s:
            examples.append(join_clips(parts))
    return examples


def _group_of(source: str, audio_rel: str, speaker: str, text: str) -> str:
    parts = Path(audio_rel).parts
    if source == "ai4bharat_noa" and len(parts) >= 3:
        return f"{source}:{parts[-2]}"  # the broadcast folder
    if source == "ohmvikrant":
        return f"{source}:{text}"  # every speaker reads the same sentences: hold out sentences
    if speaker:
        return f"{source}:{speaker}"
    return f"{source}:{audio_rel}"


def read_manifest(path: Path, splits: Iterable[str] = (TRAIN_SPLIT,)) -> list[Clip]:
    """Read the rows of ``path`` whose split is in ``splits`` (parsed by the evaluation's manifest reader)."""
    wanted = set(splits)
    source = path.parent.name
    return [
        Clip(
            audio=entry.audio,
            text=entry.text.strip(),
            duration_s=entry.duration_s,
            source=source,
            group=_group_of(
                source, str(entry.audio.relative_to(path.resolve().parent)), entry.speaker, entry.text.strip()
            ),
            synthetic=entry.speaker.startswith(SYNTHETIC_SPEAKER),
        )
        for entry in read_entries(path)
        if entry.split in wanted and entry.text.strip()
    ]


def find_manifests(data_dir: Path) -> list[Path]:
    """``data_dir/manifest.tsv`` when the folder is one data set (as ``awaaz synth`` writes), else every
    ``*/manifest.tsv`` directly under it (``../shared/data``), sorted."""
    own = data_dir / "manifest.tsv"
    return [own] if own.is_file() else sorted(data_dir.glob("*/manifest.tsv"))


def expand_manifests(paths: Iterable[Path]) -> list[Path]:
    """Manifest files as given on a command line: folders become their ``*/manifest.tsv`` files."""
    return [m for path in paths for m in (find_manifests(path) if path.is_dir() else [path])]


def load_training_clips(manifests: Sequence[Path]) -> list[Clip]:
    """The ``train`` rows of all ``manifests``; refuses a manifest path that names an eval split folder."""
    clips: list[Clip] = []
    for manifest in manifests:
        clips.extend(read_manifest(manifest))
    if not clips:
        raise ValueError("No training rows (split == 'train') in the given manifests.")
    return clips


def split_dev(
    clips: Sequence[Clip], fraction: float = DEV_FRACTION, seed: int = 0
) -> tuple[list[Clip], list[Clip]]:
    """Split ``clips`` into (train, dev) by whole groups, per source, deterministically.

    From each source, groups are shuffled with ``seed`` and taken for dev until about ``fraction`` of its
    clips (at least one group) are held out, so dev is group-disjoint from train within every source.
    Synthetic clips always train: dev measures real speech.
    """
    by_source: dict[str, dict[str, list[Clip]]] = defaultdict(lambda: defaultdict(list))
    for clip in clips:
        if not clip.synthetic:
            by_source[clip.source][clip.group].append(clip)
    dev_groups: set[str] = set()
    for source in sorted(by_source):
        groups = by_source[source]
        names = sorted(groups)
        random.Random(f"{seed}:{source}").shuffle(names)
        total = sum(len(g) for g in groups.values())
        target = max(1, round(total * fraction))
        taken = 0
        for name in names:
            if taken >= target or len(dev_groups & set(names)) >= len(names) - 1:
                break
            dev_groups.add(name)
            taken += len(groups[name])
    train = [c for c in clips if c.group not in dev_groups]
    dev = [c for c in clips if c.group in dev_groups]
    return train, dev
