"""Read evaluation manifests: UTF-8 TSV with a header, no quoting, one clip per line.

Columns ``audio`` (path relative to the manifest's folder) and ``text`` are required; ``duration_s``
(read from the audio file's header when absent), ``speaker`` (empty when absent) and ``split`` (the
manifest's folder name when absent) are optional, so a user's own test set needs no more than its audio and
its transcripts. ``../shared/data/*/manifest.tsv`` have all five.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from awaaz.audio import declared_duration
from awaaz.errors import AwaazError, ErrorKind

REQUIRED_COLUMNS = ("audio", "text")
OPTIONAL_COLUMNS = ("duration_s", "speaker", "split")


class ManifestError(AwaazError, ValueError):
    """A manifest is missing or not in the expected TSV format."""

    kind = ErrorKind.BAD_INPUT
    code = "invalid_manifest"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One clip of a manifest, its audio path made absolute."""

    audio: Path
    duration_s: float
    speaker: str
    text: str
    split: str
    manifest: Path


def read_manifest(path: Path, *, split: str | None = None, limit: int | None = None) -> list[ManifestEntry]:
    """Return the clips of one manifest in file order, keeping only ``split`` if given, at most ``limit``.

    Raises :class:`ManifestError` when the file is missing, a column is missing or a row is malformed.
    """
    if not path.is_file():
        raise ManifestError(f"No such manifest: {path}. Pass the path of a manifest.tsv file.")
    if limit is not None and limit < 0:
        raise ManifestError(f"limit must be 0 or more, not {limit}.")
    base = path.resolve().parent
    entries: list[ManifestEntry] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None:
            raise ManifestError(
                f"{path} is empty. A manifest starts with a header naming the tab-separated columns "
                f"{', '.join(REQUIRED_COLUMNS)}."
            )
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ManifestError(
                f"{path} lacks the column(s) {', '.join(missing)}. The header must name "
                f"{', '.join(REQUIRED_COLUMNS)} (tab-separated)."
            )
        col = {name: header.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in header}
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise ManifestError(
                    f"{path}:{line_no} has {len(row)} fields, the header has {len(header)}. "
                    "Fields are separated by tabs and must not contain tabs."
                )
            if split is not None and _field(row, col, "split", base.name) != split:
                continue
            if limit is not None and len(entries) >= limit:
                break
            entries.append(_entry(row, col, base, path, line_no))
    return entries


def _field(row: list[str], col: dict[str, int], name: str, default: str) -> str:
    return row[col[name]] if name in col else default


def _entry(row: list[str], col: dict[str, int], base: Path, path: Path, line_no: int) -> ManifestEntry:
    audio = base / row[col["audio"]]
    duration = _field(row, col, "duration_s", "")
    try:
        seconds = float(duration) if duration.strip() else _declared_duration(audio)
    except ValueError as exc:
        raise ManifestError(f"{path}:{line_no}: duration_s {duration!r} is not a number of seconds.") from exc
    return ManifestEntry(
        audio=audio,
        duration_s=seconds,
        speaker=_field(row, col, "speaker", ""),
        text=row[col["text"]],
        split=_field(row, col, "split", base.name),
        manifest=path,
    )


def _declared_duration(audio: Path) -> float:
    """The duration ``audio``'s container declares, or 0 when it declares none or cannot be read (the
    evaluation then reports the file's own error)."""
    try:
        return declared_duration(audio) or 0.0
    except AwaazError:
        return 0.0


def read_manifests(
    paths: Iterable[Path], *, split: str | None = None, limit: int | None = None
) -> list[ManifestEntry]:
    """Read several manifests one after another; ``split`` and ``limit`` apply to each manifest."""
    return [entry for path in paths for entry in read_manifest(path, split=split, limit=limit)]
