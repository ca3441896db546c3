"""The shared Hindi data manifests parse as documented (skipped where ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from awaaz.evaluation.manifest import read_manifest

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not SHARED_DATA.is_dir(), reason=f"needs the shared Hindi speech data at {SHARED_DATA} (absent here)"
    ),
]


@pytest.mark.parametrize(("split", "clips"), [("eval_news", 100), ("eval_stories", 116), ("train", 423)])
def test_ai4bharat_splits_have_the_documented_sizes(split: str, clips: int) -> None:
    entries = read_manifest(SHARED_DATA / "ai4bharat_noa" / "manifest.tsv", split=split)
    assert len(entries) == clips
    assert all(e.text.strip() for e in entries)


@pytest.mark.parametrize("folder", ["ai4bharat_noa", "cv_hi_sample", "digits", "ohmvikrant", "words"])
def test_every_listed_audio_file_exists(folder: str) -> None:
    entries = read_manifest(SHARED_DATA / folder / "manifest.tsv")
    missing = [str(e.audio) for e in entries if not e.audio.is_file()]
    assert not missing, missing[:5]


def test_common_voice_quotes_are_kept_verbatim() -> None:
    entries = read_manifest(SHARED_DATA / "cv_hi_sample" / "manifest.tsv")
    assert len(entries) == 100
    (quoted,) = [e for e in entries if '"' in e.text]
    assert quoted.text == '"सिंगापुर को मलाय में ""सिंगापुरा"" कहते हैं।"'
