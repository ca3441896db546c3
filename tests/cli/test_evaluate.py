"""``awaaz eval`` through typer's CliRunner, with the engine replaced by a fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from awaaz.cli import evaluate as cli_eval
from awaaz.config import Settings
from awaaz.errors import ModelNotFoundError
from awaaz.evaluation.report import EvalReport
from awaaz.models import loading
from tests.evaluation.fakes import CLIPS, ScriptedEngine, write_manifest

runner = CliRunner()


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> ScriptedEngine:
    engine = ScriptedEngine()

    def load(model: str | None, settings: Settings | None = None, **_: Any) -> ScriptedEngine:
        engine.requested.append(model)
        engine.lm_models.append((settings or Settings()).lm.model)
        return engine

    monkeypatch.setattr(loading, "load_engine", load)
    return engine


def mounted() -> typer.Typer:
    """The eval app mounted under a parent, as ``awaaz eval``."""
    parent = typer.Typer()

    @parent.command()
    def other() -> None:
        """Another command, so the parent is a group."""

    parent.add_typer(cli_eval.app)
    return parent


def test_eval_writes_report_and_prints_table(tmp_path: Path, fake_engine: ScriptedEngine) -> None:
    manifest = write_manifest(tmp_path / "set")
    out = tmp_path / "report.json"
    result = runner.invoke(mounted(), ["eval", str(manifest), "--split", "train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "WER" in result.output
    assert "20.00%" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["utterances"] == 3
    assert data["split"] == "train"
    assert data["wer"] == pytest.approx(0.2)
    assert data["per_utterance"][0]["hyp"] == "जरा गांव चलो"
    assert fake_engine.closed
    assert fake_engine.requested == [None]


def test_eval_limit_and_model(tmp_path: Path, fake_engine: ScriptedEngine) -> None:
    manifest = write_manifest(tmp_path / "set")
    out = tmp_path / "r.json"
    args = [
        "eval",
        str(manifest),
        "--limit",
        "2",
        "--model",
        "/some/model",
        "--out",
        str(out),
        "--no-progress",
    ]
    result = runner.invoke(mounted(), args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["utterances"] == 2
    assert data["limit"] == 2
    assert fake_engine.requested == ["/some/model"]


@pytest.mark.parametrize("value", ["none", "/x/lm.npz"])
def test_eval_lm_option_switches_rescoring(tmp_path: Path, fake_engine: ScriptedEngine, value: str) -> None:
    manifest = write_manifest(tmp_path / "set")
    result = runner.invoke(mounted(), ["eval", str(manifest), "--lm", value, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert fake_engine.lm_models == [value]


def test_eval_without_lm_option_keeps_the_service_settings(
    tmp_path: Path, fake_engine: ScriptedEngine
) -> None:
    manifest = write_manifest(tmp_path / "set")
    assert runner.invoke(mounted(), ["eval", str(manifest), "--no-progress"]).exit_code == 0
    assert fake_engine.lm_models == [Settings().lm.model]


@pytest.mark.usefixtures("fake_engine")
def test_eval_of_several_manifests(tmp_path: Path) -> None:
    one, two = write_manifest(tmp_path / "one"), write_manifest(tmp_path / "two")
    out = tmp_path / "r.json"
    result = runner.invoke(mounted(), ["eval", str(one), str(two), "--split", "train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["utterances"] == 6
    assert data["manifests"] == [str(one), str(two)]


def test_missing_manifest_fails_with_a_message(tmp_path: Path, fake_engine: ScriptedEngine) -> None:
    result = runner.invoke(mounted(), ["eval", str(tmp_path / "absent.tsv")])
    assert result.exit_code == 1
    assert "No such manifest" in result.output
    assert not fake_engine.calls


@pytest.mark.usefixtures("fake_engine")
def test_split_without_clips_is_a_usage_error(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "set")
    result = runner.invoke(mounted(), ["eval", str(manifest), "--split", "nope"])
    assert result.exit_code == 2
    assert "no clips" in result.output


@pytest.mark.usefixtures("fake_engine")
def test_standalone_app_runs_the_single_command(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "set")
    result = runner.invoke(cli_eval.app, [str(manifest), "--split", "train"])
    assert result.exit_code == 0, result.output
    assert "train" in result.output


def test_unknown_model_is_refused_with_the_known_ids(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="whisper-base"):
        loading.load_engine(str(tmp_path / "nope"))


@pytest.mark.model
@pytest.mark.usefixtures("default_model_path")
def test_catalog_ids_and_directories_both_build_engines(default_model_path: Path) -> None:
    by_id = loading.load_engine("whisper-base")
    by_dir = loading.load_engine(str(default_model_path))
    assert by_id.model_id == "whisper-base"
    assert by_dir.model_id == default_model_path.name
    by_id.close()
    by_dir.close()


@pytest.mark.usefixtures("fake_engine")
def test_concat_writes_a_long_form_report_beside_the_clip_report(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "set", CLIPS[:1])  # one clip: the joined recording is that clip
    out = tmp_path / "report.json"
    result = runner.invoke(mounted(), ["eval", str(manifest), "--concat", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "clip by clip" in result.output
    assert "long form" in result.output
    assert EvalReport.read_json(out).concat_minutes is None
    assert EvalReport.read_json(tmp_path / "report.longform.json").concat_minutes == 1


def test_no_clips_without_concat_is_a_usage_error(tmp_path: Path, fake_engine: ScriptedEngine) -> None:
    manifest = write_manifest(tmp_path / "set")
    result = runner.invoke(mounted(), ["eval", str(manifest), "--no-clips"])
    assert result.exit_code == 2
    assert "--concat" in result.output
    assert not fake_engine.calls  # refused before any model work
