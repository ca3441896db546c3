"""Cut a Whisper CTranslate2 model's vocabulary down to the tokens one language can use.

With the Devanagari guard on, a Hindi decode may pick only about 2,600 of multilingual Whisper's 50,257 text
tokens; the rest are suppressed at every step. Yet each beam step still multiplies the decoder state by the
whole 51,865 x 512 output matrix (tied to the token embeddings) and normalises over all of it: more than
half the weights a step reads. A pruned model keeps:

- every text token the language's guard allows (:func:`awaaz.whisper.devanagari.is_hindi_token`);
- the 256 single-byte tokens, so that any text (a caller's prompt, faster-whisper's symbol list) can still
  be encoded; the guard keeps suppressing those of other scripts;
- every special token and timestamp, in their original order, so that the token arithmetic of
  faster-whisper and CTranslate2 (``timestamp_begin = notimestamps + 1``, text ids below ``<|endoftext|>``)
  holds.

Text tokens keep their relative order and are renumbered from 0. The guard already keeps the decoder off
every removed token, so a pruned model picks among the same tokens and writes the same Hindi (tested: same
segments, timestamps and words), with a decoder step that reads about half the bytes (23 MB of int8 weights
instead of 49 MB for whisper-base). Scores are normalised over the kept tokens only: the very softmax the
Awaaz fine-tunes are trained on (``TrainConfig.hindi_vocabulary``); for them scores match the full model's
to 4 decimals, while the base model, which gives other scripts real mass, scores a little higher.

The pruned model records its scope in :data:`SCOPE_FILE`; engines refuse other languages and translation
with it rather than decode from a vocabulary that cannot spell them.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from awaaz.errors import InvalidParameterError
from awaaz.models.integrity import publish_directory
from awaaz.models.registry import RegisteredModel
from awaaz.modeltools.derive import plan_derivation
from awaaz.whisper.ct2_file import read_ct2_model, read_vocabulary, write_ct2_model
from awaaz.whisper.scope import VocabularyScope, kept_token_ids
from awaaz.whisper.tokens import EOT

if TYPE_CHECKING:
    from awaaz.models.catalog import ModelCatalog

EMBEDDINGS = "decoder/embeddings/weight"


def _remap_ids(ids: list[int], new_id: dict[int, int]) -> list[int]:
    return [new_id[i] for i in ids if i in new_id]


def _pruned_config(config: dict[str, Any], new_id: dict[int, int]) -> dict[str, Any]:
    out = dict(config)
    for key in ("suppress_ids", "suppress_ids_begin", "lang_ids"):
        if key in out:
            out[key] = _remap_ids(list(out[key]), new_id)
    return out


def _pruned_tokenizer(tokenizer: dict[str, Any], kept_tokens: list[str], text_count: int) -> dict[str, Any]:
    """tokenizer.json with the kept text tokens renumbered and only the merges that build them."""
    out = copy.deepcopy(tokenizer)
    model = out["model"]
    if model.get("type") != "BPE":
        raise ValueError("Only byte-level BPE tokenizers (Whisper's) can be pruned.")
    vocab = {token: i for i, token in enumerate(kept_tokens[:text_count])}
    merges = []
    for merge in model["merges"]:
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        if left in vocab and right in vocab and left + right in vocab:
            merges.append(merge)
    model["vocab"] = vocab
    model["merges"] = merges
    special_id = {token: text_count + i for i, token in enumerate(kept_tokens[text_count:])}
    for added in out.get("added_tokens", []):
        added["id"] = special_id[added["content"]]
    specials = (out.get("post_processor") or {}).get("special_tokens", {})
    for entry in specials.values():
        entry["ids"] = [special_id[token] for token in entry.get("tokens", [])]
    return out


def prune_vocabulary(source: Path, target: Path, language: str = "hi") -> VocabularyScope:
    """Write to ``target`` the model of ``source`` with the vocabulary of ``language`` only.

    ``source`` is a CTranslate2 Whisper directory (model.bin, config.json, tokenizer.json, vocabulary.json).
    Raises ``ValueError`` for a model that cannot be pruned (already pruned, not Whisper, other files).
    """
    if VocabularyScope.read(source) is not None:
        raise ValueError(f"{source} is already pruned.")
    vocabulary = read_vocabulary(source)
    kept = kept_token_ids(vocabulary, language)
    text_count = kept.index(vocabulary.index(EOT))
    new_id = {old: new for new, old in enumerate(kept)}
    model = read_ct2_model(source / "model.bin")
    embeddings = model.aliases.get(EMBEDDINGS, EMBEDDINGS)
    if model.variables[embeddings].shape[0] != len(vocabulary):
        raise ValueError(f"{source}: the embeddings do not match vocabulary.json.")
    index = np.asarray(kept)
    for name in (embeddings, embeddings + "_scale"):
        if name in model.variables:
            model.variables[name] = np.ascontiguousarray(model.variables[name][index])
    for name, array in list(model.variables.items()):
        if name.startswith("decoder/projection/") and array.shape[:1] == (len(vocabulary),):
            model.variables[name] = np.ascontiguousarray(array[index])
    target.mkdir(parents=True, exist_ok=True)
    write_ct2_model(model, target / "model.bin")
    kept_tokens = [vocabulary[i] for i in kept]
    (target / "vocabulary.json").write_text(json.dumps(kept_tokens, ensure_ascii=False), encoding="utf-8")
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    (target / "config.json").write_text(
        json.dumps(_pruned_config(config, new_id), indent=2), encoding="utf-8"
    )
    tokenizer = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    pruned = _pruned_tokenizer(tokenizer, kept_tokens, text_count)
    (target / "tokenizer.json").write_text(json.dumps(pruned, ensure_ascii=False), encoding="utf-8")
    for extra in ("preprocessor_config.json",):
        if (source / extra).is_file():
            shutil.copy2(source / extra, target / extra)
    scope = VocabularyScope(
        language=language,
        source_tokens=len(vocabulary),
        kept_tokens=len(kept),
        kept_text_tokens=text_count,
    )
    scope.write(target)
    return scope


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What :func:`prune_registered` made: the new entry, its scope and the model.bin sizes (bytes)."""

    model: RegisteredModel
    scope: VocabularyScope
    size_before: int
    size_after: int


def prune_registered(
    catalog: ModelCatalog,
    name: str,
    *,
    language: str = "hi",
    new_id: str | None = None,
    replace: bool = False,
) -> PruneResult:
    """Prune the Whisper model ``name`` of the catalog for ``language`` and register the result."""
    plan = plan_derivation(catalog, name, verb="pruned", folder="pruned", new_id=new_id, suffix=language)
    spec, model_id, source, target = plan.spec, plan.model_id, plan.source, plan.target
    try:

        def build(staging: Path) -> None:
            prune_vocabulary(source, staging, language)

        publish_directory(target, build)
    except ValueError as exc:
        raise InvalidParameterError(f"Cannot prune {spec.id!r}: {exc}", param="model") from exc
    scope = VocabularyScope.read(target)
    assert scope is not None
    entry = RegisteredModel(
        id=model_id,
        engine=spec.engine,
        path=str(target.relative_to(catalog.registry.model_dir)),
        description=f"{spec.id}, vocabulary pruned to {language} ({scope.kept_tokens} of "
        f"{scope.source_tokens} tokens)",
        compute_type=spec.compute_type,
        source=f"prune:{spec.id}",
    )
    catalog.register(entry, replace=replace)
    return PruneResult(
        entry, scope, (source / "model.bin").stat().st_size, (target / "model.bin").stat().st_size
    )
