"""``awaaz train`` refuses malformed options and a pruned base model before any encoding or training."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from awaaz.cli import app

pytest.importorskip("torch", reason="the train extra (torch) is not installed: pip install -e '.[train]'")

FIXTURE_MANIFEST = Path(__file__).parents[1] / "fixtures" / "audio" / "manifest.tsv"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--speed-perturb", "0.9,fast", "give numbers such as 0.9,1.1"),
        ("--speed-perturb", "0.9,3", "between 0.5 and 2"),
        ("--source-speed", "audio", "write SOURCE=0.9,1.1"),
        ("--source-speed", "=0.9", "write SOURCE=0.9,1.1"),
        ("--source-speed", "news=0.9", "no manifest folder is named 'news' (have: audio)"),
        ("--source-speed", "audio=0.9,3", "between 0.5 and 2"),
    ],
)
def test_bad_speed_factors_are_a_usage_error_before_anything_loads(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    out = tmp_path / "run"
    missing = tmp_path / "no-such-model"  # never opened: the arguments are refused first
    args = ["train", str(FIXTURE_MANIFEST), "--out", str(out), "--base-model", str(missing)]
    result = CliRunner().invoke(app, [*args, option, value])
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--encoder-layers", "2", "--mode", "full"], "goes with --mode decoder"),
        (["--encoder-layers", "2", "--no-trim-windows"], "trains on trimmed windows"),
    ],
)
def test_encoder_layers_need_decoder_mode_on_trimmed_windows(
    tmp_path: Path, default_model_path: Path, extra: list[str], message: str
) -> None:
    out = tmp_path / "run"
    args = ["train", str(FIXTURE_MANIFEST), "--out", str(out), "--base-model", str(default_model_path)]
    result = CliRunner().invoke(app, [*args, *extra])
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert not out.exists()


class _StoppedError(Exception):
    pass


def _bases_trained_from(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders ``awaaz train --base-model base`` hands the trainer (stopped before training)."""
    bases: list[Path] = []

    def spy(_self: object, base_dir: Path, *_args: object, **_kwargs: object) -> None:
        bases.append(base_dir)
        raise _StoppedError

    monkeypatch.setattr("awaaz.train.loop.Trainer.__init__", spy)
    monkeypatch.setattr("awaaz.train.features.precompute_encoder_outputs", lambda *_a, **_k: 0)
    args = ["train", str(FIXTURE_MANIFEST), "--out", str(tmp_path / "run"), "--base-model", str(base)]
    result = CliRunner().invoke(app, [*args, "--cache-dir", str(tmp_path / "cache")])
    assert isinstance(result.exception, _StoppedError), result.output
    return bases


def test_a_model_with_a_hindi_vocabulary_of_its_own_trains_as_it_is(
    tmp_path: Path, default_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from awaaz.whisper.scope import VocabularyScope

    own = tmp_path / "own"
    shutil.copytree(default_model_path, own)
    VocabularyScope("hi", 51865, 51865, 50257, own_vocabulary=True).write(own)
    assert _bases_trained_from(own, tmp_path, monkeypatch) == [own]


def test_a_pruned_base_model_trains_with_its_full_vocabulary_restored(
    tmp_path: Path, default_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awaaz.modeltools.prune import prune_vocabulary
    from awaaz.whisper.scope import VocabularyScope

    pruned = tmp_path / "pruned"
    prune_vocabulary(default_model_path, pruned)
    bases = _bases_trained_from(pruned, tmp_path, monkeypatch)
    assert bases == [tmp_path / "run" / "pruned-full-vocabulary"]
    assert VocabularyScope.read(bases[0]) is None
    assert (bases[0] / "model.bin").read_bytes() != (pruned / "model.bin").read_bytes()


@pytest.mark.parametrize(("extra", "dev_seed"), [([], 0), (["--seed", "3"], 0), (["--dev-seed", "2"], 2)])
def test_the_dev_carve_out_follows_dev_seed_not_seed(
    tmp_path: Path, default_model_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str], dev_seed: int
) -> None:
    seen: list[int] = []

    def spy(_clips: object, *, fraction: float, seed: int) -> None:
        seen.append(seed)
        assert fraction > 0
        raise _StoppedError

    monkeypatch.setattr("awaaz.train.data.split_dev", spy)
    args = [
        "train",
        str(FIXTURE_MANIFEST),
        "--out",
        str(tmp_path / "run"),
        "--base-model",
        str(default_model_path),
    ]
    result = CliRunner().invoke(app, [*args, *extra])
    assert isinstance(result.exception, _StoppedError)
    assert seen == [dev_seed]
