"""A registered NeMo model served through the OpenAI API, picked by the request's ``model``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from awaaz.api.app import create_app
from awaaz.audio import decode_audio
from awaaz.config import DEFAULT_MODEL_ID, DecodingSettings, Settings
from awaaz.engines.nemo_ctc_onnx import NemoCtcOnnxEngine
from awaaz.models.catalog import ModelCatalog
from awaaz.models.registry import RegisteredModel
from awaaz.types import TranscribeOptions
from tests.conftest import encode


def _wav(seconds: float = 2.5) -> bytes:
    rng = np.random.default_rng(11)
    t = np.arange(int(seconds * 16_000)) / 16_000
    samples = 0.3 * np.sin(2 * np.pi * 220 * t * (1 + 0.5 * t)) + 0.05 * rng.standard_normal(len(t))
    return encode(samples.astype(np.float32).reshape(1, -1), 16_000, "wav")


@pytest.fixture(scope="module")
def nemo_settings(tmp_path_factory: pytest.TempPathFactory, tiny_nemo_dir: tuple[Path, Any]) -> Settings:
    settings = Settings.of(model_dir=tmp_path_factory.mktemp("api-models"), vad_filter=False)
    catalog = ModelCatalog(settings)
    catalog.register(RegisteredModel(id="tiny-nemo", engine="nemo-ctc-onnx", path=str(tiny_nemo_dir[0])))
    broken = settings.models.model_dir / "broken"
    broken.mkdir()
    catalog.register(RegisteredModel(id="broken-nemo", engine="nemo-ctc-onnx", path=str(broken)))
    return settings


@pytest.fixture(scope="module")
def http(nemo_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(nemo_settings, preload=False), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def client(http: TestClient) -> OpenAI:
    return OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=http, max_retries=0)


def test_models_endpoint_lists_the_registered_model(client: OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids[0] == DEFAULT_MODEL_ID  # the default first
    assert {"tiny-nemo", "broken-nemo"} <= set(ids)
    assert client.models.retrieve("tiny-nemo").model_extra == {"engine": "nemo-ctc-onnx"}


def test_a_request_naming_the_nemo_model_is_served_by_it(
    client: OpenAI, tiny_nemo_dir: tuple[Path, Any]
) -> None:
    wav = _wav()
    expected = (
        NemoCtcOnnxEngine("tiny-nemo", tiny_nemo_dir[0], decoding=DecodingSettings(vad_filter=False))
        .transcribe(decode_audio(wav), TranscribeOptions(word_timestamps=True))
        .collect()
    )
    assert expected.text
    result = client.audio.transcriptions.create(
        model="tiny-nemo",
        file=("clip.wav", wav),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert result.text == expected.text
    assert result.words
    assert [w.word.strip() for w in result.words] == [w.word.strip() for w in expected.words]
    assert [round(w.start, 2) for w in result.words] == [round(w.start, 2) for w in expected.words]
    assert result.duration == pytest.approx(2.5, abs=0.01)


def test_plain_json_too(client: OpenAI) -> None:
    assert client.audio.transcriptions.create(model="tiny-nemo", file=("clip.wav", _wav())).text


def test_a_model_that_fails_to_load_is_a_clear_error_not_a_crash(client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.transcriptions.create(model="broken-nemo", file=("clip.wav", _wav(1.0)))
    assert caught.value.status_code == 503
    assert "export-nemo" in caught.value.message
    assert client.audio.transcriptions.create(model="tiny-nemo", file=("clip.wav", _wav(1.0))).text


def test_unknown_model_is_a_client_error_listing_the_models(client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError, match="tiny-nemo") as caught:
        client.audio.transcriptions.create(model="nope", file=("clip.wav", _wav(1.0)))
    assert 400 <= caught.value.status_code < 500


def test_other_language_is_a_client_error(client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError, match="recognises only") as caught:
        client.audio.transcriptions.create(model="tiny-nemo", file=("clip.wav", _wav(1.0)), language="en")
    assert 400 <= caught.value.status_code < 500
