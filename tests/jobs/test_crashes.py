"""Jobs survive crashes, each segment written exactly once: a Celery worker killed with SIGKILL mid-job
(another worker finishes it), and the embedded API process killed mid-job and started again. Real
processes, the real model, a real Redis."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from awaaz.jobs.redis_store import RedisJobStore
from awaaz.jobs.store import JobStore, SqliteJobStore
from tests.jobs.conftest import WAIT_S, RedisServer, speech_wav
from tests.live_server import free_port

pytestmark = [pytest.mark.model, pytest.mark.slow]

LEASE_S = "3"


def _env(model_dir: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AWAAZ_MODEL_DIR=str(model_dir),
        AWAAZ_DATA_DIR=str(data_dir),
        AWAAZ_JOB_LEASE_S=LEASE_S,
        AWAAZ_NUM_WORKERS="1",
        AWAAZ_CPU_THREADS="1",
        AWAAZ_LOG_LEVEL="warning",
        **extra,
    )
    return env


@contextmanager
def _processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(30)


def _start(started: list[subprocess.Popen[bytes]], args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        started.append(
            subprocess.Popen([sys.executable, "-m", "awaaz.cli", *args], env=env, stdout=out, stderr=out)
        )


def _until(what: Callable[[], Any], message: str, timeout_s: float = WAIT_S * 2) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(message)


def _submit_and_see_it_start(api: Any, store: JobStore) -> str:
    """Submit a long talk through ``api`` (a TestClient); its id once its first segment is stored."""
    response = api.post("/v1/jobs", files={"file": ("talk.wav", speech_wav(3), "audio/wav")})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    _until(lambda: (store.get(job_id) or None) and store.get(job_id).segments >= 1, "the job never started")
    return job_id


def _assert_exactly_once(store: JobStore, job_id: str, attempts: int = 2) -> None:
    """Done, after ``attempts`` claims (2: claimed, killed, claimed again), each segment written once."""
    job = store.get(job_id)
    assert job is not None
    assert job.status.value == "done", job
    assert job.attempts == attempts
    segments = store.segments(job_id)
    assert len(segments) > 5
    assert [s.id for s in segments] == list(range(len(segments)))
    assert all(b.start >= a.end - 1e-6 for a, b in itertools.pairwise(segments))  # none twice
    assert store.segment_writes(job_id) == len(segments) == job.segments  # each written once
    assert segments[-1].end > 0.8 * (job.duration_s or 0)  # nothing lost at the end


def _owner_pid(owner: str) -> int:
    return int(owner.split(":")[1])


def test_a_celery_worker_killed_mid_job_leaves_it_to_another_and_it_ends_exactly_once(
    tmp_path: Path, model_dir: Path, default_model_path: Path, redis_url: str
) -> None:
    from fastapi.testclient import TestClient

    from awaaz.api.app import create_app
    from awaaz.config import Settings

    assert default_model_path.is_dir()
    env = _env(model_dir, tmp_path / "data", AWAAZ_QUEUE="celery", AWAAZ_REDIS_URL=redis_url)
    settings = Settings.of(
        model_dir=model_dir, data_dir=tmp_path / "data", queue="celery", redis_url=redis_url
    )
    store = RedisJobStore.from_url(redis_url)
    with _processes() as workers:
        for index in range(2):
            _start(workers, ["worker"], env, tmp_path / f"worker{index}.log")
        with TestClient(create_app(settings, preload=False)) as api:
            job_id = _submit_and_see_it_start(api, store)
            owner = store.redis.hget(f"awaaz:job:{job_id}", "lease_owner")
            assert owner
            victim = _owner_pid(str(owner))
            assert victim in [w.pid for w in workers]
            os.kill(victim, signal.SIGKILL)
            done = _until(lambda: api.get(f"/v1/jobs/{job_id}").json()["status"] == "done", "never finished")
            assert done
            text = api.get(f"/v1/jobs/{job_id}/result", params={"format": "text"}).text
        _assert_exactly_once(store, job_id)
        assert len(text.split()) > 20
        survivor = next(w for w in workers if w.pid != victim)
        assert survivor.poll() is None


def test_the_embedded_api_killed_mid_job_finishes_it_after_a_restart_exactly_once(
    tmp_path: Path, model_dir: Path, default_model_path: Path
) -> None:
    assert default_model_path.is_dir()
    port = free_port()
    env = _env(model_dir, tmp_path / "data", AWAAZ_PORT=str(port))
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    with _processes() as servers:
        _start(servers, ["serve"], env, tmp_path / "api1.log")
        _until(ready, "the API never became ready")
        response = httpx.post(
            f"{base}/v1/jobs", files={"file": ("talk.wav", speech_wav(3), "audio/wav")}, timeout=30
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        _until(lambda: httpx.get(f"{base}/v1/jobs/{job_id}").json()["segments"] >= 1, "the job never started")
        servers[0].send_signal(signal.SIGKILL)
        servers[0].wait(30)
        _start(servers, ["serve"], env, tmp_path / "api2.log")
        _until(ready, "the API never came back")
        _until(lambda: httpx.get(f"{base}/v1/jobs/{job_id}").json()["status"] == "done", "never finished")
    store = SqliteJobStore(tmp_path / "data" / "jobs" / "jobs.sqlite3")
    _assert_exactly_once(store, job_id)
    store.close()


def test_redis_restarted_mid_job_loses_and_duplicates_nothing(
    tmp_path: Path, model_dir: Path, default_model_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from awaaz.api.app import create_app
    from awaaz.config import Settings

    assert default_model_path.is_dir()
    server = RedisServer(tmp_path, persistent=True)
    server.start()
    env = _env(model_dir, tmp_path / "data", AWAAZ_QUEUE="celery", AWAAZ_REDIS_URL=server.url)
    settings = Settings.of(
        model_dir=model_dir, data_dir=tmp_path / "data", queue="celery", redis_url=server.url
    )
    store = RedisJobStore.from_url(server.url)
    try:
        with _processes() as workers:
            _start(workers, ["worker"], env, tmp_path / "worker.log")
            with TestClient(create_app(settings, preload=False)) as api:
                job_id = _submit_and_see_it_start(api, store)
                server.restart(down_s=1.0)
                done = _until(
                    lambda: api.get(f"/v1/jobs/{job_id}").json()["status"] == "done", "never finished"
                )
                assert done
                queued_after = api.post("/v1/jobs", files={"file": ("b.wav", speech_wav(1), "audio/wav")})
                assert queued_after.status_code == 202  # the API and the worker go on with the new server
                second = queued_after.json()["id"]
                _until(lambda: api.get(f"/v1/jobs/{second}").json()["status"] == "done", "never ran")
            assert workers[0].poll() is None  # the worker survived the outage
        assert "failed" not in (tmp_path / "worker.log").read_text(encoding="utf-8")
        _assert_exactly_once(store, job_id, attempts=1)  # the worker rode out the outage
    finally:
        store.close()
        server.stop()
