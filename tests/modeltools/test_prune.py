"""Vocabulary pruning: the model file writer, the kept tokens, and the same Hindi transcripts from a model
whose decoder step reads about half the bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from awaaz.audio import decode_audio
from awaaz.engines.base import Placement
from awaaz.engines.whisper_ct2 import WhisperCT2Engine
from awaaz.errors import InvalidParameterError
from awaaz.models.catalog import ModelCatalog
from awaaz.models.registry import RegisteredModel
from awaaz.modeltools.prune import prune_registered, prune_vocabulary
from awaaz.types import TranscribeOptions
from awaaz.whisper.ct2_file import read_ct2_model, read_vocabulary, write_ct2_model
from awaaz.whisper.devanagari import non_devanagari_token_ids
from awaaz.whisper.scope import SCOPE_FILE, VocabularyScope, kept_token_ids
from awaaz.whisper.tokens import EOT
from tests.conftest import Clip

HINDI = [
    " यह हिंदी में बोला गया एक वाक्य है।",
    " ज़रा बाड़मेर के गाँव में १२३ लोग, और 45 बच्चे?",
    " क़िस्सा ख़त्म",
]


@pytest.fixture(scope="module")
def pruned_dir(default_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PyPI whisper-base (full vocabulary) pruned to Hindi."""
    target = tmp_path_factory.mktemp("pruned") / "whisper-base-hi"
    prune_vocabulary(default_model_path, target)
    return target


def _vocabulary(model: Path) -> list[str]:
    return read_vocabulary(model)


def test_the_model_file_writer_round_trips_bit_for_bit(default_model_path: Path, tmp_path: Path) -> None:
    source = default_model_path / "model.bin"
    write_ct2_model(read_ct2_model(source), tmp_path / "model.bin")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (source, tmp_path / "model.bin")]
    assert digest[0] == digest[1]


def test_kept_tokens_are_the_guard_allowed_ones_plus_bytes_and_every_special(
    default_model_path: Path,
) -> None:
    vocabulary = _vocabulary(default_model_path)
    eot = vocabulary.index(EOT)
    kept = kept_token_ids(vocabulary)
    assert kept == sorted(kept)
    assert kept[-(len(vocabulary) - eot) :] == list(range(eot, len(vocabulary)))  # specials, timestamps
    allowed = set(range(eot)) - set(non_devanagari_token_ids(vocabulary, eot))
    assert allowed <= set(kept)
    assert {vocabulary.index(chr(c)) for c in range(ord("a"), ord("z") + 1)} <= set(kept)  # single bytes
    assert vocabulary.index("Ġthe") not in kept  # a Latin word is not a Hindi token
    assert len(kept) < len(vocabulary) / 10
    with pytest.raises(ValueError, match="knows hi"):
        kept_token_ids(vocabulary, "ta")


def test_pruned_files_keep_the_token_arithmetic(default_model_path: Path, pruned_dir: Path) -> None:
    full_vocabulary, vocabulary = _vocabulary(default_model_path), _vocabulary(pruned_dir)
    scope = VocabularyScope.read(pruned_dir)
    assert scope == VocabularyScope("hi", len(full_vocabulary), len(vocabulary), vocabulary.index(EOT))
    assert VocabularyScope.read(default_model_path) is None
    model = read_ct2_model(pruned_dir / "model.bin")
    assert model.get("decoder/projection/weight").shape[0] == len(vocabulary)
    full_tok = Tokenizer.from_file(str(default_model_path / "tokenizer.json"))
    tok = Tokenizer.from_file(str(pruned_dir / "tokenizer.json"))
    for special in ("<|startoftranscript|>", "<|hi|>", "<|transcribe|>", "<|notimestamps|>", EOT):
        assert tok.token_to_id(special) == vocabulary.index(special)
    assert vocabulary.index("<|notimestamps|>") + 1 == vocabulary.index("<|0.00|>")
    assert vocabulary[-1] == "<|30.00|>"
    for text in HINDI:  # Hindi encodes to the same tokens under their new ids
        full_ids = full_tok.encode(text, add_special_tokens=False).ids
        ids = tok.encode(text, add_special_tokens=False).ids
        assert [vocabulary[i] for i in ids] == [full_vocabulary[i] for i in full_ids]
        assert tok.decode(ids) == text
    for text in ("hello world", " ♪", " -"):  # any text still encodes (in byte pieces), and decodes back
        ids = tok.encode(text, add_special_tokens=False).ids
        assert ids
        assert tok.decode(ids) == text
    config = json.loads((pruned_dir / "config.json").read_text(encoding="utf-8"))
    full_config = json.loads((default_model_path / "config.json").read_text(encoding="utf-8"))
    assert [vocabulary[i] for i in config["lang_ids"]] == [
        full_vocabulary[i] for i in full_config["lang_ids"]
    ]
    assert {vocabulary[i] for i in config["suppress_ids_begin"]} == {"Ġ", EOT}
    with pytest.raises(ValueError, match="already pruned"):
        prune_vocabulary(pruned_dir, pruned_dir.parent / "twice")


def _transcribe(engine: WhisperCT2Engine, clip: Clip) -> list[tuple[object, ...]]:
    options = TranscribeOptions(word_timestamps=True)
    result = engine.transcribe(decode_audio(clip.path), options).collect()
    return [(s.start, s.end, s.text, [(w.start, w.end, w.word) for w in s.words]) for s in result.segments]


def test_a_pruned_model_writes_the_same_hindi(
    default_model_path: Path, pruned_dir: Path, hindi_clips: list[Clip]
) -> None:
    """Same segments, timestamps and words: the guard already kept the decoder off the removed tokens.

    Scores are normalised over the kept tokens only, so they may differ where the full model gave other
    scripts mass (the base model does; the Awaaz fine-tunes are trained on that very softmax).
    """
    two_threads = Placement(cpu_threads=2)
    full = WhisperCT2Engine("full", default_model_path, placement=two_threads)
    pruned = WhisperCT2Engine("pruned", pruned_dir, placement=two_threads)
    for clip in hindi_clips[:3]:
        expected = _transcribe(full, clip)
        assert any(text for _, _, text, _ in expected)
        assert _transcribe(pruned, clip) == expected


def test_a_pruned_model_refuses_other_languages_and_translation(
    pruned_dir: Path, hindi_clips: list[Clip]
) -> None:
    engine = WhisperCT2Engine("pruned", pruned_dir, placement=Placement(cpu_threads=2))
    audio = decode_audio(hindi_clips[0].path)
    with pytest.raises(InvalidParameterError, match="'hi'-only vocabulary") as language:
        engine.transcribe(audio, TranscribeOptions(language="en"))
    assert language.value.param == "language"
    with pytest.raises(InvalidParameterError, match="cannot translate") as task:
        engine.transcribe(audio, TranscribeOptions(task="translate"))
    assert task.value.param == "task"
    detected = engine.transcribe(audio, TranscribeOptions(language=None))
    assert detected.info.language == "hi"  # no detection: the only language it can write


def test_prune_registers_a_model_and_refuses_what_it_cannot_prune(
    catalog: ModelCatalog, default_model_path: Path, nemo_model_dir: Path
) -> None:
    catalog.register(RegisteredModel(id="w", engine="whisper-ct2", path=str(default_model_path)))
    result = prune_registered(catalog, "w")
    assert result.model.id == "w-hi"
    assert result.model.source == "prune:w"
    assert result.size_after < result.size_before * 0.75
    path = catalog.prepare("w-hi")
    assert path == catalog.registry.model_dir / "pruned" / "w-hi"
    assert (path / SCOPE_FILE).is_file()
    with pytest.raises(InvalidParameterError, match="already pruned"):
        prune_registered(catalog, "w-hi")
    catalog.register(RegisteredModel(id="n", engine="nemo-ctc-onnx", path=str(nemo_model_dir)))
    with pytest.raises(InvalidParameterError, match="only whisper-ct2"):
        prune_registered(catalog, "n")


def test_the_prune_command(default_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from awaaz.cli.models import models_app
    from awaaz.config import get_settings

    monkeypatch.setenv("AWAAZ_MODEL_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        added = runner.invoke(models_app, ["add", "w", str(default_model_path)])
        assert added.exit_code == 0, added.output
        pruned = runner.invoke(models_app, ["prune", "w", "--id", "w-hindi"])
        assert pruned.exit_code == 0, pruned.output
        assert "w-hindi: 2771 of 51865 tokens kept, model.bin 145.2 MB -> " in pruned.output
        assert "w-hindi" in runner.invoke(models_app, ["list"]).output
        again = runner.invoke(models_app, ["prune", "w-hindi"])
        assert again.exit_code == 1
        assert "already pruned" in again.output
    finally:
        get_settings.cache_clear()


def test_a_broken_scope_file_is_a_load_error_that_names_it(pruned_dir: Path, tmp_path: Path) -> None:
    import shutil

    from awaaz.errors import ModelLoadError

    broken = tmp_path / "broken"
    shutil.copytree(pruned_dir, broken)
    (broken / SCOPE_FILE).write_text('{"language": "hi"}', encoding="utf-8")
    with pytest.raises(ModelLoadError, match="not a valid vocabulary scope"):
        WhisperCT2Engine("broken", broken)
