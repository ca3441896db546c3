"""Reading manifests in the shared-data TSV format."""

from __future__ import annotations

from pathlib import Path

import pytest

from awaaz.evaluation.manifest import ManifestError, read_manifest, read_manifests
from tests.evaluation.fakes import CLIPS, HEADER, write_manifest, write_wav

FIXTURE_MANIFEST = Path(__file__).resolve().parents[1] / "fixtures" / "audio" / "manifest.tsv"


def test_reads_every_row_with_absolute_audio_paths(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "set")
    entries = read_manifest(manifest)
    assert [e.audio for e in entries] == [(tmp_path / "set" / "audio" / c.name).resolve() for c in CLIPS]
    assert all(e.audio.is_file() for e in entries)
    assert [e.text for e in entries] == [c.reference for c in CLIPS]
    assert entries[1].text.startswith('"')  # no quoting: the quote is part of the text
    assert entries[0].duration_s == pytest.approx(1.0)
    assert entries[0].speaker == ""
    assert entries[0].manifest == manifest


def test_audio_paths_are_relative_to_the_manifest_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_manifest(tmp_path / "set")
    monkeypatch.chdir(tmp_path)
    entries = read_manifest(Path("set/manifest.tsv"))
    assert entries[0].audio == (tmp_path / "set" / "audio" / "a.wav").resolve()


def test_split_and_limit(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    assert [e.split for e in read_manifest(manifest, split="eval_fake")] == ["eval_fake"]
    assert len(read_manifest(manifest, split="train")) == 3
    assert [e.audio.name for e in read_manifest(manifest, split="train", limit=2)] == ["a.wav", "b.wav"]
    assert read_manifest(manifest, split="nope") == []


def test_limit_applies_to_each_manifest(tmp_path: Path) -> None:
    first, second = write_manifest(tmp_path / "one"), write_manifest(tmp_path / "two")
    entries = read_manifests([first, second], limit=1)
    assert [e.manifest for e in entries] == [first, second]


def test_columns_may_come_in_any_order(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    rows = "split\ttext\taudio\tspeaker\tduration_s\ntrain\tराम\tx.flac\tspk\t1.5\n"
    manifest.write_text(rows, encoding="utf-8")
    (entry,) = read_manifest(manifest)
    assert (entry.split, entry.text, entry.audio.name, entry.speaker, entry.duration_s) == (
        "train",
        "राम",
        "x.flac",
        "spk",
        1.5,
    )


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="No such manifest"):
        read_manifest(tmp_path / "absent.tsv")


def test_missing_required_column_is_named(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("audio\tduration_s\nx.flac\t1.0\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="lacks the column\\(s\\) text"):
        read_manifest(manifest)


def test_a_user_test_set_needs_only_audio_and_text(tmp_path: Path) -> None:
    folder = tmp_path / "my-set"
    write_wav(folder / "a.wav", 1.25)
    manifest = folder / "manifest.tsv"
    manifest.write_text("audio\ttext\na.wav\tराम\nmissing.wav\tश्याम\n", encoding="utf-8")
    first, second = read_manifest(manifest)
    assert (first.text, first.speaker, first.split) == ("राम", "", "my-set")
    assert first.duration_s == pytest.approx(1.25, abs=0.01)  # from the WAV header
    assert second.duration_s == 0.0  # unreadable: the evaluation reports it
    assert read_manifest(manifest, split="my-set") == [first, second]


def test_row_with_wrong_field_count_names_its_line(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text(f"{HEADER}\nx.flac\t1.0\t\tराम\ttrain\nbad\trow\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"manifest.tsv:3 has 2 fields"):
        read_manifest(manifest)


def test_bad_duration_is_reported(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text(f"{HEADER}\nx.flac\tlong\t\tराम\ttrain\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="not a number"):
        read_manifest(manifest)


def test_empty_file_is_reported(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("", encoding="utf-8")
    with pytest.raises(ManifestError, match="empty"):
        read_manifest(manifest)


def test_committed_fixture_manifest() -> None:
    entries = read_manifest(FIXTURE_MANIFEST)
    assert len(entries) == 6
    assert all(e.audio.is_file() and e.split == "train" for e in entries)
    assert entries[0].text == "आपका स्वागत है।"
