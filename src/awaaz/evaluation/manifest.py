"""Read evaluation manifests: UTF-8 TSV with a header, no quoting, one clip per line.

Columns ``audio`` (path relative to the manifest's folder), ``duration_s``, ``speaker``, ``text`` and
``split``; the format of ``../shared/data/*/manifest.tsv``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from awaaz.errors import AwaazError, ErrorKind

REQUIRED_COLUMNS = ("audio", "duration_s", "speaker", "text", "split")


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
        col = {name: header.index(name) for name in REQUIRED_COLUMNS}
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise ManifestError(
                    f"{path}:{line_no} has {len(row)} fields, the header has {len(header)}. "
                    "Fields are separated by tabs and must not contain tabs."
                )
            if split is not None and row[col["split"]] != split:
                continue
            if limit is not None and len(entries) >= limit:
                break
            entries.append(_entry(row, col, base, path, line_no))
    return entries


def _entry(row: list[str], col: dict[str, int], base: Path, path: Path, line_no: int) -> ManifestEntry:
    try:
        duration = float(row[col["duration_s"]])
    except ValueError as exc:
        raise ManifestError(
            f"{path}:{line_no}: duration_s {row[col['duration_s']]!r} is not a number of seconds."
        ) from exc
    return ManifestEntry(
        audio=base / row[col["audio"]],
        duration_s=duration,
        speaker=row[col["speaker"]],
        text=row[col["text"]],
        split=row[col["split"]],
        manifest=path,
    )


def read_manifests(
    paths: Iterable[Path], *, split: str | None = None, limit: int | None = None
) -> list[ManifestEntry]:
    """Read several manifests one after another; ``split`` and ``limit`` apply to each manifest."""
    return [entry for path in paths for entry in read_manifest(path, split=split, limit=limit)]
