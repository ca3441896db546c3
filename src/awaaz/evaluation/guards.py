"""Measure the Devanagari and loop guards of the Whisper engine on train clips.

Run ``python -m awaaz.evaluation.guards MANIFEST... --split train --limit 15 --out-dir DIR``: every variant
below is decoded on the same clips and scored; each report is saved as ``DIR/<variant>.json`` and a
Markdown table is printed. The loop collapser is post-hoc, so every row also shows its WER with the
collapser applied to the same outputs. Eval splits are refused: guards are tuned on train data only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from awaaz.engines.whisper_ct2 import DEFAULT_HINDI_PROMPT, WhisperGuards
from awaaz.evaluation.manifest import ManifestEntry, read_manifests
from awaaz.evaluation.report import EvalReport, Summary
from awaaz.evaluation.run import evaluate
from awaaz.models.loading import load_engine
from awaaz.text.loops import collapse_loops
from awaaz.text.metrics import score_utterance
from awaaz.text.script import is_devanagari_text

ORIGINAL_GUARDS: dict[str, Any] = {
    "force_devanagari": True,
    "suppress_punctuation": False,
    "kept_punctuation": "?,",
    "hindi_prompt": None,
    "compression_ratio_threshold": 2.4,
    "temperature_fallback": True,
    "no_repeat_ngram_size": 0,
    "repetition_penalty": 1.0,
    "max_tokens_per_second": None,
    "collapse_loops": False,
}
"""The guard settings the engine shipped with before this measurement ("current suppression")."""

HINDI_PROMPT = DEFAULT_HINDI_PROMPT

_BOUNDED: dict[str, Any] = {"temperature_fallback": False, "max_tokens_per_second": 30.0}

VARIANTS: dict[str, dict[str, Any]] = {
    "none": {"force_devanagari": False},
    "current": {},
    "max_tokens": {"max_tokens_per_second": 30.0},
    "no_fallback": {"temperature_fallback": False},
    "bounded": _BOUNDED,
    "bounded+punct": {**_BOUNDED, "suppress_punctuation": True},
    "bounded+punct_all": {**_BOUNDED, "suppress_punctuation": True, "kept_punctuation": ""},
    "bounded+prompt": {**_BOUNDED, "hindi_prompt": HINDI_PROMPT},
    "bounded+ngram10": {**_BOUNDED, "no_repeat_ngram_size": 10},
    "bounded+ngram20": {**_BOUNDED, "no_repeat_ngram_size": 20},
    "bounded+rep1.1": {**_BOUNDED, "repetition_penalty": 1.1},
    "prompt": {"hindi_prompt": HINDI_PROMPT},
    "prompt+max_tokens": {"hindi_prompt": HINDI_PROMPT, "max_tokens_per_second": 30.0},
    "bounded+prompt+ngram10": {**_BOUNDED, "hindi_prompt": HINDI_PROMPT, "no_repeat_ngram_size": 10},
    "bounded+prompt+ngram20": {**_BOUNDED, "hindi_prompt": HINDI_PROMPT, "no_repeat_ngram_size": 20},
    "bounded+prompt+punct_all": {
        **_BOUNDED,
        "hindi_prompt": HINDI_PROMPT,
        "suppress_punctuation": True,
        "kept_punctuation": "",
    },
    "bounded+prompt+rep1.1": {**_BOUNDED, "hindi_prompt": HINDI_PROMPT, "repetition_penalty": 1.1},
    "chosen": {**_BOUNDED, "hindi_prompt": HINDI_PROMPT, "repetition_penalty": 1.1, "collapse_loops": True},
    "prompt+max_tokens+rep1.1": {
        "hindi_prompt": HINDI_PROMPT,
        "max_tokens_per_second": 30.0,
        "repetition_penalty": 1.1,
    },
    "bounded+prompt+rep1.2": {**_BOUNDED, "hindi_prompt": HINDI_PROMPT, "repetition_penalty": 1.2},
    "bounded+prompt+rep1.1+ngram10": {
        **_BOUNDED,
        "hindi_prompt": HINDI_PROMPT,
        "repetition_penalty": 1.1,
        "no_repeat_ngram_size": 10,
    },
    "bounded+prompt+rep1.1+punct_all": {
        **_BOUNDED,
        "hindi_prompt": HINDI_PROMPT,
        "repetition_penalty": 1.1,
        "suppress_punctuation": True,
        "kept_punctuation": "",
    },
    "bounded+prompt+rep1.1-script_guard": {
        **_BOUNDED,
        "hindi_prompt": HINDI_PROMPT,
        "repetition_penalty": 1.1,
        "force_devanagari": False,
    },
}
"""Each variant's changes to :data:`ORIGINAL_GUARDS`."""


def variant_guards(name: str) -> WhisperGuards:
    """The original guards, changed as variant ``name`` says."""
    if name not in VARIANTS:
        raise typer.BadParameter(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}.")
    return WhisperGuards(**{**ORIGINAL_GUARDS, **VARIANTS[name]})


def collapsed(report: EvalReport) -> Summary:
    """The report's numbers had every hypothesis gone through the loop collapser."""
    results = []
    for r in report.results:
        hyp = collapse_loops(r.hypothesis)
        results.append(
            dataclasses.replace(
                r, hypothesis=hyp, score=score_utterance(r.reference, hyp), devanagari=is_devanagari_text(hyp)
            )
        )
    return Summary.of(results)


TABLE_HEADER = (
    "| variant | settings | WER | CER | WER, loops collapsed | CER, loops collapsed | RTF | CPU-RTF "
    "| Devanagari | loops |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def describe(changes: dict[str, Any]) -> str:
    """A short human description of a variant's changes to the original guards."""
    words = []
    for key, value in changes.items():
        if key == "force_devanagari":
            words.append("script guard" if value else "no script guard")
        elif key == "temperature_fallback":
            words.append("fallback" if value else "no fallback")
        elif key == "max_tokens_per_second":
            words.append(f"<= {value:g} tokens/s")
        elif key == "hindi_prompt":
            words.append("Hindi prompt" if value else "no prompt")
        elif key == "repetition_penalty":
            words.append(f"repetition penalty {value:g}")
        elif key == "no_repeat_ngram_size":
            words.append(f"no-repeat {value}-gram")
        elif key == "suppress_punctuation":
            kept = changes.get("kept_punctuation", ORIGINAL_GUARDS["kept_punctuation"])
            words.append(f"punctuation suppressed but {kept!r}" if kept else "all punctuation suppressed")
        elif key == "collapse_loops":
            words.append("loop collapser" if value else "no loop collapser")
        elif key != "kept_punctuation":
            words.append(f"{key}={value}")
    return ", ".join(words) or "(original defaults)"


def table_row(name: str, report: EvalReport) -> str:
    """One Markdown table row for a variant's report."""
    s, c = report.summary, collapsed(report)
    changes = describe(VARIANTS[name])
    return (
        f"| {name} | {changes} | {s.wer:.1%} | {s.cer:.1%} | {c.wer:.1%} | {c.cer:.1%} | {s.rtf:.2f} "
        f"| {s.cpu_rtf:.2f} | {s.devanagari_fraction:.0%} | {s.looped_fraction:.0%} |"
    )


def _refuse_eval_splits(entries: Sequence[ManifestEntry]) -> None:
    bad = sorted({e.split for e in entries if e.split.startswith("eval")})
    if bad:
        raise typer.BadParameter(
            f"the selection holds eval splits ({', '.join(bad)}); tune guards on train data only "
            "(pass --split train)."
        )


app = typer.Typer(help="Measure the Whisper engine's Devanagari and loop guards on train clips.")


@app.command()
def sweep(
    manifests: Annotated[list[Path], typer.Argument(help="Train manifests.", metavar="MANIFEST")],
    out_dir: Annotated[Path, typer.Option(help="Where each variant's JSON report goes.")],
    variants: Annotated[
        list[str] | None, typer.Option("--variant", help="Variant to run (repeatable; default: all).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model directory (default: the default model).")] = None,
    split: Annotated[str, typer.Option(help="Split to keep.")] = "train",
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many clips per manifest.")] = None,
) -> None:
    """Decode the same clips with each guard variant and print a Markdown table of the results."""
    entries = read_manifests(manifests, split=split, limit=limit)
    _refuse_eval_splits(entries)
    rows = []
    for name in variants or list(VARIANTS):
        engine = load_engine(model, guards=variant_guards(name))
        try:
            report = evaluate(engine, entries, desc=name)
        finally:
            engine.close()
        report = dataclasses.replace(report, split=split, limit=limit)
        report.write_json(out_dir / f"{name}.json")
        rows.append(table_row(name, report))
        typer.echo(rows[-1], err=True)
    typer.echo(f"{len(entries)} clips, {sum(e.duration_s for e in entries):.1f} s of audio")
    typer.echo("\n".join([TABLE_HEADER, *rows]))


@app.command()
def table(
    out_dir: Annotated[Path, typer.Argument(help="The --out-dir of an earlier sweep.")],
    variants: Annotated[
        list[str] | None, typer.Option("--variant", help="Rows to show (default: all).")
    ] = None,
) -> None:
    """Print the Markdown table again from the JSON reports of an earlier sweep."""
    rows = []
    for name in variants or list(VARIANTS):
        path = out_dir / f"{name}.json"
        if path.is_file():
            rows.append(table_row(name, EvalReport.read_json(path)))
    typer.echo("\n".join([TABLE_HEADER, *rows]))


if __name__ == "__main__":
    app()
