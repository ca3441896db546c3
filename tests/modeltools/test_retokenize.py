"""A Hindi vocabulary for a Hindi Whisper model: fewer tokens a word, the same special tokens, embeddings
that start from the old tokens spelling each new one, and a model CTranslate2 and the engine load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from awaaz.config import Settings
from awaaz.errors import InvalidParameterError
from awaaz.models.catalog import ModelCatalog
from awaaz.models.registry import RegisteredModel
from awaaz.modeltools.retokenize import AKSHARAS, EMPTY, retokenize, retokenize_registered, train_vocabulary
from awaaz.whisper.ct2_file import read_ct2_model, read_vocabulary
from awaaz.whisper.scope import VocabularyScope
from awaaz.whisper.tokens import EOT
from tests.conftest import Clip

SIZE = 600
"""Asked for; the fixture sentences run out of merges first (the vocabulary is what they support)."""


@pytest.fixture(scope="module")
def shipped(model_dir: Path) -> Path:
    """The shipped soup (int8, pruned vocabulary), assembled by `make test`'s setup."""
    return ModelCatalog(Settings.of(model_dir=model_dir)).prepare("whisper-base-hi-soup")


def _texts(clips: list[Clip]) -> list[str]:
    return [clip.text for clip in clips] * 20


@pytest.fixture(scope="module")
def retokenized(shipped: Path, hindi_clips: list[Clip], tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("retokenized") / "model"
    made = retokenize(shipped, target, _texts(hindi_clips), SIZE)
    assert made.source_text_tokens == 1163
    assert 256 < made.text_tokens <= SIZE
    assert len(read_vocabulary(target)) == made.text_tokens + made.special_tokens
    return target


def _text_tokens(model: Path) -> int:
    return read_vocabulary(model).index(EOT)


def test_akshara_units_never_merge_across_a_written_syllable(hindi_clips: list[Clip]) -> None:
    import regex

    tokenizer = train_vocabulary(_texts(hindi_clips), SIZE)
    for clip in hindi_clips:
        text = " " + clip.text
        encoding = tokenizer.encode(text)
        assert tokenizer.decode(encoding.ids) == text
        token_ends = {end for _, end in encoding.offsets}
        aksharas = regex.findall(AKSHARAS, text)
        assert set(np.cumsum([len(a) for a in aksharas]).tolist()) <= token_ends  # none spans two
        assert len(encoding.ids) <= 1.5 * len(aksharas)  # and most aksharas became one token
    # the units themselves: conjuncts, nukta, vowel signs and nasal marks stay with their consonant
    assert regex.findall(AKSHARAS, " शेखचिल्ली की ज़िंदगी, ऊँट") == [
        " शे",
        "ख",
        "चि",
        "ल्ली",
        " की",
        " ज़िं",
        "द",
        "गी",
        ",",
        " ऊँ",
        "ट",
    ]


def test_word_units_split_at_spaces_only_so_merges_cross_the_vowel_signs(hindi_clips: list[Clip]) -> None:
    tokenizer = train_vocabulary(_texts(hindi_clips), SIZE, units="words")
    whisper_style = Tokenizer.from_str(tokenizer.to_str())
    from tokenizers import pre_tokenizers

    whisper_style.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # GPT-2's letter runs
    text = " " + hindi_clips[0].text
    assert tokenizer.decode(tokenizer.encode(text).ids) == text
    assert len(tokenizer.encode(text).ids) < len(whisper_style.encode(text).ids) / 2


def test_the_new_vocabulary_keeps_every_special_token_in_place_after_its_text_tokens(
    shipped: Path, retokenized: Path, hindi_clips: list[Clip]
) -> None:
    old, new = read_vocabulary(shipped), read_vocabulary(retokenized)
    count = _text_tokens(retokenized)
    assert new[count - 1] == EMPTY
    assert new[count:] == old[old.index(EOT) :]
    config = json.loads((retokenized / "config.json").read_text())
    old_config = json.loads((shipped / "config.json").read_text())
    assert [new[i] for i in config["lang_ids"]] == [old[i] for i in old_config["lang_ids"]]
    assert [new[i] for i in config["suppress_ids_begin"]] == ["Ġ", EOT]
    tokenizer = Tokenizer.from_file(str(retokenized / "tokenizer.json"))
    for token in ("<|startoftranscript|>", "<|hi|>", "<|notimestamps|>"):
        assert tokenizer.token_to_id(token) == new.index(token)
    text = " " + hindi_clips[1].text
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    assert tokenizer.decode(ids) == text
    before = Tokenizer.from_file(str(shipped / "tokenizer.json")).encode(text, add_special_tokens=False).ids
    assert len(ids) < len(before) * 0.6
    scope = VocabularyScope.read(retokenized)
    assert scope is not None
    assert scope.own_vocabulary
    assert scope.language == "hi"


def test_a_new_token_starts_as_the_mean_of_the_old_tokens_that_spell_it(
    shipped: Path, retokenized: Path
) -> None:
    old, new = read_ct2_model(shipped / "model.bin"), read_ct2_model(retokenized / "model.bin")
    old_rows, new_rows = old.float32("decoder/embeddings/weight"), new.float32("decoder/embeddings/weight")
    spell = Tokenizer.from_file(str(shipped / "tokenizer.json")).model
    vocabulary = read_vocabulary(retokenized)
    count = _text_tokens(retokenized)
    for token_id in (280, count // 2 + 150, count - 2):
        pieces = [piece.id for piece in spell.tokenize(vocabulary[token_id])]
        assert len(pieces) >= 2
        expected = old_rows[pieces].mean(axis=0)
        np.testing.assert_allclose(new_rows[token_id], expected, atol=np.abs(expected).max() / 100)
    np.testing.assert_array_equal(new_rows[count:], old_rows[1163:])
    same = "encoder/layer_5/ffn/linear_0/weight"
    np.testing.assert_array_equal(new.get(same), old.get(same))


def test_ctranslate2_and_the_engine_load_it_as_a_hindi_only_multilingual_model(
    retokenized: Path, hindi_clips: list[Clip]
) -> None:
    import ctranslate2

    from awaaz.audio import decode_audio
    from awaaz.engines.whisper_ct2 import WhisperCT2Engine
    from awaaz.types import TranscribeOptions

    assert ctranslate2.models.Whisper(str(retokenized)).is_multilingual
    engine = WhisperCT2Engine("hv", retokenized)
    try:
        with pytest.raises(InvalidParameterError, match="hi"):
            engine.check(TranscribeOptions(language="en"))
        result = engine.transcribe(decode_audio(hindi_clips[0].path), TranscribeOptions(language="hi"))
        assert result.collect().text.strip()  # untrained, but it decodes
    finally:
        engine.close()


def test_the_catalog_registers_it_and_refuses_other_engines(
    catalog: ModelCatalog, shipped: Path, nemo_model_dir: Path, hindi_clips: list[Clip]
) -> None:
    catalog.register(RegisteredModel(id="s", engine="whisper-ct2", path=str(shipped)))
    entry, made = retokenize_registered(catalog, "s", _texts(hindi_clips), size=SIZE)
    assert entry.id == "s-ak0k"
    assert entry.source == "retokenize:s"
    assert made.text_tokens == _text_tokens(catalog.prepare("s-ak0k"))
    assert catalog.prepare("s-ak0k") == catalog.registry.model_dir / "retokenized" / "s-ak0k"
    words, _ = retokenize_registered(catalog, "s", _texts(hindi_clips), size=SIZE, units="words")
    assert words.id == "s-hv0k"
    assert "in words" in words.description
    catalog.register(RegisteredModel(id="n", engine="nemo-ctc-onnx", path=str(nemo_model_dir)))
    with pytest.raises(InvalidParameterError, match="only whisper-ct2"):
        retokenize_registered(catalog, "n", ["क"], size=SIZE)


def test_the_retokenize_command(shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from awaaz.cli.models import models_app
    from awaaz.config import get_settings

    manifest = Path(__file__).parents[1] / "fixtures" / "audio" / "manifest.tsv"
    monkeypatch.setenv("AWAAZ_MODEL_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(models_app, ["add", "s", str(shipped)]).exit_code == 0
        made = runner.invoke(
            models_app,
            ["retokenize", "s", str(manifest), "--size", "400", "--units", "words", "--id", "s-hv"],
        )
        assert made.exit_code == 0, made.output
        assert "s-hv: " in made.output
        assert "train it before serving it" in made.output
        assert "s-hv" in runner.invoke(models_app, ["list"]).output
        wrong = runner.invoke(models_app, ["retokenize", "s", str(manifest), "--units", "letters"])
        assert wrong.exit_code == 2
        assert "aksharas" in wrong.output
        missing = runner.invoke(models_app, ["retokenize", "s", str(tmp_path / "nothing.txt")])
        assert missing.exit_code == 2
        assert "neither a text file nor a manifest" in missing.output
    finally:
        get_settings.cache_clear()
