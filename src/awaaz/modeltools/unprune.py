"""Give a pruned Whisper model its full vocabulary back, so that it can be fine-tuned further.

A pruned model (:mod:`awaaz.modeltools.prune`) keeps only the token embeddings one language can use; the
trainer works on the full vocabulary (its tokenizer, its label ids, its guard), so it refuses a pruned
model. The shipped ``whisper-base-hi-soup`` exists only pruned: its three full-vocabulary ingredients are
not shipped. :func:`restore_vocabulary` rebuilds a full model from it and the model it was pruned from:
every weight and every kept token's embedding row is the pruned model's, unchanged; the embedding rows of
the removed tokens are taken from the full model, quantised like the rest. The guard never lets a Hindi
decode reach those tokens, and pruning the result again removes them, so their values do not matter
beyond giving the trainer a well-formed model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from awaaz.modeltools.average import quantize_rows
from awaaz.modeltools.prune import EMBEDDINGS
from awaaz.whisper.ct2_file import read_ct2_model, read_vocabulary, scale_name, write_ct2_model
from awaaz.whisper.scope import VocabularyScope, kept_token_ids

SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json", "preprocessor_config.json")
"""Files of the full model that describe its vocabulary; they replace the pruned model's."""


def restore_vocabulary(pruned: Path, full: Path, target: Path) -> None:
    """Write to ``target`` the model of ``pruned`` with the vocabulary of ``full``, the model it was pruned
    from (or any model with the same vocabulary and shapes).

    Raises ``ValueError`` when ``pruned`` is not pruned, ``full`` is, or their vocabularies or shapes do
    not match.
    """
    scope = VocabularyScope.read(pruned)
    if scope is None:
        raise ValueError(f"{pruned} is not pruned: it already has its full vocabulary.")
    if VocabularyScope.read(full) is not None:
        raise ValueError(f"{full} is pruned too; give the model {pruned} was pruned from.")
    vocabulary = read_vocabulary(full)
    kept = kept_token_ids(vocabulary, scope.language)
    if len(vocabulary) != scope.source_tokens or [vocabulary[i] for i in kept] != read_vocabulary(pruned):
        raise ValueError(f"{pruned} was not pruned from a model with the vocabulary of {full}.")
    model = read_ct2_model(pruned / "model.bin")
    for name, array in model.variables.items():
        if name.startswith("decoder/projection/") and array.shape[:1] == (len(kept),):
            raise ValueError(f"{pruned}: an untied output projection ({name}) cannot be restored.")
    source = read_ct2_model(full / "model.bin")
    embeddings = model.aliases.get(EMBEDDINGS, EMBEDDINGS)
    rows = source.float32(EMBEDDINGS)
    if rows.shape != (len(vocabulary), model.get(EMBEDDINGS).shape[1]):
        raise ValueError(f"The embeddings of {full} and {pruned} differ in width.")
    index = np.asarray(kept)
    if model.variables[embeddings].dtype == np.int8:
        weight, scale = quantize_rows(rows)
        weight[index] = model.variables[embeddings]
        scale[index] = model.variables[scale_name(embeddings)]
        model.variables[scale_name(embeddings)] = scale
    else:
        weight = rows.astype(model.variables[embeddings].dtype)
        weight[index] = model.variables[embeddings]
    model.variables[embeddings] = np.ascontiguousarray(weight)
    target.mkdir(parents=True, exist_ok=True)
    write_ct2_model(model, target / "model.bin")
    for name in SIDE_FILES:
        if (full / name).is_file():
            shutil.copy2(full / name, target / name)
    if not (target / "vocabulary.json").is_file():  # a full model with vocabulary.txt only
        (target / "vocabulary.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
