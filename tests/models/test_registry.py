"""The registry of user-added models, and the catalog that merges it with the built-in models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awaaz.config import DEFAULT_MODEL_ID, LONGFORM_MODEL_ID, Settings
from awaaz.errors import InvalidParameterError, ModelError, ModelLoadError, ModelNotFoundError
from awaaz.models.catalog import ModelCatalog
from awaaz.models.registry import ModelRegistry, RegisteredModel


def _entry(model_id: str = "hi-conformer", path: str = "/models/hi") -> RegisteredModel:
    return RegisteredModel(id=model_id, engine="nemo-ctc-onnx", path=path, description="Hindi Conformer")


def test_add_load_remove_round_trip(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    assert registry.load() == {}
    registry.add(_entry())
    registry.add(_entry("other", "rel/dir"))
    assert ModelRegistry(tmp_path).load() == {"hi-conformer": _entry(), "other": _entry("other", "rel/dir")}
    assert registry.remove("other") == _entry("other", "rel/dir")
    assert list(registry.load()) == ["hi-conformer"]
    assert json.loads(registry.path.read_text())["version"] == 1
    assert not list(tmp_path.glob(".registry.*"))  # no temporary files left behind


def test_duplicate_ids_need_replace(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    registry.add(_entry())
    with pytest.raises(InvalidParameterError, match="already registered"):
        registry.add(_entry(path="/elsewhere"))
    registry.add(_entry(path="/elsewhere"), replace=True)
    assert registry.load()["hi-conformer"].path == "/elsewhere"


@pytest.mark.parametrize("bad", ["", "has space", "../up", "-dash", "x" * 65])
def test_bad_ids_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidParameterError, match="not a valid model id"):
        ModelRegistry(tmp_path).add(_entry(bad))


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="Unknown engine"):
        ModelRegistry(tmp_path).add(RegisteredModel(id="x", engine="kaldi", path="/x"))


def test_removing_an_unknown_id(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="No registered model"):
        ModelRegistry(tmp_path).remove("nope")


def test_a_corrupt_registry_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "registry.json").write_text("{not json")
    with pytest.raises(ModelError, match="Fix or delete the file"):
        ModelRegistry(tmp_path).load()


def test_relative_paths_resolve_inside_the_model_dir(tmp_path: Path) -> None:
    assert _entry(path="hub/x").resolved_path(tmp_path) == tmp_path / "hub" / "x"
    assert _entry(path="/abs").resolved_path(tmp_path) == Path("/abs")


def test_catalog_lists_builtin_and_registered_models(catalog: ModelCatalog, nemo_model_dir: Path) -> None:
    catalog.register(_entry(path=str(nemo_model_dir)))
    ids = [spec.id for spec in catalog.list()]
    assert ids == [DEFAULT_MODEL_ID, "hi-conformer", "whisper-base", LONGFORM_MODEL_ID]  # default first
    spec = catalog.get("hi-conformer")
    assert (spec.engine, spec.builtin, spec.description) == ("nemo-ctc-onnx", False, "Hindi Conformer")
    assert catalog.prepare("hi-conformer") == nemo_model_dir
    assert catalog.get("whisper-1").id == DEFAULT_MODEL_ID


def test_catalog_sees_registry_changes_made_elsewhere(settings: Settings, nemo_model_dir: Path) -> None:
    catalog = ModelCatalog(settings)
    with pytest.raises(ModelNotFoundError):
        catalog.get("hi-conformer")
    ModelCatalog(settings).register(_entry(path=str(nemo_model_dir)))  # another process, say the CLI
    assert catalog.get("hi-conformer").engine == "nemo-ctc-onnx"
    ModelCatalog(settings).unregister("hi-conformer")
    with pytest.raises(ModelNotFoundError):
        catalog.get("hi-conformer")


def test_builtin_ids_cannot_be_registered_or_removed(catalog: ModelCatalog) -> None:
    with pytest.raises(InvalidParameterError, match="built-in"):
        catalog.register(_entry("whisper-base"))
    with pytest.raises(InvalidParameterError, match="built-in"):
        catalog.register(_entry("whisper-1"))
    with pytest.raises(InvalidParameterError, match="built in"):
        catalog.unregister("whisper-base")


def test_missing_files_of_a_registered_model(catalog: ModelCatalog, tmp_path: Path) -> None:
    catalog.register(_entry(path=str(tmp_path / "gone")))
    with pytest.raises(ModelLoadError, match="files of model 'hi-conformer' are missing"):
        catalog.prepare("hi-conformer")


def test_a_corrupt_registry_leaves_the_builtin_models_working(catalog: ModelCatalog) -> None:
    catalog.registry.model_dir.mkdir(parents=True, exist_ok=True)
    catalog.registry.path.write_text("{not json")
    assert [spec.id for spec in catalog.list()] == [DEFAULT_MODEL_ID, "whisper-base", LONGFORM_MODEL_ID]
    with pytest.raises(ModelError, match="Fix or delete"):
        catalog.register(_entry())


def test_long_recordings_of_the_default_model_go_to_the_longform_model(tmp_path: Path) -> None:
    catalog = ModelCatalog(Settings.of(model_dir=tmp_path))
    assert catalog.default_id == DEFAULT_MODEL_ID
    for name in (None, "", "whisper-1", DEFAULT_MODEL_ID):
        assert catalog.longform_id(name) == LONGFORM_MODEL_ID
    assert catalog.longform_id(LONGFORM_MODEL_ID) is None  # a model asked for by name decodes it all
    assert catalog.longform_id("/some/model/dir") is None
    assert ModelCatalog(Settings.of(model_dir=tmp_path, longform_model="")).longform_id(None) is None
    same = Settings.of(model_dir=tmp_path, default_model=LONGFORM_MODEL_ID)
    assert ModelCatalog(same).longform_id(None) is None
    unknown = ModelCatalog(Settings.of(model_dir=tmp_path, longform_model="no-such-model"))
    with pytest.raises(ModelLoadError, match="AWAAZ_LONGFORM_MODEL names an unknown model 'no-such-model'"):
        unknown.longform_id("whisper-1")
