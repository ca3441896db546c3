"""Settings that resolve from the machine: replicas, threads per replica, batch size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

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
    settings = Settings.of(num_workers=1, cpu_threads=4, batch_max_size=8)
    assert (settings.replicas(), settings.threads_per_replica(), settings.batch_size()) == (1, 4, 8)
    assert Settings.of(num_workers=1).threads_per_replica() == 2
    assert Settings.of(batch_max_size=1).batch_size() == 1


@pytest.mark.usefixtures("cores")
def test_replicas_never_exceed_the_inflight_limit_and_a_gpu_gets_one() -> None:
    assert Settings.of(max_inflight=1).replicas() == 1
    assert Settings.of(max_inflight=1).batch_size() == 1
    assert Settings.of(device="cuda").replicas() == 1
    assert Settings.of(device="cuda").batch_size() == 4


def test_cores_come_from_the_affinity_mask() -> None:
    assert config.cpu_cores() >= 1


def test_environment_variables_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWAAZ_NUM_WORKERS", "3")
    monkeypatch.setenv("AWAAZ_CPU_THREADS", "2")
    settings = Settings()
    assert (settings.replicas(), settings.threads_per_replica()) == (3, 2)


def test_every_group_follows_its_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWAAZ_LM_UNKNOWN_PENALTY", "0")
    monkeypatch.setenv("AWAAZ_LM_WEIGHT", "1.3")
    monkeypatch.setenv("AWAAZ_LM_LEXICON_UNKNOWN_COST", "0")
    monkeypatch.setenv("AWAAZ_LM", "none")
    monkeypatch.setenv("AWAAZ_LONGFORM_PIECE_S", "12")
    monkeypatch.setenv("AWAAZ_CUE_LINES", "1")
    monkeypatch.setenv("AWAAZ_BATCH_WAIT_MS", "20")
    settings = Settings()
    assert (settings.lm.rescoring.unknown_penalty, settings.lm.rescoring.weight) == (0.0, 1.3)
    assert (settings.lm.lexicon.unknown_cost, settings.lm.model) == (0.0, "none")
    assert (settings.longform.pieces.piece_s, settings.longform.cues.lines) == (12.0, 1)
    assert settings.batching.wait_ms == 20.0


def test_settings_are_frozen_and_flat_names_reach_their_group() -> None:
    settings = Settings.of(lm_weight=0.9, vad_filter=False, longform_whole_s=10.0, model_ttl_s=-1)
    assert settings.lm.rescoring.weight == 0.9
    assert settings.decoding.vad_filter is False
    assert settings.longform.pieces.whole_s == 10.0
    assert settings.models.model_ttl_s == -1
    with pytest.raises(ValidationError):
        settings.decoding.beam_size = 2  # type: ignore[misc]
    with pytest.raises(TypeError, match="no such setting: beam"):
        Settings.of(beam=2)


def test_every_variable_in_the_readme_is_a_setting_and_every_setting_is_documented() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(AWAAZ_[A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    names = {name for group in config.ENV_GROUPS for name in config.env_names(group).values()}
    assert documented, "the README's settings table was not found"
    assert documented <= names, f"documented but no setting: {sorted(documented - names)}"
    assert names <= documented, f"settings missing from the README table: {sorted(names - documented)}"


@pytest.mark.parametrize("value", ["-1", "lots"])
@pytest.mark.parametrize("name", ["AWAAZ_LM_UNKNOWN_PENALTY", "AWAAZ_LM_LEXICON_UNKNOWN_COST"])
def test_a_negative_or_non_numeric_unknown_word_cost_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    field = name.removeprefix("AWAAZ_LM_").removeprefix("LEXICON_").lower()
    with pytest.raises(ValidationError, match=field):
        Settings()


def test_the_malloc_arena_cap_reaches_glibc() -> None:
    """In a fresh process, as awaaz serve applies it: glibc's mallopt accepts the cap; 0 leaves it alone.
    (Its effect on memory is measured by the soak benchmark, docs/RELIABILITY.md.)"""
    import subprocess
    import sys

    from awaaz.allocator import _glibc

    if _glibc() is None:
        pytest.skip("not glibc: there are no per-thread arenas to cap")
    code = (
        "from awaaz.allocator import limit_malloc_arenas; "
        "print(limit_malloc_arenas(2), limit_malloc_arenas(0))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
