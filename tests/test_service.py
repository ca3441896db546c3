"""The transcription service: which model decodes what, and what it holds while it does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from awaaz.audio import decode_audio
from awaaz.config import DEFAULT_MODEL_ID, LONGFORM_MODEL_ID, Settings
from awaaz.errors import ModelLoadError
from awaaz.models.manager import ModelManager
from awaaz.service import TranscriptionService
from awaaz.types import SAMPLE_RATE, TranscribeOptions
from tests.conftest import Clip
from tests.fakes import NamingEngine


@pytest.fixture
def long_recording(hindi_clips: list[Clip], tmp_path: Path) -> Path:
    """About 26 s of the committed clips with pauses between them: longer than one clip."""
    pause = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    parts = [part for clip in hindi_clips[:6] for part in (decode_audio(clip.path), pause)]
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate(parts), SAMPLE_RATE)
    return path


def _service(tmp_path: Path, **settings: object) -> tuple[TranscriptionService, dict[str, NamingEngine]]:
    loaded: dict[str, NamingEngine] = {}

    def load(model_id: str) -> NamingEngine:
        return loaded.setdefault(model_id, NamingEngine(model_id))

    config = Settings.of(model_dir=tmp_path / "models", **settings)
    return TranscriptionService(config, ModelManager(config, loader=load)), loaded


def test_clips_stay_on_the_default_model_and_long_recordings_go_to_the_longform_model(
    hindi_clips: list[Clip], long_recording: Path, tmp_path: Path
) -> None:
    service, loaded = _service(tmp_path)
    clip = service.transcribe_sync(hindi_clips[0].path, TranscribeOptions()).result
    assert (clip.text, clip.info.model) == (DEFAULT_MODEL_ID, DEFAULT_MODEL_ID)
    assert list(loaded) == [DEFAULT_MODEL_ID]  # the longform model is not loaded for a clip

    long = service.transcribe_sync(long_recording, TranscribeOptions(), "whisper-1").result
    assert {s.text for s in long.segments} == {LONGFORM_MODEL_ID}
    assert long.info.model == LONGFORM_MODEL_ID
    assert long.info.duration == pytest.approx(sf.info(long_recording).duration, abs=0.01)
    assert sorted(service.models.loaded_ids()) == sorted([DEFAULT_MODEL_ID, LONGFORM_MODEL_ID])
    service.models.unload(LONGFORM_MODEL_ID)  # no longer held once the transcription is done
    assert service.models.loaded_ids() == [DEFAULT_MODEL_ID]


def test_a_model_named_by_the_request_decodes_long_recordings_itself(
    long_recording: Path, tmp_path: Path
) -> None:
    service, loaded = _service(tmp_path)
    result = service.transcribe_sync(long_recording, TranscribeOptions(), LONGFORM_MODEL_ID).result
    assert {s.text for s in result.segments} == {LONGFORM_MODEL_ID}
    assert list(loaded) == [LONGFORM_MODEL_ID]

    service, loaded = _service(tmp_path, longform_model="")
    result = service.transcribe_sync(long_recording, TranscribeOptions()).result
    assert {s.text for s in result.segments} == {DEFAULT_MODEL_ID}
    assert list(loaded) == [DEFAULT_MODEL_ID]


def test_an_unknown_longform_model_is_a_clear_error_before_any_work(
    long_recording: Path, tmp_path: Path
) -> None:
    service, loaded = _service(tmp_path, longform_model="no-such-model")
    with pytest.raises(ModelLoadError, match="AWAAZ_LONGFORM_MODEL"):
        service.transcribe_sync(long_recording, TranscribeOptions())
    assert loaded == {}
