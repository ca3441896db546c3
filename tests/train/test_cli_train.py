"""``awaaz train`` refuses malformed speed factors before any encoding or training."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from awaaz.cli import app

pytest.importorskip("torch", reason="the train extra (torch) is not installed: pip install -e '.[train]'")

FIXTURE_MANIFEST = Path(__file__).parents[1] / "fixtures" / "audio" / "manifest.tsv"


@pytest.mark.parametrize(
    ("value", "message"), [("0.9,fast", "give numbers such as 0.9,1.1"), ("0.9,3", "between 0.5 and 2")]
)
def test_bad_speed_factors_are_a_usage_error(
    tmp_path: Path, default_model_path: Path, value: str, message: str
) -> None:
    out = tmp_path / "run"
    args = ["train", str(FIXTURE_MANIFEST), "--out", str(out), "--base-model", str(default_model_path)]
    result = CliRunner().invoke(app, [*args, "--speed-perturb", value])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()
