"""``awaaz train``: fine-tune Whisper on manifests and export a CTranslate2 model the engine loads.

Needs the ``train`` extra (``pip install -e '.[train]'``: torch, transformers, peft). Training never reads
``eval_*`` rows: it takes the ``train`` rows of every manifest, holds out a dev split of them (whole
broadcasts, speakers or sentences) and keeps the checkpoint with the best dev WER.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from awaaz.train.data import DEV_FRACTION

DEFAULT_CACHE = Path(".cache/train")


def _require_train_extra() -> None:
    missing = []
    for module in ("torch", "transformers"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        typer.echo(
            f"awaaz train needs {', '.join(missing)}: install the train extra with "
            "`pip install -e '.[train]'` (CPU torch: `pip install torch --index-url "
            "https://download.pytorch.org/whl/cpu`).",
            err=True,
        )
        raise typer.Exit(2)


def train_command(
    manifests: Annotated[
        list[Path],
        typer.Argument(
            help="manifest.tsv files, or folders holding */manifest.tsv; only split=train rows are used.",
            metavar="MANIFEST",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option(help="Run folder: log.jsonl, best-hf/, ct2-int8/ (the export).")],
    base_model: Annotated[
        Path | None, typer.Option(help="CTranslate2 Whisper directory to start from. Default: whisper-base.")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="decoder (encoder frozen, CPU-friendly), full (needs a GPU), or lora.")
    ] = "decoder",
    learning_rate: Annotated[float, typer.Option(help="Peak AdamW learning rate.")] = 1e-4,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    epochs: Annotated[float, typer.Option(min=0.0)] = 1.0,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after this many steps.")] = None,
    eval_every: Annotated[int, typer.Option(min=0, help="Dev scoring interval in steps (0: per epoch).")] = 0,
    time_budget: Annotated[
        float | None, typer.Option(help="Stop training after this many seconds (then score and export).")
    ] = None,
    dev_fraction: Annotated[float, typer.Option(min=0.0, max=0.5)] = DEV_FRACTION,
    seed: Annotated[int, typer.Option(help="Seeds the shuffling, augmentation and initialisation.")] = 0,
    dev_seed: Annotated[
        int,
        typer.Option(
            help="Seeds the dev carve-out only. Keep it at 0 so runs with other --seed values score on the "
            "same dev clips, the ones the shipped LM and `awaaz lm tune` hold out.",
        ),
    ] = 0,
    threads: Annotated[int, typer.Option(min=1, help="torch and CTranslate2 CPU threads.")] = 2,
    cache_dir: Annotated[Path, typer.Option(help="Where encoder outputs are cached.")] = DEFAULT_CACHE,
    lora_rank: Annotated[int, typer.Option(min=1)] = 16,
    encoder_layers: Annotated[
        int,
        typer.Option(
            min=0,
            help="With --mode decoder: also train the top N encoder layers on trimmed windows "
            "(encoder adaptation on a CPU; 0 keeps the encoder frozen and its outputs cached).",
        ),
    ] = 0,
    speed_perturb: Annotated[
        str,
        typer.Option(help="Comma-separated speed factors of extra training copies, e.g. 0.9,1.1 (none: '')."),
    ] = "",
    source_speed: Annotated[
        list[str] | None,
        typer.Option(
            help="SOURCE=F1,F2: speed factors for the clips of one source (the manifest's folder), instead "
            "of --speed-perturb's; SOURCE= gives it no copies. Repeatable.",
        ),
    ] = None,
    label_smoothing: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.5,
            help="Label smoothing of the training cross-entropy (0.1 hurt a CPU run: see MODEL_CARD).",
        ),
    ] = 0.0,
    score_base: Annotated[
        bool,
        typer.Option(help="Score the starting model on dev first (base Whisper takes minutes: it loops)."),
    ] = True,
    trim_windows: Annotated[
        bool,
        typer.Option(help="Train and score on the engine's trimmed encoder windows (AWAAZ_TRIM_WINDOWS)."),
    ] = True,
    join_clips: Annotated[
        int,
        typer.Option(
            min=0,
            help="Also train on this many examples of 2-3 train clips of one source played back to back "
            "(a change of speaker inside a window, as long recordings cut into pieces have); dev then "
            "scores joined dev clips too.",
        ),
    ] = 0,
    join_max_s: Annotated[float, typer.Option(min=2.0, max=30.0, help="Longest joined example.")] = 15.0,
    join_sources: Annotated[
        str, typer.Option(help="Comma-separated sources (manifest folders) whose clips are joined.")
    ] = "ai4bharat_noa,ohmvikrant,cv_hi_sample",
    join_pause: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=5.0,
            help="With --join-clips: cut the joined clips to their speech so that they meet across pauses "
            "of 0.1 s to this many seconds (sentences read one after another); 0 joins them as recorded.",
        ),
    ] = 0.0,
) -> None:
    """Fine-tune, pick the checkpoint with the best dev WER, and export it as CTranslate2 int8."""
    from awaaz.train.data import expand_manifests

    # Every argument is checked before torch, the clips or the base model load.
    if mode not in ("decoder", "full", "lora"):
        raise typer.BadParameter("mode must be decoder, full or lora", param_hint="--mode")
    if encoder_layers and mode != "decoder":
        raise typer.BadParameter(
            "--encoder-layers goes with --mode decoder (full trains every layer)",
            param_hint="--encoder-layers",
        )
    if encoder_layers and not trim_windows:
        raise typer.BadParameter(
            "--encoder-layers trains on trimmed windows; drop --no-trim-windows",
            param_hint="--encoder-layers",
        )
    files = expand_manifests(manifests)
    if not files:
        raise typer.BadParameter("no manifest.tsv found", param_hint="MANIFEST")
    factors = _speed_factors(speed_perturb, "--speed-perturb")
    per_source = _source_speeds(source_speed or [], {f.parent.name for f in files})  # a clip's source
    _require_train_extra()
    from awaaz.train.augment import with_speed_copies, with_tight_joins
    from awaaz.train.data import joined_examples, load_training_clips, split_dev
    from awaaz.train.features import EncoderCache, precompute_encoder_outputs
    from awaaz.train.loop import TrainConfig, Trainer, uses_cached_encoder

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from awaaz.config import get_settings
    from awaaz.models.default import prepare_base_model
    from awaaz.whisper.scope import VocabularyScope

    if base_model is None:
        base_model = prepare_base_model(get_settings().models.model_dir)
    elif (scope := VocabularyScope.read(base_model)) is not None and not scope.own_vocabulary:
        base_model = _restored(base_model, prepare_base_model(get_settings().models.model_dir), out)
    clips = load_training_clips(files)
    train, dev = split_dev(clips, fraction=dev_fraction, seed=dev_seed)
    if join_clips:
        sources = [source for source in join_sources.split(",") if source]
        dev = [*dev, *joined_examples(dev, len(dev) // 3, join_max_s, dev_seed, sources)]
        train = [*train, *joined_examples(train, join_clips, join_max_s, seed, sources)]
        if join_pause:
            dev = with_tight_joins(dev, join_pause, dev_seed)
            train = with_tight_joins(train, join_pause, seed)
    train = with_speed_copies(train, factors, per_source)  # dev stays as recorded
    typer.echo(f"{len(train)} training clips, {len(dev)} dev clips from {len(files)} manifests", err=True)
    config = TrainConfig(
        mode=mode,  # type: ignore[arg-type]
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=epochs,
        max_steps=max_steps,
        eval_every=eval_every,
        time_budget_s=time_budget,
        seed=seed,
        threads=threads,
        lora_rank=lora_rank,
        trim_windows=trim_windows,
        encoder_layers=encoder_layers,
        label_smoothing=label_smoothing,
        score_base=score_base,
    )
    window = "trimmed" if trim_windows else "30s"
    cache = EncoderCache(cache_dir / "encoder" / f"{base_model.name}-int8-{window}")
    if uses_cached_encoder(config):
        with typer.progressbar(length=len(clips), label="Encoding clips (once)", file=None) as bar:
            last = 0

            def advance(done: int, _total: int) -> None:
                nonlocal last
                bar.update(done - last)
                last = done

            precompute_encoder_outputs(
                [*train, *dev], base_model, cache, threads=threads, trim=trim_windows, progress=advance
            )
    trainer = Trainer(
        base_model, out, config, cache, report=lambda row: typer.echo(json.dumps(row), err=True)
    )
    result = trainer.train(train, dev)
    summary = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(result).items() if k != "history"}
    (out / "result.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    typer.echo(json.dumps(summary, indent=2))


def _restored(pruned: Path, full: Path, out: Path) -> Path:
    """A pruned ``--base-model`` with its full vocabulary back (from whisper-base), in the run folder."""
    from awaaz.modeltools.unprune import restore_vocabulary

    target = out / f"{pruned.name}-full-vocabulary"  # also names its encoder cache
    try:
        restore_vocabulary(pruned, full, target)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{exc} A pruned model trains from the full model it was pruned from.", param_hint="--base-model"
        ) from exc
    typer.echo(
        f"{pruned} is pruned: training from it with whisper-base's full vocabulary ({target}); "
        "prune the result (`awaaz models prune`) as before.",
        err=True,
    )
    return target


def _speed_factors(text: str, hint: str) -> list[float]:
    try:
        factors = [float(f) for f in text.split(",") if f.strip()]
    except ValueError as exc:
        raise typer.BadParameter("give numbers such as 0.9,1.1", param_hint=hint) from exc
    if any(not 0.5 <= f <= 2.0 for f in factors):
        raise typer.BadParameter("speed factors must be between 0.5 and 2", param_hint=hint)
    return factors


def _source_speeds(entries: list[str], sources: set[str]) -> dict[str, list[float]]:
    """``--source-speed`` values (``SOURCE=F1,F2``) by source; a source no manifest has is an error."""
    out: dict[str, list[float]] = {}
    for entry in entries:
        name, sep, values = entry.partition("=")
        source = name.strip()
        if not sep or not source:
            raise typer.BadParameter(f"{entry!r}: write SOURCE=0.9,1.1", param_hint="--source-speed")
        if source not in sources:
            known = ", ".join(sorted(sources))
            raise typer.BadParameter(
                f"no manifest folder is named {source!r} (have: {known})", param_hint="--source-speed"
            )
        out[source] = _speed_factors(values, "--source-speed")
    return out


def synth_command(
    corpus: Annotated[Path, typer.Argument(help="Text file, one sentence a line.", show_default=False)],
    out: Annotated[
        Path, typer.Option(help="Folder for audio/*.wav and manifest.tsv (give it to awaaz train).")
    ],
    count: Annotated[int, typer.Option(min=1, help="Sentences to synthesise.")] = 500,
    known: Annotated[
        list[Path] | None,
        typer.Option(help="Manifests (or folders of them) whose train transcripts count as covered words."),
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Synthesise Hindi speech with espeak-ng from corpus sentences that bring new words."""
    from awaaz.train.data import expand_manifests, read_manifest
    from awaaz.train.synthetic import SynthesisError, pick_sentences, synthesize

    files = expand_manifests(known or [])
    known_text = [clip.text for f in files for clip in read_manifest(f)]
    with corpus.open(encoding="utf-8") as handle:
        sentences = pick_sentences(handle, known_text, count, seed=seed)
    try:
        manifest = synthesize(sentences, out, seed=seed)
    except SynthesisError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{len(sentences)} synthetic clips: {manifest}")
