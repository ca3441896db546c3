"""Top-encoder-layer training on trimmed windows: the trimmed forward matches CTranslate2's encoder, the
freeze leaves exactly the top layers trainable, SpecAugment masks content only, and a few steps train."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from awaaz.audio import decode_audio
from awaaz.train.data import Clip
from awaaz.train.encoder import encode_trimmed, freeze_encoder_below, spec_augment
from awaaz.train.features import log_mel
from tests.train.conftest import smoke_config

torch = pytest.importorskip("torch", reason="the train extra (torch) is not installed")
pytest.importorskip("transformers", reason="the train extra (transformers) is not installed")

pytestmark = [pytest.mark.model, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def hf_model(default_model_path: Path) -> object:
    from awaaz.train.hf import load_hf_from_ct2

    model, _ = load_hf_from_ct2(default_model_path)
    return model.eval()


def test_the_trimmed_forward_matches_ctranslate2(
    hf_model: object, default_model_path: Path, train_clips: list[Clip]
) -> None:
    import ctranslate2

    mel = log_mel(decode_audio(train_clips[0].audio), trim=True)[None]
    assert mel.shape[-1] < 3000  # a trimmed window, which transformers' own forward refuses
    reference = ctranslate2.models.Whisper(str(default_model_path), device="cpu", compute_type="float32")
    expected = np.asarray(reference.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True))
    with torch.no_grad():
        for trainable in (0, 2, 6):  # where the no-grad part stops changes nothing
            out = encode_trimmed(hf_model.model.encoder, torch.from_numpy(mel), trainable).numpy()  # type: ignore[attr-defined]
            assert out.shape == expected.shape == (1, mel.shape[-1] // 2, 512)
            assert np.abs(out - expected).max() < 1e-3 * np.abs(expected).max()
    with pytest.raises(ValueError, match="even number of frames"):
        encode_trimmed(hf_model.model.encoder, torch.zeros(1, 80, 3001), 0)  # type: ignore[attr-defined]


def test_only_the_top_layers_and_the_final_norm_train(hf_model: object) -> None:
    encoder = hf_model.model.encoder  # type: ignore[attr-defined]
    freeze_encoder_below(encoder, 2)
    trainable = {
        name.split(".")[0] + "." + name.split(".")[1] if name.startswith("layers") else name.split(".")[0]
        for name, p in encoder.named_parameters()
        if p.requires_grad
    }
    assert trainable == {"layers.4", "layers.5", "layer_norm"}
    freeze_encoder_below(encoder, 0)
    assert not any(p.requires_grad for p in encoder.parameters())
    with pytest.raises(ValueError, match="between 0 and 6"):
        freeze_encoder_below(encoder, 7)


def test_spec_augment_masks_content_only() -> None:
    rng = np.random.default_rng(0)
    mel = np.ones((80, 1000), dtype=np.float32)
    mel[:, 800:] = 0.0  # the trimmed window's silent tail
    assert spec_augment(mel, 0.0, rng) is mel
    out = spec_augment(mel, 0.1, np.random.default_rng(0))
    assert (out[:, 800:] == 0).all()
    masked_frames = (out[:, :800] == 0).all(axis=0).mean()
    assert 0.02 < masked_frames < 0.2
    masked_bins = (out[:, :800] == 0).all(axis=1).mean()
    assert 0.02 < masked_bins < 0.3
    again = spec_augment(mel, 0.1, np.random.default_rng(0))
    assert np.array_equal(out, again)  # seeded


def test_top_encoder_layers_train_on_trimmed_windows(
    hf_model: object, default_model_path: Path, train_clips: list[Clip], tmp_path: Path
) -> None:
    from awaaz.train.loop import Trainer, uses_cached_encoder

    config = smoke_config(encoder_layers=1)
    assert not uses_cached_encoder(config)
    trainer = Trainer(default_model_path, tmp_path / "run", config, cache=None, report=lambda _: None)
    result = trainer.train(train_clips, train_clips[:2])  # no encoder cache: the encoder runs
    losses = [row["loss"] for row in result.history if "loss" in row]
    assert sum(losses[-3:]) < 0.9 * sum(losses[:3]), losses
    from transformers import WhisperForConditionalGeneration

    base = hf_model.model.encoder.state_dict()  # type: ignore[attr-defined]
    tuned = WhisperForConditionalGeneration.from_pretrained(tmp_path / "run" / "best-hf").model.encoder
    changed = {name for name, value in tuned.state_dict().items() if not torch.equal(value, base[name])}
    assert changed
    assert all(name.startswith(("layers.5.", "layer_norm.")) for name in changed), changed
    assert (result.ct2_dir / "model.bin").is_file()
