"""CI smoke test of ``awaaz train``'s loop: a few decoder steps on a handful of clips, then the export serves.

Runs in ``make test`` (which prepares the default model); skips with a reason when the ``train`` extra
(torch, transformers) is not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from awaaz.audio import decode_audio
from awaaz.train.data import Clip
from awaaz.train.features import EncoderCache, precompute_encoder_outputs
from awaaz.types import TranscribeOptions
from awaaz.whisper.windows import window_frames
from tests.train.conftest import smoke_config

pytest.importorskip("torch", reason="the train extra (torch) is not installed: pip install -e '.[train]'")
pytest.importorskip("transformers", reason="the train extra (transformers) is not installed")

pytestmark = [pytest.mark.model, pytest.mark.timeout(900)]  # ~2 min on an idle 2-core machine


@pytest.fixture(scope="module")
def encoder_cache(
    default_model_path: Path, train_clips: list[Clip], tmp_path_factory: pytest.TempPathFactory
) -> EncoderCache:
    cache = EncoderCache(tmp_path_factory.mktemp("encoder"))
    assert precompute_encoder_outputs(train_clips, default_model_path, cache) == len(train_clips)
    assert precompute_encoder_outputs(train_clips, default_model_path, cache) == 0  # cached
    # Trimmed windows, as the engine encodes them: half the Mel frames of window_frames(content).
    for clip in train_clips:
        content = round(clip.duration_s * 100) - 1
        assert cache.load(clip).shape[0] * 2 in {window_frames(content - 1), window_frames(content + 1)}
    assert cache.load(train_clips[0]).shape[1] == 512
    return cache


def test_decoder_steps_lower_the_loss_and_the_export_serves(
    default_model_path: Path, train_clips: list[Clip], encoder_cache: EncoderCache, tmp_path: Path
) -> None:
    from awaaz.config import DecodingSettings
    from awaaz.engines.whisper_ct2 import WhisperCT2Engine
    from awaaz.train.loop import Trainer

    config = smoke_config()
    trainer = Trainer(default_model_path, tmp_path / "run", config, encoder_cache, report=lambda _: None)
    result = trainer.train(train_clips, train_clips[:2])

    losses = [row["loss"] for row in result.history if "loss" in row]
    assert len(losses) == 6
    first_epoch, last_epoch = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last_epoch < 0.9 * first_epoch, losses
    assert [row["step"] for row in result.history if "dev_wer" in row] == [0, 6]
    assert result.best_step == 6
    assert (tmp_path / "run" / "log.jsonl").is_file()

    engine = WhisperCT2Engine(
        "smoke", result.ct2_dir, decoding=DecodingSettings(beam_size=1, vad_filter=False)
    )
    try:
        done = engine.transcribe(
            decode_audio(train_clips[0].audio), TranscribeOptions(language="hi")
        ).collect()
    finally:
        engine.close()
    assert done.info.language == "hi"
    assert done.info.model == "smoke"


@pytest.mark.slow
def test_lora_adapters_train_and_merge_into_a_plain_export(
    default_model_path: Path, train_clips: list[Clip], encoder_cache: EncoderCache, tmp_path: Path
) -> None:
    pytest.importorskip("peft", reason="the train extra (peft) is not installed")
    from awaaz.train.loop import TrainConfig, Trainer
    from awaaz.whisper.ct2_file import read_ct2_model

    config = TrainConfig(
        mode="lora", learning_rate=1e-3, batch_size=3, max_steps=2, eval_every=2, log_every=1, lora_rank=4
    )
    trainer = Trainer(default_model_path, tmp_path / "run", config, encoder_cache, report=lambda _: None)
    result = trainer.train(train_clips, train_clips[:2])
    first = next(row for row in result.history if row.get("step") == 0)
    assert 0 < first["trainable"] < 2_000_000  # adapters only
    exported = read_ct2_model(result.ct2_dir / "model.bin")
    assert not any("lora" in name for name in exported.variables)


def test_label_smoothing_spreads_its_share_over_the_decoded_vocabulary(
    default_model_path: Path, train_clips: list[Clip], encoder_cache: EncoderCache, tmp_path: Path
) -> None:
    import random

    import torch

    from awaaz.train.hf import load_hf_from_ct2
    from awaaz.train.loop import Trainer

    model, _ = load_hf_from_ct2(default_model_path)
    model.eval()
    losses, subsets = {}, {}
    for smoothing in (0.0, 0.2):
        trainer = Trainer(
            default_model_path,
            tmp_path / f"run-{smoothing}",
            smoke_config(label_smoothing=smoothing),
            encoder_cache,
            report=lambda _: None,
        )
        clips = train_clips[:2]
        ids = [trainer.tokens.text_ids(c.text) for c in clips]
        trainer._set_vocabulary_subset(ids, int(model.config.vocab_size))
        batch = trainer._collate(clips, ids, random.Random(0))
        with torch.no_grad():
            losses[smoothing] = float(trainer._loss(model, batch))
            hidden = model.model.decoder(
                input_ids=batch["decoder_input_ids"], encoder_hidden_states=batch["encoder_hidden_states"]
            ).last_hidden_state
            logits = hidden @ model.proj_out.weight.index_select(0, trainer._subset).T
            log_p = torch.log_softmax(logits, dim=-1)[batch["labels"] != -100]
        subsets[smoothing] = -log_p.mean(dim=-1).mean().item()  # cross-entropy against the uniform target
    # The smoothed loss mixes the plain one with a uniform target over the Hindi softmax (about 2,600
    # tokens), not over all 51,865: that is the distribution the engine decodes from.
    expected = 0.8 * losses[0.0] + 0.2 * subsets[0.2]
    assert losses[0.2] == pytest.approx(expected, rel=1e-4)
    assert losses[0.2] > losses[0.0]
    assert trainer._subset is not None
    assert 1_000 < len(trainer._subset) < 5_000
