"""Settings that resolve from the machine: replicas, threads per replica, batch size."""

from __future__ import annotations

import pytest

from awaaz import config
from awaaz.config import Settings


@pytest.fixture
def cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "cpu_cores", lambda: 2)


@pytest.mark.usefixtures("cores")
def test_on_cpu_each_core_gets_a_one_thread_replica_and_batches_share_the_inflight_requests() -> None:
    settings = Settings()
    assert (settings.replicas(), settings.threads_per_replica(), settings.batch_size()) == (2, 1, 2)


@pytest.mark.usefixtures("cores")
def test_explicit_values_win() -> None:
    settings = Settings(num_workers=1, cpu_threads=4, batch_max_size=8)
    assert (settings.replicas(), settings.threads_per_replica(), settings.batch_size()) == (1, 4, 8)
    assert Settings(num_workers=1).threads_per_replica() == 2
    assert Settings(batch_max_size=1).batch_size() == 1


@pytest.mark.usefixtures("cores")
def test_replicas_never_exceed_the_inflight_limit_and_a_gpu_gets_one() -> None:
    assert Settings(max_inflight=1).replicas() == 1
    assert Settings(max_inflight=1).batch_size() == 1
    assert Settings(device="cuda").replicas() == 1
    assert Settings(device="cuda").batch_size() == 4


def test_cores_come_from_the_affinity_mask() -> None:
    assert config.cpu_cores() >= 1


def test_environment_variables_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWAAZ_NUM_WORKERS", "3")
    monkeypatch.setenv("AWAAZ_CPU_THREADS", "2")
    settings = Settings()
    assert (settings.replicas(), settings.threads_per_replica()) == (3, 2)


def test_rescoring_and_lexicon_settings_default_to_their_classes_and_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from awaaz.engines.factory import whisper_settings
    from awaaz.lm.hypotheses import RescoringSettings
    from awaaz.lm.lexicon import LexiconSettings

    assert whisper_settings(Settings()).rescoring == RescoringSettings()
    assert whisper_settings(Settings()).lexicon == LexiconSettings()
    monkeypatch.setenv("AWAAZ_LM_UNKNOWN_PENALTY", "0")
    monkeypatch.setenv("AWAAZ_LM_WEIGHT", "1.3")
    monkeypatch.setenv("AWAAZ_LM_LEXICON_UNKNOWN_COST", "0")
    options = whisper_settings(Settings())
    assert (options.rescoring.unknown_penalty, options.rescoring.weight) == (0.0, 1.3)
    assert options.lexicon.unknown_cost == 0.0


@pytest.mark.parametrize("value", ["-1", "lots"])
@pytest.mark.parametrize("name", ["AWAAZ_LM_UNKNOWN_PENALTY", "AWAAZ_LM_LEXICON_UNKNOWN_COST"])
def test_a_negative_or_non_numeric_unknown_word_cost_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("AWAAZ_").lower()):
        Settings()
