"""``awaaz lm``: build and inspect the n-gram language models that rescore Whisper's n-best."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from awaaz.cli.common import text_lines

lm_app = typer.Typer(help="Build and inspect n-gram language models for n-best rescoring.")


@lm_app.command("build")
def build_command(
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="Text files (one sentence a line), manifest.tsv files or folders of */manifest.tsv (their "
            "split=train transcripts only).",
            metavar="SOURCE",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option(help="The model file to write (.npz).")],
    order: Annotated[int, typer.Option(min=1, max=3, help="Highest n-gram order.")] = 3,
    hold_out_dev: Annotated[
        bool, typer.Option(help="Leave out the transcripts of awaaz train's dev clips (to tune on them).")
    ] = True,
    arpa: Annotated[
        Path | None, typer.Option(help="Also write the model in ARPA format (.arpa or .gz).")
    ] = None,
) -> None:
    """Estimate an interpolated Kneser-Ney model; rows of eval splits are never read."""
    from awaaz.lm.ngram import build, sentences_from

    names = ", ".join(str(s) for s in sources)
    lm = build(sentences_from(text_lines(sources, hold_out_dev)), order=order, source=names)
    out.parent.mkdir(parents=True, exist_ok=True)
    lm.save(out)
    if arpa is not None:
        lm.write_arpa(arpa)
    counts = ", ".join(f"{n}-grams {c}" for n, c in enumerate(lm.counts(), start=1))
    typer.echo(f"{out}: {len(lm.vocabulary)} words; {counts}; {out.stat().st_size / 1e6:.1f} MB")


@lm_app.command("perplexity")
def perplexity_command(
    sources: Annotated[list[Path], typer.Argument(metavar="SOURCE", show_default=False)],
    lm_path: Annotated[
        Path | None, typer.Option("--lm", help="Model file (default: the shipped one).")
    ] = None,
    hold_out_dev: Annotated[bool, typer.Option()] = False,
) -> None:
    """Perplexity of a model on text files or on the train transcripts of manifests."""
    from awaaz.lm.ngram import LanguageModelError, NgramLM
    from awaaz.lm.shipped import shipped_lm_path

    try:
        lm = NgramLM.load(lm_path or shipped_lm_path())
    except LanguageModelError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"perplexity {lm.perplexity(text_lines(sources, hold_out_dev)):.1f}")


@lm_app.command("tune")
def tune_command(
    data: Annotated[
        list[Path],
        typer.Argument(
            help="manifest.tsv files or folders of them, as given to awaaz train.", metavar="DATA"
        ),
    ],
    lm_path: Annotated[
        Path | None, typer.Option("--lm", help="Model file (default: the shipped one).")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Catalog id or CTranslate2 directory (default model).")
    ] = None,
    beam_size: Annotated[int, typer.Option(min=2)] = 5,
    out: Annotated[Path | None, typer.Option(help="Write the grid as JSON here.")] = None,
) -> None:
    """Pick the rescoring weights on awaaz train's dev clips (never an eval split)."""
    import json

    from tqdm import tqdm

    from awaaz.audio import decode_audio
    from awaaz.config import get_settings
    from awaaz.engines.base import RescoringEngine
    from awaaz.lm.hypotheses import Hypothesis
    from awaaz.lm.shipped import shipped_lm_path
    from awaaz.lm.tuning import collect, corpus_wer, grid_search, steadiest
    from awaaz.models.loading import load_engine
    from awaaz.train.data import expand_manifests, read_manifest, split_dev
    from awaaz.types import TranscribeOptions

    _, dev = split_dev([c for f in expand_manifests(data) for c in read_manifest(f)])
    base = get_settings().with_lm(str(lm_path or shipped_lm_path()))
    settings = base.model_copy(update={"decoding": base.decoding.model_copy(update={"beam_size": beam_size})})
    engine = load_engine(model, settings)
    if not isinstance(engine, RescoringEngine) or not engine.rescores:
        raise typer.BadParameter("rescoring needs a Whisper model", param_hint="--model")
    recorder: list[list[Hypothesis]] = []
    engine.record_hypotheses(recorder)
    audios = [decode_audio(c.audio) for c in dev]
    request = TranscribeOptions(language="hi")
    bar = tqdm(total=len(dev), desc="n-best", unit="clip")

    def transcribe(i: int) -> object:
        bar.update(1)
        return engine.transcribe(audios[i], request).collect()

    records = collect(transcribe, [c.text for c in dev], recorder)
    bar.close()
    rows = grid_search(records)
    steady = steadiest(rows)
    base_wer, base_cer = corpus_wer(records, None)
    now_wer, now_cer = corpus_wer(records, settings.lm.rescoring)
    typer.echo(f"{len(dev)} dev clips; without rescoring: WER {base_wer:.2%}, CER {base_cer:.2%}")
    typer.echo(f"at the current settings: WER {now_wer:.2%}, CER {now_cer:.2%}")
    for row in rows[:10]:
        typer.echo(_grid_row(row))
    typer.echo("steadiest (lowest mean WER with its grid neighbours): " + _grid_row(steady))
    if out is not None:
        report = {
            "dev_clips": len(dev),
            "without": {"wer": base_wer, "cer": base_cer},
            "current": {**settings.lm.rescoring.model_dump(), "wer": now_wer, "cer": now_cer},
            "steadiest": steady,
            "grid": rows,
        }
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _grid_row(row: dict[str, float]) -> str:
    return (
        f"weight {row['weight']:.2f}  word bonus {row['word_bonus']:+.1f}  edit cost {row['edit_cost']:.1f}  "
        f"unknown penalty {row['unknown_penalty']:.1f}: WER {row['wer']:.2%}  CER {row['cer']:.2%}  "
        f"(neighbourhood {row['neighbourhood_wer']:.2%})"
    )
