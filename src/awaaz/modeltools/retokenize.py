"""Give a Hindi Whisper model a vocabulary trained for Hindi: about 2.2 decoder steps a word instead of 5.2.

Decoding time is decoder steps (issue 21: over 90 % of a clip's time on a CPU), and Whisper spends about
five tokens on a Hindi word. Most of that is not its byte-level BPE but its pre-tokenizer: GPT-2's pattern
splits text into runs of letters (``\\p{L}+``), and Devanagari vowel signs and the virama are combining
marks (``\\p{M}``), so every word is cut at every vowel sign before BPE sees it and no merge can cross
one. A vocabulary trained on Hindi text (still byte-level, so any text can be written) can cut words in
one of two ways (``units``):

- ``aksharas`` (the default): each written syllable, a consonant cluster with its vowel sign and nasal
  mark, is one unit that merges never cross: 2.25 tokens a word on the 99 dev transcripts at 3,000 tokens
  (about 2,100 aksharas cover 99.9 % of the corpus). Words are still spelt sound by sound, so a misheard
  word comes out as a near miss that the LM's lexicon variants repair;
- ``words``: words split at spaces only, merged freely: 1.68 tokens a word at 4,000 tokens, but the decoder
  then writes frequent whole words for what it half hears, valid words no variant search touches (session
  14: dev 33.3 % against 32.2 % for aksharas; docs/PERFORMANCE.md, "A Hindi vocabulary").

:func:`retokenize` writes a model with such a vocabulary: the new text tokens, then Whisper's special and
timestamp tokens unchanged and in order (the token arithmetic of CTranslate2 and faster-whisper holds), and
the empty token ``""`` last among the text tokens, where Whisper's multilingual vocabulary has it
(CTranslate2 takes a Whisper model for multilingual, and so accepts a language token, only when ``""`` is a
token). Each new token's embedding (tied to the output layer) starts as the mean of the embeddings of the
source model's tokens that spell it, every other weight is the source model's: before any training the
model already writes recognisable Hindi (dev WER 36.3 % served, against 30.7 % for the source), and a
few minutes of decoder training on cached encoder outputs recover most of the rest (docs/ACCURACY.md,
"A Hindi vocabulary").
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from awaaz.errors import InvalidParameterError
from awaaz.models.integrity import publish_directory
from awaaz.models.registry import RegisteredModel
from awaaz.modeltools.average import quantize_rows
from awaaz.modeltools.derive import plan_derivation
from awaaz.modeltools.prune import EMBEDDINGS
from awaaz.whisper.ct2_file import read_ct2_model, read_vocabulary, scale_name, write_ct2_model
from awaaz.whisper.scope import VocabularyScope
from awaaz.whisper.tokens import EOT

if TYPE_CHECKING:
    from awaaz.models.catalog import ModelCatalog

SPACE = "Ġ"
"""The byte-level spelling of a space: the token faster-whisper suppresses at the start of a window."""
EMPTY = ""
"""The token whose presence makes CTranslate2 treat a Whisper vocabulary as multilingual."""
WORDS = r" ?[^\s]+|\s+"
"""Pre-tokenizer pattern: a word with the space before it, or a run of spaces; nothing splits inside."""
_CONSONANT = "[\u0915-\u0939\u0958-\u095f]\u093c?"
_AKSHARA = (
    f"(?:{_CONSONANT}\u094d)*{_CONSONANT}(?:[\u093e-\u094c\u0962\u0963]|\u094d)?[\u0900-\u0903]*"
    "|[\u0904-\u0914\u0960\u0961\u0972-\u0977][\u0900-\u0903]*"
)
AKSHARAS = f" ?(?:{_AKSHARA}|[^\\s])|\\s+"
"""Pre-tokenizer pattern: one Devanagari akshara (consonants joined by viramas, each with its nukta, then a
vowel sign or a final virama, then candrabindu, anusvara or visarga; or an independent vowel with its
marks), or any other single character, each with the space before it; or a run of spaces."""
Units = Literal["aksharas", "words"]
PATTERNS: dict[str, str] = {"aksharas": AKSHARAS, "words": WORDS}


@dataclass(frozen=True, slots=True)
class Retokenized:
    """What :func:`retokenize` wrote: token counts before and after."""

    source_text_tokens: int
    text_tokens: int
    special_tokens: int


def train_vocabulary(texts: Iterable[str], size: int, units: Units = "aksharas") -> Any:
    """A byte-level BPE tokenizer of up to ``size`` tokens (the 256 bytes included) trained on ``texts``
    whose merges stay within ``units``: aksharas, or words split at spaces."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PATTERNS[units]), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def retokenize(
    source: Path, target: Path, texts: Iterable[str], size: int = 3000, units: Units = "aksharas"
) -> Retokenized:
    """Write to ``target`` the Whisper model of ``source`` (CTranslate2, full or pruned vocabulary) with a
    vocabulary of up to ``size`` text tokens in ``units`` trained on ``texts`` (transcripts and corpus
    sentences, never an evaluation split's). Raises ``ValueError`` for a source that is not a byte-level BPE
    Whisper model."""
    from tokenizers import Tokenizer

    if size < 300:
        raise ValueError("a vocabulary needs room for the 256 bytes and some merges: size >= 300")
    vocabulary = read_vocabulary(source)
    if EOT not in vocabulary or EMPTY not in vocabulary:
        raise ValueError(f"{source} has no {EOT} or empty token: not a multilingual Whisper model.")
    eot = vocabulary.index(EOT)
    source_json = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    if source_json.get("model", {}).get("type") != "BPE":
        raise ValueError(f"{source}: only byte-level BPE tokenizers (Whisper's) can be replaced.")
    trained = json.loads(train_vocabulary(texts, size - 1, units).to_str())
    new_vocab: dict[str, int] = trained["model"]["vocab"]
    text_tokens = [token for token, _ in sorted(new_vocab.items(), key=lambda item: item[1])] + [EMPTY]
    new_vocab[EMPTY] = len(text_tokens) - 1
    count = len(text_tokens)
    tokens = text_tokens + vocabulary[eot:]

    model = read_ct2_model(source / "model.bin")
    embeddings = model.aliases.get(EMBEDDINGS, EMBEDDINGS)
    old = model.float32(EMBEDDINGS)
    spell = Tokenizer.from_file(str(source / "tokenizer.json")).model
    rows = np.empty((len(tokens), old.shape[1]), np.float32)
    for index, token in enumerate(text_tokens[:-1]):
        rows[index] = old[[piece.id for piece in spell.tokenize(token)]].mean(axis=0)
    rows[count - 1] = old[vocabulary.index(EMPTY)]
    rows[count:] = old[eot:]
    if model.variables[embeddings].dtype == np.int8:
        model.variables[embeddings], model.variables[scale_name(embeddings)] = quantize_rows(rows)
    else:
        model.variables[embeddings] = rows.astype(model.variables[embeddings].dtype)

    def shifted(ids: Iterable[int]) -> list[int]:
        return [i - eot + count for i in ids if i >= eot]

    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    config["lang_ids"] = shifted(config.get("lang_ids", []))
    config["suppress_ids"] = shifted(config.get("suppress_ids", []))  # the engine's guard handles text
    config["suppress_ids_begin"] = [new_vocab[SPACE], count]
    tokenizer = copy.deepcopy(source_json)
    tokenizer["model"]["vocab"] = new_vocab
    tokenizer["model"]["merges"] = trained["model"]["merges"]
    tokenizer["pre_tokenizer"] = trained["pre_tokenizer"]
    for added in tokenizer.get("added_tokens", []):
        added["id"] = shifted([added["id"]])[0]
    for entry in (tokenizer.get("post_processor") or {}).get("special_tokens", {}).values():
        entry["ids"] = shifted(entry.get("ids", []))

    target.mkdir(parents=True, exist_ok=True)
    write_ct2_model(model, target / "model.bin")
    (target / "vocabulary.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    (target / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (target / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    if (source / "preprocessor_config.json").is_file():
        shutil.copy2(source / "preprocessor_config.json", target / "preprocessor_config.json")
    scope = VocabularyScope(
        language="hi",
        source_tokens=len(vocabulary),
        kept_tokens=len(tokens),
        kept_text_tokens=count,
        own_vocabulary=True,
    )
    scope.write(target)
    return Retokenized(source_text_tokens=eot, text_tokens=count, special_tokens=len(tokens) - count)


def retokenize_registered(
    catalog: ModelCatalog,
    name: str,
    texts: Iterable[str],
    *,
    size: int = 3000,
    units: Units = "aksharas",
    new_id: str | None = None,
    replace: bool = False,
) -> tuple[RegisteredModel, Retokenized]:
    """Retokenize the Whisper model ``name`` of the catalog and register the result (untrained: train it
    with ``awaaz train --base-model`` before serving it)."""
    plan = plan_derivation(
        catalog,
        name,
        verb="retokenized",
        folder="retokenized",
        new_id=new_id,
        suffix=f"{'ak' if units == 'aksharas' else 'hv'}{size // 1000}k",
    )
    spec, model_id, source, target = plan.spec, plan.model_id, plan.source, plan.target
    made: list[Retokenized] = []
    try:
        publish_directory(
            target, lambda staging: made.append(retokenize(source, staging, texts, size, units))
        )
    except ValueError as exc:
        raise InvalidParameterError(f"Cannot retokenize {spec.id!r}: {exc}", param="model") from exc
    entry = RegisteredModel(
        id=model_id,
        engine=spec.engine,
        path=str(target.relative_to(catalog.registry.model_dir)),
        description=f"{spec.id} with a Hindi vocabulary of {made[0].text_tokens} text tokens in {units} "
        "(untrained)",
        compute_type=spec.compute_type,
        source=f"retokenize:{spec.id}",
    )
    catalog.register(entry, replace=replace)
    return entry, made[0]
