"""``awaaz eval``: word and character error rates and real-time factor of a model on manifests."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from awaaz.cli.common import fail
from awaaz.errors import AwaazError

app = typer.Typer(help="Measure accuracy on speech manifests.")


@app.command("eval")
def eval_command(
    manifests: Annotated[
        list[Path],
        typer.Argument(
            help="manifest.tsv files (TSV: audio, duration_s, speaker, text, split; audio paths relative to "
            "the manifest's folder).",
            metavar="MANIFEST",
            show_default=False,
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(help="Model directory (CTranslate2 Whisper). Default: the prepared default model."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the full JSON report here.")] = None,
    split: Annotated[
        str | None, typer.Option(help="Keep only rows of this split (train, eval_news, eval_stories...).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many clips from each manifest (in file order).")
    ] = None,
    language: Annotated[str, typer.Option(help="Language code passed to the engine.")] = "hi",
    lm: Annotated[
        str | None,
        typer.Option(help="n-best rescoring LM: default, none, or a file (default: AWAAZ_LM, i.e. default)."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    concat: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            metavar="MINUTES",
            help="Also join consecutive clips (manifest order, one split at a time) into recordings of about "
            "MINUTES and score each as one long transcription: long-form WER beside clip-by-clip.",
        ),
    ] = None,
    clips: Annotated[
        bool, typer.Option(help="Score clip by clip (--no-clips with --concat: the long-form run only).")
    ] = True,
) -> None:
    """Transcribe every clip of MANIFEST... and report corpus WER, CER and RTF (per split and overall).

    Both texts go through the Hindi normaliser (awaaz.text.normalize) before scoring.

    With --out, the JSON report also lists every clip with its reference, hypothesis, WER and CER; with
    --concat the long-form report goes beside it (OUT with the suffix .longform.json).
    """
    # Imported here so that `awaaz --help` does not load faster-whisper and PyAV.
    from awaaz.config import get_settings
    from awaaz.evaluation.manifest import read_manifests
    from awaaz.evaluation.run import evaluate, evaluate_concatenated
    from awaaz.models import loading
    from awaaz.types import TranscribeOptions

    if not clips and concat is None:
        raise typer.BadParameter("--no-clips leaves nothing to score without --concat.", param_hint="--clips")
    reports = []
    try:
        entries = read_manifests(manifests, split=split, limit=limit)
        if not entries:
            where = f" with split {split!r}" if split else ""
            raise typer.BadParameter(f"no clips{where} in {', '.join(map(str, manifests))}.")
        settings = get_settings() if lm is None else get_settings().with_lm(lm)
        options = TranscribeOptions(language=language)
        with loading.engines_for(model, settings) as (engine, pieces):
            longform, workers = settings.longform, engine.placement.replicas
            if clips:
                reports.append(
                    evaluate(
                        engine,
                        entries,
                        options,
                        longform=longform,
                        workers=workers,
                        piece_engine=pieces,
                        progress=progress,
                    )
                )
            if concat is not None:
                reports.append(
                    evaluate_concatenated(
                        engine,
                        entries,
                        concat,
                        options,
                        longform=longform,
                        workers=workers,
                        piece_engine=pieces,
                        progress=progress,
                    )
                )
    except AwaazError as exc:
        fail(exc.message)
    for report in reports:
        report = dataclasses.replace(report, split=split, limit=limit)
        typer.echo(report.format_table())
        if out is not None:
            path = out if report.concat_minutes is None else out.with_suffix(".longform.json")
            report.write_json(path)
            typer.echo(f"report written to {path}")


if __name__ == "__main__":
    app()
