"""A pruned model given its full vocabulary back: pruning it again gives the very same files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from awaaz.config import Settings
from awaaz.models.catalog import ModelCatalog
from awaaz.modeltools.prune import prune_vocabulary
from awaaz.modeltools.unprune import restore_vocabulary
from awaaz.whisper.ct2_file import read_ct2_model, read_vocabulary
from awaaz.whisper.scope import VocabularyScope, kept_token_ids


@pytest.fixture(scope="module")
def shipped(model_dir: Path) -> Path:
    """The shipped soup (int8, pruned vocabulary), assembled by `make test`'s setup."""
    return ModelCatalog(Settings.of(model_dir=model_dir)).prepare("whisper-base-hi-soup")


def test_restoring_then_pruning_gives_back_the_shipped_files(
    shipped: Path, default_model_path: Path, tmp_path: Path
) -> None:
    full = tmp_path / "full"
    restore_vocabulary(shipped, default_model_path, full)
    assert VocabularyScope.read(full) is None
    vocabulary = read_vocabulary(full)
    assert vocabulary == read_vocabulary(default_model_path)
    restored = read_ct2_model(full / "model.bin")
    assert restored.get("decoder/embeddings/weight").shape[0] == len(vocabulary)
    again = tmp_path / "again"
    prune_vocabulary(full, again)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json", "vocabulary_scope.json"):
        assert (again / name).read_bytes() == (shipped / name).read_bytes(), name
    # The removed tokens' rows are whisper-base's (quantised): not zeros, not the kept rows.
    removed = sorted(set(range(len(vocabulary))) - set(kept_token_ids(vocabulary)))
    assert restored.float32("decoder/embeddings/weight")[removed[:50]].any()


def test_what_cannot_be_restored_is_refused(shipped: Path, default_model_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not pruned"):
        restore_vocabulary(default_model_path, default_model_path, tmp_path / "a")
    with pytest.raises(ValueError, match="is pruned too"):
        restore_vocabulary(shipped, shipped, tmp_path / "b")
    other = tmp_path / "other-vocabulary"
    shutil.copytree(default_model_path, other)
    tokens = read_vocabulary(other)
    kept = kept_token_ids(tokens)
    removed = max(set(range(kept[400])) - set(kept))
    tokens[kept[500]], tokens[removed] = tokens[removed], tokens[kept[500]]  # a Hindi token moved up
    (other / "vocabulary.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    (other / "vocabulary.json").unlink(missing_ok=True)
    with pytest.raises(ValueError, match="was not pruned from"):
        restore_vocabulary(shipped, other, tmp_path / "c")
    assert not (tmp_path / "c").exists()
