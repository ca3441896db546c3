"""The shipped `whisper-base-hi-fast`: assembled from its parts, a Hindi vocabulary of aksharas (fewer decoder
steps a word than the soup), and served like the default: Devanagari transcripts of the CC0 clips, with word
timestamps, through the same service path."""

from __future__ import annotations

from pathlib import Path

import pytest
import regex
from tokenizers import Tokenizer

from awaaz.config import Settings
from awaaz.models.catalog import ModelCatalog
from awaaz.models.shipped import read_manifest
from awaaz.modeltools.retokenize import AKSHARAS
from awaaz.service import TranscriptionService
from awaaz.text.metrics import score_utterance
from awaaz.text.script import is_devanagari_text
from awaaz.types import TranscribeOptions
from awaaz.whisper.scope import VocabularyScope
from tests.conftest import Clip

FAST = "whisper-base-hi-fast"


@pytest.fixture(scope="module")
def catalog(model_dir: Path) -> ModelCatalog:
    return ModelCatalog(Settings.of(model_dir=model_dir))


def test_it_is_assembled_from_its_parts_with_its_own_akshara_vocabulary(catalog: ModelCatalog) -> None:
    path = catalog.prepare(FAST)
    manifest = read_manifest(FAST)
    assert sum(part["bytes"] for part in manifest["parts"]) == (path / "model.bin").stat().st_size
    scope = VocabularyScope.read(path)
    assert scope is not None
    assert scope.own_vocabulary
    assert scope.kept_text_tokens == 3000


def test_a_hindi_word_takes_fewer_than_half_the_soups_decoder_steps(
    catalog: ModelCatalog, hindi_clips: list[Clip]
) -> None:
    fast = Tokenizer.from_file(str(catalog.prepare(FAST) / "tokenizer.json"))
    soup = Tokenizer.from_file(str(catalog.prepare("whisper-base-hi-soup") / "tokenizer.json"))
    texts = [" " + clip.text for clip in hindi_clips]
    fast_tokens = sum(len(fast.encode(t, add_special_tokens=False).ids) for t in texts)
    soup_tokens = sum(len(soup.encode(t, add_special_tokens=False).ids) for t in texts)
    assert fast_tokens < soup_tokens / 2
    for text in texts:  # and no token spans two written syllables: words are spelt sound by sound
        encoding = fast.encode(text, add_special_tokens=False)
        assert fast.decode(encoding.ids) == text
        ends = {end for _, end in encoding.offsets}
        boundaries, position = set(), 0
        for akshara in regex.findall(AKSHARAS, text):
            position += len(akshara)
            boundaries.add(position)
        assert boundaries <= ends


def test_it_transcribes_the_clips_in_devanagari_with_word_times(
    service: TranscriptionService, hindi_clips: list[Clip]
) -> None:
    errors = words = 0
    options = TranscribeOptions(word_timestamps=True)
    for clip in hindi_clips:
        result = service.transcribe_sync(clip.path, options, model=FAST).result
        text = "".join(segment.text for segment in result.segments)
        assert is_devanagari_text(text), text
        score = score_utterance(clip.text, text)
        errors, words = errors + score.words.errors, words + score.words.reference_length
        timed = [word for segment in result.segments for word in segment.words]
        assert timed
        assert all(0 <= w.start <= w.end <= result.info.duration + 0.5 for w in timed)
    assert errors / words <= 0.2  # they are training clips: the soup scores 0 %, and so does this model
