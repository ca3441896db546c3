"""``awaaz eval``: word and character error rates and real-time factor of a model on manifests."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

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
) -> None:
    """Transcribe every clip of MANIFEST... and report corpus WER, CER and RTF (per split and overall).

    Both texts go through the Hindi normaliser (awaaz.text.normalize) before scoring.

    With --out, the JSON report also lists every clip with its reference, hypothesis, WER and CER.
    """
    # Imported here so that `awaaz --help` does not load faster-whisper and PyAV.
    from awaaz.evaluation import engine as engine_builder
    from awaaz.evaluation.manifest import read_manifests
    from awaaz.evaluation.run import evaluate
    from awaaz.types import TranscribeOptions

    try:
        entries = read_manifests(manifests, split=split, limit=limit)
        if not entries:
            where = f" with split {split!r}" if split else ""
            raise typer.BadParameter(f"no clips{where} in {', '.join(map(str, manifests))}.")
        whisper = None
        if lm is not None:
            from awaaz.config import get_settings
            from awaaz.engines.factory import whisper_settings
            from awaaz.lm.shipped import resolve_lm

            whisper = dataclasses.replace(whisper_settings(get_settings()), lm_path=resolve_lm(lm))
        engine = engine_builder.build_engine(model, whisper=whisper)
        try:
            report = evaluate(engine, entries, TranscribeOptions(language=language), progress=progress)
        finally:
            engine.close()
    except AwaazError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from exc
    report = dataclasses.replace(report, split=split, limit=limit)
    typer.echo(report.format_table())
    if out is not None:
        report.write_json(out)
        typer.echo(f"report written to {out}")


if __name__ == "__main__":
    app()
