"""What a model whose vocabulary was pruned to one language (:mod:`awaaz.modeltools.prune`), or replaced
by one trained for it (:mod:`awaaz.modeltools.retokenize`), can write.

The pruned model records its scope in :data:`SCOPE_FILE`; engines refuse other languages and translation
with it rather than decode from a vocabulary that cannot spell them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from awaaz.errors import ModelLoadError
from awaaz.whisper.devanagari import is_hindi_token, token_bytes
from awaaz.whisper.tokens import EOT

SCOPE_FILE = "vocabulary_scope.json"
SUPPORTED_LANGUAGES = ("hi",)


@dataclass(frozen=True, slots=True)
class VocabularyScope:
    """What a pruned model can write: recorded next to its files."""

    language: str
    source_tokens: int
    kept_tokens: int
    kept_text_tokens: int
    own_vocabulary: bool = False
    """True for a vocabulary trained for the language (:mod:`awaaz.modeltools.retokenize`) rather than cut
    out of Whisper's: the model trains as it is, with nothing to restore."""

    def write(self, model_dir: Path) -> None:
        """Record this scope in ``model_dir`` (a pruned model's file has no ``own_vocabulary`` key)."""
        data = asdict(self)
        if not self.own_vocabulary:
            del data["own_vocabulary"]
        (model_dir / SCOPE_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, model_dir: Path) -> VocabularyScope | None:
        """The scope of the model in ``model_dir``, or None for a model with its full vocabulary."""
        path = model_dir / SCOPE_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                **{k: data[k] for k in ("language", "source_tokens", "kept_tokens", "kept_text_tokens")},
                own_vocabulary=bool(data.get("own_vocabulary", False)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"{path} is not a valid vocabulary scope: {exc}") from exc


def kept_token_ids(vocabulary: list[str], language: str = "hi") -> list[int]:
    """Ids of ``vocabulary`` a model pruned for ``language`` keeps, in order."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"Vocabulary pruning knows {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}.")
    try:
        eot = vocabulary.index(EOT)
    except ValueError as exc:
        raise ValueError(f"The vocabulary has no {EOT} token: not a Whisper model.") from exc
    kept = []
    for token_id, token in enumerate(vocabulary[:eot]):
        data = token_bytes(token)
        if data is not None and (len(data) == 1 or is_hindi_token(data)):
            kept.append(token_id)
    return kept + list(range(eot, len(vocabulary)))
