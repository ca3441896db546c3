"""``awaaz lm build`` and ``awaaz lm perplexity`` on a text file and the committed fixture manifest."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from awaaz.cli import app
from awaaz.config import RescoringSettings
from awaaz.lm.ngram import NgramLM
from awaaz.lm.tuning import EDIT_COSTS, UNKNOWN_PENALTIES, WEIGHTS, WORD_BONUSES

FIXTURE_MANIFEST = Path(__file__).parents[1] / "fixtures" / "audio" / "manifest.tsv"


def test_build_reads_text_and_train_transcripts_then_scores(tmp_path: Path) -> None:
    text = tmp_path / "corpus.txt"
    text.write_text("राम घर जाता है\nसीता घर जाती है\n\n", encoding="utf-8")
    out = tmp_path / "lm.npz"
    arpa = tmp_path / "lm.arpa"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "lm",
            "build",
            str(text),
            str(FIXTURE_MANIFEST),
            "--out",
            str(out),
            "--arpa",
            str(arpa),
            "--order",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2-grams" in result.output
    lm = NgramLM.load(out)
    assert lm.order == 2
    assert "राम" in lm.vocabulary
    assert arpa.read_text(encoding="utf-8").startswith("\\data\\")
    ppl = runner.invoke(app, ["lm", "perplexity", str(text), "--lm", str(out)])
    assert ppl.exit_code == 0, ppl.output
    assert float(ppl.output.split()[-1]) > 1.0


def test_build_refuses_a_missing_source(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["lm", "build", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "x.npz")]
    )
    assert result.exit_code == 2
    assert "neither a text file nor a manifest" in result.output


def test_perplexity_reports_a_damaged_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    result = CliRunner().invoke(app, ["lm", "perplexity", str(FIXTURE_MANIFEST), "--lm", str(bad)])
    assert result.exit_code == 2
    assert "awaaz lm build" in result.output


def test_tune_decodes_the_dev_clips_once_and_reports_the_grid(
    tmp_path: Path, default_model_path: Path
) -> None:
    out = tmp_path / "grid.json"
    result = CliRunner().invoke(
        app, ["lm", "tune", str(FIXTURE_MANIFEST), "--model", str(default_model_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "without rescoring: WER" in result.output
    assert "at the current settings: WER" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["dev_clips"] >= 1
    pairs = len(WEIGHTS) * len(WORD_BONUSES)  # times the edit costs when lexicon variants were proposed,
    e, u = len(EDIT_COSTS), len(UNKNOWN_PENALTIES)  # and the penalties when some word was unknown
    assert len(report["grid"]) in (pairs, pairs * e, pairs * u, pairs * e * u)
    assert len({(r["weight"], r["word_bonus"]) for r in report["grid"]}) == pairs
    assert all(r["wer"] >= 0 and r["cer"] >= 0 for r in report["grid"])
    assert report["grid"] == sorted(report["grid"], key=lambda r: (r["wer"], r["cer"]))
    assert report["current"]["unknown_penalty"] == RescoringSettings().unknown_penalty
    steady = report["steadiest"]
    assert steady in report["grid"]
    inner = [r for r in report["grid"] if r["neighbours"] == max(r["neighbours"] for r in report["grid"])]
    assert steady["neighbourhood_wer"] == min(r["neighbourhood_wer"] for r in inner)
    assert "steadiest" in result.output
