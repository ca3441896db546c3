"""A word n-gram language model with interpolated Kneser-Ney smoothing, in numpy.

Built from plain text (one sentence a line) by :func:`build`, saved as one ``.npz`` file, and queried by
:meth:`NgramLM.score`, which returns the log10 probability of a whole sentence, ``<s>`` and ``</s>``
included. The probabilities are those of an ARPA back-off model (the form KenLM and SRILM use for
interpolated Kneser-Ney): a seen n-gram has its interpolated probability, an unseen one backs off to the
next lower order times its context's back-off weight; :meth:`NgramLM.write_arpa` writes that ARPA file.

Words go through :func:`awaaz.text.normalize.normalize_hindi` on both sides, so the model scores the same
tokens WER counts. Each n-gram is a 64-bit key (word ids of 20 bits each) in a sorted array, so a model of
about a million n-grams takes some 16 MB of memory and loads in well under a second.
"""

from __future__ import annotations

import gzip
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from awaaz.text.normalize import normalize_hindi

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
ID_BITS = 20
MAX_VOCABULARY = (1 << ID_BITS) - 1
FORMAT = "awaaz-ngram-v1"
UNK_LOG10 = -99.0
"""What a word missing even from the unigrams would score (never reached: ``<unk>`` is a unigram)."""


class LanguageModelError(ValueError):
    """A language model file is missing, damaged or of another format."""


def _key(ids: Sequence[int]) -> int:
    key = 0
    for word in ids:
        key = (key << ID_BITS) | word
    return key


@dataclass(frozen=True, slots=True)
class _Order:
    keys: npt.NDArray[np.int64]
    log10_prob: npt.NDArray[np.float32]
    log10_backoff: npt.NDArray[np.float32]

    def find(self, key: int) -> int:
        i = int(np.searchsorted(self.keys, key))
        return i if i < len(self.keys) and int(self.keys[i]) == key else -1


class NgramLM:
    """A loaded back-off n-gram model; see the module docstring."""

    def __init__(self, vocabulary: Sequence[str], orders: Sequence[_Order], source: str = "") -> None:
        self.vocabulary = list(vocabulary)
        self._ids = {word: i for i, word in enumerate(self.vocabulary)}
        self._orders = list(orders)
        self.source = source

    @property
    def order(self) -> int:
        """The highest n-gram order."""
        return len(self._orders)

    def counts(self) -> list[int]:
        """How many n-grams of each order, unigrams first."""
        return [len(o.keys) for o in self._orders]

    def _word_log10(self, history: Sequence[int], word: int) -> float:
        """log10 p(word | history) with back-off; ``history`` holds at most order - 1 ids."""
        backoff = 0.0
        for start in range(len(history) + 1):
            context = history[start:]
            table = self._orders[len(context)]
            found = table.find(_key([*context, word]))
            if found >= 0:
                return backoff + float(table.log10_prob[found])
            if context:
                ctx = self._orders[len(context) - 1].find(_key(context))
                if ctx >= 0:
                    backoff += float(self._orders[len(context) - 1].log10_backoff[ctx])
        return backoff + UNK_LOG10

    def word_id(self, word: str) -> int:
        """The id of a normalised word; ``<unk>``'s for a word the model has never seen."""
        return self._ids.get(word, self._ids[UNK])

    def knows(self, word: str) -> bool:
        """Whether ``word`` (normalised) is one of the model's words, not ``<unk>`` or a sentence mark."""
        return word in self._ids and word not in (UNK, BOS, EOS)

    def words(self) -> list[str]:
        """Every word the model knows (see :meth:`knows`), in id order."""
        return [w for w in self.vocabulary if w not in (UNK, BOS, EOS)]

    def next_log10(self, history: Sequence[int], word: int) -> float:
        """log10 p(word | history), word ids as :meth:`word_id` gives; only the last order - 1 ids count."""
        return self._word_log10(list(history[-(self.order - 1) :]) if self.order > 1 else [], word)

    def score(self, text: str, *, bos: bool = True, eos: bool = True) -> float:
        """log10 probability of ``text`` (normalised and split into words) as one sentence."""
        return self.score_words(normalize_hindi(text).split(), bos=bos, eos=eos)

    def score_words(self, words: Sequence[str], *, bos: bool = True, eos: bool = True) -> float:
        """log10 probability of already normalised ``words`` as one sentence."""
        ids = [self.word_id(w) for w in words]
        history = [self._ids[BOS]] if bos else []
        total = 0.0
        for word in [*ids, self._ids[EOS]] if eos else ids:
            total += self.next_log10(history, word)
            history.append(word)
        return total

    def perplexity(self, sentences: Iterable[str]) -> float:
        """Perplexity over ``sentences`` (words plus one end of sentence each)."""
        total, count = 0.0, 0
        for sentence in sentences:
            total += self.score(sentence)
            count += len(normalize_hindi(sentence).split()) + 1
        return float(10 ** (-total / max(count, 1)))

    def save(self, path: Path) -> None:
        """Write the model as one compressed ``.npz`` file (atomically)."""
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "format": np.array(FORMAT),
            "source": np.array(self.source),
            "vocabulary": np.array("\n".join(self.vocabulary)),
        }
        for n, table in enumerate(self._orders, start=1):
            arrays[f"keys{n}"] = table.keys
            arrays[f"prob{n}"] = table.log10_prob
            arrays[f"backoff{n}"] = table.log10_backoff
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as handle:
            np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> NgramLM:
        """Read a model written by :meth:`save`."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["format"]) != FORMAT:
                    raise LanguageModelError(f"{path} is a {data['format']} file, not {FORMAT}.")
                vocabulary = str(data["vocabulary"]).split("\n")
                orders = []
                n = 1
                while f"keys{n}" in data:
                    orders.append(_Order(data[f"keys{n}"], data[f"prob{n}"], data[f"backoff{n}"]))
                    n += 1
                source = str(data["source"])
        except (OSError, KeyError, ValueError) as exc:
            if isinstance(exc, LanguageModelError):
                raise
            raise LanguageModelError(
                f"Could not read the language model {path}: {exc}. Rebuild it with `awaaz lm build`."
            ) from exc
        if not orders or UNK not in vocabulary:
            raise LanguageModelError(f"{path} holds no n-grams; rebuild it with `awaaz lm build`.")
        return cls(vocabulary, orders, source)

    def write_arpa(self, path: Path) -> None:
        """Write the model in ARPA format (gzipped for a ``.gz`` path), e.g. for KenLM's build_binary."""
        opener = gzip.open if path.suffix == ".gz" else open
        mask = (1 << ID_BITS) - 1
        with opener(path, "wt", encoding="utf-8") as out:
            out.write("\\data\\\n")
            for n, table in enumerate(self._orders, start=1):
                out.write(f"ngram {n}={len(table.keys)}\n")
            for n, table in enumerate(self._orders, start=1):
                out.write(f"\n\\{n}-grams:\n")
                for key, prob, backoff in zip(table.keys, table.log10_prob, table.log10_backoff, strict=True):
                    ids = [(int(key) >> (ID_BITS * (n - 1 - i))) & mask for i in range(n)]
                    words = " ".join(self.vocabulary[i] for i in ids)
                    tail = f"\t{backoff:.6f}" if n < self.order else ""
                    out.write(f"{prob:.6f}\t{words}{tail}\n")
            out.write("\n\\end\\\n")


def sentences_from(lines: Iterable[str]) -> Iterable[list[str]]:
    """Normalised word lists of non-empty lines."""
    for line in lines:
        words = normalize_hindi(line).split()
        if words:
            yield words


def build(sentences: Iterable[Sequence[str]], order: int = 3, source: str = "") -> NgramLM:
    """Estimate an interpolated modified-Kneser-Ney model of ``order`` from word lists.

    Discounts D1, D2, D3+ per order follow Chen and Goodman from the counts-of-counts. Lower orders use
    continuation counts (how many distinct words precede an n-gram), as Kneser-Ney prescribes.
    """
    if order < 1:
        raise ValueError("order must be >= 1")
    vocabulary = [UNK, BOS, EOS]
    ids: dict[str, int] = {w: i for i, w in enumerate(vocabulary)}
    counts: list[Counter[tuple[int, ...]]] = [Counter() for _ in range(order)]
    for words in sentences:
        row = [ids[BOS]]
        for word in words:
            if word not in ids:
                if len(vocabulary) >= MAX_VOCABULARY:
                    raise ValueError(f"more than {MAX_VOCABULARY} distinct words")
                ids[word] = len(vocabulary)
                vocabulary.append(word)
            row.append(ids[word])
        row.append(ids[EOS])
        for n in range(1, order + 1):
            for i in range(1 if n == 1 else 0, len(row) - n + 1):  # <s> is never a unigram
                counts[n - 1][tuple(row[i : i + n])] += 1
    # Kneser-Ney: every order below the top counts distinct left extensions instead of occurrences.
    adjusted: list[Counter[tuple[int, ...]]] = [Counter() for _ in range(order)]
    adjusted[order - 1] = counts[order - 1]
    for n in range(order - 1, 0, -1):
        for gram in counts[n]:
            adjusted[n - 1][gram[1:]] += 1
        for gram, c in counts[n - 1].items():
            if gram[0] == ids[BOS]:  # n-grams starting a sentence have no left context: keep raw counts
                adjusted[n - 1][gram] = c
    adjusted[0].pop((ids[BOS],), None)
    discounts = [_discounts(adjusted[n]) for n in range(order)]
    probs: list[dict[tuple[int, ...], float]] = []
    backoffs: list[dict[tuple[int, ...], float]] = []
    lower: dict[tuple[int, ...], float] = {}
    uniform = 1.0 / (len(vocabulary) - 1)  # every word but <s>, which is never predicted
    for n in range(1, order + 1):
        grams = adjusted[n - 1]
        totals: dict[tuple[int, ...], float] = defaultdict(float)
        kinds: dict[tuple[int, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
        for gram, c in grams.items():
            totals[gram[:-1]] += c
            kinds[gram[:-1]][min(c, 3) - 1] += 1
        d = discounts[n - 1]
        gamma = {ctx: (d[0] * k[0] + d[1] * k[1] + d[2] * k[2]) / totals[ctx] for ctx, k in kinds.items()}
        prob: dict[tuple[int, ...], float] = {}
        for gram, c in grams.items():
            ctx = gram[:-1]
            backed = uniform if n == 1 else _backoff_prob(gram[1:], lower, backoffs[-1] if backoffs else {})
            prob[gram] = (c - d[min(c, 3) - 1]) / totals[ctx] + gamma[ctx] * backed
        if n == 1:
            prob[(ids[UNK],)] = gamma[()] * uniform
            prob.setdefault((ids[BOS],), 0.0)
        probs.append(prob)
        backoffs.append(gamma)
        lower = prob
    return _freeze(vocabulary, probs, backoffs, order, source)


def _discounts(counts: Counter[tuple[int, ...]]) -> tuple[float, float, float]:
    n = Counter(min(c, 4) for c in counts.values())
    n1, n2, n3, n4 = (max(n[i], 1) for i in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2)
    d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    return (min(max(d[0], 0.1), 0.95), min(max(d[1], 0.1), 1.9), min(max(d[2], 0.1), 2.9))


def _backoff_prob(
    gram: tuple[int, ...], probs: dict[tuple[int, ...], float], gammas: dict[tuple[int, ...], float]
) -> float:
    """p(gram[-1] | gram[:-1]) of the already built lower orders (interpolated, with back-off)."""
    if gram in probs:
        return probs[gram]
    return gammas.get(gram[:-1], 1.0) * _backoff_prob(gram[1:], probs, gammas) if len(gram) > 1 else 0.0


def _freeze(
    vocabulary: list[str],
    probs: list[dict[tuple[int, ...], float]],
    backoffs: list[dict[tuple[int, ...], float]],
    order: int,
    source: str,
) -> NgramLM:
    tables = []
    for n in range(1, order + 1):
        grams = sorted(probs[n - 1], key=_key)
        keys = np.array([_key(g) for g in grams], dtype=np.int64)
        prob = np.array(
            [math.log10(probs[n - 1][g]) if probs[n - 1][g] > 0 else -99.0 for g in grams], dtype=np.float32
        )
        next_gamma = backoffs[n] if n < order else {}
        backoff = np.array(
            [math.log10(next_gamma[g]) if next_gamma.get(g, 0.0) > 0 else 0.0 for g in grams],
            dtype=np.float32,
        )
        tables.append(_Order(keys, prob, backoff))
    return NgramLM(vocabulary, tables, source)
