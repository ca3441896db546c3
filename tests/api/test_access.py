"""API keys, per-caller rate limits, CORS and the /docs switch."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openai import AuthenticationError, OpenAI
from starlette.testclient import WebSocketDenialResponse

from awaaz.access import ApiKeys, RateLimiter, key_digest
from awaaz.api.app import create_app
from awaaz.config import AccessSettings, Settings
from awaaz.errors import RateLimitedError
from awaaz.models.manager import ModelManager
from tests.jobs.conftest import SecondsEngine, speech_wav

KEY, OTHER = "awz_first-key", "awz_second-key"
START = {"type": "start", "sample_rate": 16000}


def _app(tmp_path: Path, **settings: object) -> TestClient:
    config = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data", **settings)
    models = ModelManager(config, loader=lambda _: SecondsEngine())
    return TestClient(create_app(config, models, preload=False), raise_server_exceptions=False)


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[TestClient]:
    with _app(tmp_path, api_keys=f"{KEY}, {OTHER}") as client:
        client.app.state.models.get(None)  # loaded, so /ready can answer 200
        yield client


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _upload(seconds: int = 1) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("a.wav", speech_wav(seconds), "audio/wav")}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/ready"),
        ("GET", "/v1/models"),
        ("GET", "/v1/jobs"),
        ("GET", "/v1/jobs/nope"),
        ("POST", "/v1/audio/transcriptions"),
        ("POST", "/transcribe"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
        ("GET", "/web/config"),
        ("GET", "/metrics"),
        ("GET", "/no/such/route"),
    ],
)
def test_with_keys_set_every_endpoint_needs_one(locked: TestClient, method: str, path: str) -> None:
    for headers, code in (({}, "missing_api_key"), (_bearer("awz_wrong"), "invalid_api_key")):
        response = locked.request(method, path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_health_and_the_pages_files_stay_open(locked: TestClient) -> None:
    for path in ("/health", "/", "/web/app.js", "/web/app.css"):
        assert locked.get(path).status_code == 200, path


def test_a_right_key_is_served_and_either_key_works(locked: TestClient) -> None:
    for key in (KEY, OTHER):
        assert locked.get("/ready", headers=_bearer(key)).status_code == 200
        response = locked.post("/transcribe", files=_upload(), headers=_bearer(key))
        assert response.status_code == 200, response.text


def test_the_official_openai_client_sends_its_key(locked: TestClient) -> None:
    client = OpenAI(base_url="http://testserver/v1", api_key=KEY, http_client=locked, max_retries=0)
    assert client.models.list().data
    wrong = OpenAI(base_url="http://testserver/v1", api_key="awz_wrong", http_client=locked, max_retries=0)
    with pytest.raises(AuthenticationError):
        wrong.models.list()


def test_the_live_stream_needs_a_key_in_its_header_or_address(locked: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied:
        locked.websocket_connect("/v1/stream").__enter__()
    assert denied.value.status_code == 401
    assert denied.value.json()["error"]["code"] == "missing_api_key"
    with pytest.raises(WebSocketDenialResponse):
        locked.websocket_connect("/v1/realtime?intent=transcription&api_key=awz_wrong").__enter__()
    for path, headers in (("/v1/stream", _bearer(KEY)), (f"/v1/stream?api_key={OTHER}", {})):
        with locked.websocket_connect(path, headers=headers) as ws:
            ws.send_text(json.dumps(START))
            ws.send_text(json.dumps({"type": "stop"}))
            assert ws.receive_json()["type"] == "end"


def test_keys_come_from_a_file_as_keys_or_their_digests(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"# operators\n{KEY}\nsha256:{key_digest(OTHER)}  # the app\n\n", encoding="utf-8")
    keys = ApiKeys.from_settings(AccessSettings(api_keys_file=keys_file))
    assert keys.identify(KEY) == key_digest(KEY)[:12]
    assert keys.identify(OTHER) == key_digest(OTHER)[:12]
    assert keys.identify("awz_third") is None
    assert keys.identify(None) is None


def test_keys_are_kept_hashed_and_every_digest_is_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = ("awz_key-a", "awz_key-b", "awz_key-c", "awz_key-d")
    keys = ApiKeys([key_digest(k) for k in plain])
    assert not any(k in repr(vars(keys)) for k in plain)
    assert "awz_key-a" not in repr(AccessSettings(api_keys="awz_key-a"))  # a secret: never printed
    calls: list[int] = []
    real = hmac.compare_digest

    def counting(left: bytes, right: bytes) -> bool:
        calls.append(1)
        return real(left, right)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    for presented in ("awz_key-a", "awz_key-d", "awz_nope"):
        calls.clear()
        keys.identify(presented)
        assert len(calls) == 4, presented  # no early exit on the first match: timing tells nothing


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_request_limit_slides_over_a_minute_per_caller() -> None:
    clock = _Clock()
    limiter = RateLimiter(AccessSettings(rate_limit_requests=3), clock=clock)
    for _ in range(3):
        limiter.admit_request("key:a")
        clock.now += 10
    with pytest.raises(RateLimitedError) as refused:
        limiter.admit_request("key:a")
    assert refused.value.retry_after_s == pytest.approx(30.0)
    limiter.admit_request("key:b")  # another caller has its own minute
    clock.now += 30.5
    limiter.admit_request("key:a")  # the first request has left the window


def test_the_audio_limit_is_checked_before_work_and_charged_after() -> None:
    clock = _Clock()
    limiter = RateLimiter(AccessSettings(rate_limit_audio_s=60), clock=clock)
    limiter.check_audio("key:a")
    limiter.charge_audio("key:a", 40)
    clock.now += 20
    limiter.check_audio("key:a")  # 40 s of 60 used
    limiter.charge_audio("key:a", 30)  # one long file may go over
    with pytest.raises(RateLimitedError) as refused:
        limiter.check_audio("key:a")
    assert refused.value.retry_after_s == pytest.approx(40.0)  # once the 40 s charged first expire
    clock.now += 40.5
    limiter.check_audio("key:a")


def test_over_the_request_limit_the_api_answers_429_with_retry_after(tmp_path: Path) -> None:
    with _app(tmp_path, api_keys=f"{KEY},{OTHER}", rate_limit_requests=2) as client:
        for _ in range(2):
            assert client.get("/v1/models", headers=_bearer(KEY)).status_code == 200
        response = client.get("/v1/models", headers=_bearer(KEY))
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limit_exceeded"
        assert response.json()["error"]["type"] == "rate_limit_error"
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert client.get("/v1/models", headers=_bearer(OTHER)).status_code == 200
        assert client.get("/health").status_code == 200  # probes are never limited


def test_over_the_audio_limit_transcriptions_and_jobs_get_429(tmp_path: Path) -> None:
    with _app(tmp_path, rate_limit_audio_s=3.0) as client:  # no keys: limited per client address
        assert client.post("/transcribe", files=_upload(4)).status_code == 200  # 4 s: over, afterwards
        for path in ("/transcribe", "/v1/audio/transcriptions", "/v1/jobs"):
            response = client.post(path, files=_upload(1))
            assert response.status_code == 429, (path, response.text)
            assert "s of audio per minute" in response.json()["error"]["message"]
        with client.websocket_connect("/v1/stream") as ws:
            ws.send_text(json.dumps(START))
            assert ws.receive_json()["code"] == "rate_limit_exceeded"


def test_cors_is_off_by_default_and_allows_only_the_configured_origins(tmp_path: Path) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    with _app(tmp_path) as client:
        response = client.options("/v1/audio/transcriptions", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    with _app(tmp_path, cors_origins="https://app.example", api_keys=KEY) as client:
        response = client.options(
            "/v1/audio/transcriptions",
            headers=preflight | {"Access-Control-Request-Headers": "authorization"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        other = client.options(
            "/v1/audio/transcriptions", headers=preflight | {"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
        response = client.get("/v1/models", headers=_bearer(KEY) | {"Origin": "https://app.example"})
        assert response.headers["access-control-allow-origin"] == "https://app.example"


def test_the_api_documentation_can_be_switched_off(tmp_path: Path) -> None:
    with _app(tmp_path, docs=False) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404, path
        assert client.get("/web/config").json()["docs"] is False
        assert client.get("/health").status_code == 200
