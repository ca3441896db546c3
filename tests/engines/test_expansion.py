"""Lexicon expansion: variants keep their source's timestamps, and the rescorer may pick one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
import pytest
import tokenizers
from faster_whisper.feature_extractor import FeatureExtractor

from awaaz.audio import decode_audio
from awaaz.config import LexiconSettings, RescoringSettings
from awaaz.engines.expansion import CandidateExpander
from awaaz.engines.rescoring import LMRescorer
from awaaz.lm.lexicon import LexiconCorrector
from awaaz.lm.ngram import NgramLM, build, sentences_from
from awaaz.lm.tuning import NbestRecord, grid_search
from awaaz.text.normalize import normalize_hindi
from awaaz.whisper.windows import pad_to_window
from tests.engines.test_rescoring import Result


@pytest.fixture(scope="module")
def tokenizer(default_model_path: Path) -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer.from_file(str(default_model_path / "tokenizer.json"))


@pytest.fixture(scope="module")
def lm() -> NgramLM:
    return build(sentences_from(["राम घर जाता है", "सीता घर जाती है", "राम स्कूल जाता है"] * 3))


@dataclass
class AlignResult:
    text_token_probs: list[float]


class FakeWhisper:
    """Beam search gives one misspelt hypothesis; forced alignment likes the tokens in ``liked``."""

    def __init__(self, hypothesis: list[int], liked: set[int] | None = None, fail: bool = False) -> None:
        self.hypothesis = hypothesis
        self.liked = liked or set()
        self.fail = fail
        self.aligned: list[tuple[list[int], list[list[int]], int]] = []

    def generate(self, encoder_output: Any, prompts: list[list[int]], **kwargs: Any) -> list[Result]:
        del encoder_output, kwargs
        return [Result([self.hypothesis], [-0.5], sequences=[["x"]]) for _ in prompts]

    def align(
        self, features: Any, start: list[int], texts: list[list[int]], frames: int
    ) -> list[AlignResult]:
        if self.fail:
            raise RuntimeError("no alignment heads")
        assert np.asarray(features).shape[0] == len(texts)
        self.aligned.append((start, texts, frames))
        return [AlignResult([0.9 if t in self.liked else 0.2 for t in text]) for text in texts]


def ids(tokenizer: tokenizers.Tokenizer, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False).ids)


def stamped(tokenizer: tokenizers.Tokenizer, *runs: str) -> list[int]:
    """Timestamp, text, timestamp, text, ... timestamp: how a beam hypothesis with two segments looks."""
    begin = tokenizer.token_to_id("<|notimestamps|>") + 1
    out = [begin]
    for i, run in enumerate(runs, start=1):
        out += [*ids(tokenizer, run), begin + 50 * i]
    return out


def expander(model: Any, lm: NgramLM, tokenizer: Any, align: bool = False) -> CandidateExpander:
    return CandidateExpander(model, LexiconCorrector(lm, LexiconSettings(align=align)), tokenizer)


def test_a_variant_keeps_the_timestamps_and_inherits_the_beam_score(lm: NgramLM, tokenizer: Any) -> None:
    hypothesis = stamped(tokenizer, " राम घार", " जाता है")
    pool = expander(None, lm, tokenizer).expand(None, [1], [hypothesis], [-7.5])
    assert pool is not None
    beam, *variants = pool
    assert (beam.variant, beam.ids, beam.acoustic) == (False, hypothesis, -7.5)
    best = variants[0]
    assert best.text == " राम घर जाता है"
    assert (best.source, best.edits, best.acoustic) == (0, 1.0, -7.5)
    begin = tokenizer.token_to_id("<|notimestamps|>") + 1
    assert [t for t in best.ids if t >= begin] == [t for t in hypothesis if t >= begin]
    assert best.ids[-len(ids(tokenizer, " जाता है")) - 1 : -1] == ids(tokenizer, " जाता है")  # untouched run


def test_a_hypothesis_of_known_words_gets_no_variants(lm: NgramLM, tokenizer: Any) -> None:
    assert (
        expander(None, lm, tokenizer).expand(None, [1], [stamped(tokenizer, " राम घर जाता है")], [-1]) is None
    )


def test_the_rescorer_returns_the_corrected_tokens_with_the_beams_score(lm: NgramLM, tokenizer: Any) -> None:
    model = FakeWhisper(stamped(tokenizer, " राम घार जाता है"))
    settings = RescoringSettings(weight=1.0, word_bonus=0.0, edit_cost=1.0)
    rescorer = LMRescorer(model, lm, tokenizer.decode, settings, expander(model, lm, tokenizer))
    recorder: list[Any] = []
    rescorer.recorder = recorder
    (result,) = rescorer.generate(None, [[1]], beam_size=5, return_scores=True)
    assert tokenizer.decode([t for t in result.sequences_ids[0] if t < 50000]).strip() == "राम घर जाता है"
    assert result.scores[0] == -0.5
    assert len(result.sequences[0]) == len(result.sequences_ids[0])
    assert (rescorer.expanded, rescorer.changed) == (1, 1)
    assert recorder[0][1].edits == 1.0
    # A prohibitive edit cost keeps the beam's spelling; tuning searches the cost on recorded candidates.
    rescorer.settings = RescoringSettings(weight=1.0, word_bonus=0.0, edit_cost=100.0)
    (kept,) = rescorer.generate(None, [[1]], beam_size=5, return_scores=True)
    assert kept.sequences_ids[0] == model.hypothesis
    rows = grid_search([NbestRecord("राम घर जाता है", recorder[:1])], edit_costs=(100.0, 1.0))
    assert rows[0]["wer"] == 0.0


def test_forced_alignment_scores_every_candidate_on_its_words_alone(lm: NgramLM, tokenizer: Any) -> None:
    hypothesis = stamped(tokenizer, " राम घार जाता है")
    liked = set(ids(tokenizer, " राम घर जाता है"))
    model = FakeWhisper(hypothesis, liked)
    sot = tokenizer.token_to_id("<|startoftranscript|>")
    prompt = [tokenizer.token_to_id("<|startofprev|>"), *ids(tokenizer, " पिछला"), sot, 5, 6]
    features = np.zeros((2, 100, 512), dtype=np.float32)
    pool = expander(model, lm, tokenizer, align=True).expand(features[1], prompt, [hypothesis], [-1.0])
    assert pool is not None
    (start, texts, frames), *_ = model.aligned
    assert start == [sot, 5, 6, tokenizer.token_to_id("<|notimestamps|>")]  # no previous-text prompt
    assert frames == 200
    assert texts[0] == [t for t in hypothesis if t < tokenizer.token_to_id("<|endoftext|>")]
    assert pool[0].acoustic < max(c.acoustic for c in pool[1:])  # the liked spelling scores higher


def test_a_failing_alignment_turns_expansion_off_instead_of_failing_requests(
    lm: NgramLM, tokenizer: Any
) -> None:
    model = FakeWhisper(stamped(tokenizer, " राम घार जाता है"), fail=True)
    rescorer = LMRescorer(
        model, lm, tokenizer.decode, RescoringSettings(), expander(model, lm, tokenizer, True)
    )
    (result,) = rescorer.generate(np.zeros((1, 50, 512), np.float32), [[1]], beam_size=5, return_scores=True)
    assert result.sequences_ids[0] == model.hypothesis
    assert rescorer.expander is not None
    assert rescorer.expander.failed


def test_forced_alignment_on_the_real_model_prefers_the_words_that_were_said(
    default_model_path: Path, hindi_clips: Any, tokenizer: Any
) -> None:
    clip = hindi_clips[0]
    model = ctranslate2.models.Whisper(str(default_model_path), device="cpu", compute_type="int8")
    samples = decode_audio(clip.path)[: 16000 * 29]
    mel = pad_to_window(FeatureExtractor(feature_size=80)(samples))
    encoded = np.asarray(model.encode(ctranslate2.StorageView.from_array(mel[None])), dtype=np.float32)
    said = normalize_hindi(clip.text)
    garbled = " ".join(reversed(said.split()))
    sot = tokenizer.token_to_id("<|startoftranscript|>")
    prompt = [sot, tokenizer.token_to_id("<|hi|>"), tokenizer.token_to_id("<|transcribe|>")]
    exp = CandidateExpander(model, LexiconCorrector(build(sentences_from([said]))), tokenizer)
    right, wrong = exp._acoustic(
        encoded[0], prompt, [ids(tokenizer, " " + said), ids(tokenizer, " " + garbled)]
    )
    assert wrong < right < 0
