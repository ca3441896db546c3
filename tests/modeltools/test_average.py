"""Weight averaging of fine-tunes: exact for identical models, the weighted mean within int8 precision
otherwise, clear refusals for models that cannot be averaged, and the ``awaaz models average`` command."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from awaaz.config import Settings
from awaaz.modeltools.average import average_ct2_models
from awaaz.whisper.ct2_file import read_ct2_model, write_ct2_model

INT8_WEIGHT = "decoder/layer_0/self_attention/linear_0/weight"
FLOAT_GAMMA = "decoder/layer_norm/gamma"


@pytest.fixture(scope="module")
def shipped(model_dir: Path) -> Path:
    """The shipped soup (int8, pruned vocabulary), assembled by `make test`'s setup."""
    from awaaz.models.catalog import ModelCatalog

    return ModelCatalog(Settings.of(model_dir=model_dir)).prepare("whisper-base-hi-soup")


@pytest.fixture(scope="module")
def other(shipped: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second "fine-tune": the shipped model with one int8 weight halved and one layer-norm gain + 1."""
    target = tmp_path_factory.mktemp("other") / "other"
    shutil.copytree(shipped, target, ignore=shutil.ignore_patterns("model.bin", ".sha256"))
    model = read_ct2_model(shipped / "model.bin")
    model.variables[INT8_WEIGHT] = (model.variables[INT8_WEIGHT] // 2).astype(np.int8)
    model.variables[FLOAT_GAMMA] = (model.variables[FLOAT_GAMMA] + 1).astype(
        model.variables[FLOAT_GAMMA].dtype
    )
    write_ct2_model(model, target / "model.bin")
    return target


def test_a_model_averaged_with_itself_is_the_same_bytes(shipped: Path, tmp_path: Path) -> None:
    made = average_ct2_models([(shipped, 1.0), (shipped, 2.0)], tmp_path / "soup")
    assert made.differing == 0
    assert made.variables == len(read_ct2_model(shipped / "model.bin").variables)
    assert (tmp_path / "soup" / "model.bin").read_bytes() == (shipped / "model.bin").read_bytes()
    assert (tmp_path / "soup" / "vocabulary.json").read_bytes() == (shipped / "vocabulary.json").read_bytes()


@pytest.mark.parametrize(("weights", "share"), [((1.0, 1.0), 0.5), ((3.0, 1.0), 0.25)])
def test_the_average_is_the_weighted_mean_within_int8_precision(
    shipped: Path, other: Path, tmp_path: Path, weights: tuple[float, float], share: float
) -> None:
    made = average_ct2_models([(shipped, weights[0]), (other, weights[1])], tmp_path / "soup")
    assert made.differing == 2
    a, b = read_ct2_model(shipped / "model.bin"), read_ct2_model(other / "model.bin")
    soup = read_ct2_model(tmp_path / "soup" / "model.bin")
    assert soup.variables[INT8_WEIGHT].dtype == np.int8
    want = (1 - share) * a.float32(INT8_WEIGHT) + share * b.float32(INT8_WEIGHT)
    step = np.abs(want).max(axis=1, keepdims=True) / 127  # one quantisation step per row
    assert np.all(np.abs(soup.float32(INT8_WEIGHT) - want) <= step / 2 + 1e-7)
    assert not np.allclose(soup.float32(INT8_WEIGHT), a.float32(INT8_WEIGHT))
    gamma = soup.float32(FLOAT_GAMMA)
    np.testing.assert_allclose(gamma, a.float32(FLOAT_GAMMA) + share, atol=2e-3)
    for name in a.variables:
        if name not in (INT8_WEIGHT, FLOAT_GAMMA, INT8_WEIGHT.replace("weight", "weight_scale")):
            assert np.array_equal(soup.variables[name], a.variables[name]), name


def test_models_that_cannot_be_averaged_are_refused(
    shipped: Path, other: Path, default_model_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="at least two"):
        average_ct2_models([(shipped, 1.0)], tmp_path / "a")
    with pytest.raises(ValueError, match="positive"):
        average_ct2_models([(shipped, 1.0), (other, 0.0)], tmp_path / "b")
    with pytest.raises(ValueError, match="must share"):
        average_ct2_models([(shipped, 1.0), (default_model_path, 1.0)], tmp_path / "c")
    retyped = tmp_path / "retyped"
    shutil.copytree(other, retyped)
    model = read_ct2_model(other / "model.bin")
    model.dtypes[FLOAT_GAMMA] = "float16" if model.dtypes[FLOAT_GAMMA] == "float32" else "float32"
    write_ct2_model(model, retyped / "model.bin")
    with pytest.raises(ValueError, match="quantise both the same way"):
        average_ct2_models([(shipped, 1.0), (retyped, 1.0)], tmp_path / "d")
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_the_average_command_registers_a_loadable_model(
    shipped: Path, other: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctranslate2

    from awaaz.cli.models import models_app
    from awaaz.config import get_settings

    monkeypatch.setenv("AWAAZ_MODEL_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        for name, path in (("a", shipped), ("b", other)):
            assert runner.invoke(models_app, ["add", name, str(path)]).exit_code == 0
        made = runner.invoke(models_app, ["average", "a", "b", "--id", "soup", "--weights", "3,1"])
        assert made.exit_code == 0, made.output
        assert "soup: weight average of a 0.75, b 0.25; 2 of " in made.output
        assert "soup" in runner.invoke(models_app, ["list"]).output
        path = tmp_path / "models" / "averaged" / "soup"
        ctranslate2.models.Whisper(str(path), device="cpu", compute_type="int8")
        again = runner.invoke(models_app, ["average", "a", "b", "--id", "soup"])
        assert again.exit_code == 1
        assert "already exists" in again.output
        assert runner.invoke(models_app, ["average", "a", "b", "--id", "soup", "--replace"]).exit_code == 0
        before = (path / "model.bin").read_bytes()
        failed = runner.invoke(
            models_app, ["average", "a", "b", "--id", "soup", "--replace", "--weights", "1,0"]
        )
        assert failed.exit_code == 1
        assert "positive" in failed.output
        assert (path / "model.bin").read_bytes() == before  # a failed replacement keeps the model it replaces
        itself = runner.invoke(models_app, ["average", "soup", "a", "--id", "soup", "--replace"])
        assert itself.exit_code == 0, itself.output  # the replaced model may be one of the sources
        ctranslate2.models.Whisper(str(path), device="cpu", compute_type="int8")
        assert sorted(p.name for p in path.parent.iterdir()) == ["soup"]
        miscounted = runner.invoke(models_app, ["average", "a", "b", "--id", "s2", "--weights", "1"])
        assert miscounted.exit_code == 1
        assert "1 weights for 2 models" in miscounted.output
        alone = runner.invoke(models_app, ["average", "a", "--id", "s4"])
        assert alone.exit_code == 1
        assert "at least two models" in alone.output
        garbled = runner.invoke(models_app, ["average", "a", "b", "--id", "s3", "--weights", "1,x"])
        assert garbled.exit_code == 2
        assert "give numbers such as 2,1,1" in " ".join(garbled.output.replace("│", " ").split())
    finally:
        get_settings.cache_clear()
