"""The model manager: several models at once, reference counts, idle unloading after the TTL."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from awaaz.config import Settings
from awaaz.errors import ModelLoadError
from awaaz.models import loading
from awaaz.models.catalog import ModelCatalog, ModelSpec
from awaaz.models.manager import ModelManager
from awaaz.models.registry import RegisteredModel
from tests.fakes import FakeEngine


class NamedEngine(FakeEngine):
    def __init__(self, model_id: str) -> None:
        self.model_id = model_id


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _spec(model_id: str, engine: str = "fake") -> ModelSpec:
    return ModelSpec(
        id=model_id, engine=engine, description="", prepare=lambda d: d / model_id, builtin=False
    )


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    loaded: list[str] = []

    def fake_load(engine: str, model_id: str, _path: Path, _settings: Settings, **_: Any) -> NamedEngine:
        if engine == "broken":
            raise RuntimeError("CUDA out of memory")
        loaded.append(model_id)
        return NamedEngine(model_id)

    monkeypatch.setattr(loading, "build_engine", fake_load)
    return loaded


def _manager(tmp_path: Path, ttl: float, clock: Clock) -> ModelManager:
    settings = Settings.of(model_dir=tmp_path, default_model="a", model_ttl_s=ttl)
    catalog = ModelCatalog(settings, extra=(_spec("a"), _spec("b"), _spec("c"), _spec("bad", "broken")))
    return ModelManager(settings, catalog, clock=clock)


def test_several_models_load_once_each(tmp_path: Path, loads: list[str]) -> None:
    models = _manager(tmp_path, -1, Clock())
    assert models.get("a") is models.get("a")
    models.get("b")
    models.get("whisper-1")  # the default, "a"
    assert loads == ["a", "b"]
    assert models.loaded_ids() == ["a", "b"]
    models.close()


def test_idle_models_unload_after_the_ttl_but_not_the_default(tmp_path: Path, loads: list[str]) -> None:
    clock = Clock()
    models = _manager(tmp_path, 60, clock)
    default, other = models.get("a"), models.get("b")
    clock.now += 59
    assert models.unload_idle() == []
    clock.now += 2
    assert models.unload_idle() == ["b"]
    assert other.closed  # type: ignore[attr-defined]
    assert not default.closed  # type: ignore[attr-defined]
    assert models.loaded_ids() == ["a"]
    models.get("b")  # loads again on demand
    assert loads == ["a", "b", "b"]
    models.close()


@pytest.mark.usefixtures("loads")
def test_a_model_in_use_is_never_unloaded(tmp_path: Path) -> None:
    clock = Clock()
    models = _manager(tmp_path, 10, clock)
    with models.use("b") as engine:
        clock.now += 3600
        assert models.unload_idle() == []
        assert models.unload("b") is False
        assert not engine.closed  # type: ignore[attr-defined]
    clock.now += 9
    assert models.unload_idle() == []  # the TTL counts from the end of the last use
    clock.now += 2
    assert models.unload_idle() == ["b"]
    models.close()


@pytest.mark.usefixtures("loads")
def test_negative_ttl_never_unloads(tmp_path: Path) -> None:
    clock = Clock()
    models = _manager(tmp_path, -1, clock)
    models.get("b")
    clock.now += 10**9
    assert models.unload_idle() == []
    models.close()


@pytest.mark.usefixtures("loads")
def test_a_failing_model_gives_a_clear_error_and_others_keep_working(tmp_path: Path) -> None:
    models = _manager(tmp_path, -1, Clock())
    with pytest.raises(ModelLoadError, match="'bad' failed to load: CUDA out of memory"):
        models.get("bad")
    assert models.get("b").model_id == "b"
    assert not models.is_loaded("bad")
    models.close()


def test_concurrent_first_requests_load_once(tmp_path: Path, loads: list[str]) -> None:
    models = _manager(tmp_path, -1, Clock())
    threads = [threading.Thread(target=models.get, args=("c",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == ["c"]
    models.close()


@pytest.mark.usefixtures("loads")
def test_the_sweeper_unloads_in_the_background(tmp_path: Path) -> None:
    settings = Settings.of(model_dir=tmp_path, default_model="a", model_ttl_s=0)
    models = ModelManager(settings, ModelCatalog(settings, extra=(_spec("a"), _spec("b"))))
    engine = models.get("b")  # starts the sweeper, which runs every second for this TTL
    for _ in range(60):
        if not models.is_loaded("b"):
            break
        threading.Event().wait(0.1)
    assert engine.closed  # type: ignore[attr-defined]
    models.close()


def test_registered_nemo_model_loads_through_the_real_factory(tmp_path: Path, tiny_nemo_dir: Any) -> None:
    settings = Settings.of(model_dir=tmp_path, vad_filter=False)
    catalog = ModelCatalog(settings)
    catalog.register(RegisteredModel(id="tiny-nemo", engine="nemo-ctc-onnx", path=str(tiny_nemo_dir[0])))
    models = ModelManager(settings, catalog)
    with models.use("tiny-nemo") as engine:
        assert type(engine).__name__ == "NemoCtcOnnxEngine"
    models.close()
