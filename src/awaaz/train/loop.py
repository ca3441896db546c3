"""The fine-tuning loop: full, decoder-only or LoRA, with dev-WER checkpoint selection.

Decoder-only training (``mode="decoder"``) never runs the encoder: it reads encoder outputs precomputed by
:mod:`awaaz.train.features`, which makes it practical on a CPU. With ``encoder_layers=N`` it also adapts the
top N encoder layers, running the encoder on trimmed windows (:mod:`awaaz.train.encoder`, SpecAugment on),
the bottom layers without gradients: encoder adaptation at a CPU's budget. ``mode="full"`` and
``mode="lora"`` run the whole encoder on 30 s windows (with SpecAugment), which wants a GPU. Every
checkpoint candidate is exported to CTranslate2 int8 and scored on the dev clips with the same runtime that
serves, and the best dev WER wins.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from awaaz.train.augment import load_clip_audio
from awaaz.train.data import Clip
from awaaz.train.encoder import encode_trimmed, freeze_encoder_below, spec_augment
from awaaz.train.features import EncoderCache, log_mel
from awaaz.train.hf import export_ct2, load_hf_from_ct2, save_hf
from awaaz.train.scoring import corpus_error_rates
from awaaz.whisper.scope import VocabularyScope
from awaaz.whisper.tokens import EOT, NO_TIMESTAMPS, SOT, TRANSCRIBE, language_token

log = logging.getLogger(__name__)

Mode = Literal["decoder", "full", "lora"]
IGNORE = -100
TIMESTAMP_STEP_S = 0.02


@dataclass(slots=True)
class TrainConfig:
    """Hyper-parameters of one fine-tuning run."""

    mode: Mode = "decoder"
    learning_rate: float = 1e-4
    batch_size: int = 16
    epochs: float = 1.0
    max_steps: int | None = None
    """Stop after this many optimiser steps (overrides ``epochs`` when smaller)."""
    warmup_fraction: float = 0.08
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    eval_every: int = 0
    """Score the dev set every this many steps (0: only at the end of each epoch)."""
    log_every: int = 10
    """Log the mean training loss every this many steps."""
    score_base: bool = True
    """Score the starting model on dev first (a checkpoint must beat it to be chosen)."""
    time_budget_s: float | None = None
    """Stop (and score) once training has run this long, even before ``max_steps``."""
    trim_windows: bool = True
    """Decoder-only and dev scoring use encoder outputs of the engine's trimmed windows (see
    :mod:`awaaz.whisper.windows`), as served with ``AWAAZ_TRIM_WINDOWS`` on. The encoder of full and encoder
    LoRA runs always sees 30 s windows (transformers' Whisper encoder accepts nothing else)."""
    seed: int = 0
    threads: int = 2
    language: str = "hi"
    timestamp_fraction: float = 0.5
    """Share of examples trained in timestamp mode (``<|0.00|> text <|end|>``), which faster-whisper uses."""
    freeze_embeddings: bool = False
    spec_augment: float = 0.05
    """SpecAugment time-mask probability when the encoder runs (full / lora)."""
    lora_rank: int = 16
    lora_alpha: int = 32
    hindi_vocabulary: bool = True
    """Train the softmax over the tokens the engine's Devanagari guard allows for Hindi (plus specials,
    timestamps and every token of the training labels) instead of all 51,865: the distribution the engine
    decodes from, at a tenth of the output-layer cost."""
    freeze_cross_kv: bool = True
    """Keep the cross-attention key/value projections fixed (their weight gradients over 1,500 encoder
    frames are the most expensive part of a decoder step on a CPU)."""
    lora_encoder: bool = False
    """LoRA on the encoder too (runs the encoder; wants a GPU). Off: decoder adapters on cached outputs."""
    max_label_tokens: int = 440
    label_smoothing: float = 0.0
    """Share of each target's probability spread evenly over the whole training softmax, timestamp tokens
    included (1,501 of the Hindi softmax's 2,625 + label tokens). 0.1 made a CPU run much worse on dev
    (docs/MODEL_CARD.md, "What did not work"): in timestamp mode the model ended its windows early."""
    encoder_layers: int = 0
    """With ``mode="decoder"``: also train the top this-many encoder layers (and the encoder's final layer
    norm) on trimmed windows, instead of reading cached encoder outputs."""


@dataclass(slots=True)
class TrainResult:
    """What a run produced."""

    best_step: int
    best_dev_wer: float
    best_dev_cer: float
    base_dev_wer: float
    base_dev_cer: float
    ct2_dir: Path
    history: list[dict[str, Any]] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass(frozen=True, slots=True)
class _Tokens:
    sot: int
    lang: int
    transcribe: int
    no_timestamps: int
    eot: int
    timestamp_begin: int


class _Encoder:
    """Text -> token ids with the Whisper prefix, using the tokenizer.json of the base model."""

    def __init__(self, ct2_dir: Path, language: str) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(ct2_dir / "tokenizer.json"))

        def tid(token: str) -> int:
            value = self.tokenizer.token_to_id(token)
            if value is None:
                raise ValueError(f"Token {token} is not in the tokenizer of {ct2_dir}.")
            return int(value)

        self.t = _Tokens(
            sot=tid(SOT),
            lang=tid(language_token(language)),
            transcribe=tid(TRANSCRIBE),
            no_timestamps=tid(NO_TIMESTAMPS),
            eot=tid(EOT),
            timestamp_begin=tid(NO_TIMESTAMPS) + 1,
        )

    def text_ids(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)

    def sequence(
        self, text_ids: list[int], duration_s: float, with_timestamps: bool
    ) -> tuple[list[int], int]:
        """(token sequence, number of leading labels that are given as prompt and not learned)."""
        t = self.t
        if not with_timestamps:
            return [t.sot, t.lang, t.transcribe, t.no_timestamps, *text_ids, t.eot], 3
        return self.segmented([(text_ids, duration_s)])

    def segmented(self, segments: Sequence[tuple[list[int], float]]) -> tuple[list[int], int]:
        """A timestamp-mode sequence of several segments, each (text ids, end in seconds), the next
        starting where the last ended: a joined example's clips (:func:`awaaz.train.data.join_clips`)."""
        t = self.t
        sequence, start = [t.sot, t.lang, t.transcribe], 0
        for ids, end_s in segments:
            end = min(round(min(end_s, 30.0) / TIMESTAMP_STEP_S), 1500)
            sequence += [t.timestamp_begin + start, *ids, t.timestamp_begin + end]
            start = end
        return [*sequence, t.eot], 2

    def decode(self, ids: Sequence[int]) -> str:
        text = [i for i in ids if i < self.t.eot]
        return str(self.tokenizer.decode(text)).strip()


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


def _batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random, groups: Sequence[int] | None = None
) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within pools of 8 batches, shuffle batches.

    With ``groups`` (one key per example, e.g. its encoder output length), a batch never mixes keys.
    """
    keys = groups if groups is not None else [0] * len(lengths)
    batches: list[list[int]] = []
    for key in sorted(set(keys)):
        order = [i for i in range(len(lengths)) if keys[i] == key]
        rng.shuffle(order)
        pool = batch_size * 8
        for start in range(0, len(order), pool):
            chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
            batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def hindi_suppressed_ids(ct2_dir: Path) -> list[int]:
    """Token ids the engine's Devanagari guard suppresses for Hindi (same rule as the engine)."""
    from awaaz.whisper.ct2_file import read_vocabulary
    from awaaz.whisper.devanagari import non_devanagari_token_ids

    vocabulary = read_vocabulary(ct2_dir)
    return non_devanagari_token_ids(vocabulary, vocabulary.index(EOT))


def uses_cached_encoder(config: TrainConfig) -> bool:
    """True when the encoder is frozen, so training reads precomputed encoder outputs."""
    if config.mode == "decoder":
        return config.encoder_layers == 0
    return config.mode == "lora" and not config.lora_encoder


def runs_trimmed_encoder(config: TrainConfig) -> bool:
    """True when the top encoder layers train on trimmed windows (decoder mode with ``encoder_layers``)."""
    return config.mode == "decoder" and config.encoder_layers > 0


def trimmed_window_frames(clip: Clip) -> int:
    """Mel frames of the trimmed window the engine encodes ``clip`` in, from its duration (no audio read).

    ``duration_s`` already accounts for speed copies. A clip within a frame of a step boundary may get the
    next window when its audio is decoded; a batch is padded to its widest window, so that is harmless.
    """
    from awaaz.whisper.windows import FULL_WINDOW, window_frames

    return window_frames(min(FULL_WINDOW, int(clip.duration_s * 100)))


def _prepare_model(model: Any, config: TrainConfig) -> Any:
    """Freeze what the mode keeps fixed, or wrap in LoRA adapters; return the model to optimise."""
    model.config.apply_spec_augment = not uses_cached_encoder(config) and config.spec_augment > 0
    model.config.mask_time_prob = config.spec_augment
    if config.mode == "lora":
        from peft import LoraConfig, get_peft_model

        scope = "" if config.lora_encoder else "decoder"
        target = rf".*{scope}.*\.(q_proj|k_proj|v_proj|out_proj|fc1|fc2)"
        lora = LoraConfig(
            r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0, target_modules=target
        )
        return get_peft_model(model, lora)
    if config.mode == "decoder":
        freeze_encoder_below(model.model.encoder, config.encoder_layers)
    if config.freeze_cross_kv:
        for layer in model.model.decoder.layers:
            for proj in (layer.encoder_attn.k_proj, layer.encoder_attn.v_proj):
                for param in proj.parameters():
                    param.requires_grad_(False)
    if config.freeze_embeddings:
        model.model.decoder.embed_tokens.weight.requires_grad_(False)
    return model


def _unwrap(model: Any, config: TrainConfig) -> Any:
    """A plain WhisperForConditionalGeneration (LoRA merged into a copy)."""
    if config.mode == "lora":
        return copy.deepcopy(model).merge_and_unload()
    return model


class Trainer:
    """Fine-tunes the Whisper model of ``base_dir`` (a CTranslate2 directory) on clips.

    ``cache`` holds precomputed encoder outputs (required for ``mode="decoder"``, and used for dev scoring
    in every mode when it has them).
    """

    def __init__(
        self,
        base_dir: Path,
        run_dir: Path,
        config: TrainConfig,
        cache: EncoderCache | None,
        report: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.base_dir = base_dir
        self.run_dir = run_dir
        self.config = config
        self.cache = cache
        self.report = report or (lambda row: log.info("%s", row))
        self.tokens = _Encoder(base_dir, config.language)
        run_dir.mkdir(parents=True, exist_ok=True)
        self._log_path = run_dir / "log.jsonl"
        self._encoder_outputs: dict[str, npt.NDArray[np.float16]] = {}
        self._suppress = hindi_suppressed_ids(base_dir) if config.language == "hi" else []
        self._subset: Any = None
        self._remap: Any = None
        self._np_rng = np.random.default_rng(config.seed)

    def _set_vocabulary_subset(self, label_ids: Sequence[list[int]], vocab_size: int) -> None:
        import torch

        allowed = np.ones(vocab_size, dtype=bool)
        allowed[self._suppress] = False
        for ids in label_ids:
            allowed[ids] = True
        subset = np.flatnonzero(allowed)
        remap = np.full(vocab_size, IGNORE, dtype=np.int64)
        remap[subset] = np.arange(len(subset))
        self._subset, self._remap = torch.from_numpy(subset), torch.from_numpy(remap)

    # ---- data -------------------------------------------------------------------------------------
    def _encoder_output(self, clip: Clip) -> npt.NDArray[np.float16]:
        if clip.key not in self._encoder_outputs:
            if self.cache is None or not self.cache.has(clip):
                raise ValueError(f"No precomputed encoder output for {clip.audio}; run the precompute step.")
            self._encoder_outputs[clip.key] = self.cache.load(clip)
        return self._encoder_outputs[clip.key]

    def _collate(
        self, clips: Sequence[Clip], text_ids: Sequence[list[int]], rng: random.Random
    ) -> dict[str, Any]:
        import torch

        seqs, prompt_lengths = [], []
        for clip, ids in zip(clips, text_ids, strict=True):
            with_timestamps = rng.random() < self.config.timestamp_fraction
            if with_timestamps and clip.joined:
                seq, given = self.tokens.segmented(self._segments(clip))
            else:
                seq, given = self.tokens.sequence(ids, clip.duration_s, with_timestamps)
            seqs.append(seq[: self.config.max_label_tokens + 1])
            prompt_lengths.append(given)
        width = max(len(s) for s in seqs) - 1
        inputs = torch.full((len(seqs), width), self.tokens.t.eot, dtype=torch.long)
        labels = torch.full((len(seqs), width), IGNORE, dtype=torch.long)
        for row, (seq, given) in enumerate(zip(seqs, prompt_lengths, strict=True)):
            inputs[row, : len(seq) - 1] = torch.tensor(seq[:-1])
            labels[row, given : len(seq) - 1] = torch.tensor(seq[1 + given :])
        batch: dict[str, Any] = {"decoder_input_ids": inputs, "labels": labels}
        if uses_cached_encoder(self.config):
            enc = np.stack([self._encoder_output(c) for c in clips]).astype(np.float32)
            batch["encoder_hidden_states"] = torch.from_numpy(enc)
        elif runs_trimmed_encoder(self.config):
            windows = [
                spec_augment(log_mel(load_clip_audio(c), trim=True), self.config.spec_augment, self._np_rng)
                for c in clips
            ]
            width = max(w.shape[-1] for w in windows)
            stacked = np.zeros((len(windows), windows[0].shape[0], width), np.float32)
            for row, window in enumerate(windows):
                stacked[row, :, : window.shape[-1]] = window
            batch["trimmed_features"] = torch.from_numpy(stacked)
        else:
            mels = np.stack([log_mel(load_clip_audio(c), trim=False) for c in clips])
            batch["input_features"] = torch.from_numpy(mels)
        return batch

    def _segments(self, clip: Clip) -> list[tuple[list[int], float]]:
        """A joined example's segments: each clip's text ids and where it ends (at the example's speed)."""
        segments, end = [], 0.0
        for part in clip.parts:
            end += part.duration_s / clip.speed
            segments.append((self.tokens.text_ids(part.text), end))
        return segments

    def _loss(self, model: Any, batch: dict[str, Any]) -> Any:
        import torch
        import torch.nn.functional as functional

        if "trimmed_features" in batch:
            batch["encoder_hidden_states"] = encode_trimmed(
                model.model.encoder, batch["trimmed_features"], self.config.encoder_layers
            )
        if "encoder_hidden_states" in batch:
            whisper = model.get_base_model() if self.config.mode == "lora" else model
            hidden = whisper.model.decoder(
                input_ids=batch["decoder_input_ids"],
                encoder_hidden_states=batch["encoder_hidden_states"],
                use_cache=False,
            ).last_hidden_state
            if self._subset is not None:
                weight = whisper.proj_out.weight.index_select(0, self._subset)
                logits = hidden @ weight.T
                labels = batch["labels"].clamp(min=0)
                labels = torch.where(batch["labels"] == IGNORE, IGNORE, self._remap[labels])
                return functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]),
                    labels.reshape(-1),
                    ignore_index=IGNORE,
                    label_smoothing=self.config.label_smoothing,
                )
            logits = whisper.proj_out(hidden)
        else:
            logits = model(
                input_features=batch["input_features"],
                decoder_input_ids=batch["decoder_input_ids"],
                use_cache=False,
            ).logits
        labels = batch["labels"]
        return functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(),
            labels.reshape(-1),
            ignore_index=IGNORE,
            label_smoothing=self.config.label_smoothing,
        )

    # ---- scoring ----------------------------------------------------------------------------------
    def score_ct2(
        self, ct2_dir: Path, clips: Sequence[Clip], batch_size: int = 8, beam_size: int = 1
    ) -> tuple[float, float, list[str]]:
        """Decode ``clips`` with the CTranslate2 model in ``ct2_dir``; return (WER, CER, hypotheses).

        Uses precomputed encoder outputs when the cache has every clip, else encodes the audio. Decodes in
        timestamp mode (as faster-whisper does) and drops the timestamp tokens.
        """
        import ctranslate2

        model = ctranslate2.models.Whisper(
            str(ct2_dir), device="cpu", compute_type="int8", intra_threads=self.config.threads
        )
        t = self.tokens.t
        # Cached outputs are those of the base encoder: stale once the encoder trains.
        cached = (
            uses_cached_encoder(self.config)
            and self.cache is not None
            and all(self.cache.has(c) for c in clips)
        )
        n_mels = int(model.n_mels)

        def inputs(clip: Clip) -> npt.NDArray[Any]:
            if cached:
                return self._encoder_output(clip)
            return log_mel(load_clip_audio(clip), n_mels, trim=self.config.trim_windows)

        features = [inputs(c) for c in clips]
        hyps = [""] * len(clips)
        # A batch holds inputs of one shape (trimmed windows differ in length).
        for shape in sorted({f.shape for f in features}):
            rows = [i for i, f in enumerate(features) if f.shape == shape]
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                feats = np.stack([features[i] for i in chunk]).astype(np.float32)
                results = model.generate(
                    ctranslate2.StorageView.from_array(np.ascontiguousarray(feats)),
                    [[t.sot, t.lang, t.transcribe]] * len(chunk),
                    beam_size=beam_size,
                    max_length=224,
                    suppress_blank=True,
                    suppress_tokens=[-1, *self._suppress],
                )
                for i, result in zip(chunk, results, strict=True):
                    hyps[i] = self.tokens.decode(result.sequences_ids[0])
        del model
        wer, cer = corpus_error_rates([c.text for c in clips], hyps)
        return wer, cer, hyps

    def _evaluate(self, model: Any, dev: Sequence[Clip], tokenizer: Any) -> tuple[float, float]:
        with tempfile.TemporaryDirectory(prefix="awaaz-dev-") as tmp:
            out = export_ct2(_unwrap(model, self.config), tokenizer, Path(tmp) / "ct2", quantization="int8")
            wer, cer, _ = self.score_ct2(out, dev)
        return wer, cer

    def _emit(self, row: dict[str, Any]) -> None:
        with self._log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.report(row)

    # ---- training ---------------------------------------------------------------------------------
    def train(self, train: Sequence[Clip], dev: Sequence[Clip]) -> TrainResult:
        """Fine-tune on ``train``, select by WER on ``dev``, export the best to ``run_dir/ct2-int8``."""
        import torch

        cfg = self.config
        if not dev:
            raise ValueError("The dev set is empty; checkpoints are chosen by dev WER.")
        seed_everything(cfg.seed)
        torch.set_num_threads(cfg.threads)
        (self.run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
        base, tokenizer = load_hf_from_ct2(self.base_dir)
        model = _prepare_model(base, cfg)
        text_ids = [self.tokens.text_ids(c.text) for c in train]
        lengths = [len(ids) for ids in text_ids]
        # Cached encoder outputs of trimmed windows differ in length: a batch takes one length.
        groups: list[int] | None = None
        if uses_cached_encoder(cfg):
            groups = [len(self._encoder_output(c)) for c in train]
        elif runs_trimmed_encoder(cfg):
            groups = [trimmed_window_frames(c) for c in train]
        decoder_path = uses_cached_encoder(cfg) or runs_trimmed_encoder(cfg)
        if cfg.hindi_vocabulary and cfg.language == "hi" and decoder_path:
            self._set_vocabulary_subset(text_ids, int(base.config.vocab_size))
        steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
        total = math.ceil(steps_per_epoch * cfg.epochs)
        if cfg.max_steps is not None:
            total = min(total, cfg.max_steps)
        warmup = round(total * cfg.warmup_fraction)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, total, warmup))
        eval_every = cfg.eval_every or steps_per_epoch
        trainable = sum(p.numel() for p in params)
        base_wer, base_cer = self._evaluate(model, dev, tokenizer) if cfg.score_base else (math.inf, math.inf)
        self._emit(
            {"step": 0, "dev_wer": base_wer, "dev_cer": base_cer, "trainable": trainable, "total": total}
        )
        best = (base_wer, base_cer, 0)
        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        rng = random.Random(cfg.seed)
        step, started, window = 0, time.monotonic(), []
        while step < total:
            for indices in _batches(lengths, cfg.batch_size, rng, groups):
                if step >= total:
                    break
                model.train()
                batch = self._collate([train[i] for i in indices], [text_ids[i] for i in indices], rng)
                loss = self._loss(model, batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()
                scheduler.step()
                step += 1
                window.append(float(loss.detach()))
                if step % cfg.log_every == 0 or step == total:
                    self._emit(
                        {
                            "step": step,
                            "loss": sum(window) / len(window),
                            "lr": scheduler.get_last_lr()[0],
                            "elapsed_s": round(time.monotonic() - started, 1),
                        }
                    )
                    window = []
                out_of_time = cfg.time_budget_s is not None and time.monotonic() - started > cfg.time_budget_s
                if out_of_time:
                    total = step
                if step % eval_every == 0 or step == total:
                    model.eval()
                    wer, cer = self._evaluate(model, dev, tokenizer)
                    self._emit({"step": step, "dev_wer": wer, "dev_cer": cer})
                    if wer < best[0]:
                        best = (wer, cer, step)
                        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(best_state)
        model.eval()
        final = _unwrap(model, cfg)
        save_hf(final, tokenizer, self.run_dir / "best-hf")
        ct2_dir = export_ct2(
            final, tokenizer, self.run_dir / "ct2-int8", quantization="int8", reference_ct2_dir=self.base_dir
        )
        scope = VocabularyScope.read(self.base_dir)
        if scope is not None and scope.own_vocabulary:  # a Hindi vocabulary stays Hindi-only when served
            scope.write(ct2_dir)
        history = [json.loads(line) for line in self._log_path.read_text(encoding="utf-8").splitlines()]
        return TrainResult(
            best_step=best[2],
            best_dev_wer=best[0],
            best_dev_cer=best[1],
            base_dev_wer=base_wer,
            base_dev_cer=base_cer,
            ct2_dir=ct2_dir,
            history=history,
        )
