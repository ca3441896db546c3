"""``awaaz models pull`` against a local server that mimics the Hugging Face Hub (HF_ENDPOINT)."""

from __future__ import annotations

import pytest

from awaaz.errors import ModelError, ModelNotFoundError
from awaaz.models.catalog import ModelCatalog
from awaaz.modeltools.hub import find_pullable, pull
from tests.modeltools.fake_hub import serve

CT2_FILES = {
    "config.json": b'{"alignment_heads": [], "lang_ids": [], "suppress_ids": []}',
    "model.bin": bytes(range(256)) * 64,
    "tokenizer.json": b"{}",
    "vocabulary.txt": b"a\nb\n",
    "README.md": b"# not needed",
    "pytorch_model.bin": b"not needed either",
}


def test_pull_downloads_the_needed_files_and_registers(
    catalog: ModelCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve({"Systran/faster-whisper-small": CT2_FILES}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        entry = pull(catalog, "small")
    assert entry.id == "whisper-small"
    assert entry.source == "hf:Systran/faster-whisper-small"
    target = catalog.registry.model_dir / entry.path
    assert sorted(p.name for p in target.iterdir() if p.is_file()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    assert (target / "model.bin").read_bytes() == CT2_FILES["model.bin"]
    assert not any("README" in r or "pytorch_model" in r for r in hub.requests)
    spec = catalog.get("whisper-small")
    assert (spec.engine, spec.builtin) == ("whisper-ct2", False)
    assert catalog.prepare("whisper-small") == target


def test_pull_by_repo_id_with_a_custom_id(catalog: ModelCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve({"someone/faster-whisper-hindi": CT2_FILES}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        entry = pull(catalog, "someone/faster-whisper-hindi", model_id="hindi-ft")
    assert catalog.get("hindi-ft").id == entry.id == "hindi-ft"


def test_missing_repository_is_a_clear_error(catalog: ModelCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve({}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(ModelError, match="faster-whisper-tiny"):
            pull(catalog, "tiny")
    assert catalog.registry.load() == {}


def test_a_repository_without_ct2_files_is_refused(
    catalog: ModelCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve({"openai/whisper-tiny": {"config.json": b"{}", "pytorch_model.bin": b"x"}}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(ModelError, match="not a CTranslate2 Whisper model"):
            pull(catalog, "openai/whisper-tiny")
    assert catalog.registry.load() == {}


@pytest.mark.parametrize(
    ("name", "repo"),
    [
        ("tiny", "Systran/faster-whisper-tiny"),
        ("whisper-medium", "Systran/faster-whisper-medium"),
        ("large-v3", "Systran/faster-whisper-large-v3"),
        ("turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo"),
    ],
)
def test_known_names(name: str, repo: str) -> None:
    assert find_pullable(name).repo == repo


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ModelNotFoundError, match="whisper-large-v3-turbo"):
        find_pullable("huge")
