"""Manifests, the dev carve-out, and shipped-model packing: no torch needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awaaz.errors import ModelIntegrityError
from awaaz.models.shipped import pack_model, prepare_shipped_model, read_manifest, shipped_model_ids
from awaaz.train.data import Clip, expand_manifests, split_dev
from awaaz.train.data import read_manifest as read_clip_manifest

HEADER = "audio\tduration_s\tspeaker\ttext\tsplit\n"


def test_manifest_keeps_only_train_rows(tmp_path: Path) -> None:
    folder = tmp_path / "ai4bharat_noa"
    folder.mkdir()
    (folder / "manifest.tsv").write_text(
        HEADER
        + 'audio/news/B1/sent_1.flac\t1.0\t\tपहला "वाक्य"\ttrain\n'
        + "audio/news/B2/sent_1.flac\t1.0\t\tदूसरा\teval_news\n"
        + "audio/stories/x.flac\t1.0\tspk1\tतीसरा\teval_stories\n",
        encoding="utf-8",
    )
    clips = read_clip_manifest(folder / "manifest.tsv")
    assert [c.text for c in clips] == ['पहला "वाक्य"']
    assert clips[0].group == "ai4bharat_noa:B1"
    assert clips[0].audio == folder / "audio/news/B1/sent_1.flac"


def test_a_folder_is_its_own_manifest_or_the_parent_of_several(tmp_path: Path) -> None:
    for name in ("b", "a"):
        (tmp_path / "data" / name).mkdir(parents=True)
        (tmp_path / "data" / name / "manifest.tsv").write_text(HEADER, encoding="utf-8")
    synthetic = tmp_path / "synth"  # what `awaaz synth --out` writes
    synthetic.mkdir()
    (synthetic / "manifest.tsv").write_text(HEADER, encoding="utf-8")
    single = tmp_path / "data" / "a" / "manifest.tsv"
    assert expand_manifests([tmp_path / "data", synthetic, single]) == [
        tmp_path / "data" / "a" / "manifest.tsv",
        tmp_path / "data" / "b" / "manifest.tsv",
        synthetic / "manifest.tsv",
        single,
    ]


def _clip(source: str, group: str, i: int) -> Clip:
    return Clip(
        audio=Path(f"/x/{source}/{group}/{i}.flac"), text=f"t{i}", duration_s=1.0, source=source, group=group
    )


def test_split_dev_is_group_disjoint_deterministic_and_covers_every_source() -> None:
    clips = [_clip(s, f"{s}:g{g}", i) for s in ("a", "b") for g in range(10) for i in range(5)]
    train, dev = split_dev(clips, fraction=0.1, seed=3)
    assert {c.source for c in dev} == {"a", "b"}
    assert not {c.group for c in train} & {c.group for c in dev}
    assert len(train) + len(dev) == len(clips)
    assert split_dev(clips, fraction=0.1, seed=3) == (train, dev)
    assert split_dev(clips, fraction=0.1, seed=4) != (train, dev)


def test_split_dev_never_takes_a_whole_source() -> None:
    clips = [_clip("one", "one:g0", i) for i in range(3)]
    train, dev = split_dev(clips, fraction=0.9)
    assert train
    assert not dev


def _fake_ct2(folder: Path) -> Path:
    folder.mkdir()
    (folder / "model.bin").write_bytes(bytes(range(256)) * 100)
    (folder / "config.json").write_text("{}")
    (folder / "vocabulary.json").write_text("[]")
    return folder


def test_pack_and_prepare_round_trip(tmp_path: Path) -> None:
    source = _fake_ct2(tmp_path / "ct2")
    root = tmp_path / "shipped"
    pack_model(source, "tiny", root, metadata={"note": "test"}, part_bytes=10_000)
    manifest = read_manifest("tiny", root)
    assert len(manifest["parts"]) == 3
    assert shipped_model_ids(root) == ["tiny"]
    out = prepare_shipped_model("tiny", tmp_path / "cache", root)
    assert (out / "model.bin").read_bytes() == (source / "model.bin").read_bytes()
    assert json.loads((out / "config.json").read_text()) == {}
    assert prepare_shipped_model("tiny", tmp_path / "cache", root) == out  # already verified: no rebuild


def test_prepare_rejects_a_corrupt_part(tmp_path: Path) -> None:
    root = tmp_path / "shipped"
    pack_model(_fake_ct2(tmp_path / "ct2"), "tiny", root, part_bytes=10_000)
    part = root / "tiny" / "model.bin.part01"
    part.write_bytes(b"x" + part.read_bytes()[1:])
    with pytest.raises(ModelIntegrityError):
        prepare_shipped_model("tiny", tmp_path / "cache", root)
    assert not (tmp_path / "cache" / "tiny").exists()
