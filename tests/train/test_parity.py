"""CTranslate2 -> transformers -> CTranslate2 round trip of the real default model.

The weights must survive bit for bit, the re-exported model must decode the same greedy tokens as the
original, and the transformers model must decode the same greedy tokens as CTranslate2 (float32 on both).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from awaaz.audio import decode_audio
from awaaz.train.data import Clip
from awaaz.train.features import log_mel
from awaaz.whisper.ct2_file import read_ct2_model

torch = pytest.importorskip("torch", reason="the train extra (torch) is not installed")
pytest.importorskip("transformers", reason="the train extra (transformers) is not installed")

pytestmark = [pytest.mark.model, pytest.mark.slow]

MAX_NEW_TOKENS = 40


@pytest.fixture(scope="module")
def exported(default_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    from awaaz.train.hf import export_ct2, load_hf_from_ct2

    model, tokenizer = load_hf_from_ct2(default_model_path)
    out = export_ct2(
        model,
        tokenizer,
        tmp_path_factory.mktemp("roundtrip") / "ct2",
        quantization="float16",
        reference_ct2_dir=default_model_path,
    )
    return model, out


@pytest.fixture(scope="module")
def mel(train_clips: list[Clip], tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    clip = tmp_path_factory.mktemp("clip") / train_clips[0].audio.name
    shutil.copyfile(train_clips[0].audio, clip)
    return log_mel(decode_audio(clip))[None]


def _prompt(model_dir: Path) -> list[int]:
    vocab = json.loads((model_dir / "vocabulary.json").read_text(encoding="utf-8"))
    return [vocab.index(t) for t in ("<|startoftranscript|>", "<|hi|>", "<|transcribe|>", "<|notimestamps|>")]


def _ct2_greedy(model_dir: Path, mel: np.ndarray, prompt: list[int], compute_type: str) -> list[int]:
    import ctranslate2

    model = ctranslate2.models.Whisper(str(model_dir), device="cpu", compute_type=compute_type)
    result = model.generate(
        ctranslate2.StorageView.from_array(mel),
        [prompt],
        beam_size=1,
        max_length=len(prompt) + MAX_NEW_TOKENS,
        suppress_blank=False,
        suppress_tokens=[],
    )
    return list(result[0].sequences_ids[0])


def test_weights_survive_the_round_trip_bit_for_bit(
    default_model_path: Path, exported: tuple[object, Path]
) -> None:
    original = read_ct2_model(default_model_path / "model.bin")
    again = read_ct2_model(exported[1] / "model.bin")
    weights = [k for k, v in original.variables.items() if v.ndim > 0]
    assert len(weights) > 100
    for name in weights:
        np.testing.assert_array_equal(original.variables[name], again.variables[name], err_msg=name)
    assert again.aliases == original.aliases


def test_reexported_model_decodes_identical_greedy_tokens(
    default_model_path: Path, exported: tuple[object, Path], mel: np.ndarray
) -> None:
    prompt = _prompt(exported[1])
    original = _ct2_greedy(default_model_path, mel, prompt, "float32")
    again = _ct2_greedy(exported[1], mel, prompt, "float32")
    assert len(original) > 3
    assert again == original


def test_transformers_greedy_matches_ctranslate2_greedy(
    default_model_path: Path, exported: tuple[object, Path], mel: np.ndarray
) -> None:
    model = exported[0]
    prompt = _prompt(exported[1])
    expected = _ct2_greedy(default_model_path, mel, prompt, "float32")
    eot = prompt[0] - 1
    with torch.inference_mode():
        encoded = model.model.encoder(torch.from_numpy(mel)).last_hidden_state  # type: ignore[attr-defined]
        tokens = list(prompt)
        while len(tokens) < len(prompt) + MAX_NEW_TOKENS:
            logits = model(encoder_outputs=(encoded,), decoder_input_ids=torch.tensor([tokens])).logits  # type: ignore[operator]
            token = int(logits[0, -1].argmax())
            if token == eot:
                break
            tokens.append(token)
    assert tokens[len(prompt) :] == expected
